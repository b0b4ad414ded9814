import type { ClusterDirectory } from '../eks/index.js';
import { ISSUER_PATH_PREFIX } from '../eks/index.js';
import type { OidcProvider, OidcProviderDirectory } from '../iam/index.js';
import type { KeySetSource } from '../oidc/index.js';

/** How long the key source found for an issuer is reused before the store is asked again. */
const LOOKUP_TTL_MS = 5_000;
const MAX_CACHED_LOOKUPS = 10_000;

/** A token issuer trusted by an account: its IAM provider and where its keys come from. */
export interface TrustedIssuer {
  provider: OidcProvider;
  keys: KeySetSource;
}

/**
 * Resolves the issuer of a web identity token for an account: it must be an IAM OIDC provider
 * of that account. Its keys come from Latchkey's own cluster issuer (no network; a new `kid`
 * after a rotation is looked up at once), from the pinned JWKS of an external cluster the
 * account registered (`latchkey cluster register --jwks-file`), or from the issuer's JWKS over
 * HTTPS with caching and SSRF guards.
 */
export class IssuerRegistry {
  readonly #cache = new Map<
    string,
    { keys: KeySetSource | undefined; at: number; changes: number }
  >();

  constructor(
    private readonly providers: OidcProviderDirectory,
    private readonly clusters: ClusterDirectory,
    private readonly publicUrl: () => string,
  ) {}

  /** The issuer `iss` as trusted by `accountId`, or undefined when the account has no such provider. */
  async find(accountId: string, iss: string): Promise<TrustedIssuer | undefined> {
    const provider = await this.providers.findByIssuer(accountId, iss);
    if (provider === undefined) return undefined;
    const key = `${accountId} ${iss}`;
    const cached = this.#cache.get(key);
    let keys: KeySetSource | undefined;
    // Reused for 5 s, or until a cluster changes through this instance (other replicas: 5 s).
    const changes = this.clusters.changes;
    if (
      cached !== undefined &&
      cached.changes === changes &&
      Date.now() - cached.at < LOOKUP_TTL_MS
    ) {
      keys = cached.keys;
    } else {
      keys = await this.#keysOf(accountId, iss);
      if (this.#cache.size >= MAX_CACHED_LOOKUPS) this.#cache.clear();
      this.#cache.set(key, { keys, at: Date.now(), changes });
    }
    return keys === undefined ? undefined : { provider, keys };
  }

  async #keysOf(accountId: string, iss: string): Promise<KeySetSource | undefined> {
    const own = `${this.publicUrl()}${ISSUER_PATH_PREFIX}`;
    if (iss.startsWith(own)) {
      const cluster = await this.clusters.findByIssuerId(iss.slice(own.length));
      if (cluster === undefined || cluster.issuerUrl !== iss) return undefined;
      return this.clusters.verificationKeys(cluster);
    }
    const external = await this.clusters.findExternalByIssuer(accountId, iss);
    if (external !== undefined) return this.clusters.verificationKeys(external);
    try {
      return this.clusters.remoteKeys.get(iss);
    } catch {
      // Not an issuer URL Latchkey may fetch (e.g. plain http): no keys.
      return undefined;
    }
  }
}
