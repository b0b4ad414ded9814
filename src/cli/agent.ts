import { InvalidArgumentError, type Command } from 'commander';
import {
  AGENT_DEFAULTS,
  AgentConfigError,
  credentialsFromEnv,
  credentialsFromProfile,
  startAgent,
  type NodeIdentity,
  type RunningAgent,
} from '../agent/index.js';
import { DEFAULT_PROFILE } from '../profiles/index.js';
import { DEFAULT_DATA_DIR } from './options.js';

interface AgentFlags {
  server?: string;
  cluster: string;
  listen: string[];
  probeListen: string;
  metricsListen: string;
  local?: boolean;
  dataDir?: string;
  profile?: string;
  region?: string;
  maxCacheSize: number;
  maxCredentialRetention: number;
  maxServiceQps: number;
  rateLimit: number;
  burst?: number;
  eksAuthTimeout: number;
  eksAuthMaxAttempts: number;
}

/** `latchkey agent`: the EKS Pod Identity node agent. */
export function registerAgentCommand(program: Command): void {
  program
    .command('agent')
    .description(
      'Run the EKS Pod Identity node agent: serves GET /v1/credentials to pods, exchanging their service-account token at EKS Auth.',
    )
    .option('--server <url>', 'EKS Auth endpoint (default: the profile’s endpoint_url)')
    .requiredOption('--cluster <name>', 'cluster this node belongs to')
    .requiredOption(
      '--listen <addr:port>',
      'credentials listener, repeatable (real agent: 169.254.170.23:80 and [fd00:ec2::23]:80)',
      collect,
      [],
    )
    .option(
      '--probe-listen <addr:port>',
      'health probes listener (/healthz, /readyz)',
      '127.0.0.1:2703',
    )
    .option('--metrics-listen <addr:port>', 'Prometheus /metrics listener', '0.0.0.0:2705')
    .option('--local', 'also answer requests addressed to 127.0.0.1, localhost or [::1]')
    .option(
      '--data-dir <dir>',
      `sign with this data directory's profile (default ${DEFAULT_DATA_DIR} unless AWS_ACCESS_KEY_ID is set)`,
    )
    .option('--profile <name>', `profile to sign with (default ${DEFAULT_PROFILE})`)
    .option('--region <region>', 'signing region (default: AWS_REGION, the profile’s, us-east-1)')
    .option(
      '--max-cache-size <n>',
      'tokens cached at most; 0 disables the cache',
      count,
      AGENT_DEFAULTS.maxCacheSize,
    )
    .option(
      '--max-credential-retention <duration>',
      'longest time credentials are kept before renewal (seconds, or 3h, 90m, 1h30m); 0 disables the cache',
      duration,
      AGENT_DEFAULTS.maxCredentialRetentionSeconds,
    )
    .option(
      '--max-service-qps <n>',
      'background renewals per second',
      positiveNumber,
      AGENT_DEFAULTS.refreshQps,
    )
    .option(
      '--rate-limit <qps>',
      'incoming requests per second per listener',
      positiveNumber,
      AGENT_DEFAULTS.rateLimit,
    )
    .option('--burst <n>', 'incoming burst per listener (default: rate limit / 2)', count)
    .option(
      '--eks-auth-timeout <ms>',
      'time limit of one EKS Auth attempt',
      positiveNumber,
      AGENT_DEFAULTS.eksAuthTimeoutMs,
    )
    .option(
      '--eks-auth-max-attempts <n>',
      'attempts per EKS Auth call',
      count,
      AGENT_DEFAULTS.eksAuthMaxAttempts,
    )
    .action(async (flags: AgentFlags) => {
      const identity = nodeIdentity(flags);
      const server = flags.server ?? identity.endpointUrl;
      if (server === undefined) {
        throw new AgentConfigError('--server is needed when the keys come from the environment');
      }
      const agent = await startAgent({
        server,
        cluster: flags.cluster,
        region:
          flags.region ??
          process.env.AWS_REGION ??
          process.env.AWS_DEFAULT_REGION ??
          identity.region ??
          AGENT_DEFAULTS.region,
        credentials: identity.credentials,
        listen: flags.listen,
        probeListen: flags.probeListen,
        metricsListen: flags.metricsListen,
        local: flags.local ?? false,
        maxCacheSize: flags.maxCacheSize,
        maxCredentialRetentionSeconds: flags.maxCredentialRetention,
        refreshQps: flags.maxServiceQps,
        rateLimit: flags.rateLimit,
        ...(flags.burst === undefined ? {} : { burst: flags.burst }),
        eksAuthTimeoutMs: flags.eksAuthTimeout,
        eksAuthMaxAttempts: flags.eksAuthMaxAttempts,
      });
      for (const url of agent.credentialsUrls) console.log(`credentials: ${url}`);
      if (agent.probeUrl) console.log(`probes: ${agent.probeUrl}/healthz`);
      if (agent.metricsUrl) console.log(`metrics: ${agent.metricsUrl}/metrics`);
      console.log(`signing as: ${identity.source}`);
      await untilSignal(agent);
    });
}

/** Keys from `--data-dir`/`--profile` when given, else the environment, else the default profile. */
function nodeIdentity(flags: AgentFlags): NodeIdentity {
  const explicitProfile = flags.dataDir !== undefined || flags.profile !== undefined;
  if (!explicitProfile) {
    const fromEnv = credentialsFromEnv();
    if (fromEnv !== undefined) return fromEnv;
  }
  return credentialsFromProfile(
    flags.dataDir ?? DEFAULT_DATA_DIR,
    flags.profile ?? DEFAULT_PROFILE,
  );
}

function untilSignal(agent: RunningAgent): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      void agent.close().then(resolve, resolve);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function count(value: string): number {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('a whole number, 0 or more');
  return Number(value);
}

function positiveNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new InvalidArgumentError('a positive number');
  return n;
}

/** Seconds, or a Go-style duration of hours, minutes and seconds (`3h`, `90m`, `1h30m`, `45s`). */
function duration(value: string): number {
  if (/^\d+$/.test(value)) return Number(value);
  const match = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(value);
  if (match === null || value === '') {
    throw new InvalidArgumentError('seconds, or a duration such as 3h, 90m or 1h30m');
  }
  return Number(match[1] ?? 0) * 3600 + Number(match[2] ?? 0) * 60 + Number(match[3] ?? 0);
}
