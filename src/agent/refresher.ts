/**
 * The background refresher (upstream's cache janitor and `onCredentialRenewal`): every sweep it
 * drops entries that can no longer be served and renews those due, at most `refreshQps` per
 * second. After a recoverable failure the old credentials stay while more than 15 s remain and
 * the renewal is retried after 1 min + up to 1 min of jitter; after an irrecoverable one
 * (ResourceNotFound, ExpiredToken, InvalidToken, AccessDenied) the entry is evicted.
 */
import type { Logger } from 'pino';
import type { CacheEntry, CredentialCache } from './cache.js';
import { EksAuthError, EksAuthTransportError } from './errors.js';
import type { AgentMetrics } from './metrics.js';
import type { TokenBucket } from './rate-limit.js';
import { MIN_CREDENTIAL_TTL_MS, type CredentialRetriever } from './retriever.js';
import { tokenId } from './token.js';

/** What the refresher works with. */
export interface RefresherDeps {
  cache: CredentialCache;
  retriever: Pick<CredentialRetriever, 'load'>;
  /** Bounds renewals per second (upstream `--max-service-qps`, default 3). */
  limiter: TokenBucket;
  clock: () => number;
  random: () => number;
  /** Least wait before retrying a failed renewal, ms (upstream 1 min). */
  retryIntervalMs: number;
  /** Most jitter added to that wait, ms (upstream 1 min). */
  retryJitterMs: number;
  metrics: AgentMetrics;
  logger: Logger;
}

/** Renews cached credentials ahead of expiry. */
export class CredentialRefresher {
  readonly #deps: RefresherDeps;
  readonly #refreshing = new Set<CacheEntry>();
  #timer: NodeJS.Timeout | undefined;

  constructor(deps: RefresherDeps) {
    this.#deps = deps;
  }

  /** Sweeps every `intervalMs` until {@link stop}. */
  start(intervalMs: number): void {
    this.stop();
    this.#timer = setInterval(() => void this.sweep(), intervalMs);
    this.#timer.unref();
  }

  /** Stops sweeping (renewals under way finish on their own). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * One pass: evicts entries whose credentials have 15 s or less left or whose token has
   * expired (no pod can present it any more), then renews the entries that are due. Resolves
   * when the renewals it started have finished.
   */
  async sweep(): Promise<void> {
    const { cache, clock } = this.#deps;
    const now = clock();
    const renewals: Promise<void>[] = [];
    for (const entry of cache.entries()) {
      if (entry.credentials.expiresAtMs - now <= MIN_CREDENTIAL_TTL_MS) {
        cache.delete(entry.key, 'expired', entry);
      } else if (
        entry.tokenTimes.expiresAtMs !== undefined &&
        now >= entry.tokenTimes.expiresAtMs
      ) {
        cache.delete(entry.key, 'token_expired', entry);
      } else if (entry.refreshAtMs <= now && !this.#refreshing.has(entry)) {
        renewals.push(this.#renew(entry));
      }
    }
    await Promise.all(renewals);
  }

  async #renew(entry: CacheEntry): Promise<void> {
    const { cache, retriever, limiter, metrics, logger } = this.#deps;
    const log = logger.child({ token: tokenId(entry.digest), from: 'renewal' });
    if (!limiter.tryTake()) {
      metrics.refreshed('rate_limited');
      log.info('renewal rate limited, keeping the cached credentials');
      this.#keepOrEvict(entry);
      return;
    }
    this.#refreshing.add(entry);
    try {
      const fresh = await retriever.load(entry.digest, entry.token, entry.tokenTimes);
      // Only replace what is still cached: an entry evicted meanwhile stays evicted.
      if (cache.peek(entry.key)?.token === entry.token) cache.set(fresh);
      metrics.refreshed('success');
    } catch (err) {
      const code = errorCode(err);
      if (err instanceof EksAuthError && err.irrecoverable) {
        metrics.refreshed('irrecoverable', code);
        log.info({ code }, 'removing credentials from cache, got a non-recoverable error');
        const current = cache.peek(entry.key);
        if (current?.token === entry.token) cache.delete(entry.key, 'irrecoverable', current);
        return;
      }
      metrics.refreshed('recoverable', code);
      log.warn({ code, err: errorMessage(err) }, 'could not renew, keeping the cached credentials');
      this.#keepOrEvict(entry);
    } finally {
      this.#refreshing.delete(entry);
    }
  }

  /** Keeps old credentials while more than 15 s remain, retrying after 1 min + jitter. */
  #keepOrEvict(entry: CacheEntry): void {
    const { cache, clock, random, retryIntervalMs, retryJitterMs } = this.#deps;
    if (cache.peek(entry.key) !== entry) return;
    const now = clock();
    const left = entry.credentials.expiresAtMs - now;
    if (left <= MIN_CREDENTIAL_TTL_MS) {
      cache.delete(entry.key, 'expired', entry);
      return;
    }
    entry.refreshAtMs = now + Math.min(left, retryIntervalMs + random() * retryJitterMs);
  }

  /** Renewals under way. */
  get inProgress(): number {
    return this.#refreshing.size;
  }
}

function errorCode(err: unknown): string {
  if (err instanceof EksAuthError) return err.code;
  if (err instanceof EksAuthTransportError) return err.kind;
  return 'Unknown';
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
