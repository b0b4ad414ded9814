import { randomBytesPooled } from '../secrets/index.js';
import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';

/** A pod identity association: (cluster, namespace, service account) → role [→ target role]. */
export interface PodIdentityAssociation {
  accountId: string;
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn?: string;
  disableSessionTags: boolean;
  externalId?: string;
  associationId: string;
  associationArn: string;
  tags: Record<string, string>;
  createdAt: Date;
  modifiedAt: Date;
}

/** What CreatePodIdentityAssociation stores. */
export interface NewAssociation {
  clusterName: string;
  namespace: string;
  serviceAccount: string;
  roleArn: string;
  targetRoleArn?: string | undefined;
  disableSessionTags: boolean;
  externalId?: string | undefined;
  tags: Record<string, string>;
}

/** Pod identity associations of every cluster; one per (cluster, namespace, service account). */
export class AssociationDirectory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly region: string,
  ) {}

  /** Creates an association; ResourceInUseException when the service account has one. */
  async create(accountId: string, input: NewAssociation): Promise<PodIdentityAssociation> {
    const now = nowIso();
    const row = {
      association_id: newAssociationId(),
      account_id: accountId,
      cluster_name: input.clusterName,
      namespace: input.namespace,
      service_account: input.serviceAccount,
      role_arn: input.roleArn,
      target_role_arn: input.targetRoleArn ?? null,
      disable_session_tags: input.disableSessionTags ? 1 : 0,
      external_id: input.externalId ?? null,
      tags: JSON.stringify(input.tags),
      created_at: now,
      modified_at: now,
    };
    try {
      await this.db.insertInto('pod_identity_associations').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        const existing = await this.find(
          accountId,
          input.clusterName,
          input.namespace,
          input.serviceAccount,
        );
        throw new AwsError(
          'ResourceInUseException',
          `Association already exists: ${existing?.associationId ?? 'for this service account'}`,
        );
      }
      throw err;
    }
    return this.#toAssociation(row);
  }

  /** The association of a service account, if any. */
  async find(
    accountId: string,
    clusterName: string,
    namespace: string,
    serviceAccount: string,
  ): Promise<PodIdentityAssociation | undefined> {
    const row = await this.db
      .selectFrom('pod_identity_associations')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .where('namespace', '=', namespace)
      .where('service_account', '=', serviceAccount)
      .executeTakeFirst();
    return row === undefined ? undefined : this.#toAssociation(row);
  }

  /** An association by id; ResourceNotFoundException when absent. */
  async get(
    accountId: string,
    clusterName: string,
    associationId: string,
  ): Promise<PodIdentityAssociation> {
    const row = await this.db
      .selectFrom('pod_identity_associations')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .where('association_id', '=', associationId)
      .executeTakeFirst();
    if (row === undefined) {
      throw new AwsError(
        'ResourceNotFoundException',
        `No pod identity association found for id: ${associationId}.`,
      );
    }
    return this.#toAssociation(row);
  }

  /** A cluster's associations, filtered, in id order, `maxResults` after `after`. */
  async list(
    accountId: string,
    clusterName: string,
    filter: {
      namespace?: string | undefined;
      serviceAccount?: string | undefined;
      maxResults: number;
      after?: string | undefined;
    },
  ): Promise<{ items: PodIdentityAssociation[]; next?: string }> {
    let q = this.db
      .selectFrom('pod_identity_associations')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .orderBy('association_id')
      .limit(filter.maxResults + 1);
    if (filter.namespace !== undefined) q = q.where('namespace', '=', filter.namespace);
    if (filter.serviceAccount !== undefined)
      q = q.where('service_account', '=', filter.serviceAccount);
    if (filter.after !== undefined) q = q.where('association_id', '>', filter.after);
    const rows = await q.execute();
    const items = rows.slice(0, filter.maxResults).map((r) => this.#toAssociation(r));
    const last = items.at(-1);
    return rows.length > filter.maxResults && last
      ? { items, next: last.associationId }
      : { items };
  }

  /** Changes the roles or session-tag setting of an association. */
  async update(
    accountId: string,
    clusterName: string,
    associationId: string,
    change: {
      roleArn?: string;
      targetRoleArn?: string | null;
      disableSessionTags?: boolean;
      externalId?: string | null;
    },
  ): Promise<PodIdentityAssociation> {
    const result = await this.db
      .updateTable('pod_identity_associations')
      .set({
        ...(change.roleArn !== undefined ? { role_arn: change.roleArn } : {}),
        ...(change.targetRoleArn !== undefined ? { target_role_arn: change.targetRoleArn } : {}),
        ...(change.disableSessionTags !== undefined
          ? { disable_session_tags: change.disableSessionTags ? 1 : 0 }
          : {}),
        ...(change.externalId !== undefined ? { external_id: change.externalId } : {}),
        modified_at: nowIso(),
      })
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .where('association_id', '=', associationId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) {
      throw new AwsError(
        'ResourceNotFoundException',
        `No pod identity association found for id: ${associationId}.`,
      );
    }
    return this.get(accountId, clusterName, associationId);
  }

  /** Deletes an association and returns it. */
  async delete(
    accountId: string,
    clusterName: string,
    associationId: string,
  ): Promise<PodIdentityAssociation> {
    const association = await this.get(accountId, clusterName, associationId);
    await this.db
      .deleteFrom('pod_identity_associations')
      .where('association_id', '=', associationId)
      .execute();
    return association;
  }

  /** Deletes every association of a cluster (when the cluster is deleted); returns their ids. */
  async deleteCluster(accountId: string, clusterName: string): Promise<string[]> {
    const rows = await this.db
      .deleteFrom('pod_identity_associations')
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .returning('association_id')
      .execute();
    return rows.map((r) => r.association_id);
  }

  #toAssociation(row: Database['pod_identity_associations']): PodIdentityAssociation {
    return {
      accountId: row.account_id,
      clusterName: row.cluster_name,
      namespace: row.namespace,
      serviceAccount: row.service_account,
      roleArn: row.role_arn,
      ...(row.target_role_arn === null ? {} : { targetRoleArn: row.target_role_arn }),
      disableSessionTags: Number(row.disable_session_tags) === 1,
      ...(row.external_id === null ? {} : { externalId: row.external_id }),
      associationId: row.association_id,
      associationArn: `arn:aws:eks:${this.region}:${row.account_id}:podidentityassociation/${row.cluster_name}/${row.association_id}`,
      tags: JSON.parse(row.tags) as Record<string, string>,
      createdAt: new Date(row.created_at),
      modifiedAt: new Date(row.modified_at),
    };
  }
}

/** An id of EKS's form: `a-` and 17 lower-case letters and digits. */
function newAssociationId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = 'a-';
  for (const b of randomBytesPooled(17)) id += alphabet[b % 36];
  return id;
}
