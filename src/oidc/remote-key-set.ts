import type { JWK } from 'jose';
import type { AwsError } from '../errors/index.js';
import {
  DEFAULT_FETCH_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  GuardedFetchError,
  guardedGet,
  type GuardedResponse,
  type ResolveAll,
} from './fetch-guard.js';
import {
  JwksFormatError,
  keyMatches,
  parseJwks,
  type KeySelector,
  type KeySetSource,
} from './key-set.js';
import { idpUnreachableError, keyNotFoundError } from './web-identity-errors.js';

/** Options of a {@link RemoteKeySet}; every duration is in milliseconds. */
export interface RemoteKeySetOptions {
  /** Permit loopback addresses and plain http to them (tests, a dev issuer on 127.0.0.1). */
  allowLoopback?: boolean;
  /** Deadline of one HTTP exchange (default 5 s). */
  timeoutMs?: number;
  /** Largest discovery or JWKS body accepted (default 256 KiB). */
  maxBodyBytes?: number;
  /** Freshness when the JWKS response has no usable Cache-Control max-age (default 10 min). */
  defaultMaxAgeMs?: number;
  /** Bounds applied to the server's max-age (default 1 min … 1 h). */
  minMaxAgeMs?: number;
  maxMaxAgeMs?: number;
  /** How long past freshness cached keys keep verifying while refreshes fail (default 24 h). */
  staleIfErrorMs?: number;
  /** At most one refetch per this period for unknown `kid`s (default 30 s). */
  cooldownMs?: number;
  /** After a failed fetch, fail fast for this long instead of fetching again (default 5 s). */
  errorBackoffMs?: number;
  /** Name resolution, for tests; defaults to the system resolver. */
  resolve?: ResolveAll;
  /** Extra trusted CA certificates (PEM) for a self-hosted issuer. */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Clock in epoch milliseconds, for tests. */
  now?: () => number;
}

const DEFAULTS = {
  defaultMaxAgeMs: 10 * 60_000,
  minMaxAgeMs: 60_000,
  maxMaxAgeMs: 60 * 60_000,
  staleIfErrorMs: 24 * 60 * 60_000,
  cooldownMs: 30_000,
  errorBackoffMs: 5_000,
};

/**
 * Checks an issuer URL for {@link RemoteKeySet}: absolute, https (http only with
 * `allowLoopback`), no credentials, query or fragment. Returns it without a trailing slash.
 */
export function checkIssuerUrl(issuer: string, allowLoopback = false): string {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw new TypeError(`issuer ${issuer} is not an absolute URL`);
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowLoopback)) {
    throw new TypeError(`issuer ${issuer} must use https`);
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new TypeError(`issuer ${issuer} must not have credentials, a query or a fragment`);
  }
  return issuer.replace(/\/+$/, '');
}

/**
 * Checks the `jwks_uri` of a discovery document: it must be an absolute URL with the same
 * origin (scheme, host and port) as the issuer, so a discovery document cannot point Latchkey
 * at another host, a downgrade to http, or an internal service. Returns the parsed URL.
 */
