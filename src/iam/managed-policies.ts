import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';
import awsManaged from './data/aws-managed-policies.json' with { type: 'json' };
import { newUniqueId } from './ids.js';

/** IAM keeps at most five versions of a managed policy. */
export const MAX_POLICY_VERSIONS = 5;

/** The account part of AWS-managed policy ARNs. */
export const AWS_MANAGED = 'aws';

/** A managed policy, as GetPolicy describes it. */
export interface ManagedPolicy {
  /** `aws` for AWS-managed policies. */
  accountId: string;
  policyName: string;
  policyId: string;
  arn: string;
  path: string;
  description?: string;
  defaultVersionId: string;
  attachmentCount: number;
  tags: Record<string, string>;
  createDate: Date;
  updateDate: Date;
}

/** One version of a managed policy. */
export interface PolicyVersion {
  versionId: string;
  document: string;
  isDefaultVersion: boolean;
  createDate: Date;
}

/** The ARN of a managed policy. */
export function policyArn(accountId: string, path: string, name: string): string {
  return `arn:aws:iam::${accountId}:policy${path}${name}`;
}

/** Splits a policy ARN into account, path and name; InvalidInput when it is not one. */
export function parsePolicyArn(arn: string): { accountId: string; path: string; name: string } {
  const m = /^arn:aws:iam::(\d{12}|aws):policy(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]{1,128})$/.exec(
    arn,
  );
  if (m?.[1] === undefined || m[2] === undefined || m[3] === undefined) {
    throw new AwsError('InvalidInput', `ARN ${arn} is not valid.`);
  }
  return { accountId: m[1], path: m[2], name: m[3] };
}

interface AwsManagedEntry {
  policy: ManagedPolicy;
  version: PolicyVersion;
}

/** The bundled AWS-managed policies (src/iam/data/aws-managed-policies.json), by name. */
const AWS_POLICIES: ReadonlyMap<string, AwsManagedEntry> = new Map(
  awsManaged.policies.map((p) => {
    const created = new Date(p.createDate);
    const id =
      'ANPA' + createHash('sha256').update(p.name).digest('hex').slice(0, 17).toUpperCase();
    return [
      p.name.toLowerCase(),
      {
        policy: {
          accountId: AWS_MANAGED,
          policyName: p.name,
          policyId: id,
          arn: policyArn(AWS_MANAGED, '/', p.name),
          path: '/',
          defaultVersionId: p.versionId,
          attachmentCount: 0,
          tags: {},
          createDate: created,
          updateDate: created,
        },
        version: {
          versionId: p.versionId,
          document: JSON.stringify(p.document),
          isDefaultVersion: true,
          createDate: created,
        },
      },
    ];
  }),
);

