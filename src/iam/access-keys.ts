import type { Kysely } from 'kysely';
import type { CredentialResolver, ResolvedCredential } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import { openSecret, sealSecret } from '../secrets/index.js';
import { nowIso, type Database } from '../store/index.js';
import { newAccessKeyId, newSecretAccessKey } from './ids.js';
import { noSuchUser, userArn } from './users.js';

/** IAM's quota of access keys per user. */
export const ACCESS_KEYS_PER_USER = 2;

/** An access key's metadata (no secret), as ListAccessKeys returns it. */
export interface AccessKeyMetadata {
  userName: string;
  accessKeyId: string;
  status: 'Active' | 'Inactive';
  createDate: Date;
}

/** A new access key with its secret, returned exactly once by CreateAccessKey. */
export interface NewAccessKey extends AccessKeyMetadata {
  secretAccessKey: string;
}

/** How long a resolved key stays cached; other replicas see a change within this bound. */
const CACHE_TTL_MS = 5_000;
const CACHE_MAX_ENTRIES = 10_000;

/**
 * Long-term access keys of IAM users. Secrets are stored sealed under the master key and
 * opened only to verify a signature. Resolution is cached briefly; changes made through this
 * instance take effect at once.
 */
export class AccessKeyDirectory implements CredentialResolver {
  readonly #cache = new Map<string, { value: ResolvedCredential | null; expires: number }>();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly masterKey: Buffer,
  ) {}

  /** Creates an Active key for a user; LimitExceeded past two keys. */
  async create(accountId: string, userName: string): Promise<NewAccessKey> {
    const accessKeyId = newAccessKeyId('AKIA');
    const secretAccessKey = newSecretAccessKey();
    const createdAt = nowIso();
    const user = await this.db.transaction().execute(async (trx) => {
      const user = await trx
        .selectFrom('iam_users')
        .select('user_name')
        .where('account_id', '=', accountId)
        .where('name_key', '=', userName.toLowerCase())
        .executeTakeFirst();
      if (user === undefined) throw noSuchUser(userName);
      const { n } = await trx
        .selectFrom('access_keys')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', accountId)
        .where('user_name', '=', user.user_name)
        .executeTakeFirstOrThrow();
      if (Number(n) >= ACCESS_KEYS_PER_USER) {
        throw new AwsError(
          'LimitExceeded',
          `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`,
        );
      }
      await trx
        .insertInto('access_keys')
        .values({
          access_key_id: accessKeyId,
          account_id: accountId,
          user_name: user.user_name,
          secret_sealed: sealSecret(this.masterKey, secretAccessKey, accessKeyId),
          status: 'Active',
          created_at: createdAt,
        })
        .execute();
      return user;
    });
    this.#cache.delete(accessKeyId);
    return {
      userName: user.user_name,
      accessKeyId,
      secretAccessKey,
      status: 'Active',
      createDate: new Date(createdAt),
    };
  }

  /** The user's keys, oldest first. */
  async list(accountId: string, userName: string): Promise<AccessKeyMetadata[]> {
    const rows = await this.db
      .selectFrom('access_keys')
      .select(['user_name', 'access_key_id', 'status', 'created_at'])
      .where('account_id', '=', accountId)
      .where('user_name', '=', userName)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      userName: r.user_name,
      accessKeyId: r.access_key_id,
      status: r.status,
      createDate: new Date(r.created_at),
    }));
  }

  /** Sets a key Active or Inactive; an Inactive key fails authentication. */
  async updateStatus(
    accountId: string,
    userName: string,
    accessKeyId: string,
    status: 'Active' | 'Inactive',
  ): Promise<void> {
    const result = await this.db
      .updateTable('access_keys')
      .set({ status })
      .where('access_key_id', '=', accessKeyId)
      .where('account_id', '=', accountId)
      .where('user_name', '=', userName)
      .executeTakeFirst();
    this.#cache.delete(accessKeyId);
    if (result.numUpdatedRows === 0n) throw noSuchKey(accessKeyId);
  }

  /** Deletes a key; it stops working at once on this instance. */
  async delete(accountId: string, userName: string, accessKeyId: string): Promise<void> {
    const result = await this.db
      .deleteFrom('access_keys')
      .where('access_key_id', '=', accessKeyId)
      .where('account_id', '=', accountId)
      .where('user_name', '=', userName)
      .executeTakeFirst();
    this.#cache.delete(accessKeyId);
    if (result.numDeletedRows === 0n) throw noSuchKey(accessKeyId);
  }

  /**
   * Drops cached resolutions (one key's, or all): another replica changed keys or users, so
   * they are re-read on next use.
   */
  forget(accessKeyId?: string): void {
    if (accessKeyId === undefined) this.#cache.clear();
    else this.#cache.delete(accessKeyId);
  }

  /** Resolves an `AKIA…` key to its secret and user; null when unknown or inactive. */
  async resolve(accessKeyId: string): Promise<ResolvedCredential | null> {
    const now = Date.now();
    const cached = this.#cache.get(accessKeyId);
    if (cached !== undefined && cached.expires > now) return cached.value;
    const value = await this.#load(accessKeyId);
    if (this.#cache.size >= CACHE_MAX_ENTRIES) this.#cache.clear();
    this.#cache.set(accessKeyId, { value, expires: now + CACHE_TTL_MS });
    return value;
  }

  async #load(accessKeyId: string): Promise<ResolvedCredential | null> {
    if (!accessKeyId.startsWith('AKIA')) return null;
    const row = await this.db
      .selectFrom('access_keys')
      .innerJoin('iam_users', (join) =>
        join
          .onRef('iam_users.account_id', '=', 'access_keys.account_id')
          .onRef('iam_users.user_name', '=', 'access_keys.user_name'),
      )
      .select([
        'access_keys.secret_sealed',
        'access_keys.status',
        'access_keys.account_id',
        'iam_users.user_name',
        'iam_users.user_id',
        'iam_users.path',
      ])
      .where('access_keys.access_key_id', '=', accessKeyId)
      .executeTakeFirst();
    if (row === undefined || row.status !== 'Active') return null;
    return {
      secretAccessKey: openSecret(this.masterKey, row.secret_sealed, accessKeyId),
      principal: {
        type: 'IAMUser',
        accountId: row.account_id,
        arn: userArn(row.account_id, row.path, row.user_name),
        principalId: row.user_id,
        accessKeyId,
        userName: row.user_name,
      },
    };
  }
}

function noSuchKey(accessKeyId: string): AwsError {
  return new AwsError('NoSuchEntity', `The Access Key with id ${accessKeyId} cannot be found.`);
}
