/**
 * Prometheus metrics of the agent, in a registry of its own (never prom-client's global one, so
 * an agent beside the server or several agents in one process do not collide). Two names follow
 * upstream where the meaning is the same (`pod_identity_http_response`,
 * `pod_identity_cache_errors`); the rest are Latchkey's, prefixed `latchkey_agent_`.
 */
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { EvictionReason } from './cache.js';

/** How a credentials request ended. */
export type RequestOutcome =
  | 'success'
  | 'rate_limited'
  | 'forbidden_host'
  | 'invalid_token'
  | 'upstream_error'
  | 'internal_error';

/** What a background refresh did. */
export type RefreshResult = 'success' | 'recoverable' | 'irrecoverable' | 'rate_limited';

/** Codes kept as label values; any other EKS Auth code is counted as `other`. */
const KNOWN_CODES: ReadonlySet<string> = new Set([
  'success',
  'timeout',
  'network',
  'invalid-response',
  'AccessDeniedException',
  'ExpiredTokenException',
  'InvalidParameterException',
  'InvalidRequestException',
  'InvalidTokenException',
  'ResourceNotFoundException',
  'ThrottlingException',
  'InternalServerException',
  'ServiceUnavailableException',
]);

/**
 * Node process metrics (CPU, memory, event loop, GC), collected once per process: prom-client
 * cannot stop collecting them, so each agent shares this registry rather than starting its own.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (processRegistry === undefined) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
  }
  return processRegistry;
}

/** The agent's metrics. */
export class AgentMetrics {
  /** The registry to serve at `/metrics`: the agent's metrics and the process's. */
  readonly registry: Registry;
  readonly #httpResponses: Counter<'code'>;
  readonly #requests: Counter<'outcome'>;
  readonly #lookups: Counter<'result'>;
  readonly #evictions: Counter<'reason'>;
  readonly #refreshes: Counter<'result'>;
  readonly #cacheErrors: Counter<'type' | 'code'>;
  readonly #upstream: Histogram<'outcome'>;
  // Hot-path counts are plain numbers, added to the counters when metrics are read: a
  // prom-client increment hashes its labels every time.
  #served = 0;
  #hits = 0;
  #misses = 0;

  /** @param cacheSize reads the number of cached entries when metrics are scraped. */
  constructor(cacheSize: () => number) {
    const own = new Registry();
    const registers = [own];
    const flush = () => this.#flush();
    this.#httpResponses = new Counter({
      name: 'pod_identity_http_response',
      help: 'Pod Identity http response code',
      labelNames: ['code'],
      registers,
      collect: flush,
    });
    this.#requests = new Counter({
      name: 'latchkey_agent_requests_total',
      help: 'Credential requests by outcome.',
      labelNames: ['outcome'],
      registers,
      collect: flush,
    });
    this.#lookups = new Counter({
      name: 'latchkey_agent_cache_lookups_total',
      help: 'Credential cache lookups of valid requests, by result (hit or miss).',
      labelNames: ['result'],
      registers,
      collect: flush,
    });
    this.#evictions = new Counter({
      name: 'latchkey_agent_cache_evictions_total',
      help: 'Entries removed from the credential cache, by reason.',
      labelNames: ['reason'],
      registers,
    });
    new Gauge({
      name: 'latchkey_agent_cache_entries',
      help: 'Entries in the credential cache.',
      registers,
      collect() {
        this.set(cacheSize());
      },
    });
    this.#refreshes = new Counter({
      name: 'latchkey_agent_refreshes_total',
      help: 'Background credential refreshes, by result.',
      labelNames: ['result'],
      registers,
    });
    this.#cacheErrors = new Counter({
      name: 'pod_identity_cache_errors',
      help: 'Failed background refreshes, by type (Recoverable, NonRecoverable) and error code.',
      labelNames: ['type', 'code'],
      registers,
    });
    this.#upstream = new Histogram({
      name: 'latchkey_agent_eks_auth_request_duration_seconds',
      help: 'Latency of each EKS Auth AssumeRoleForPodIdentity attempt, by outcome.',
      labelNames: ['outcome'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers,
    });
    this.registry = Registry.merge([own, processMetrics()]);
  }

  /** Counts a request answered with credentials. */
  served(): void {
    this.#served++;
  }

  /** Counts a refused or failed request. */
  failed(status: number, outcome: Exclude<RequestOutcome, 'success'>): void {
    this.#httpResponses.inc({ code: String(status) });
    this.#requests.inc({ outcome });
  }

  /** Counts a cache hit. */
  hit(): void {
    this.#hits++;
  }

  /** Counts a cache miss. */
  miss(): void {
    this.#misses++;
  }

  /** Counts an eviction. */
  evicted(reason: EvictionReason): void {
    this.#evictions.inc({ reason });
  }

  /** Counts a background refresh; failures also by error code, as upstream. */
  refreshed(result: RefreshResult, code?: string): void {
    this.#refreshes.inc({ result });
    if (result === 'recoverable' || result === 'irrecoverable') {
      this.#cacheErrors.inc({
        type: result === 'recoverable' ? 'Recoverable' : 'NonRecoverable',
        code: label(code ?? 'Unknown'),
      });
    }
  }

  /** Adds the hot-path counts to their counters (zero increments still create the series). */
  #flush(): void {
    this.#httpResponses.inc({ code: '200' }, this.#served);
    this.#requests.inc({ outcome: 'success' }, this.#served);
    this.#lookups.inc({ result: 'hit' }, this.#hits);
    this.#lookups.inc({ result: 'miss' }, this.#misses);
    this.#served = this.#hits = this.#misses = 0;
  }

  /** Observes one EKS Auth attempt. */
  upstreamAttempt(outcome: string, seconds: number): void {
    this.#upstream.observe({ outcome: label(outcome) }, seconds);
  }
}

function label(code: string): string {
  return KNOWN_CODES.has(code) ? code : 'other';
}