/** Customer-managed policies of every account, and the bundled AWS-managed ones. */
export class ManagedPolicyDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates a customer-managed policy with version v1. */
  async create(
    accountId: string,
    input: {
      name: string;
      path: string;
      description?: string | undefined;
      document: string;
      tags: Record<string, string>;
    },
  ): Promise<ManagedPolicy> {
    const now = nowIso();
    const row = {
      account_id: accountId,
      policy_name: input.name,
      name_key: input.name.toLowerCase(),
      policy_id: newUniqueId('ANPA'),
      path: input.path,
      description: input.description ?? null,
      default_version: 'v1',
      next_version: 2,
      tags: JSON.stringify(input.tags),
      created_at: now,
      updated_at: now,
    };
    try {
      await this.db.transaction().execute(async (trx) => {
        await trx.insertInto('iam_managed_policies').values(row).execute();
        await trx
          .insertInto('iam_policy_versions')
          .values({
            account_id: accountId,
            policy_name_key: row.name_key,
            version_id: 'v1',
            document: input.document,
            created_at: now,
          })
          .execute();
      });
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AwsError(
          'EntityAlreadyExists',
          `A policy called ${input.name} already exists. Duplicate names are not allowed.`,
        );
      }
      throw err;
    }
    return { ...toPolicy(row), attachmentCount: 0 };
  }

  /** The policy an ARN names (customer or AWS-managed); NoSuchEntity when absent. */
  async get(arn: string): Promise<ManagedPolicy> {
    const { accountId, path, name } = parsePolicyArn(arn);
    if (accountId === AWS_MANAGED) {
      const entry = AWS_POLICIES.get(name.toLowerCase());
      if (entry === undefined || entry.policy.arn !== arn) throw noSuchPolicy(arn);
      return { ...entry.policy, attachmentCount: await this.#attachmentCount(arn) };
    }
    const row = await this.db
      .selectFrom('iam_managed_policies')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name_key', '=', name.toLowerCase())
      .executeTakeFirst();
    if (row === undefined || row.path !== path || row.policy_name !== name) throw noSuchPolicy(arn);
    return { ...toPolicy(row), attachmentCount: await this.#attachmentCount(arn) };
  }

  /** The default version's document of a policy. */
  async defaultDocument(arn: string): Promise<string> {
    const policy = await this.get(arn);
    return (await this.getVersion(arn, policy.defaultVersionId)).document;
  }

  /** One version of a policy; NoSuchEntity when absent. */
  async getVersion(arn: string, versionId: string): Promise<PolicyVersion> {
    const policy = await this.get(arn);
    if (policy.accountId === AWS_MANAGED) {
      const version = AWS_POLICIES.get(policy.policyName.toLowerCase())?.version;
      if (version === undefined || version.versionId !== versionId)
        throw noSuchVersion(arn, versionId);
      return version;
    }
    const row = await this.db
      .selectFrom('iam_policy_versions')
      .selectAll()
      .where('account_id', '=', policy.accountId)
      .where('policy_name_key', '=', policy.policyName.toLowerCase())
      .where('version_id', '=', versionId)
      .executeTakeFirst();
    if (row === undefined) throw noSuchVersion(arn, versionId);
    return {
      versionId: row.version_id,
      document: row.document,
      isDefaultVersion: row.version_id === policy.defaultVersionId,
      createDate: new Date(row.created_at),
    };
  }

  /** Every version of a policy, newest first. */
  async listVersions(arn: string): Promise<PolicyVersion[]> {
    const policy = await this.get(arn);
    if (policy.accountId === AWS_MANAGED) {
      const version = AWS_POLICIES.get(policy.policyName.toLowerCase())?.version;
      return version === undefined ? [] : [version];
    }
    const rows = await this.db
      .selectFrom('iam_policy_versions')
      .selectAll()
      .where('account_id', '=', policy.accountId)
      .where('policy_name_key', '=', policy.policyName.toLowerCase())
      .execute();
    return rows
      .map((row) => ({
        versionId: row.version_id,
        document: row.document,
        isDefaultVersion: row.version_id === policy.defaultVersionId,
        createDate: new Date(row.created_at),
      }))
      .sort((a, b) => versionNumber(b.versionId) - versionNumber(a.versionId));
  }

  /** Adds a version (LimitExceeded past five), optionally making it the default. */
  async createVersion(
    arn: string,
    document: string,
    setAsDefault: boolean,
  ): Promise<PolicyVersion> {
    const policy = await this.#customer(arn, 'CreatePolicyVersion');
    const key = policy.policyName.toLowerCase();
    const now = nowIso();
    const versionId = await this.db.transaction().execute(async (trx) => {
      const row = await trx
        .selectFrom('iam_managed_policies')
        .select(['next_version'])
        .where('account_id', '=', policy.accountId)
        .where('name_key', '=', key)
        .executeTakeFirstOrThrow();
      const { n } = await trx
        .selectFrom('iam_policy_versions')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('account_id', '=', policy.accountId)
        .where('policy_name_key', '=', key)
        .executeTakeFirstOrThrow();
      if (Number(n) >= MAX_POLICY_VERSIONS) {
        throw new AwsError(
          'LimitExceeded',
          'A managed policy can have up to 5 versions. Before you create a new version, you must delete an existing version.',
        );
      }
      const id = `v${row.next_version}`;
      await trx
        .insertInto('iam_policy_versions')
        .values({
          account_id: policy.accountId,
          policy_name_key: key,
          version_id: id,
          document,
          created_at: now,
        })
        .execute();
      await trx
        .updateTable('iam_managed_policies')
        .set({
          next_version: row.next_version + 1,
          updated_at: now,
          ...(setAsDefault ? { default_version: id } : {}),
        })
        .where('account_id', '=', policy.accountId)
        .where('name_key', '=', key)
        .execute();
      return id;
    });
    return { versionId, document, isDefaultVersion: setAsDefault, createDate: new Date(now) };
  }

  /** Makes an existing version the default. */
  async setDefaultVersion(arn: string, versionId: string): Promise<void> {
    const policy = await this.#customer(arn, 'SetDefaultPolicyVersion');
    await this.getVersion(arn, versionId);
    await this.db
      .updateTable('iam_managed_policies')
      .set({ default_version: versionId, updated_at: nowIso() })
      .where('account_id', '=', policy.accountId)
      .where('name_key', '=', policy.policyName.toLowerCase())
      .execute();
  }

  /** Deletes a non-default version. */
  async deleteVersion(arn: string, versionId: string): Promise<void> {
    const policy = await this.#customer(arn, 'DeletePolicyVersion');
    const version = await this.getVersion(arn, versionId);
    if (version.isDefaultVersion) {
      throw new AwsError('DeleteConflict', 'Cannot delete the default version of a policy.');
    }
    await this.db
      .deleteFrom('iam_policy_versions')
      .where('account_id', '=', policy.accountId)
      .where('policy_name_key', '=', policy.policyName.toLowerCase())
      .where('version_id', '=', versionId)
      .execute();
  }

  /** Deletes a policy that is attached nowhere and has only its default version. */
  async delete(arn: string): Promise<void> {
    const policy = await this.#customer(arn, 'DeletePolicy');
    if (policy.attachmentCount > 0) {
      throw new AwsError('DeleteConflict', 'Cannot delete a policy attached to entities.');
    }
    const versions = await this.listVersions(arn);
    if (versions.length > 1) {
      throw new AwsError(
        'DeleteConflict',
        'This policy has more than one version. Before you delete a policy, you must delete the policy\u2019s versions. The default version is deleted with the policy.',
      );
    }
    const key = policy.policyName.toLowerCase();
    await this.db.transaction().execute(async (trx) => {
      await trx
        .deleteFrom('iam_policy_versions')
        .where('account_id', '=', policy.accountId)
        .where('policy_name_key', '=', key)
        .execute();
      await trx
        .deleteFrom('iam_managed_policies')
        .where('account_id', '=', policy.accountId)
        .where('name_key', '=', key)
        .execute();
    });
  }

  /** Policies visible to an account: its own (`Local`), AWS's (`AWS`) or both (`All`). */
  async list(
    accountId: string,
    options: { scope: 'All' | 'AWS' | 'Local'; pathPrefix: string; onlyAttached: boolean },
  ): Promise<ManagedPolicy[]> {
    const out: ManagedPolicy[] = [];
    if (options.scope !== 'Local') {
      for (const { policy } of AWS_POLICIES.values()) {
        out.push({
          ...policy,
          attachmentCount: await this.#attachmentCount(policy.arn, accountId),
        });
      }
    }
    if (options.scope !== 'AWS') {
      const rows = await this.db
        .selectFrom('iam_managed_policies')
        .selectAll()
        .where('account_id', '=', accountId)
        .orderBy('name_key')
        .execute();
      for (const row of rows) {
        const policy = toPolicy(row);
        out.push({ ...policy, attachmentCount: await this.#attachmentCount(policy.arn) });
      }
    }
    return out
      .filter((p) => p.path.startsWith(options.pathPrefix))
      .filter((p) => !options.onlyAttached || p.attachmentCount > 0);
  }

  async #customer(arn: string, action: string): Promise<ManagedPolicy> {
    const policy = await this.get(arn);
    if (policy.accountId === AWS_MANAGED) {
      throw new AwsError('InvalidInput', `${action} is not allowed on AWS managed policy ${arn}.`);
    }
    return policy;
  }

  /** Attachments of a policy to roles and users (within one account for AWS-managed ones). */
  async #attachmentCount(arn: string, accountId?: string): Promise<number> {
    const count = async (table: 'iam_role_policy_attachments' | 'user_policy_attachments') => {
      let q = this.db
        .selectFrom(table)
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('policy_arn', '=', arn);
      if (accountId !== undefined) q = q.where('account_id', '=', accountId);
      return Number((await q.executeTakeFirstOrThrow()).n);
    };
    return (await count('iam_role_policy_attachments')) + (await count('user_policy_attachments'));
  }
}

function versionNumber(id: string): number {
  return Number(id.slice(1));
}

function toPolicy(
  row: Database['iam_managed_policies'],
): Omit<ManagedPolicy, 'attachmentCount'> & { attachmentCount: number } {
  return {
    accountId: row.account_id,
    policyName: row.policy_name,
    policyId: row.policy_id,
    arn: policyArn(row.account_id, row.path, row.policy_name),
    path: row.path,
    ...(row.description === null ? {} : { description: row.description }),
    defaultVersionId: row.default_version,
    attachmentCount: 0,
    tags: JSON.parse(row.tags) as Record<string, string>,
    createDate: new Date(row.created_at),
    updateDate: new Date(row.updated_at),
  };
}

function noSuchPolicy(arn: string): AwsError {
  return new AwsError('NoSuchEntity', `Policy ${arn} does not exist or is not attachable.`);
}

function noSuchVersion(arn: string, versionId: string): AwsError {
  return new AwsError(
    'NoSuchEntity',
    `Policy ${arn} version ${versionId} does not exist or is not attachable.`,
  );
}