export function checkJwksUri(issuer: string, jwksUri: unknown): URL {
  if (typeof jwksUri !== 'string') {
    throw new JwksFormatError('discovery document has no jwks_uri');
  }
  let url: URL;
  try {
    url = new URL(jwksUri);
  } catch {
    throw new JwksFormatError('jwks_uri is not an absolute URL');
  }
  if (url.origin !== new URL(issuer).origin) {
    throw new JwksFormatError(`jwks_uri ${url.origin} is not on the issuer's origin`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new JwksFormatError('jwks_uri must not carry credentials');
  }
  return url;
}

/**
 * Reads a freshness lifetime from Cache-Control, in seconds: `max-age=N`, 0 for `no-store` /
 * `no-cache`, undefined when absent.
 */
export function maxAgeSeconds(cacheControl: string | undefined): number | undefined {
  if (cacheControl === undefined) return undefined;
  const directives = cacheControl
    .toLowerCase()
    .split(',')
    .map((d) => d.trim());
  if (directives.includes('no-store') || directives.includes('no-cache')) return 0;
  for (const d of directives) {
    const m = /^max-age=(\d{1,10})$/.exec(d);
    if (m?.[1] !== undefined) return Number(m[1]);
  }
  return undefined;
}

interface CachedKeys {
  keys: readonly JWK[];
  freshUntil: number;
  usableUntil: number;
}

/**
 * The keys of an external issuer (e.g. a real cluster's), found through OpenID Connect discovery
 * (`<issuer>/.well-known/openid-configuration` → `jwks_uri`) and cached.
 *
 * - Fresh for the response's Cache-Control max-age (bounded), 10 min by default; once stale the
 *   cached keys keep answering while one background refresh runs.
 * - Stale-if-error: when refreshes fail, cached keys keep verifying for up to 24 h past freshness.
 * - An unknown `kid` triggers at most one refetch per cooldown (30 s), so a flood of random kids
 *   costs the issuer one request per cooldown; concurrent callers share one fetch.
 * - Every request goes through {@link guardedGet}: https, same-origin `jwks_uri`, public
 *   addresses only, no redirects, 5 s deadline, 256 KiB cap; more than 100 keys is refused.
 *
 * Failures surface as `IDPCommunicationError` (network, timeout, 5xx) or `InvalidIdentityToken`
 * "Couldn't retrieve verification key…" (policy refusals, bad documents) — only when no usable
 * cached keys remain.
 *
 * @example
 * const keys = new RemoteKeySet('https://oidc.eks.eu-west-1.amazonaws.com/id/ABC');
 * await verifyWebIdentityToken(token, {
 *   keysFor: async (iss) => (iss === keys.issuer ? keys : undefined),
 * });
 */
export class RemoteKeySet implements KeySetSource {
  /** The issuer URL as configured (trailing slashes removed). */
  readonly issuer: string;
  readonly #options: RemoteKeySetOptions;
  readonly #cfg: typeof DEFAULTS;
  readonly #now: () => number;
  #cache: CachedKeys | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastFailure: { at: number; error: AwsError } | undefined;
  #inflight: Promise<void> | undefined;

  constructor(issuer: string, options: RemoteKeySetOptions = {}) {
    this.issuer = checkIssuerUrl(issuer, options.allowLoopback === true);
    this.#options = options;
    this.#cfg = {
      defaultMaxAgeMs: options.defaultMaxAgeMs ?? DEFAULTS.defaultMaxAgeMs,
      minMaxAgeMs: options.minMaxAgeMs ?? DEFAULTS.minMaxAgeMs,
      maxMaxAgeMs: options.maxMaxAgeMs ?? DEFAULTS.maxMaxAgeMs,
      staleIfErrorMs: options.staleIfErrorMs ?? DEFAULTS.staleIfErrorMs,
      cooldownMs: options.cooldownMs ?? DEFAULTS.cooldownMs,
      errorBackoffMs: options.errorBackoffMs ?? DEFAULTS.errorBackoffMs,
    };
    this.#now = options.now ?? Date.now;
  }

  /** The discovery document's URL. */
  get discoveryUrl(): string {
    return `${this.issuer}/.well-known/openid-configuration`;
  }

  async selectKeys(selector: KeySelector): Promise<readonly JWK[]> {
    const now = this.#now();
    let cache = this.#cache;
    if (cache === undefined || now >= cache.usableUntil) {
      // Nothing usable: this caller has to wait for a fetch (or fail fast during backoff).
      if (this.#inflight === undefined && this.#inBackoff(now) && this.#lastFailure) {
        throw this.#lastFailure.error;
      }
      await this.#refresh();
      cache = this.#cache;
      if (cache === undefined) throw keyNotFoundError('no keys cached');
    } else if (now >= cache.freshUntil && !this.#inBackoff(now)) {
      // Stale but usable: answer now, refresh behind the caller's back.
      this.#refresh().catch(() => undefined);
    }

    let found = cache.keys.filter((k) => keyMatches(k, selector));
    if (found.length === 0 && selector.kid !== undefined) {
      // A new kid may mean key rotation: refetch, but at most once per cooldown.
      if (this.#inflight !== undefined || now - this.#lastAttemptAt >= this.#cfg.cooldownMs) {
        try {
          await this.#refresh();
        } catch {
          // Keep the cached keys; the kid is simply unknown.
        }
        found = (this.#cache?.keys ?? []).filter((k) => keyMatches(k, selector));
      }
    }
    return found;
  }

  /**
   * Fetches the discovery document and JWKS now (sharing a fetch in progress) and returns the
   * keys; throws the `AwsError` a token would get. For checking an issuer when it is registered.
   */
  async refresh(): Promise<readonly JWK[]> {
    await this.#refresh();
    return this.#cache?.keys ?? [];
  }

  #inBackoff(now: number): boolean {
    return this.#lastFailure !== undefined && now - this.#lastFailure.at < this.#cfg.errorBackoffMs;
  }

  /** Single flight: concurrent callers share the one fetch in progress. */
  #refresh(): Promise<void> {
    this.#inflight ??= this.#fetchAndStore().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetchAndStore(): Promise<void> {
    const startedAt = this.#now();
    this.#lastAttemptAt = startedAt;
    try {
      const discovery = parseJson(await this.#get(this.discoveryUrl), 'discovery document');
      if (discovery.issuer !== this.issuer && discovery.issuer !== `${this.issuer}/`) {
        throw new JwksFormatError('discovery document names a different issuer');
      }
      const jwksUrl = checkJwksUri(this.issuer, discovery.jwks_uri);
      const response = await this.#get(jwksUrl.href);
      const keys = parseJwks(response.body);
      const now = this.#now();
      const freshFor = this.#freshFor(response);
      this.#cache = {
        keys,
        freshUntil: now + freshFor,
        usableUntil: now + freshFor + this.#cfg.staleIfErrorMs,
      };
      this.#lastFailure = undefined;
    } catch (err) {
      const error = toAwsError(err);
      this.#lastFailure = { at: this.#now(), error };
      throw error;
    }
  }

  #get(url: string): Promise<GuardedResponse> {
    const o = this.#options;
    return guardedGet(url, {
      allowLoopback: o.allowLoopback === true,
      timeoutMs: o.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      maxBytes: o.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      ...(o.resolve !== undefined ? { resolve: o.resolve } : {}),
      ...(o.ca !== undefined ? { ca: o.ca } : {}),
    });
  }

  #freshFor(response: GuardedResponse): number {
    const header = response.headers['cache-control'];
    const seconds = maxAgeSeconds(Array.isArray(header) ? header.join(',') : header);
    const ms = seconds === undefined ? this.#cfg.defaultMaxAgeMs : seconds * 1000;
    return Math.min(Math.max(ms, this.#cfg.minMaxAgeMs), this.#cfg.maxMaxAgeMs);
  }
}

function parseJson(response: GuardedResponse, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(response.body.toString('utf8'));
  } catch {
    throw new JwksFormatError(`${what} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwksFormatError(`${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** Transient transport failures are IDPCommunicationError; refusals and bad documents are not. */
function toAwsError(err: unknown): AwsError {
  if (err instanceof GuardedFetchError) {
    return err.transient ? idpUnreachableError(err.message) : keyNotFoundError(err.message);
  }
  if (err instanceof JwksFormatError) return keyNotFoundError(err.message);
  return idpUnreachableError(err instanceof Error ? err.message : 'unknown failure');
}
