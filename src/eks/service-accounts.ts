import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import { nowIso, type Database } from '../store/index.js';

/** A Kubernetes service account as Latchkey records it (for `exec`, the webhook and the console). */
export interface ServiceAccountRecord {
  clusterName: string;
  namespace: string;
  name: string;
  annotations: Record<string, string>;
}

/**
 * Service accounts recorded per cluster, with their annotations — what eksctl would create in
 * the cluster. A real cluster's API server stays the source of truth there.
 */
export class ServiceAccountDirectory {
  constructor(private readonly db: Kysely<Database>) {}

  /** Creates or replaces a service account's annotations. */
  async put(accountId: string, record: ServiceAccountRecord): Promise<ServiceAccountRecord> {
    const now = nowIso();
    const annotations = JSON.stringify(record.annotations);
    await this.db
      .insertInto('service_accounts')
      .values({
        account_id: accountId,
        cluster_name: record.clusterName,
        namespace: record.namespace,
        name: record.name,
        annotations,
        created_at: now,
        updated_at: now,
      })
      .onConflict((oc) =>
        oc
          .columns(['account_id', 'cluster_name', 'namespace', 'name'])
          .doUpdateSet({ annotations, updated_at: now }),
      )
      .execute();
    return record;
  }

  /** One service account; ResourceNotFoundException when not recorded. */
  async get(
    accountId: string,
    clusterName: string,
    namespace: string,
    name: string,
  ): Promise<ServiceAccountRecord> {
    const row = await this.db
      .selectFrom('service_accounts')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .where('namespace', '=', namespace)
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) {
      throw new AwsError(
        'ResourceNotFoundException',
        `No service account ${namespace}/${name} recorded for cluster ${clusterName}.`,
      );
    }
    return toRecord(row);
  }

  /** A cluster's service accounts. */
  async list(accountId: string, clusterName: string): Promise<ServiceAccountRecord[]> {
    const rows = await this.db
      .selectFrom('service_accounts')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .orderBy('namespace')
      .orderBy('name')
      .execute();
    return rows.map(toRecord);
  }

  /** Forgets a service account. */
  async delete(
    accountId: string,
    clusterName: string,
    namespace: string,
    name: string,
  ): Promise<void> {
    await this.db
      .deleteFrom('service_accounts')
      .where('account_id', '=', accountId)
      .where('cluster_name', '=', clusterName)
      .where('namespace', '=', namespace)
      .where('name', '=', name)
      .execute();
  }
}

function toRecord(row: Database['service_accounts']): ServiceAccountRecord {
  return {
    clusterName: row.cluster_name,
    namespace: row.namespace,
    name: row.name,
    annotations: JSON.parse(row.annotations) as Record<string, string>,
  };
}
