/**
 * Schema migrations, in order. They use only types both engines share (text, integer) so
 * one list serves SQLite and PostgreSQL. Never edit a migration that has shipped: add one.
 */
import { sql, type Kysely, type Migration } from 'kysely';
import { s3Migrations } from '../s3/index.js';

export const migrations: Record<string, Migration> = {
  '0001_foundation': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('accounts')
        .addColumn('account_id', 'text', (c) => c.primaryKey())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createTable('iam_users')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('user_id', 'text', (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_users_pk', ['account_id', 'name_key'])
        .execute();
      await db.schema
        .createTable('access_keys')
        .addColumn('access_key_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('user_name', 'text', (c) => c.notNull())
        .addColumn('secret_sealed', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('access_keys_by_user')
        .on('access_keys')
        .columns(['account_id', 'user_name'])
        .execute();
      await db.schema
        .createTable('user_policy_attachments')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('user_name_key', 'text', (c) => c.notNull())
        .addColumn('policy_arn', 'text', (c) => c.notNull())
        .addColumn('attached_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('user_policy_attachments_pk', [
          'account_id',
          'user_name_key',
          'policy_arn',
        ])
        .execute();
    },
  },
  '0002_clusters_oidc': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('eks_clusters')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('issuer_id', 'text', (c) => c.notNull().unique())
        .addColumn('issuer_url', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text', (c) => c.notNull())
        .addColumn('version', 'text', (c) => c.notNull())
        .addColumn('vpc_config', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('eks_clusters_pk', ['account_id', 'name'])
        .execute();
      await db.schema
        .createTable('oidc_signing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('issuer_id', 'text', (c) => c.notNull())
        .addColumn('alg', 'text', (c) => c.notNull())
        .addColumn('private_jwk_sealed', 'text', (c) => c.notNull())
        .addColumn('public_jwk', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retire_after', 'text')
        .execute();
      await db.schema
        .createIndex('oidc_signing_keys_by_issuer')
        .on('oidc_signing_keys')
        .columns(['issuer_id', 'created_at'])
        .execute();
    },
  },
  '0003_iam_oidc_providers': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('iam_oidc_providers')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addColumn('url', 'text', (c) => c.notNull())
        .addColumn('scheme', 'text', (c) => c.notNull())
        .addColumn('client_ids', 'text', (c) => c.notNull())
        .addColumn('thumbprints', 'text', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_oidc_providers_pk', ['account_id', 'url'])
        .execute();
    },
  },
  '0004_roles_policies': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('iam_roles')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addColumn('role_name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('role_id', 'text', (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('trust_policy', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('max_session_duration', 'integer', (c) => c.notNull())
        .addColumn('permissions_boundary', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_roles_pk', ['account_id', 'name_key'])
        .execute();
      await db.schema
        .createTable('iam_inline_policies')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('principal_kind', 'text', (c) => c.notNull())
        .addColumn('principal_name_key', 'text', (c) => c.notNull())
        .addColumn('policy_name', 'text', (c) => c.notNull())
        .addColumn('policy_name_key', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_inline_policies_pk', [
          'account_id',
          'principal_kind',
          'principal_name_key',
          'policy_name_key',
        ])
        .execute();
      await db.schema
        .createTable('iam_managed_policies')
        .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.account_id'))
        .addColumn('policy_name', 'text', (c) => c.notNull())
        .addColumn('name_key', 'text', (c) => c.notNull())
        .addColumn('policy_id', 'text', (c) => c.notNull().unique())
        .addColumn('path', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('default_version', 'text', (c) => c.notNull())
        .addColumn('next_version', 'integer', (c) => c.notNull())
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_managed_policies_pk', ['account_id', 'name_key'])
        .execute();
      await db.schema
        .createTable('iam_policy_versions')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('policy_name_key', 'text', (c) => c.notNull())
        .addColumn('version_id', 'text', (c) => c.notNull())
        .addColumn('document', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_policy_versions_pk', [
          'account_id',
          'policy_name_key',
          'version_id',
        ])
        .execute();
      await db.schema
        .createTable('iam_role_policy_attachments')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('role_name_key', 'text', (c) => c.notNull())
        .addColumn('policy_arn', 'text', (c) => c.notNull())
        .addColumn('attached_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('iam_role_policy_attachments_pk', [
          'account_id',
          'role_name_key',
          'policy_arn',
        ])
        .execute();
    },
  },
  '0005_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('sealing_keys')
        .addColumn('kid', 'text', (c) => c.primaryKey())
        .addColumn('key_sealed', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('retire_after', 'text')
        .execute();
      await db.schema
        .createTable('session_revocations')
        .addColumn('scope', 'text', (c) => c.primaryKey())
        .addColumn('revoked_before', 'text', (c) => c.notNull())
        .execute();
    },
  },
  '0006_audit': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('audit_events')
        .addColumn('event_id', 'text', (c) => c.primaryKey())
        .addColumn('event_time', 'text', (c) => c.notNull())
        .addColumn('event_source', 'text', (c) => c.notNull())
        .addColumn('event_name', 'text', (c) => c.notNull())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('principal_arn', 'text')
        .addColumn('user_name', 'text')
        .addColumn('access_key_id', 'text')
        .addColumn('read_only', 'integer', (c) => c.notNull())
        .addColumn('error_code', 'text')
        .addColumn('denied', 'integer', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('record', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_events_by_account_time')
        .on('audit_events')
        .columns(['account_id', 'event_time'])
        .execute();
    },
  },
  '0007_pod_identity': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('pod_identity_associations')
        .addColumn('association_id', 'text', (c) => c.primaryKey())
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('cluster_name', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('service_account', 'text', (c) => c.notNull())
        .addColumn('role_arn', 'text', (c) => c.notNull())
        .addColumn('target_role_arn', 'text')
        .addColumn('disable_session_tags', 'integer', (c) => c.notNull())
        .addColumn('external_id', 'text')
        .addColumn('tags', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('modified_at', 'text', (c) => c.notNull())
        .addUniqueConstraint('pod_identity_associations_subject', [
          'account_id',
          'cluster_name',
          'namespace',
          'service_account',
        ])
        .execute();
    },
  },
  '0008_service_accounts': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('service_accounts')
        .addColumn('account_id', 'text', (c) => c.notNull())
        .addColumn('cluster_name', 'text', (c) => c.notNull())
        .addColumn('namespace', 'text', (c) => c.notNull())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('annotations', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('updated_at', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('service_accounts_pk', [
          'account_id',
          'cluster_name',
          'namespace',
          'name',
        ])
        .execute();
    },
  },
  // The S3 store's tables (defined beside its code; numbered in this one sequence).
  ...s3Migrations,
  // Replicas on one PostgreSQL: at most one sealing key is current, so replicas that start or
  // rotate at the same moment agree on it (the loser of the race reads the winner's key).
  '0010_one_current_sealing_key': {
    async up(db: Kysely<unknown>) {
      // A race before this index may have left several current keys: keep the oldest current.
      await sql`
        update sealing_keys set retire_after = ${new Date(Date.now() + 43_500_000).toISOString()}
        where retire_after is null
          and kid <> (select kid from sealing_keys where retire_after is null
                      order by created_at, kid limit 1)`.execute(db);
      await sql`
        create unique index sealing_keys_one_current on sealing_keys ((retire_after is null))
        where retire_after is null`.execute(db);
    },
  },
  // External clusters (`latchkey cluster register`): their issuer is not Latchkey's; their
  // keys come from a pinned JWKS or from the issuer's own JWKS endpoint.
  '0011_external_clusters': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .alterTable('eks_clusters')
        .addColumn('issuer_kind', 'text', (c) => c.notNull().defaultTo('latchkey'))
        .execute();
      await db.schema.alterTable('eks_clusters').addColumn('jwks', 'text').execute();
    },
  },
  '0012_audit_data_events': {
    async up(db: Kysely<unknown>) {
      // Data events (S3 object-level calls) are kept out of LookupEvents, as in CloudTrail.
      await db.schema
        .alterTable('audit_events')
        .addColumn('data_event', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
    },
  },
  // The console's one-time sign-in links and signed-out sessions live in the store, so every
  // replica honours them.
  '0013_console_sessions': {
    async up(db: Kysely<unknown>) {
      await db.schema
        .createTable('console_sign_in_links')
        .addColumn('token_hash', 'text', (c) => c.primaryKey())
        .addColumn('access_key_id', 'text', (c) => c.notNull())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('console_sign_in_links_by_expiry')
        .on('console_sign_in_links')
        .column('expires_at')
        .execute();
      await db.schema
        .createTable('console_revoked_sessions')
        .addColumn('session_id', 'text', (c) => c.primaryKey())
        .addColumn('expires_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('console_revoked_sessions_by_expiry')
        .on('console_revoked_sessions')
        .column('expires_at')
        .execute();
    },
  },
};
