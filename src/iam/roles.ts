import { sql, type Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';
import { newUniqueId } from './ids.js';
import type { Page } from './users.js';

/** IAM's bounds on a role's maximum session duration, in seconds. */
export const MIN_MAX_SESSION_DURATION = 3600;
export const MAX_MAX_SESSION_DURATION = 43_200;

/** An IAM role. */
export interface IamRole {
  accountId: string;
  roleName: string;
  roleId: string;
  path: string;
  arn: string;
  trustPolicy: string;
  description?: string;
  maxSessionDuration: number;
  permissionsBoundary?: string;
  tags: Record<string, string>;
  createDate: Date;
}

/** What CreateRole stores. */
export interface NewRole {
  roleName: string;
  path: string;
  trustPolicy: string;
  description?: string | undefined;
  maxSessionDuration: number;
  permissionsBoundary?: string | undefined;
  tags: Record<string, string>;
}

/** The ARN of a role: `arn:aws:iam::ACCT:role/PATH/NAME`. */
export function roleArn(accountId: string, path: string, roleName: string): string {
  return `arn:aws:iam::${accountId}:role${path}${roleName}`;
}

/** Account and name of a role ARN (path ignored, as IAM resolves roles by name). */
export function parseRoleArn(arn: string): { accountId: string; roleName: string } | undefined {
  const m = /^arn:aws:iam::(\d{12}):role\/(?:[\u0021-\u007E]*\/)?([\w+=,.@-]{1,64})$/.exec(arn);
  return m?.[1] === undefined || m[2] === undefined
    ? undefined
    : { accountId: m[1], roleName: m[2] };
}

/** IAM roles of every account. Names are unique per account, case-insensitively. */
export class RoleDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a role; EntityAlreadyExists when the name is taken. */
  async create(accountId: string, input: NewRole): Promise<IamRole> {
    const row = {
      account_id: accountId,
      role_name: input.roleName,
      name_key: input.roleName.toLowerCase(),
      role_id: newUniqueId('AROA'),
      path: input.path,
      trust_policy: input.trustPolicy,
      description: input.description ?? null,
      max_session_duration: input.maxSessionDuration,
      permissions_boundary: input.permissionsBoundary ?? null,
      tags: JSON.stringify(input.tags),
      created_at: nowIso(),
    };
    try {
      await this.db.insertInto('iam_roles').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AwsError(
          'EntityAlreadyExists',
          `Role with name ${input.roleName} already exists.`,
        );
      }
      throw err;
    }
    return toRole(row);
  }

  /** The named role; NoSuchEntity when there is none. */
  async get(accountId: string, roleName: string): Promise<IamRole> {
    const role = await this.find(accountId, roleName);
    if (role === undefined) throw noSuchRole(roleName);
    return role;
  }

  /** The named role, or undefined. */
  async find(accountId: string, roleName: string): Promise<IamRole | undefined> {
    const row = await this.db
      .selectFrom('iam_roles')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name_key', '=', roleName.toLowerCase())
      .executeTakeFirst();
    return row === undefined ? undefined : toRole(row);
  }

  /** Roles in name order, filtered by path prefix, `maxItems` at a time. */
  async list(
    accountId: string,
    options: { pathPrefix: string; marker?: string | undefined; maxItems: number },
  ): Promise<Page<IamRole>> {
    let query = this.db
      .selectFrom('iam_roles')
      .selectAll()
      .where('account_id', '=', accountId)
      .orderBy('name_key')
      .limit(options.maxItems + 1);
    if (options.pathPrefix !== '/') {
      const prefix = options.pathPrefix;
      query = query.where(sql<boolean>`substr(path, 1, ${prefix.length}) = ${prefix}`);
    }
    if (options.marker !== undefined)
      query = query.where('name_key', '>', decodeMarker(options.marker));
    const rows = await query.execute();
    const items = rows.slice(0, options.maxItems).map(toRole);
    const last = items.at(-1);
    return rows.length > options.maxItems && last
      ? { items, marker: Buffer.from(last.roleName.toLowerCase()).toString('base64url') }
      : { items };
  }

  /** Changes a role's mutable fields. */
  async update(
    accountId: string,
    roleName: string,
    change: Partial<{
      description: string | null;
      maxSessionDuration: number;
      trustPolicy: string;
      permissionsBoundary: string | null;
      tags: Record<string, string>;
    }>,
  ): Promise<void> {
    const result = await this.db
      .updateTable('iam_roles')
      .set({
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.maxSessionDuration !== undefined
          ? { max_session_duration: change.maxSessionDuration }
          : {}),
        ...(change.trustPolicy !== undefined ? { trust_policy: change.trustPolicy } : {}),
        ...(change.permissionsBoundary !== undefined
          ? { permissions_boundary: change.permissionsBoundary }
          : {}),
        ...(change.tags !== undefined ? { tags: JSON.stringify(change.tags) } : {}),
      })
      .where('account_id', '=', accountId)
      .where('name_key', '=', roleName.toLowerCase())
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw noSuchRole(roleName);
  }

  /**
   * Deletes a role. Like IAM, refuses (DeleteConflict) while it has inline or attached
   * policies, so no permission is left dangling.
   */
  async delete(accountId: string, roleName: string): Promise<void> {
    const key = roleName.toLowerCase();
    await this.db.transaction().execute(async (trx) => {
      const role = await trx
        .selectFrom('iam_roles')
        .select('role_name')
        .where('account_id', '=', accountId)
        .where('name_key', '=', key)
        .executeTakeFirst();
      if (role === undefined) throw noSuchRole(roleName);
      const inline = await trx
        .selectFrom('iam_inline_policies')
        .select('policy_name')
        .where('account_id', '=', accountId)
        .where('principal_kind', '=', 'role')
        .where('principal_name_key', '=', key)
        .executeTakeFirst();
      if (inline !== undefined) {
        throw new AwsError('DeleteConflict', 'Cannot delete entity, must delete policies first.');
      }
      const attached = await trx
        .selectFrom('iam_role_policy_attachments')
        .select('policy_arn')
        .where('account_id', '=', accountId)
        .where('role_name_key', '=', key)
        .executeTakeFirst();
      if (attached !== undefined) {
        throw new AwsError(
          'DeleteConflict',
          'Cannot delete entity, must detach all policies first.',
        );
      }
      await trx
        .deleteFrom('iam_roles')
        .where('account_id', '=', accountId)
        .where('name_key', '=', key)
        .execute();
    });
  }
}

/** NoSuchEntity for a role, in IAM's words. */
export function noSuchRole(roleName: string): AwsError {
  return new AwsError('NoSuchEntity', `The role with name ${roleName} cannot be found.`);
}

function toRole(row: Database['iam_roles']): IamRole {
  return {
    accountId: row.account_id,
    roleName: row.role_name,
    roleId: row.role_id,
    path: row.path,
    arn: roleArn(row.account_id, row.path, row.role_name),
    trustPolicy: row.trust_policy,
    ...(row.description === null ? {} : { description: row.description }),
    maxSessionDuration: Number(row.max_session_duration),
    ...(row.permissions_boundary === null ? {} : { permissionsBoundary: row.permissions_boundary }),
    tags: JSON.parse(row.tags) as Record<string, string>,
    createDate: new Date(row.created_at),
  };
}

function decodeMarker(marker: string): string {
  const key = Buffer.from(marker, 'base64url').toString('utf8');
  if (key === '' || Buffer.from(key).toString('base64url') !== marker) {
    throw new AwsError('ValidationError', 'Invalid Marker.');
  }
  return key;
}
