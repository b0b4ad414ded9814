/**
 * `latchkey exec`: runs a command the way a pod with a service account runs after the
 * webhook — a fresh projected token in a file, and the environment the AWS SDKs read: IRSA
 * (`AWS_ROLE_ARN`, `AWS_WEB_IDENTITY_TOKEN_FILE`) or, when the service account has a pod
 * identity association and an agent runs, Pod Identity (`AWS_CONTAINER_CREDENTIALS_FULL_URI`,
 * `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE`).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import type { Profile } from '../profiles/index.js';
import { callJson, instanceProfile, type InstanceFlags } from './instance.js';
import { withInstanceOptions } from './instance-options.js';
import { readLocalAgent } from './local-agent.js';

interface ExecFlags extends InstanceFlags {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  roleArn?: string;
  agentUrl?: string;
  mode?: 'auto' | 'irsa' | 'pod-identity';
}

/** The environment a pod gets, decided from the service account's setup. */
export interface PodEnvironment {
  env: Record<string, string>;
  /** Audience and lifetime of the token to keep in `tokenFile`. */
  token: { audience: string; expirationSeconds: number };
  tokenFile: string;
  mode: 'irsa' | 'pod-identity';
}

/** Works out IRSA or Pod Identity for a service account, as the webhook would inject it. */
export async function podEnvironment(
  profile: Profile,
  flags: ExecFlags,
  tokenDir: string,
): Promise<PodEnvironment> {
  const base = `/clusters/${encodeURIComponent(flags.cluster)}`;
  const query = new URLSearchParams({
    namespace: flags.namespace,
    serviceAccount: flags.serviceAccount,
  });
  // As on EKS, an association takes precedence over an IRSA annotation.
  const hasAssociation = async () => {
    const listed = await callJson(
      profile,
      'eks',
      'GET',
      `${base}/pod-identity-associations?${query.toString()}`,
    );
    return (listed.associations as unknown[]).length > 0;
  };
  const mode =
    flags.mode === 'irsa' || flags.mode === 'pod-identity'
      ? flags.mode
      : (await hasAssociation())
        ? 'pod-identity'
        : 'irsa';
  const common = {
    AWS_ENDPOINT_URL: profile.endpointUrl,
    AWS_REGION: profile.region,
    AWS_DEFAULT_REGION: profile.region,
  };
  if (mode === 'pod-identity') {
    const agentUrl = await podIdentityAgent(flags);
    const tokenFile = join(tokenDir, 'eks-pod-identity-token');
    return {
      mode,
      tokenFile,
      token: { audience: 'pods.eks.amazonaws.com', expirationSeconds: 86_400 },
      env: {
        ...common,
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `${agentUrl.replace(/\/+$/, '')}/v1/credentials`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
      },
    };
  }
  let roleArn = flags.roleArn;
  let annotations: Record<string, string> = {};
  if (roleArn === undefined) {
    const sa = await callJson(
      profile,
      'latchkey',
      'GET',
      `/_latchkey/api${base}/service-accounts/${flags.namespace}/${flags.serviceAccount}`,
    ).catch(() => undefined);
    annotations = (sa?.annotations as Record<string, string> | undefined) ?? {};
    roleArn = annotations['eks.amazonaws.com/role-arn'];
  }
  if (roleArn === undefined) {
    throw new Error(
      `service account ${flags.namespace}/${flags.serviceAccount} has no role: run \`latchkey create iamserviceaccount\` or pass --role-arn`,
    );
  }
  const expiration = Number(annotations['eks.amazonaws.com/token-expiration'] ?? 86_400);
  const tokenFile = join(tokenDir, 'token');
  return {
    mode,
    tokenFile,
    token: {
      audience: annotations['eks.amazonaws.com/audience'] ?? 'sts.amazonaws.com',
      expirationSeconds: Math.min(
        86_400,
        Math.max(600, Number.isFinite(expiration) ? expiration : 86_400),
      ),
    },
    env: {
      ...common,
      AWS_ROLE_ARN: roleArn,
      AWS_WEB_IDENTITY_TOKEN_FILE: tokenFile,
      // A name of its own per run: the AWS CLI caches web-identity credentials under a key that
      // leaves out generated session names, and would reuse another instance's credentials.
      AWS_ROLE_SESSION_NAME: `latchkey-exec-${process.pid}-${Date.now()}`,
    },
  };
}

