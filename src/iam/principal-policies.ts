import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { nowIso, type Database } from '../store/index.js';

/** IAM's quota of managed policies attached to one role or user. */
export const MAX_ATTACHED_POLICIES = 10;

/** Whose policies: a role's or a user's. */
export type PolicyHolder = { kind: 'role' | 'user'; accountId: string; name: string };

/** An inline policy. */
export interface InlinePolicy {
  policyName: string;
  document: string;
}

/**
 * Inline policies and managed-policy attachments of roles and users. Callers check that the
 * holder exists; this class keeps the rows.
 */
export class PrincipalPolicies {
  constructor(private readonly db: Kysely<Database>) {}

  /** Adds or replaces an inline policy (PutRolePolicy / PutUserPolicy). */
  async putInline(holder: PolicyHolder, policyName: string, document: string): Promise<void> {
    const key = {
      account_id: holder.accountId,
      principal_kind: holder.kind,
      principal_name_key: holder.name.toLowerCase(),
    };
    await this.db
      .insertInto('iam_inline_policies')
      .values({
        ...key,
        policy_name: policyName,
        policy_name_key: policyName.toLowerCase(),
        document,
      })
      .onConflict((oc) =>
        oc
          .columns(['account_id', 'principal_kind', 'principal_name_key', 'policy_name_key'])
          .doUpdateSet({ document, policy_name: policyName }),
      )
      .execute();
  }

  /** One inline policy; NoSuchEntity when absent. */
  async getInline(holder: PolicyHolder, policyName: string): Promise<InlinePolicy> {
    const row = await this.#inline(holder)
      .where('policy_name_key', '=', policyName.toLowerCase())
      .executeTakeFirst();
    if (row === undefined) {
      throw new AwsError(
        'NoSuchEntity',
        `The ${holder.kind} policy with name ${policyName} cannot be found.`,
      );
    }
    return { policyName: row.policy_name, document: row.document };
  }

  /** All inline policies of a holder, by name. */
  async listInline(holder: PolicyHolder): Promise<InlinePolicy[]> {
    const rows = await this.#inline(holder).orderBy('policy_name_key').execute();
    return rows.map((r) => ({ policyName: r.policy_name, document: r.document }));
  }

  /** Deletes an inline policy; NoSuchEntity when absent. */
  async deleteInline(holder: PolicyHolder, policyName: string): Promise<void> {
    const result = await this.db
      .deleteFrom('iam_inline_policies')
      .where('account_id', '=', holder.accountId)
      .where('principal_kind', '=', holder.kind)
      .where('principal_name_key', '=', holder.name.toLowerCase())
      .where('policy_name_key', '=', policyName.toLowerCase())
      .executeTakeFirst();
    if (result.numDeletedRows === 0n) {
      throw new AwsError(
        'NoSuchEntity',
        `The ${holder.kind} policy with name ${policyName} cannot be found.`,
      );
    }
  }

  /** Attaches a managed policy (idempotent); LimitExceeded past ten. */
  async attach(holder: PolicyHolder, policyArn: string): Promise<void> {
    const attached = await this.attached(holder);
    if (attached.includes(policyArn)) return;
    if (attached.length >= MAX_ATTACHED_POLICIES) {
      const quota = holder.kind === 'role' ? 'PoliciesPerRole' : 'PoliciesPerUser';
      throw new AwsError(
        'LimitExceeded',
        `Cannot exceed quota for ${quota}: ${MAX_ATTACHED_POLICIES}`,
      );
    }
    const values = { account_id: holder.accountId, policy_arn: policyArn, attached_at: nowIso() };
    const insert =
      holder.kind === 'role'
        ? this.db
            .insertInto('iam_role_policy_attachments')
            .values({ ...values, role_name_key: holder.name.toLowerCase() })
        : this.db
            .insertInto('user_policy_attachments')
            .values({ ...values, user_name_key: holder.name.toLowerCase() });
    await insert.onConflict((oc) => oc.doNothing()).execute();
  }

  /** Detaches a managed policy; NoSuchEntity when it was not attached. */
  async detach(holder: PolicyHolder, policyArn: string): Promise<void> {
    const result =
      holder.kind === 'role'
        ? await this.db
            .deleteFrom('iam_role_policy_attachments')
            .where('account_id', '=', holder.accountId)
            .where('role_name_key', '=', holder.name.toLowerCase())
            .where('policy_arn', '=', policyArn)
            .executeTakeFirst()
        : await this.db
            .deleteFrom('user_policy_attachments')
            .where('account_id', '=', holder.accountId)
            .where('user_name_key', '=', holder.name.toLowerCase())
            .where('policy_arn', '=', policyArn)
            .executeTakeFirst();
    if (result.numDeletedRows === 0n) {
      throw new AwsError('NoSuchEntity', `Policy ${policyArn} was not found.`);
    }
  }

  /** ARNs of the managed policies attached to a holder, in attachment order. */
  async attached(holder: PolicyHolder): Promise<string[]> {
    const rows =
      holder.kind === 'role'
        ? await this.db
            .selectFrom('iam_role_policy_attachments')
            .select(['policy_arn', 'attached_at'])
            .where('account_id', '=', holder.accountId)
            .where('role_name_key', '=', holder.name.toLowerCase())
            .orderBy('attached_at')
            .execute()
        : await this.db
            .selectFrom('user_policy_attachments')
            .select(['policy_arn', 'attached_at'])
            .where('account_id', '=', holder.accountId)
            .where('user_name_key', '=', holder.name.toLowerCase())
            .orderBy('attached_at')
            .execute();
    return rows.map((r) => r.policy_arn);
  }

  #inline(holder: PolicyHolder) {
    return this.db
      .selectFrom('iam_inline_policies')
      .select(['policy_name', 'document'])
      .where('account_id', '=', holder.accountId)
      .where('principal_kind', '=', holder.kind)
      .where('principal_name_key', '=', holder.name.toLowerCase());
  }
}
