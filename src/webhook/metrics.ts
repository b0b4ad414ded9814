/**
 * Prometheus metrics of the webhook, in a registry of its own (never prom-client's global one,
 * so several webhooks or a webhook beside the server in one process do not collide). Names
 * follow the upstream webhook where it has one.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** How a pod was given credentials. */
export type MutationMethod = 'sts_web_identity' | 'container_credentials';

/** The webhook's metrics. */
export class WebhookMetrics {
  /** The registry to serve at `/metrics`. */
  readonly registry = new Registry();
  readonly #podCount: Counter<'method'>;
  readonly #missingServiceAccount: Counter;
  readonly #used: Gauge;
  readonly #requests: Counter<'verb' | 'path' | 'code'>;
  readonly #latency: Histogram<'verb' | 'path'>;

  constructor() {
    const registers = [this.registry];
    this.#podCount = new Counter({
      name: 'pod_identity_webhook_pod_count',
      help: 'Pods mutated, by credential method (sts_web_identity or container_credentials).',
      labelNames: ['method'],
      registers,
    });
    this.#missingServiceAccount = new Counter({
      name: 'pod_identity_webhook_missing_sa_count',
      help: 'Pods not mutated because their service account was not found in the cache.',
      registers,
    });
    this.#used = new Gauge({
      name: 'pod_identity_webhook_used',
      help: '1 once a service account has been seen by the webhook.',
      registers,
    });
    this.#requests = new Counter({
      name: 'http_request_count',
      help: 'Requests by verb, path and response code.',
      labelNames: ['verb', 'path', 'code'],
      registers,
    });
    this.#latency = new Histogram({
      name: 'http_request_duration_seconds',
      help: 'Response latency by verb and path.',
      labelNames: ['verb', 'path'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
      registers,
    });
  }

  /** Counts a mutated pod. */
  podMutated(method: MutationMethod): void {
    this.#podCount.inc({ method });
  }

  /** Counts a pod left alone because its service account was not in the cache. */
  serviceAccountMissing(): void {
    this.#missingServiceAccount.inc();
  }

  /** Marks the webhook as in use (a service account was seen). */
  markUsed(): void {
    this.#used.set(1);
  }

  /** Records one HTTP request. `path` must be a route name, never a raw URL. */
  request(verb: string, path: string, code: number, seconds: number): void {
    this.#requests.inc({ verb, path, code: String(code) });
    this.#latency.observe({ verb, path }, seconds);
  }
}
