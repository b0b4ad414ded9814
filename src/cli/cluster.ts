import { readFileSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { CLUSTER_ISSUER_API_PREFIX, MAX_JWKS_JSON_BYTES } from '../eks/index.js';
import { JwksFormatError, parseJwks } from '../oidc/index.js';
import { callJson, callQuery, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

type Flags = InstanceFlags & { json?: boolean };

type RegisterFlags = Flags & {
  name?: string;
  issuer?: string;
  jwksFile?: string;
  update?: boolean;
  roleArn?: string;
  kubernetesVersion?: string;
};

function clusterName(positional: string | undefined, flag: string | undefined): string {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new Error(`two cluster names given: ${positional} and --name ${flag}`);
  }
  const name = positional ?? flag;
  if (name === undefined) throw new Error('a cluster name is required (NAME or --name NAME)');
  return name;
}

/**
 * Reads and checks a JWKS file: readable, at most 256 KiB, JSON, a `keys` array with at least
 * one usable public key. Returns the parsed document as it is sent to the server.
 */
export function readJwksFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    if (statSync(file).size > MAX_JWKS_JSON_BYTES) {
      throw new Error(`--jwks-file ${file} is larger than ${MAX_JWKS_JSON_BYTES} bytes`);
    }
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === undefined) throw err;
    throw new Error(`cannot read --jwks-file ${file}: ${code}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (err) {
    throw new Error(`--jwks-file ${file} is not valid JSON: ${(err as Error).message}`);
  }
  try {
    if (parseJwks(document).length === 0) {
      throw new JwksFormatError('it has no usable public key (RSA or EC, for signatures)');
    }
  } catch (err) {
    if (err instanceof JwksFormatError) {
      throw new Error(`--jwks-file ${file} is not a usable JWKS: ${err.message}`);
    }
    throw err;
  }
  return document as Record<string, unknown>;
}

/** `latchkey cluster create|list|delete`: EKS clusters, each with its own OIDC issuer. */
export function registerClusterCommands(program: Command): void {
  const cluster = program
    .command('cluster')
    .description('Manage clusters (EKS CreateCluster and friends).');

  withInstanceOptions(
    cluster
      .command('create')
      .description('Create a cluster; it gets an OIDC issuer served by Latchkey.')
      .argument('<name>', 'cluster name')
      .option(
        '--role-arn <arn>',
        'cluster role (default: role/eks-cluster-role in the caller’s account)',
      )
      .option('--kubernetes-version <v>', 'Kubernetes version'),
  ).action(
    async (name: string, flags: Flags & { roleArn?: string; kubernetesVersion?: string }) => {
      const profile = instanceProfile(flags);
      const account = String((await callQuery(profile, 'sts', 'GetCallerIdentity')).Account);
      const result = await callJson(profile, 'eks', 'POST', '/clusters', {
        name,
        roleArn: flags.roleArn ?? `arn:aws:iam::${account}:role/eks-cluster-role`,
        resourcesVpcConfig: {},
        ...(flags.kubernetesVersion ? { version: flags.kubernetesVersion } : {}),
      });
      const created = result.cluster as { arn: string; identity: { oidc: { issuer: string } } };
      if (flags.json) console.log(JSON.stringify(result.cluster));
      else
        console.log(
          `Cluster ${name} created: ${created.arn}\nOIDC issuer: ${created.identity.oidc.issuer}`,
        );
    },
  );

  withInstanceOptions(
    cluster
      .command('register')
      .description(
        'Register a cluster whose OIDC issuer is external (a real EKS, kind or k3s cluster): its tokens are verified with the issuer’s JWKS, fetched over HTTPS, or with --jwks-file.',
      )
      .argument('[name]', 'cluster name (or --name)')
      .option('--name <name>', 'cluster name')
      .option('--issuer <url>', 'the issuer URL, exactly as the `iss` of the cluster’s tokens')
      .option(
        '--jwks-file <file>',
        'pin the issuer’s JWKS from this file (e.g. `kubectl get --raw /openid/v1/jwks`) instead of fetching it',
      )
      .option('--update', 'replace the pinned JWKS of an already registered cluster')
      .option(
        '--role-arn <arn>',
        'cluster role (default: role/eks-cluster-role in the caller’s account)',
      )
      .option('--kubernetes-version <v>', 'Kubernetes version'),
  ).action(async (positional: string | undefined, flags: RegisterFlags) => {
    const name = clusterName(positional, flags.name);
    // Local checks first: nothing is sent when the file cannot be used.
    const jwks = flags.jwksFile === undefined ? undefined : readJwksFile(flags.jwksFile);
    const profile = instanceProfile(flags);
    let result: Record<string, unknown>;
    if (flags.update) {
      if (jwks === undefined) {
        throw new Error('--update replaces the pinned JWKS: give --jwks-file');
      }
      if (flags.issuer !== undefined) {
        throw new Error('--update changes only the pinned JWKS; a cluster keeps its issuer');
      }
      result = await callJson(
        profile,
        'eks',
        'PUT',
        `${CLUSTER_ISSUER_API_PREFIX}/external-clusters/${encodeURIComponent(name)}/jwks`,
        { jwks },
      );
    } else {
      if (flags.issuer === undefined) throw new Error('--issuer URL is required');
      result = await callJson(
        profile,
        'eks',
        'POST',
        `${CLUSTER_ISSUER_API_PREFIX}/external-clusters`,
        {
          name,
          issuer: flags.issuer,
          ...(jwks === undefined ? {} : { jwks }),
          ...(flags.roleArn === undefined ? {} : { roleArn: flags.roleArn }),
          ...(flags.kubernetesVersion === undefined ? {} : { version: flags.kubernetesVersion }),
        },
      );
    }
    const registered = result.cluster as {
      arn: string;
      issuer: string;
      keys: string;
      kids?: (string | null)[];
    };
    if (flags.json) {
      console.log(JSON.stringify(registered));
      return;
    }
    const keys =
      registered.keys === 'pinned'
        ? `pinned from ${flags.jwksFile ?? ''} (kid ${(registered.kids ?? []).map((k) => k ?? '-').join(', ')})`
        : 'fetched from the issuer’s JWKS (cached)';
    console.log(
      `Cluster ${name} ${flags.update ? 'updated' : 'registered'}: ${registered.arn}\nOIDC issuer: ${registered.issuer}\nKeys: ${keys}`,
    );
    if (!flags.update) {
      console.log(
        `For IRSA, trust the issuer in IAM:  latchkey utils associate-iam-oidc-provider --cluster ${name}`,
      );
    }
  });

  withInstanceOptions(cluster.command('list').description('List clusters.')).action(
    async (flags: Flags) => {
      const result = await callJson(instanceProfile(flags), 'eks', 'GET', '/clusters');
      const names = result.clusters as string[];
      console.log(flags.json ? JSON.stringify(names) : names.join('\n'));
    },
  );

  withInstanceOptions(
    cluster
      .command('delete')
      .description('Delete a cluster and its issuer.')
      .argument('<name>', 'cluster name'),
  ).action(async (name: string, flags: Flags) => {
    await callJson(
      instanceProfile(flags),
      'eks',
      'DELETE',
      `/clusters/${encodeURIComponent(name)}`,
    );
    if (!flags.json) console.log(`Cluster ${name} deleted.`);
  });
}
