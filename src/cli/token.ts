import { InvalidArgumentError, type Command } from 'commander';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';

interface TokenFlags extends InstanceFlags {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  audience: string;
  duration: number;
  pod?: string;
  json?: boolean;
}

/** `latchkey token`: a projected service-account token, as the kubelet would mount it. */
export function registerTokenCommand(program: Command): void {
  withInstanceOptions(
    program
      .command('token')
      .description('Mint a projected service-account token of a cluster’s issuer.')
      .requiredOption('--cluster <name>', 'cluster')
      .requiredOption('--namespace <ns>', 'namespace')
      .requiredOption('--service-account <sa>', 'service account')
      .option('--audience <aud>', 'audience', 'sts.amazonaws.com')
      .option('--duration <seconds>', 'lifetime in seconds (600–86400)', parseSeconds, 86_400)
      .option('--pod <name>', 'bind the token to a pod of this name'),
  ).action(async (flags: TokenFlags) => {
    const token = await mintToken(flags);
    console.log(flags.json ? JSON.stringify({ token }) : token);
  });
}

/** Asks the server for a token (the signing key never leaves it). */
export async function mintToken(flags: TokenFlags): Promise<string> {
  const result = await callJson(
    instanceProfile(flags),
    'latchkey',
    'POST',
    `/_latchkey/api/clusters/${encodeURIComponent(flags.cluster)}/service-account-token`,
    {
      namespace: flags.namespace,
      serviceAccount: flags.serviceAccount,
      audience: flags.audience,
      expirationSeconds: flags.duration,
      ...(flags.pod ? { podName: flags.pod } : {}),
    },
  );
  return String(result.token);
}

function parseSeconds(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 600 || n > 86_400) {
    throw new InvalidArgumentError('a duration is a number of seconds from 600 to 86400');
  }
  return n;
}
