/**
 * Buckets' owners and policies for readers outside S3 (the access graph's "who can" and "can
 * reach"): a small typed read of the S3 bucket table, with no cache and no write path. S3's own
 * requests read buckets through `S3Metadata`.
 */
import type { Kysely } from 'kysely';
import type { S3Tables } from './schema.js';

/** A bucket as its policy's readers see it. */
export interface BucketPolicyFacts {
  name: string;
  /** The account that owns the bucket: the resource account of every request on it. */
  ownerAccount: string;
  /** The bucket policy as the owner stored it (JSON text), or null when it has none. */
  policy: string | null;
}

/** Reads buckets' owners and policies from the store. */
export class BucketPolicyReader<DB extends S3Tables = S3Tables> {
  readonly #db: Kysely<S3Tables>;

  constructor(db: Kysely<DB>) {
    this.#db = db as unknown as Kysely<S3Tables>;
  }

  /**
   * One bucket's owner and policy, or undefined when no bucket has this name.
   *
   * @example
   * const facts = await new BucketPolicyReader(store.db).bucket('reports');
   * facts?.ownerAccount; // '000000000000'
   */
  async bucket(name: string): Promise<BucketPolicyFacts | undefined> {
    const row = await this.#db
      .selectFrom('s3_buckets')
      .select(['name', 'owner_account', 'policy'])
      .where('name', '=', name)
      .executeTakeFirst();
    return row === undefined
      ? undefined
      : { name: row.name, ownerAccount: row.owner_account, policy: row.policy };
  }

  /**
   * Buckets that have a policy, in name order, at most `limit` of them (of every account: a
   * bucket policy may name principals of any account).
   */
  async withPolicies(limit: number): Promise<(BucketPolicyFacts & { policy: string })[]> {
    const rows = await this.#db
      .selectFrom('s3_buckets')
      .select(['name', 'owner_account', 'policy'])
      .where('policy', 'is not', null)
      .orderBy('name')
      .limit(limit)
      .execute();
    return rows.flatMap((r) =>
      r.policy === null ? [] : [{ name: r.name, ownerAccount: r.owner_account, policy: r.policy }],
    );
  }
}
