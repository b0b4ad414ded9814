/**
 * Signed-out console sessions: each sign-out records the session's random id in the store
 * until the session would have expired, and every console request checks it there — so a copy
 * of the cookie is refused after sign-out, on every replica sharing the store. There is no
 * cache: the check is one primary-key read, and a store that cannot answer fails the request.
 */
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';

/** Where console sessions are revoked and looked up. */
export interface SessionRevocationList {
  /** Records `sessionId` as signed out until `expiresAt` (ms since the epoch). */
  revoke(sessionId: string, expiresAt: number): Promise<void>;
  /** True when `sessionId` was signed out. Throws when the store cannot answer. */
  isRevoked(sessionId: string): Promise<boolean>;
}

/** The revocation list in the store's `console_revoked_sessions` table. */
export class StoredSessionRevocations implements SessionRevocationList {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Records the sign-out (idempotent) and prunes rows of sessions that have expired anyway.
   *
   * @example
   * await revocations.revoke(claims.sessionId, claims.expiresAt);
   */
  async revoke(sessionId: string, expiresAt: number): Promise<void> {
    const expires = new Date(expiresAt).toISOString();
    await this.db
      .insertInto('console_revoked_sessions')
      .values({ session_id: sessionId, expires_at: expires })
      .onConflict((oc) => oc.column('session_id').doUpdateSet({ expires_at: expires }))
      .execute();
    await this.db
      .deleteFrom('console_revoked_sessions')
      .where('expires_at', '<=', new Date(this.now()).toISOString())
      .execute();
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('console_revoked_sessions')
      .select('session_id')
      .where('session_id', '=', sessionId)
      .executeTakeFirst();
    return row !== undefined;
  }
}
