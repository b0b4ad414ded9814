import type { ClusterDirectory } from '../eks/index.js';
import { ISSUER_PATH_PREFIX } from '../eks/index.js';
import type { OidcProvider, OidcProviderDirectory } from '../iam/index.js';
import { LocalKeySet, RemoteKeySet, type IssuerKeys, type KeySetSource } from '../oidc/index.js';

/** How long a cluster issuer's imported keys are reused before re-reading them. */
const LOCAL_KEYS_TTL_MS = 5_000;

/** A token issuer trusted by an account: its IAM provider and where its keys come from. */
export interface TrustedIssuer {
  provider: OidcProvider;
  keys: KeySetSource;
}

/**
 * Resolves the issuer of a web identity token for an account: it must be an IAM OIDC provider
 * of that account; its keys come from Latchkey's own cluster issuer (no network) or, for an
 * external issuer, from its JWKS over HTTPS with caching and SSRF guards.
 */
export class IssuerRegistry {
  readonly #local = new Map<string, { keys: LocalKeySet; loadedAt: number }>();
  readonly #remote = new Map<string, RemoteKeySet>();

  constructor(
    private readonly providers: OidcProviderDirectory,
    private readonly clusters: ClusterDirectory,
    private readonly issuerKeys: IssuerKeys,
    private readonly publicUrl: () => string,
  ) {}

  /** The issuer `iss` as trusted by `accountId`, or undefined when the account has no such provider. */
  async find(accountId: string, iss: string): Promise<TrustedIssuer | undefined> {
    const provider = await this.providers.findByIssuer(accountId, iss);
    if (provider === undefined) return undefined;
    const keys = await this.#keysOf(iss);
    return keys === undefined ? undefined : { provider, keys };
  }

  async #keysOf(iss: string): Promise<KeySetSource | undefined> {
    const own = `${this.publicUrl()}${ISSUER_PATH_PREFIX}`;
    if (iss.startsWith(own)) {
      const issuerId = iss.slice(own.length);
      const cached = this.#local.get(issuerId);
      if (cached && Date.now() - cached.loadedAt < LOCAL_KEYS_TTL_MS) return cached.keys;
      const cluster = await this.clusters.findByIssuerId(issuerId);
      if (cluster === undefined || cluster.issuerUrl !== iss) return undefined;
      const keys = new LocalKeySet(await this.issuerKeys.publishedKeys(issuerId));
      this.#local.set(issuerId, { keys, loadedAt: Date.now() });
      return keys;
    }
    let remote = this.#remote.get(iss);
    if (remote === undefined) {
      remote = new RemoteKeySet(iss);
      this.#remote.set(iss, remote);
    }
    return remote;
  }
}
