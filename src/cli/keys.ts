/**
 * `latchkey keys rotate|list --cluster C`: the signing keys of a cluster's Latchkey issuer.
 * A rotation makes a new key that signs from then on; the previous keys stay in the JWKS until
 * every token they signed has expired (24 h, Kubernetes' longest token, plus 5 min of skew).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { CLUSTER_ISSUER_API_PREFIX } from '../eks/index.js';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

type Flags = InstanceFlags & { json?: boolean; cluster: string };

interface KeyJson {
  kid: string;
  algorithm: string;
  createdAt: string;
  status: 'SIGNING' | 'PUBLISHED';
  retireAfter?: string;
}

/** Registers `latchkey keys`. */
export function registerKeysCommands(program: Command): void {
  const keys = program
    .command('keys')
    .description('Signing keys of a cluster’s OIDC issuer served by Latchkey.');

  withInstanceOptions(
    keys
      .command('rotate')
      .description(
        'Rotate the issuer’s signing key: a new key signs from now on; older keys stay published until the tokens they signed expire.',
      )
      .requiredOption('--cluster <name>', 'cluster')
      .option('--algorithm <alg>', 'RS256 or ES256', algorithm, 'RS256'),
  ).action(async (flags: Flags & { algorithm: string }) => {
    const path = `${CLUSTER_ISSUER_API_PREFIX}/clusters/${encodeURIComponent(flags.cluster)}/signing-keys`;
    const result = await callJson(instanceProfile(flags), 'eks', 'POST', path, {
      algorithm: flags.algorithm,
    });
    const list = result.keys as KeyJson[];
    if (flags.json) {
      console.log(JSON.stringify(result));
      return;
    }
    console.log(`New signing key of ${flags.cluster}: ${String(result.kid)} (${flags.algorithm})`);
    printKeys(list);
  });

  withInstanceOptions(
    keys
      .command('list')
      .description('List the issuer’s published keys, newest first.')
      .requiredOption('--cluster <name>', 'cluster'),
  ).action(async (flags: Flags) => {
    const path = `${CLUSTER_ISSUER_API_PREFIX}/clusters/${encodeURIComponent(flags.cluster)}/signing-keys`;
    const result = await callJson(instanceProfile(flags), 'eks', 'GET', path);
    if (flags.json) console.log(JSON.stringify(result.keys));
    else printKeys(result.keys as KeyJson[]);
  });
}

function printKeys(list: KeyJson[]): void {
  for (const key of list) {
    const state =
      key.status === 'SIGNING' ? 'signing' : `published until ${key.retireAfter ?? '?'}`;
    console.log(`  ${key.kid}  ${key.algorithm}  created ${key.createdAt}  ${state}`);
  }
}

function algorithm(value: string): string {
  if (value !== 'RS256' && value !== 'ES256') throw new InvalidArgumentError('RS256 or ES256');
  return value;
}
