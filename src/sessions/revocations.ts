import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';

/** How often a replica re-reads revocations made elsewhere. */
const REFRESH_MS = 2_000;

/**
 * Revocation beyond AWS: sessions of a role (or of a pod identity association) issued before
 * a point in time fail at once, instead of living until they expire. Kept small: one row per
 * scope, holding the latest cut-off.
 */
export class SessionRevocations {
  #cutoffs = new Map<string, number>();
  #loadedAt = 0;
  #loading: Promise<void> | undefined;

  /**
   * @param onRevoked called after a revocation is committed here, to tell the other replicas
   *   (which then call {@link refresh}).
   */
  constructor(
    private readonly db: Kysely<Database>,
    private readonly onRevoked: (scope: string) => void = () => {},
  ) {}

  /** Revokes every session of `scope` issued up to now; returns the cut-off. */
  async revoke(scope: string, at = new Date()): Promise<Date> {
    const value = at.toISOString();
    await this.db
      .insertInto('session_revocations')
      .values({ scope, revoked_before: value })
      .onConflict((oc) => oc.column('scope').doUpdateSet({ revoked_before: value }))
      .execute();
    this.#cutoffs.set(scope, at.getTime());
    this.onRevoked(scope);
    return at;
  }

  /** Re-reads the revocations now (another replica revoked something). */
  async refresh(): Promise<void> {
    // A read already under way may have started before that revocation was committed.
    if (this.#loading) await this.#loading.catch(() => {});
    await this.#refresh();
  }

  /** True when a session issued at `issuedAt` (epoch ms) under any of `scopes` is revoked. */
  async isRevoked(scopes: string[], issuedAt: number): Promise<boolean> {
    if (Date.now() - this.#loadedAt > REFRESH_MS) await this.#refresh();
    return scopes.some((s) => {
      const cutoff = this.#cutoffs.get(s);
      return cutoff !== undefined && issuedAt <= cutoff;
    });
  }

  #refresh(): Promise<void> {
    this.#loading ??= (async () => {
      try {
        const rows = await this.db.selectFrom('session_revocations').selectAll().execute();
        const loaded = new Map(rows.map((r) => [r.scope, new Date(r.revoked_before).getTime()]));
        // Keep a later local cut-off a read that started before it could not see.
        for (const [scope, cutoff] of this.#cutoffs) {
          if (cutoff > (loaded.get(scope) ?? 0)) loaded.set(scope, cutoff);
        }
        this.#cutoffs = loaded;
        this.#loadedAt = Date.now();
      } finally {
        this.#loading = undefined;
      }
    })();
    return this.#loading;
  }
}
