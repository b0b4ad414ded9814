/**
 * The agent's options, their defaults (upstream's, from `cmd/server.go` and
 * `configuration/config.go`) and their validation.
 */
import type { Logger } from 'pino';
import type { SigningCredentialsSource } from './eks-auth-client.js';
import { AgentConfigError } from './errors.js';
import { parseListenAddress, type ListenAddress } from './listen-address.js';

/** How to run an agent. */
export interface AgentOptions {
  /** EKS Auth endpoint, e.g. a Latchkey server's `http://127.0.0.1:4599`. */
  server: string;
  /** The cluster this node belongs to (EKS cluster name rules). */
  cluster: string;
  /** Region of the SigV4 scope (default `us-east-1`). */
  region?: string;
  /** The node's keys, used to sign calls to EKS Auth. */
  credentials: SigningCredentialsSource;
  /** Credentials listeners, `ADDR:PORT` (real agent: `169.254.170.23:80`, `[fd00:ec2::23]:80`). */
  listen: string | string[];
  /** Probe listener (`/healthz`, `/readyz`), `ADDR:PORT`; none when omitted (CLI: `127.0.0.1:2703`). */
  probeListen?: string;
  /** Metrics listener (`/metrics` and probes), `ADDR:PORT`; none when omitted (CLI: `0.0.0.0:2705`). */
  metricsListen?: string;
  /** Also answer for loopback Host values (127.0.0.1, localhost, ::1): for local use. */
  local?: boolean;
  /** Most tokens cached (default 2000; 0 disables the cache). */
  maxCacheSize?: number;
  /** Longest time credentials are kept before renewal, seconds (default 10 800; 0 disables the cache). */
  maxCredentialRetentionSeconds?: number;
  /** Background renewals per second (upstream `--max-service-qps`, default 3). */
  refreshQps?: number;
  /** Incoming requests per second per listener (default 1000). */
  rateLimit?: number;
  /** Incoming burst per listener (default `rateLimit / 2`, i.e. 500). */
  burst?: number;
  /** Time limit of one EKS Auth attempt, ms (default 1000). */
  eksAuthTimeoutMs?: number;
  /** Time limit to connect to EKS Auth, ms (default 500). */
  eksAuthConnectTimeoutMs?: number;
  /** Attempts per EKS Auth call (default 3). */
  eksAuthMaxAttempts?: number;
  /** Backoff unit between EKS Auth attempts, ms (default 1000). */
  eksAuthRetryBaseMs?: number;
  /** How often the cache is swept for renewals and expiry, ms (default 60 000). */
  sweepIntervalMs?: number;
  /** Least wait before retrying a failed renewal, ms (default 60 000). */
  refreshRetryIntervalMs?: number;
  /** Most jitter added to that wait, ms (default 60 000). */
  refreshRetryJitterMs?: number;
  /** Wall clock, ms since the epoch (default `Date.now`); tests move it. */
  clock?: () => number;
  /** Randomness for jitter (default `Math.random`). */
  random?: () => number;
  logger?: Logger;
}

/** {@link AgentOptions} with defaults applied and values checked. */
export interface AgentConfig {
  server: URL;
  cluster: string;
  region: string;
  credentials: SigningCredentialsSource;
  listen: ListenAddress[];
  probeListen: ListenAddress | undefined;
  metricsListen: ListenAddress | undefined;
  local: boolean;
  /** 0 when caching is disabled. */
  maxCacheSize: number;
  maxRetentionMs: number;
  refreshQps: number;
  rateLimit: number;
  burst: number;
  eksAuthTimeoutMs: number;
  eksAuthConnectTimeoutMs: number;
  eksAuthMaxAttempts: number;
  eksAuthRetryBaseMs: number;
  sweepIntervalMs: number;
  refreshRetryIntervalMs: number;
  refreshRetryJitterMs: number;
  clock: () => number;
  random: () => number;
}

/** Defaults, as upstream. */
export const AGENT_DEFAULTS = {
  region: 'us-east-1',
  maxCacheSize: 2000,
  maxCredentialRetentionSeconds: 3 * 3600,
  refreshQps: 3,
  rateLimit: 1000,
  eksAuthTimeoutMs: 1000,
  eksAuthConnectTimeoutMs: 500,
  eksAuthMaxAttempts: 3,
  eksAuthRetryBaseMs: 1000,
  sweepIntervalMs: 60_000,
  refreshRetryIntervalMs: 60_000,
  refreshRetryJitterMs: 60_000,
} as const;

/** EKS cluster names (botocore `eks-auth` `ClusterName`). */
const CLUSTER_NAME = /^[0-9A-Za-z][A-Za-z0-9\-_]{0,99}$/;

