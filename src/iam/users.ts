import { sql, type Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';
import { newUniqueId } from './ids.js';

/** An IAM user, as IAM's API describes it. */
export interface IamUser {
  accountId: string;
  userName: string;
  userId: string;
  path: string;
  arn: string;
  createDate: Date;
}

/** One page of a listing, with IAM's Marker-based pagination. */
export interface Page<T> {
  items: T[];
  /** Set when more items follow; pass it back as `marker`. */
  marker?: string;
}

/** The ARN of a user: `arn:aws:iam::ACCT:user/PATH/NAME`. */
export function userArn(accountId: string, path: string, userName: string): string {
  return `arn:aws:iam::${accountId}:user${path}${userName}`;
}

/** IAM users of every account. Names are unique per account, case-insensitively. */
export class UserDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a user; EntityAlreadyExists when the name is taken. */
  async create(accountId: string, userName: string, path = '/'): Promise<IamUser> {
    const row = {
      account_id: accountId,
      user_name: userName,
      name_key: userName.toLowerCase(),
      user_id: newUniqueId('AIDA'),
      path,
      created_at: nowIso(),
    };
    try {
      await this.db.insertInto('iam_users').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AwsError('EntityAlreadyExists', `User with name ${userName} already exists.`);
      }
      throw err;
    }
    return toUser(row);
  }

  /** The named user; NoSuchEntity when there is none. */
  async get(accountId: string, userName: string): Promise<IamUser> {
    const row = await this.db
      .selectFrom('iam_users')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name_key', '=', userName.toLowerCase())
      .executeTakeFirst();
    if (row === undefined) throw noSuchUser(userName);
    return toUser(row);
  }

  /** Users in name order, filtered by path prefix, `maxItems` at a time. */
  async list(
    accountId: string,
    options: { pathPrefix: string; marker?: string | undefined; maxItems: number },
  ): Promise<Page<IamUser>> {
    let query = this.db
      .selectFrom('iam_users')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('name_key')
      .limit(options.maxItems + 1);
    if (options.pathPrefix !== '/') {
      // substr, not LIKE: SQLite's LIKE ignores case and paths are case-sensitive.
      const prefix = options.pathPrefix;
      query = query.where(sql<boolean>`substr(path, 1, ${prefix.length}) = ${prefix}`);
    }
    if (options.marker !== undefined)
      query = query.where('name_key', '>', decodeMarker(options.marker));
    const rows = await query.execute();
    const items = rows.slice(0, options.maxItems).map(toUser);
    const last = items.at(-1);
    return rows.length > options.maxItems && last
      ? { items, marker: encodeMarker(last.userName.toLowerCase()) }
      : { items };
  }

  /**
   * Deletes a user. Like IAM, refuses (DeleteConflict) while the user still has access keys
   * or attached policies, so nothing is left dangling.
   */
  async delete(accountId: string, userName: string): Promise<void> {
    const nameKey = userName.toLowerCase();
    await this.db.transaction().execute(async (trx) => {
      const user = await trx
        .selectFrom('iam_users')
        .select(['user_name'])
        .where('account_id', '=', accountId)
        .where('name_key', '=', nameKey)
        .executeTakeFirst();
      if (user === undefined) throw noSuchUser(userName);
      const key = await trx
        .selectFrom('access_keys')
        .select('access_key_id')
        .where('account_id', '=', accountId)
        .where('user_name', '=', user.user_name)
        .executeTakeFirst();
      if (key !== undefined) {
        throw new AwsError(
          'DeleteConflict',
          'Cannot delete entity, must delete access keys first.',
        );
      }
      const inline = await trx
        .selectFrom('iam_inline_policies')
        .select('policy_name')
        .where('account_id', '=', accountId)
        .where('principal_kind', '=', 'user')
        .where('principal_name_key', '=', nameKey)
        .executeTakeFirst();
      if (inline !== undefined) {
        throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      }
      const policy = await trx
        .selectFrom('user_policy_attachments')
        .select('policy_arn')
        .where('account_id', '=', accountId)
        .where('user_name_key', '=', nameKey)
        .executeTakeFirst();
      if (policy !== undefined) {
        throw new AwsError(
          'DeleteConflict',
          'Cannot delete entity, must detach all policies first.',
        );
      }
      await trx
        .deleteFrom('iam_users')
        .where('account_id', '=', accountId)
        .where('name_key', '=', nameKey)
        .execute();
    });
  }

  /** Attaches a managed policy to a user (idempotent, as IAM's AttachUserPolicy). */
  async attachPolicy(accountId: string, userName: string, policyArn: string): Promise<void> {
    const user = await this.get(accountId, userName);
    await this.db
      .insertInto('user_policy_attachments')
      .values({
        account_id: accountId,
        user_name_key: user.userName.toLowerCase(),
        policy_arn: policyArn,
        attached_at: nowIso(),
      })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  /** ARNs of the managed policies attached to a user. */
  async attachedPolicyArns(accountId: string, userName: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('user_policy_attachments')
      .select('policy_arn')
      .where('account_id', '=', accountId)
      .where('user_name_key', '=', userName.toLowerCase())
      .execute();
    return rows.map((r) => r.policy_arn);
  }
}

/** NoSuchEntity for a user, in IAM's words. */
export function noSuchUser(userName: string): AwsError {
  return new AwsError('NoSuchEntity', `The user with name ${userName} cannot be found.`);
}

function toUser(row: Database['iam_users']): IamUser {
  return {
    accountId: row.account_id,
    userName: row.user_name,
    userId: row.user_id,
    path: row.path,
    arn: userArn(row.account_id, row.path, row.user_name),
    createDate: new Date(row.created_at),
  };
}

function encodeMarker(key: string): string {
  return Buffer.from(key, 'utf8').toString('base64url');
}

function decodeMarker(marker: string): string {
  const key = Buffer.from(marker, 'base64url').toString('utf8');
  if (key === '' || encodeMarker(key) !== marker) {
    throw new AwsError('ValidationError', 'Invalid Marker.');
  }
  return key;
}
