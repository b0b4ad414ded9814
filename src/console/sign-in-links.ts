/**
 * One-time sign-in links (what `latchkey up` prints): 32 random bytes, kept in the store only as
 * their SHA-256 hash with an expiry, good once and for a few minutes, on every replica sharing
 * the store. Redemption deletes the row and reads it back in one statement (`DELETE …
 * RETURNING`, on SQLite and PostgreSQL alike), so two replicas racing for one link cannot both
 * win. The token is looked up by its hash, never compared: knowing part of a hash does not help
 * to find a token that has it.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from '../store/index.js';

/** How long a link stays good. */
export const LINK_SECONDS = 10 * 60;

/** A token: 32 random bytes, base64url. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

/** One-time sign-in tokens bound to an access key id, in the store. */
export class SignInLinks {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * A new token for `accessKeyId`, good for `seconds`. Links that have expired are pruned.
   *
   * @example
   * const token = await links.issue(adminKey.accessKeyId);
   * const url = `${base}/_latchkey/console/sign-in/link?token=${token}`;
   */
  async issue(accessKeyId: string, seconds = LINK_SECONDS): Promise<string> {
    const now = this.now();
    await this.db
      .deleteFrom('console_sign_in_links')
      .where('expires_at', '<=', new Date(now).toISOString())
      .execute();
    const token = randomBytes(32).toString('base64url');
    await this.db
      .insertInto('console_sign_in_links')
      .values({
        token_hash: hash(token),
        access_key_id: accessKeyId,
        expires_at: new Date(now + seconds * 1000).toISOString(),
      })
      .execute();
    return token;
  }

  /**
   * The access key id of a token, using it up; undefined when it is malformed, unknown, used
   * or expired. Throws when the store cannot answer (the sign-in then fails).
   */
  async consume(token: string): Promise<string | undefined> {
    if (!TOKEN.test(token)) return undefined;
    const row = await this.db
      .deleteFrom('console_sign_in_links')
      .where('token_hash', '=', hash(token))
      .returning(['access_key_id', 'expires_at'])
      .executeTakeFirst();
    if (row === undefined) return undefined;
    return Date.parse(row.expires_at) > this.now() ? row.access_key_id : undefined;
  }
}

function hash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}
