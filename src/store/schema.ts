/**
 * Table types of the store. Times are ISO-8601 strings (UTC, millisecond precision) so they
 * sort and compare the same way on SQLite and PostgreSQL.
 */

export interface AccountTable {
  account_id: string;
  created_at: string;
}

export interface IamUserTable {
  account_id: string;
  /** The name as given; IAM names are unique case-insensitively, see `name_key`. */
  user_name: string;
  name_key: string;
  user_id: string;
  path: string;
  created_at: string;
}

export interface AccessKeyTable {
  access_key_id: string;
  account_id: string;
  user_name: string;
  /** The secret access key, sealed with the master key (see src/secrets). */
  secret_sealed: string;
  status: 'Active' | 'Inactive';
  created_at: string;
}

export interface UserPolicyAttachmentTable {
  account_id: string;
  user_name_key: string;
  policy_arn: string;
  attached_at: string;
}

/** The whole schema, as Kysely sees it. */
export interface Database {
  accounts: AccountTable;
  iam_users: IamUserTable;
  access_keys: AccessKeyTable;
  user_policy_attachments: UserPolicyAttachmentTable;
}
