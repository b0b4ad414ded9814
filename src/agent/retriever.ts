/**
 * Credentials for a token: from the cache when it holds usable ones, else from EKS Auth through
 * a single flight per token (upstream `internal/credsretriever/refreshing_cache.go`,
 * `GetIamCredentials`). Credentials with 15 s or less left are never served.
 */
import type { Logger } from 'pino';
import type { CacheEntry, CredentialCache } from './cache.js';
import { credentialsBody } from './credentials.js';
import type { EksAuthClient } from './eks-auth-client.js';
import { AgentInternalError } from './errors.js';
import type { AgentMetrics } from './metrics.js';
import { SingleFlight } from './single-flight.js';
import { tokenDigest, tokenId, tokenIndex, tokenTimesValid, type TokenTimes } from './token.js';

/** Upstream's `defaultMinCredentialTtl`: credentials with less left are neither stored nor served. */
export const MIN_CREDENTIAL_TTL_MS = 15_000;

/** What the retriever works with. */
export interface RetrieverDeps {
  client: Pick<EksAuthClient, 'assumeRoleForPodIdentity'>;
  /** The cache, or undefined when caching is disabled (size or retention 0). */
  cache: CredentialCache | undefined;
  /** Longest time credentials are kept before renewal, ms (upstream default 3 h). */
  maxRetentionMs: number;
  clock: () => number;
  metrics: AgentMetrics;
  logger: Logger;
}

/** Finds or fetches a token's credentials. */
export class CredentialRetriever {
  readonly #deps: RetrieverDeps;
  readonly #flights = new SingleFlight<string, CacheEntry>();

  constructor(deps: RetrieverDeps) {
    this.#deps = deps;
  }

  /**
   * The cached entry for `token` when it can be served now: same token, token not expired, more
   * than 15 s of credentials left. An entry with 15 s or less is dropped (upstream deletes it
   * and fetches again). Undefined means: validate the token and {@link fetch}.
   */
  cached(token: string): CacheEntry | undefined {
    const cache = this.#deps.cache;
    if (cache === undefined || cache.size === 0 || token === '') return undefined;
    const key = tokenIndex(token);
    const entry = cache.get(key);
    // The whole token is compared: a pod is only ever answered from its own token's entry.
    if (entry === undefined || entry.token !== token) return undefined;
    const now = this.#deps.clock();
    if (!tokenTimesValid(entry.tokenTimes, now)) return undefined;
    if (entry.credentials.expiresAtMs - now <= MIN_CREDENTIAL_TTL_MS) {
      cache.delete(key, 'stale', entry);
      return undefined;
    }
    return entry;
  }

  /**
   * Fetches `token`'s credentials from EKS Auth (joining a fetch already in flight for the same
   * token) and caches them. Throws the EKS Auth or transport error, or {@link AgentInternalError}
   * when EKS Auth returned credentials with 15 s or less left.
   */
  async fetch(token: string, tokenTimes: TokenTimes): Promise<CacheEntry> {
    const entry = await this.load(tokenDigest(token), token, tokenTimes);
    if (entry.token !== token) throw new AgentInternalError('credentials of another token');
    this.#deps.cache?.set(entry);
    return entry;
  }

  /**
   * One EKS Auth call per token (by `digest`) at a time: concurrent callers share it. Returns a
   * new entry without storing it (the background refresher decides itself whether to store).
   */
  load(digest: string, token: string, tokenTimes: TokenTimes): Promise<CacheEntry> {
    return this.#flights.run(digest, async () => {
      const { client, clock, logger, maxRetentionMs } = this.#deps;
      const credentials = await client.assumeRoleForPodIdentity(token);
      const now = clock();
      const lifetime = credentials.expiresAtMs - now;
      if (lifetime <= MIN_CREDENTIAL_TTL_MS) {
        throw new AgentInternalError(
          `fetched credentials are expired or will expire within the next ${(lifetime / 1000).toFixed(2)} seconds`,
        );
      }
      logger.info(
        {
          token: tokenId(digest),
          role: credentials.assumedRoleArn,
          association: credentials.associationId,
        },
        'fetched credentials from EKS Auth',
      );
      return {
        key: tokenIndex(token),
        digest,
        token,
        tokenTimes,
        credentials,
        body: credentialsBody(credentials),
        fetchedAtMs: now,
        refreshAtMs: now + renewalDelayMs(lifetime, maxRetentionMs),
      };
    });
  }

  /** Fetches in flight. */
  get inFlight(): number {
    return this.#flights.size;
  }
}

/**
 * When to renew credentials with `lifetimeMs` left: after the retention limit, or half their
 * lifetime if that comes first, so pods are always handed credentials with at least half their
 * life left. (Upstream renews at min(retention, lifetime): the same for EKS's 6 h credentials
 * with the 3 h default, but at expiry for shorter ones.)
 */
export function renewalDelayMs(lifetimeMs: number, maxRetentionMs: number): number {
  return Math.min(maxRetentionMs, lifetimeMs / 2);
}
