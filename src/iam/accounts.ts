import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { sealSecret } from '../secrets/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';
import type { NewAccessKey } from './access-keys.js';
import { newAccessKeyId, newSecretAccessKey, newUniqueId } from './ids.js';

/** The AWS-managed policy each account's admin user gets. */
export const ADMINISTRATOR_ACCESS_ARN = 'arn:aws:iam::aws:policy/AdministratorAccess';

/** The account every data directory starts with. */
export const DEFAULT_ACCOUNT_ID = '000000000000';

/** The administrator user each account is created with. */
export const ADMIN_USER_NAME = 'admin';

/** Checks an account id: exactly 12 digits. */
export function validateAccountId(accountId: string): string {
  if (!/^\d{12}$/.test(accountId)) {
    throw new AwsError('ValidationError', `Account id '${accountId}' must be exactly 12 digits.`);
  }
  return accountId;
}

/** Account ids, in order. */
export async function listAccounts(db: Kysely<Database>): Promise<string[]> {
  const rows = await db.selectFrom('accounts').select('account_id').orderBy('account_id').execute();
  return rows.map((r) => r.account_id);
}

/**
 * Creates an account with its `admin` user (AdministratorAccess attached) and one access key
 * for it, all in one transaction: either the account is usable or nothing was written.
 * EntityAlreadyExists when the account exists.
 */
export async function createAccount(
  db: Kysely<Database>,
  masterKey: Buffer,
  accountId: string,
): Promise<NewAccessKey> {
  validateAccountId(accountId);
  const now = nowIso();
  const accessKeyId = newAccessKeyId('AKIA');
  const secretAccessKey = newSecretAccessKey();
  try {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('accounts').values({ account_id: accountId, created_at: now }).execute();
      await trx
        .insertInto('iam_users')
        .values({
          account_id: accountId,
          user_name: ADMIN_USER_NAME,
          name_key: ADMIN_USER_NAME,
          user_id: newUniqueId('AIDA'),
          path: '/',
          created_at: now,
        })
        .execute();
      await trx
        .insertInto('user_policy_attachments')
        .values({
          account_id: accountId,
          user_name_key: ADMIN_USER_NAME,
          policy_arn: ADMINISTRATOR_ACCESS_ARN,
          attached_at: now,
        })
        .execute();
      await trx
        .insertInto('access_keys')
        .values({
          access_key_id: accessKeyId,
          account_id: accountId,
          user_name: ADMIN_USER_NAME,
          secret_sealed: sealSecret(masterKey, secretAccessKey, accessKeyId),
          status: 'Active',
          created_at: now,
        })
        .execute();
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      throw new AwsError('EntityAlreadyExists', `Account ${accountId} already exists.`);
    }
    throw err;
  }
  return {
    userName: ADMIN_USER_NAME,
    accessKeyId,
    secretAccessKey,
    status: 'Active',
    createDate: new Date(now),
  };
}
