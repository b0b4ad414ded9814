import type { Kysely } from 'kysely';
import { openSecret, sealSecret } from '../secrets/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';
import { newSealingKey, type SealingKey, type SealingKeyring } from './seal.js';

/** How long a rotated-out sealing key still opens tokens: the longest session (12 h) and skew. */
export const SEALING_OVERLAP_SECONDS = 43_200 + 300;

/**
 * The sealing keys of session tokens, stored sealed under the master key. Every replica loads
 * the same keyring, so any replica opens any token without a store read per request.
 */
export class SealingKeyStore {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly masterKey: Buffer,
  ) {}

  /**
   * Loads the keyring, creating the first key on first use. Replicas starting together on an
   * empty store agree: at most one key is current (a unique index), the loser of the race reads
   * the winner's.
   */
  async load(): Promise<SealingKeyring> {
    let rows = await this.#live();
    if (!rows.some((r) => r.retire_after === null)) {
      await this.#insert(newSealingKey()).catch((err: unknown) => {
        if (!isUniqueViolation(err)) throw err;
      });
      rows = await this.#live();
    }
    const keys = rows.map((r) => ({
      id: r.kid,
      key: Buffer.from(this.#open(r.key_sealed, r.kid), 'base64'),
      current: r.retire_after === null,
    }));
    // If two replicas raced to create a first key, the oldest current one wins everywhere.
    const current = keys.find((k) => k.current) as SealingKey;
    return { current, byId: new Map(keys.map((k) => [k.id, { id: k.id, key: k.key }])) };
  }

  /**
   * Starts sealing with a new key; the previous ones keep opening tokens for the overlap. Atomic:
   * of two replicas rotating at once, one rotation wins and both end up with its key.
   */
  async rotate(): Promise<SealingKeyring> {
    const retireAfter = new Date(Date.now() + SEALING_OVERLAP_SECONDS * 1000).toISOString();
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx
          .updateTable('sealing_keys')
          .set({ retire_after: retireAfter })
          .where('retire_after', 'is', null)
          .execute();
        await this.#insert(newSealingKey(), trx);
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
    }
    return this.load();
  }

  #open(sealed: string, kid: string): string {
    try {
      return openSecret(this.masterKey, sealed, kid);
    } catch (err) {
      throw new Error(
        `sealing key ${kid} in the store does not open with this master key: every replica ` +
          'of one deployment needs the same LATCHKEY_MASTER_KEY',
        { cause: err },
      );
    }
  }

  async #insert(key: SealingKey, db: Kysely<Database> = this.db): Promise<void> {
    await db
      .insertInto('sealing_keys')
      .values({
        kid: key.id,
        key_sealed: sealSecret(this.masterKey, key.key.toString('base64'), key.id),
        created_at: nowIso(),
        retire_after: null,
      })
      .execute();
  }

  #live() {
    return this.db
      .selectFrom('sealing_keys')
      .selectAll()
      .where((eb) => eb.or([eb('retire_after', 'is', null), eb('retire_after', '>', nowIso())]))
      .orderBy('created_at')
      .execute();
  }
}
