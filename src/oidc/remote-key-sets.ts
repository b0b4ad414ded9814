import { RemoteKeySet, type RemoteKeySetOptions } from './remote-key-set.js';

/** How many external issuers' key sets are kept at most (least recently used go first). */
export const MAX_REMOTE_ISSUERS = 1_000;

/**
 * One {@link RemoteKeySet} per external issuer, shared by everything that verifies its tokens
 * (STS for IRSA, EKS Auth for Pod Identity), so each issuer is fetched and cached once. Every
 * set gets the same options: SSRF guards, limits and, for tests or a private CA, `allowLoopback`
 * and `ca`.
 *
 * @example
 * const remote = new RemoteKeySets();
 * const keys = remote.get('https://oidc.eks.eu-west-1.amazonaws.com/id/ABC');
 */
export class RemoteKeySets {
  readonly #sets = new Map<string, RemoteKeySet>();

  constructor(readonly options: RemoteKeySetOptions = {}) {}

  /** The key set of `issuer` (made on first use). Throws a TypeError for an unusable URL. */
  get(issuer: string): RemoteKeySet {
    const existing = this.#sets.get(issuer);
    if (existing !== undefined) {
      // Most recently used last, so the first entry is the one to drop.
      this.#sets.delete(issuer);
      this.#sets.set(issuer, existing);
      return existing;
    }
    const created = new RemoteKeySet(issuer, this.options);
    this.#sets.set(issuer, created);
    if (this.#sets.size > MAX_REMOTE_ISSUERS) {
      const oldest = this.#sets.keys().next().value;
      if (oldest !== undefined) this.#sets.delete(oldest);
    }
    return created;
  }
}