/**
 * Applies defaults and checks values; throws {@link AgentConfigError} naming the bad one. As
 * upstream, refusing a renewal rate too low for the cache: `refreshQps × retention ≥ size / 2`.
 */
export function resolveAgentConfig(options: AgentOptions): AgentConfig {
  let server: URL;
  try {
    server = new URL(options.server);
  } catch {
    throw new AgentConfigError(`invalid EKS Auth endpoint ${JSON.stringify(options.server)}`);
  }
  if (server.protocol !== 'http:' && server.protocol !== 'https:') {
    throw new AgentConfigError('the EKS Auth endpoint must be an http:// or https:// URL');
  }
  if (!CLUSTER_NAME.test(options.cluster)) {
    throw new AgentConfigError(
      `invalid cluster name ${JSON.stringify(options.cluster)}: 1 to 100 letters, digits, '-' and '_', starting with a letter or digit`,
    );
  }
  const listen = (Array.isArray(options.listen) ? options.listen : [options.listen]).map(
    parseListenAddress,
  );
  if (listen.length === 0) throw new AgentConfigError('at least one listen address is needed');

  const rateLimit = positive('rate limit', options.rateLimit ?? AGENT_DEFAULTS.rateLimit);
  const retentionSeconds = nonNegative(
    'max credential retention',
    options.maxCredentialRetentionSeconds ?? AGENT_DEFAULTS.maxCredentialRetentionSeconds,
  );
  const size = integer('max cache size', options.maxCacheSize ?? AGENT_DEFAULTS.maxCacheSize);
  const refreshQps = positive('refresh QPS', options.refreshQps ?? AGENT_DEFAULTS.refreshQps);
  const caching = size > 0 && retentionSeconds > 0;
  if (caching && refreshQps * retentionSeconds < size / 2) {
    throw new AgentConfigError(
      `refresh QPS is too small (${refreshQps}) or credential retention too short (${retentionSeconds}s) to keep up with the cache's size (${size})`,
    );
  }
  return {
    server,
    cluster: options.cluster,
    region: options.region ?? AGENT_DEFAULTS.region,
    credentials: options.credentials,
    listen,
    probeListen:
      options.probeListen === undefined ? undefined : parseListenAddress(options.probeListen),
    metricsListen:
      options.metricsListen === undefined ? undefined : parseListenAddress(options.metricsListen),
    local: options.local ?? false,
    maxCacheSize: caching ? size : 0,
    maxRetentionMs: retentionSeconds * 1000,
    refreshQps,
    rateLimit,
    burst: integer('burst', options.burst ?? Math.floor(rateLimit / 2)),
    eksAuthTimeoutMs: positive(
      'EKS Auth timeout',
      options.eksAuthTimeoutMs ?? AGENT_DEFAULTS.eksAuthTimeoutMs,
    ),
    eksAuthConnectTimeoutMs: positive(
      'EKS Auth connect timeout',
      options.eksAuthConnectTimeoutMs ?? AGENT_DEFAULTS.eksAuthConnectTimeoutMs,
    ),
    eksAuthMaxAttempts: Math.max(
      1,
      integer('EKS Auth attempts', options.eksAuthMaxAttempts ?? AGENT_DEFAULTS.eksAuthMaxAttempts),
    ),
    eksAuthRetryBaseMs: nonNegative(
      'EKS Auth retry base',
      options.eksAuthRetryBaseMs ?? AGENT_DEFAULTS.eksAuthRetryBaseMs,
    ),
    sweepIntervalMs: positive(
      'sweep interval',
      options.sweepIntervalMs ?? AGENT_DEFAULTS.sweepIntervalMs,
    ),
    refreshRetryIntervalMs: nonNegative(
      'refresh retry interval',
      options.refreshRetryIntervalMs ?? AGENT_DEFAULTS.refreshRetryIntervalMs,
    ),
    refreshRetryJitterMs: nonNegative(
      'refresh retry jitter',
      options.refreshRetryJitterMs ?? AGENT_DEFAULTS.refreshRetryJitterMs,
    ),
    clock: options.clock ?? Date.now,
    random: options.random ?? Math.random,
  };
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0)
    throw new AgentConfigError(`${name} must be a positive number`);
  return value;
}

function nonNegative(name: string, value: number): number {
  if (!Number.isFinite(value) || value < 0)
    throw new AgentConfigError(`${name} must not be negative`);
  return value;
}

function integer(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new AgentConfigError(`${name} must be a whole number, 0 or more`);
  }
  return value;
}