/** `latchkey exec`. */
export function registerExecCommand(program: Command): void {
  withInstanceOptions(
    program
      .command('exec')
      .description(
        'Run a command as a pod with this service account would run (IRSA or Pod Identity).',
      )
      .requiredOption('--cluster <name>', 'cluster')
      .requiredOption('--namespace <ns>', 'namespace')
      .requiredOption('--service-account <sa>', 'service account')
      .option(
        '--role-arn <arn>',
        'IRSA role (default: the service account’s eks.amazonaws.com/role-arn)',
      )
      .option('--agent-url <url>', 'Pod Identity agent (default: the one `latchkey up` runs)')
      .option(
        '--mode <mode>',
        'auto (Pod Identity when the service account has an association, else IRSA), irsa or pod-identity',
        (value: string) => {
          if (value !== 'auto' && value !== 'irsa' && value !== 'pod-identity') {
            throw new InvalidArgumentError('auto, irsa or pod-identity');
          }
          return value;
        },
        'auto',
      )
      .argument('<command...>', 'the command and its arguments (after --)'),
  ).action(async (command: string[], flags: ExecFlags) => {
    const profile = instanceProfile(flags);
    const tokenDir = mkdtempSync(join(tmpdir(), 'latchkey-exec-'));
    try {
      const pod = await podEnvironment(profile, flags, tokenDir);
      const mint = async () => {
        const result = await callJson(
          profile,
          'latchkey',
          'POST',
          `/_latchkey/api/clusters/${encodeURIComponent(flags.cluster)}/service-account-token`,
          {
            namespace: flags.namespace,
            serviceAccount: flags.serviceAccount,
            audience: pod.token.audience,
            expirationSeconds: pod.token.expirationSeconds,
            podName: `exec-${process.pid}`,
          },
        );
        writeFileSync(pod.tokenFile, String(result.token), { mode: 0o600 });
      };
      await mint();
      // Like the kubelet, rewrite the token once 80% of its lifetime has passed.
      const refresh = setInterval(
        () => void mint().catch(() => undefined),
        pod.token.expirationSeconds * 800,
      );
      refresh.unref();
      const code = await run(command, { ...podBaseEnv(), ...pod.env });
      clearInterval(refresh);
      process.exitCode = code;
    } finally {
      rmSync(tokenDir, { recursive: true, force: true });
    }
  });
}

/** The parent's environment without any AWS credentials or profile, so only the pod's apply. */
function podBaseEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !k.startsWith('AWS_')) env[k] = v;
  // No shared config or credentials files either: a pod has none.
  env.AWS_CONFIG_FILE = join(tmpdir(), 'latchkey-no-aws-config');
  env.AWS_SHARED_CREDENTIALS_FILE = join(tmpdir(), 'latchkey-no-aws-credentials');
  env.AWS_EC2_METADATA_DISABLED = 'true';
  return env;
}

/**
 * The agent that serves this cluster: `--agent-url`, else the one `latchkey up` recorded in the
 * data directory — when it serves this cluster and answers.
 */
async function podIdentityAgent(flags: ExecFlags): Promise<string> {
  if (flags.agentUrl !== undefined) return flags.agentUrl;
  const local = readLocalAgent(flags.dataDir);
  if (local === undefined) {
    throw new Error(
      'this service account uses Pod Identity: start `latchkey up` (it runs the agent) or pass --agent-url',
    );
  }
  if (local.cluster !== undefined && local.cluster !== flags.cluster) {
    throw new Error(
      `the agent \`latchkey up\` runs serves cluster ${local.cluster}, not ${flags.cluster}: restart it with \`latchkey up --cluster ${flags.cluster}\`, or run \`latchkey agent --cluster ${flags.cluster} --listen 127.0.0.1:2712 --local\` and pass --agent-url http://127.0.0.1:2712`,
    );
  }
  // A data directory keeps the file of an `up` that was killed: check the agent answers.
  try {
    await fetch(`${local.url}/`, { signal: AbortSignal.timeout(2_000) });
  } catch {
    throw new Error(
      `no Pod Identity agent answers at ${local.url} (recorded by \`latchkey up\`): is it still running?`,
    );
  }
  return local.url;
}

function run(command: string[], env: Record<string, string>): Promise<number> {
  const [file, ...args] = command;
  if (file === undefined) return Promise.resolve(2);
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { env, stdio: 'inherit' });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}
