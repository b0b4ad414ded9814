/**
 * Starts an agent: its credentials listeners, probe and metrics listeners, cache and background
 * refresher, all wired from one {@link AgentOptions}.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { CredentialCache } from './cache.js';
import { EksAuthClient } from './eks-auth-client.js';
import { AGENT_HOSTS, HostGuard, LOOPBACK_HOSTS } from './host-guard.js';
import { connectableHost, formatHttpOrigin, type ListenAddress } from './listen-address.js';
import { AgentMetrics } from './metrics.js';
import { resolveAgentConfig, type AgentOptions } from './options.js';
import { createProbeHandler } from './probe.js';
import { TokenBucket } from './rate-limit.js';
import { CredentialRefresher } from './refresher.js';
import { CredentialRetriever } from './retriever.js';
import { createCredentialsHandler, CREDENTIALS_PATH } from './server.js';

/** Upstream's server read/write timeouts. */
const REQUEST_TIMEOUT_MS = 30_000;
/** How long close() lets requests under way finish. */
const SHUTDOWN_GRACE_MS = 5_000;

/** A running agent. */
export interface RunningAgent {
  /** The credentials URL of each listener, e.g. `http://127.0.0.1:2702/v1/credentials`. */
  readonly credentialsUrls: string[];
  /** `http://host:port` of the probe listener, when started. */
  readonly probeUrl: string | undefined;
  /** `http://host:port` of the metrics listener, when started. */
  readonly metricsUrl: string | undefined;
  /** The agent's Prometheus registry (also served at `/metrics`). */
  readonly metrics: Registry;
  /** Tokens in the cache. */
  cacheSize(): number;
  /**
   * Runs one renewal/expiry pass now (the agent does one every sweep interval) and resolves
   * when the renewals it started are done.
   */
  sweep(): Promise<void>;
  /** Stops listening, lets requests under way finish (5 s at most) and stops renewals. */
  close(): Promise<void>;
}

/**
 * Starts the EKS Pod Identity agent.
 *
 * @example
 * ```ts
 * const agent = await startAgent({
 *   server: 'http://127.0.0.1:4599',
 *   cluster: 'dev',
 *   credentials: { accessKeyId, secretAccessKey },
 *   listen: '127.0.0.1:0',
 *   local: true,
 * });
 * // AWS_CONTAINER_CREDENTIALS_FULL_URI=agent.credentialsUrls[0]
 * await agent.close();
 * ```
 */
export async function startAgent(options: AgentOptions): Promise<RunningAgent> {
  const config = resolveAgentConfig(options);
  const logger = options.logger ?? pino({ level: process.env.LATCHKEY_LOG_LEVEL ?? 'info' });
  const { clock } = config;

  let cache: CredentialCache | undefined;
  const metrics = new AgentMetrics(() => cache?.size ?? 0);
  if (config.maxCacheSize > 0) {
    cache = new CredentialCache(config.maxCacheSize, (_entry, reason) => metrics.evicted(reason));
  }
  const client = new EksAuthClient({
    endpoint: config.server.toString(),
    cluster: config.cluster,
    region: config.region,
    credentials: config.credentials,
    timeoutMs: config.eksAuthTimeoutMs,
    connectTimeoutMs: config.eksAuthConnectTimeoutMs,
    maxAttempts: config.eksAuthMaxAttempts,
    retryBaseMs: config.eksAuthRetryBaseMs,
    random: config.random,
    onAttempt: (outcome, seconds) => metrics.upstreamAttempt(outcome, seconds),
  });
  const retriever = new CredentialRetriever({
    client,
    cache,
    maxRetentionMs: config.maxRetentionMs,
    clock,
    metrics,
    logger,
  });
  const refresher =
    cache === undefined
      ? undefined
      : new CredentialRefresher({
          cache,
          retriever,
          limiter: new TokenBucket(config.refreshQps, config.refreshQps),
          clock,
          random: config.random,
          retryIntervalMs: config.refreshRetryIntervalMs,
          retryJitterMs: config.refreshRetryJitterMs,
          metrics,
          logger,
        });
  const hostGuard = new HostGuard(config.local ? [...AGENT_HOSTS, ...LOOPBACK_HOSTS] : AGENT_HOSTS);

  const servers: http.Server[] = [];
  const closeAll = () => Promise.all(servers.map((s) => closeServer(s)));
  try {
    const credentialOrigins: string[] = [];
    const probeOrigins: string[] = [];
    for (const address of config.listen) {
      // One limiter per listener, as upstream's one per server.
      const handler = createCredentialsHandler({
        limiter: new TokenBucket(config.rateLimit, config.burst),
        hostGuard,
        retriever,
        clock,
        metrics,
        logger,
      });
      const server = await listen(handler, address);
      servers.push(server);
      credentialOrigins.push(boundOrigin(server, address));
      probeOrigins.push(boundOrigin(server, address, true));
    }
    const probeTargets = () => probeOrigins;
    let probeUrl: string | undefined;
    let metricsUrl: string | undefined;
    if (config.probeListen !== undefined) {
      const server = await listen(createProbeHandler(probeTargets), config.probeListen);
      servers.push(server);
      probeUrl = boundOrigin(server, config.probeListen);
    }
    if (config.metricsListen !== undefined) {
      const server = await listen(
        createProbeHandler(probeTargets, metrics.registry),
        config.metricsListen,
      );
      servers.push(server);
      metricsUrl = boundOrigin(server, config.metricsListen);
    }
    refresher?.start(config.sweepIntervalMs);
    logger.info(
      {
        cluster: config.cluster,
        server: config.server.origin,
        listen: credentialOrigins,
        local: config.local,
        maxCacheSize: config.maxCacheSize,
      },
      'pod identity agent started',
    );

    let closing: Promise<void> | undefined;
    return {
      credentialsUrls: credentialOrigins.map((origin) => `${origin}${CREDENTIALS_PATH}`),
      probeUrl,
      metricsUrl,
      metrics: metrics.registry,
      cacheSize: () => cache?.size ?? 0,
      sweep: () => refresher?.sweep() ?? Promise.resolve(),
      close() {
        closing ??= (async () => {
          refresher?.stop();
          await closeAll();
          client.close();
          cache?.clear();
        })();
        return closing;
      },
    };
  } catch (err) {
    await closeAll();
    client.close();
    throw err;
  }
}

function listen(handler: http.RequestListener, address: ListenAddress): Promise<http.Server> {
  const server = http.createServer(
    {
      requestTimeout: REQUEST_TIMEOUT_MS,
      headersTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: REQUEST_TIMEOUT_MS,
    },
    handler,
  );
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

function boundOrigin(server: http.Server, address: ListenAddress, connectable = false): string {
  const bound = server.address() as AddressInfo;
  const host = connectable ? connectableHost(address.host) : address.host;
  return formatHttpOrigin(host, bound.port);
}

function closeServer(server: http.Server): Promise<void> {
  if (!server.listening) return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), SHUTDOWN_GRACE_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    server.closeIdleConnections();
  });
}
