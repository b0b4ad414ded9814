import type { JWK } from 'jose';
import type { IssuerKeys } from './issuer-keys.js';
import { keyMatches, toVerificationKey, type KeySelector, type KeySetSource } from './key-set.js';

/** At most one store read per issuer per this period for a `kid` the cache does not know. */
const UNKNOWN_KID_RELOAD_MS = 1_000;

/**
 * The published keys of one of Latchkey's own issuers, read through {@link IssuerKeys}' cache.
 * A token whose `kid` is not in the cached set (a key made a moment ago by a rotation on another
 * replica) makes one fresh read of the store, at most once a second per issuer, so a rotation
 * never fails tokens signed by the new key.
 *
 * @example
 * const keys = new OwnIssuerKeySet(issuerKeys, cluster.issuerId);
 * await verifyWebIdentityToken(token, { keysFor: async (iss) => (iss === cluster.issuerUrl ? keys : undefined) });
 */
export class OwnIssuerKeySet implements KeySetSource {
  static readonly #lastReload = new Map<string, number>();

  constructor(
    private readonly issuerKeys: IssuerKeys,
    private readonly issuerId: string,
  ) {}

  async selectKeys(selector: KeySelector): Promise<readonly JWK[]> {
    const found = select(await this.issuerKeys.publishedKeys(this.issuerId), selector);
    if (found.length > 0 || selector.kid === undefined) return found;
    const now = Date.now();
    const last = OwnIssuerKeySet.#lastReload.get(this.issuerId) ?? 0;
    if (now - last < UNKNOWN_KID_RELOAD_MS) return found;
    OwnIssuerKeySet.#lastReload.set(this.issuerId, now);
    if (OwnIssuerKeySet.#lastReload.size > 10_000) OwnIssuerKeySet.#lastReload.clear();
    return select(await this.issuerKeys.publishedKeys(this.issuerId, { fresh: true }), selector);
  }
}

/**
 * Verification keys by the published key they come from. The published keys are cached
 * objects, so the same JWK object reaches jose on every call and jose's imported-key cache
 * hits (a fresh object costs an RSA key import, ~0.1 ms, per token).
 */
const verificationKeys = new WeakMap<JWK, JWK | null>();

function verificationKeyOf(published: JWK): JWK | undefined {
  let key = verificationKeys.get(published);
  if (key === undefined) {
    key = toVerificationKey(published) ?? null;
    verificationKeys.set(published, key);
  }
  return key ?? undefined;
}

function select(published: readonly JWK[], selector: KeySelector): JWK[] {
  return published
    .map(verificationKeyOf)
    .filter((k): k is JWK => k !== undefined && keyMatches(k, selector));
}
