/**
 * A cache in front of a {@link PodIdentityAssociationSource} that makes remote calls (the
 * Latchkey server's `ListPodIdentityAssociations`): answers from memory for `ttlMs`, makes
 * one call per key however many pods are admitted at once, bounds each call by `timeoutMs`,
 * and keeps serving the last answer when the source fails.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import {
  identityKey,
  type ContainerCredentialsConfig,
  type PodIdentityAssociationSource,
} from './source.js';

/** Options of {@link CachedAssociationSource}. */
export interface CachedAssociationSourceOptions {
  /**
   * How long an answer is reused, in milliseconds (default 10 000). Associations are eventually
   * consistent on EKS too ("several seconds").
   */
  ttlMs?: number;
  /** How long a "no association" answer is reused (default: `ttlMs`). */
  negativeTtlMs?: number;
  /** Longest wait for the source before admitting the pod without Pod Identity (default 1000). */
  timeoutMs?: number;
  /** Most keys kept; the oldest are dropped first (default 10 000). */
  maxEntries?: number;
  logger?: Logger;
  /** Clock, for tests. */
  now?: () => number;
}

interface Cached {
  value: ContainerCredentialsConfig | undefined;
  expires: number;
}

/** TTL cache with single-flight, timeout and stale-on-error around another source. */
export class CachedAssociationSource implements PodIdentityAssociationSource {
  readonly #inner: PodIdentityAssociationSource;
  readonly #ttl: number;
  readonly #negativeTtl: number;
  readonly #timeout: number;
  readonly #max: number;
  readonly #logger: Logger | undefined;
  readonly #now: () => number;
  readonly #cache = new Map<string, Cached>();
  readonly #inflight = new Map<string, Promise<ContainerCredentialsConfig | undefined>>();

  /**
   * @example
   * const source = new CachedAssociationSource(serverSource, { ttlMs: 5000 });
   */
  constructor(inner: PodIdentityAssociationSource, options: CachedAssociationSourceOptions = {}) {
    this.#inner = inner;
    this.#ttl = options.ttlMs ?? 10_000;
    this.#negativeTtl = options.negativeTtlMs ?? this.#ttl;
    this.#timeout = options.timeoutMs ?? 1000;
    this.#max = options.maxEntries ?? 10_000;
    this.#logger = options.logger;
    this.#now = options.now ?? Date.now;
  }

  lookup(
    namespace: string,
    serviceAccount: string,
  ): Promise<ContainerCredentialsConfig | undefined> {
    const key = identityKey(namespace, serviceAccount);
    const hit = this.#cache.get(key);
    if (hit && hit.expires > this.#now()) return Promise.resolve(hit.value);
    let pending = this.#inflight.get(key);
    if (!pending) {
      pending = this.#refresh(key, namespace, serviceAccount, hit).finally(() =>
        this.#inflight.delete(key),
      );
      this.#inflight.set(key, pending);
    }
    return pending;
  }

  /** Drops every cached answer (e.g. after an association changed). */
  invalidate(namespace?: string, serviceAccount?: string): void {
    if (namespace === undefined || serviceAccount === undefined) this.#cache.clear();
    else this.#cache.delete(identityKey(namespace, serviceAccount));
  }

  async close(): Promise<void> {
    await this.#inner.close?.();
  }

  async #refresh(
    key: string,
    namespace: string,
    serviceAccount: string,
    stale: Cached | undefined,
  ): Promise<ContainerCredentialsConfig | undefined> {
    let timer: NodeJS.Timeout | undefined;
    try {
      const value = await Promise.race([
        this.#inner.lookup(namespace, serviceAccount),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${this.#timeout} ms`)),
            this.#timeout,
          );
        }),
      ]);
      this.#store(key, value);
      return value;
    } catch (err) {
      this.#logger?.error(
        { serviceAccount: key, err: errorMessage(err), servingStale: stale !== undefined },
        'pod identity association lookup failed',
      );
      return stale?.value;
    } finally {
      clearTimeout(timer);
    }
  }

  #store(key: string, value: ContainerCredentialsConfig | undefined): void {
    this.#cache.delete(key);
    this.#cache.set(key, { value, expires: this.#now() + (value ? this.#ttl : this.#negativeTtl) });
    if (this.#cache.size > this.#max) {
      const oldest = this.#cache.keys().next();
      if (!oldest.done) this.#cache.delete(oldest.value);
    }
  }
}
