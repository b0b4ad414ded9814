import { randomBytes } from 'node:crypto';
import type { JWK } from 'jose';
import type { Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import {
  LocalKeySet,
  OwnIssuerKeySet,
  RemoteKeySets,
  type IssuerAlgorithm,
  type IssuerKeyInfo,
  type IssuerKeys,
  type KeySetSource,
} from '../oidc/index.js';
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
  /** `latchkey`: Latchkey's issuer signs its tokens; `external`: a registered real cluster's. */
  issuerKind: 'latchkey' | 'external';
  /** External clusters: the pinned JWKS keys (`--jwks-file`), or undefined to fetch them. */
  pinnedJwks: JWK[] | undefined;
}

/** What CreateCluster stores. */
export interface NewCluster {
  name: string;
  roleArn: string;
  version: string;
  resourcesVpcConfig: Record<string, unknown>;
  tags: Record<string, string>;
}

/** What `latchkey cluster register` stores: a cluster whose issuer is not Latchkey's. */
export interface NewExternalCluster extends NewCluster {
  /** The cluster's issuer URL (`iss` of its tokens), already checked. */
  issuerUrl: string;
  /** Verification keys to pin (from a JWKS file), or undefined to fetch the issuer's JWKS. */
  jwks: JWK[] | undefined;
}

/** Clusters of every account, each with its own OIDC issuer. */
export class ClusterDirectory {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly issuerKeys: IssuerKeys,
    private readonly region: string,
    /** Latchkey's URL as clients reach it (known once listening); issuers live below it. */
    private readonly publicUrl: () => string,
    /** Key sets of external issuers, fetched over HTTPS with SSRF guards and caching. */
    readonly remoteKeys: RemoteKeySets = new RemoteKeySets(),
  ) {}

  #changes = 0;

  /**
   * Counts changes made through this instance to what verifies tokens (a registration, a
   * re-pinned JWKS, a deletion), so caches of looked-up keys can drop what they hold at once.
   */
  get changes(): number {
    return this.#changes;
  }

  /** True when `url` is (below) one of Latchkey's own issuers. */
  isOwnIssuerUrl(url: string): boolean {
    const base = this.publicUrl();
    return base !== '' && url.startsWith(`${base}${ISSUER_PATH_PREFIX}`);
  }

  /**
   * Registers a cluster whose issuer is external (a real EKS, kind or k3s cluster): tokens it
   * signs are verified with the pinned JWKS, or with the issuer's JWKS fetched over HTTPS.
   * ResourceInUseException if the name is taken. Latchkey holds no signing key for it.
   */
  async register(accountId: string, input: NewExternalCluster): Promise<Cluster> {
    const row = {
      account_id: accountId,
      name: input.name,
      issuer_id: randomBytes(16).toString('hex').toUpperCase(),
      issuer_url: input.issuerUrl,
      role_arn: input.roleArn,
      version: input.version,
      vpc_config: JSON.stringify(input.resourcesVpcConfig),
      tags: JSON.stringify(input.tags),
      created_at: nowIso(),
      issuer_kind: 'external' as const,
      jwks: input.jwks === undefined ? null : JSON.stringify(input.jwks),
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
    this.#changes += 1;
    return this.#toCluster(row);
  }

  /** Replaces the pinned JWKS of an external cluster (after the cluster's keys rotated). */
  async replaceJwks(accountId: string, name: string, jwks: JWK[]): Promise<Cluster> {
    const cluster = await this.get(accountId, name);
    if (cluster.issuerKind !== 'external') {
      throw new AwsError(
        'InvalidRequestException',
        `Cluster ${name} has Latchkey's own issuer; its keys are rotated with \`latchkey keys rotate\`.`,
      );
    }
    await this.db
      .updateTable('eks_clusters')
      .set({ jwks: JSON.stringify(jwks) })
      .where('account_id', '=', accountId)
      .where('name', '=', name)
      .execute();
    this.#changes += 1;
    return { ...cluster, pinnedJwks: jwks };
  }

  /**
   * Where the keys that verify this cluster's tokens come from: Latchkey's issuer keys, the
   * pinned JWKS, or the external issuer's JWKS endpoint.
   */
  verificationKeys(cluster: Cluster): KeySetSource {
    if (cluster.issuerKind === 'latchkey') {
      return new OwnIssuerKeySet(this.issuerKeys, cluster.issuerId);
    }
    if (cluster.pinnedJwks !== undefined) return new LocalKeySet(cluster.pinnedJwks);
    return this.remoteKeys.get(cluster.issuerUrl);
  }

  /** The external cluster of an account registered with this issuer, if any. */
  async findExternalByIssuer(accountId: string, issuerUrl: string): Promise<Cluster | undefined> {
    const row = await this.db
      .selectFrom('eks_clusters')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('issuer_kind', '=', 'external')
      .where('issuer_url', '=', issuerUrl)
      .orderBy('created_at')
      .executeTakeFirst();
    return row === undefined ? undefined : this.#toCluster(row);
  }

  /**
   * Rotates the signing key of a cluster's Latchkey issuer: a new key signs from now on; the
   * previous ones stay in the JWKS for the overlap window (until every token they signed has
   * expired). InvalidRequestException for an external cluster.
   */
  async rotateSigningKey(
    accountId: string,
    name: string,
    alg: IssuerAlgorithm = 'RS256',
  ): Promise<{ cluster: Cluster; kid: string; keys: IssuerKeyInfo[] }> {
    const cluster = await this.#ownIssuerCluster(accountId, name);
    const { kid } = await this.issuerKeys.rotate(cluster.issuerId, alg);
    return { cluster, kid, keys: await this.issuerKeys.describeKeys(cluster.issuerId) };
  }

  /** The published keys of a cluster's Latchkey issuer, newest first. */
  async signingKeys(accountId: string, name: string): Promise<IssuerKeyInfo[]> {
    const cluster = await this.#ownIssuerCluster(accountId, name);
    return this.issuerKeys.describeKeys(cluster.issuerId);
  }

  async #ownIssuerCluster(accountId: string, name: string): Promise<Cluster> {
    const cluster = await this.get(accountId, name);
    if (cluster.issuerKind === 'external') {
      throw new AwsError(
        'InvalidRequestException',
        `Cluster ${name} is external: its issuer (${cluster.issuerUrl}) holds its signing keys, so rotate them there (and re-pin the JWKS with \`latchkey cluster register --update\` if it was given as a file).`,
      );
    }
    return cluster;
  }

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

  /** The cluster whose Latchkey-served issuer has this id, in any account (never an external one). */
  async findByIssuerId(issuerId: string): Promise<Cluster | undefined> {
    const row = await this.db
      .selectFrom('eks_clusters')
      .selectAll()
      .where('issuer_id', '=', issuerId)
      .where('issuer_kind', '=', 'latchkey')
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
    this.#changes += 1;
    return cluster;
  }

  #toCluster(row: StoredCluster): Cluster {
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
      issuerKind: row.issuer_kind ?? 'latchkey',
      pinnedJwks:
        row.jwks === null || row.jwks === undefined ? undefined : (JSON.parse(row.jwks) as JWK[]),
    };
  }
}

/** A row as read, or as just written (the generated columns may be absent). */
type StoredCluster = Omit<Database['eks_clusters'], 'issuer_kind' | 'jwks'> & {
  issuer_kind?: 'latchkey' | 'external';
  jwks?: string | null;
};
