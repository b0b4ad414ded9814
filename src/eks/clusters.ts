import { randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import type { IssuerKeys } from '../oidc/index.js';
import { isUniqueViolation, nowIso, type Database } from '../store/index.js';

/** The path below Latchkey's URL where cluster issuers live: `/_latchkey/oidc/id/<ID>`. */
export const ISSUER_PATH_PREFIX = '/_latchkey/oidc/id/';

/** A cluster, as EKS's API describes it (the fields Latchkey keeps). */
export interface Cluster {
  accountId: string;
  name: string;
  arn: string;
  issuerId: string;
  issuerUrl: string;
  roleArn: string;
  version: string;
  resourcesVpcConfig: Record<string, unknown>;
  tags: Record<string, string>;
  createdAt: Date;
}

/** What CreateCluster stores. */
export interface NewCluster {
  name: string;
  roleArn: string;
  version: string;
  resourcesVpcConfig: Record<string, unknown>;
  tags: Record<string, string>;
}

/** Clusters of every account, each with its own OIDC issuer. */
export class ClusterDirectory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuerKeys: IssuerKeys,
    private readonly region: string,
    /** Latchkey's URL as clients reach it (known once listening); issuers live below it. */
    private readonly publicUrl: () => string,
  ) {}

  /** Creates a cluster and its issuer's first signing key; ResourceInUseException if taken. */
  async create(accountId: string, input: NewCluster): Promise<Cluster> {
    const issuerId = randomBytes(16).toString('hex').toUpperCase();
    const row = {
      account_id: accountId,
      name: input.name,
      issuer_id: issuerId,
      issuer_url: `${this.publicUrl()}${ISSUER_PATH_PREFIX}${issuerId}`,
      role_arn: input.roleArn,
      version: input.version,
      vpc_config: JSON.stringify(input.resourcesVpcConfig),
      tags: JSON.stringify(input.tags),
      created_at: nowIso(),
    };
    try {
      await this.db.insertInto('eks_clusters').values(row).execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw new AwsError(
          'ResourceInUseException',
          `Cluster already exists with name: ${input.name}`,
        );
      }
      throw err;
    }
    try {
      await this.issuerKeys.rotate(issuerId);
    } catch (err) {
      // A cluster without a signing key would be unusable: undo it.
      await this.db.deleteFrom('eks_clusters').where('issuer_id', '=', issuerId).execute();
      throw err;
    }
    return this.#toCluster(row);
  }

  /** The named cluster; ResourceNotFoundException when there is none. */
  async get(accountId: string, name: string): Promise<Cluster> {
    const row = await this.db
      .selectFrom('eks_clusters')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) {
      throw new AwsError('ResourceNotFoundException', `No cluster found for name: ${name}.`);
    }
    return this.#toCluster(row);
  }

  /** The cluster whose issuer has this id, in any account. */
  async findByIssuerId(issuerId: string): Promise<Cluster | undefined> {
    const row = await this.db
      .selectFrom('eks_clusters')
      .selectAll()
      .where('issuer_id', '=', issuerId)
      .executeTakeFirst();
    return row === undefined ? undefined : this.#toCluster(row);
  }

  /** Cluster names in order, `maxResults` at a time after `after`. */
  async listNames(
    accountId: string,
    options: { maxResults: number; after?: string | undefined },
  ): Promise<{ names: string[]; next?: string }> {
    let query = this.db
      .selectFrom('eks_clusters')
      .select('name')
      .where('account_id', '=', accountId)
      .orderBy('name')
      .limit(options.maxResults + 1);
    if (options.after !== undefined) query = query.where('name', '>', options.after);
    const names = (await query.execute()).map((r) => r.name);
    const page = names.slice(0, options.maxResults);
    const last = page.at(-1);
    return names.length > options.maxResults && last !== undefined
      ? { names: page, next: last }
      : { names: page };
  }

  /** Deletes a cluster and its issuer's keys; tokens it signed stop verifying. */
  async delete(accountId: string, name: string): Promise<Cluster> {
    const cluster = await this.get(accountId, name);
    await this.db
      .deleteFrom('eks_clusters')
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .execute();
    await this.issuerKeys.deleteIssuer(cluster.issuerId);
    return cluster;
  }

  #toCluster(row: Database['eks_clusters']): Cluster {
    return {
      accountId: row.account_id,
      name: row.name,
      arn: `arn:aws:eks:${this.region}:${row.account_id}:cluster/${row.name}`,
      issuerId: row.issuer_id,
      issuerUrl: row.issuer_url,
      roleArn: row.role_arn,
      version: row.version,
      resourcesVpcConfig: JSON.parse(row.vpc_config) as Record<string, unknown>,
      tags: JSON.parse(row.tags) as Record<string, string>,
      createdAt: new Date(row.created_at),
    };
  }
}
