/**
 * One account's identity configuration read at once — clusters, recorded service accounts,
 * pod identity associations, roles with their trust and permission policies, OIDC providers —
 * parsed and compiled for the access graph, its queries and lint.
 */
import type {
  AssociationDirectory,
  ClusterDirectory,
  PodIdentityAssociation,
  ServiceAccountDirectory,
} from '../eks/index.js';
import {
  parseRoleArn,
  type IamRole,
  type ManagedPolicyDirectory,
  type OidcProviderDirectory,
  type PrincipalPolicies,
  type RoleDirectory,
  type UserDirectory,
} from '../iam/index.js';
import {
  compilePolicy,
  parsePolicy,
  type CompiledPolicy,
  type PolicyDocument,
  type PolicyKind,
} from '../policy/index.js';

/** Where a snapshot is read from: the directories the server already has. */
export interface AccessSources {
  clusters: Pick<ClusterDirectory, 'listNames' | 'get'>;
  serviceAccounts: Pick<ServiceAccountDirectory, 'list'>;
  associations: Pick<AssociationDirectory, 'list'>;
  roles: Pick<RoleDirectory, 'list' | 'find'>;
  providers: Pick<OidcProviderDirectory, 'list'>;
  principalPolicies: Pick<PrincipalPolicies, 'listInline' | 'attached'>;
  policies: Pick<ManagedPolicyDirectory, 'defaultDocument'>;
  /** IAM users, for "who can" (optional: without it only workloads and roles are named). */
  users?: Pick<UserDirectory, 'list'> | undefined;
  /**
   * S3 buckets' owners and policies, for decisions on S3 resources (optional: without it a
   * bucket is taken to be in the caller's account, with no bucket policy).
   */
  buckets?: BucketSource | undefined;
}

/** A bucket's owner and policy, as the access queries read them. */
export interface BucketFacts {
  name: string;
  ownerAccount: string;
  /** The bucket policy (JSON text), or null. */
  policy: string | null;
}

/** Where bucket owners and policies are read from (the S3 store's `BucketPolicyReader`). */
export interface BucketSource {
  /** One bucket, or undefined when it does not exist. */
  bucket(name: string): Promise<BucketFacts | undefined>;
  /** Buckets with a policy, in name order, at most `limit`. */
  withPolicies(limit: number): Promise<BucketFacts[]>;
}

/** A policy document, parsed and compiled, with the identifier traces name it by. */
export interface SnapshotPolicy {
  id: string;
  text: string;
  document: PolicyDocument;
  compiled: CompiledPolicy;
}

/** A cluster and the IAM OIDC provider registered for its issuer, if any. */
export interface SnapshotCluster {
  name: string;
  arn: string;
  issuerUrl: string;
  /** The issuer without its scheme: the prefix of its condition keys (`host/path:sub`). */
  providerUrl: string;
  /** The IAM OIDC provider of the issuer (IRSA works only with one). */
  providerArn?: string;
  providerClientIds?: string[];
}

/** A service account: recorded (as eksctl would create it) or named by an association. */
export interface SnapshotServiceAccount {
  cluster: string;
  namespace: string;
  name: string;
  annotations: Record<string, string>;
  recorded: boolean;
}

/**
 * A role with its policies. Roles of other accounts (association targets) carry theirs too, for
 * decisions, but are marked `foreign`: listings show them by ARN only.
 */
export interface SnapshotRole {
  arn: string;
  accountId: string;
  roleName: string;
  roleId: string;
  maxSessionDuration: number;
  tags: Record<string, string>;
  /** True for a role of another account (an association's target): shown by ARN only. */
  foreign: boolean;
  trust?: SnapshotPolicy;
  identity: SnapshotPolicy[];
  boundary?: SnapshotPolicy;
}

/** An IAM user with its identity policies. */
export interface SnapshotUser {
  arn: string;
  userName: string;
  userId: string;
  identity: SnapshotPolicy[];
}

/** An IAM OIDC provider. */
export interface SnapshotProvider {
  arn: string;
  url: string;
  clientIds: string[];
}

/** Everything the access graph, its queries and lint look at, for one account. */
export interface AccessSnapshot {
  accountId: string;
  clusters: SnapshotCluster[];
  serviceAccounts: SnapshotServiceAccount[];
  associations: PodIdentityAssociation[];
  roles: SnapshotRole[];
  users: SnapshotUser[];
  providers: SnapshotProvider[];
  /** The role with this ARN, if the snapshot holds it. */
  role(arn: string): SnapshotRole | undefined;
}

/** How many of each thing a snapshot reads at most (a console, not a data warehouse). */
export const SNAPSHOT_LIMITS = {
  roles: 1000,
  users: 1000,
  clusters: 100,
  associationsPerCluster: 1000,
};

/**
 * Reads an account's identity configuration.
 *
 * @example
 * const snapshot = await loadAccessSnapshot(sources, '000000000000');
 * snapshot.roles.map((r) => r.arn);
 */
export async function loadAccessSnapshot(
  sources: AccessSources,
  accountId: string,
): Promise<AccessSnapshot> {
  const providers = (await sources.providers.list(accountId)).map((p) => ({
    arn: p.arn,
    url: p.url,
    clientIds: p.clientIds,
  }));

  const clusters: SnapshotCluster[] = [];
  const serviceAccounts: SnapshotServiceAccount[] = [];
  const associations: PodIdentityAssociation[] = [];
  const { names } = await sources.clusters.listNames(accountId, {
    maxResults: SNAPSHOT_LIMITS.clusters,
  });
  for (const name of names) {
    const cluster = await sources.clusters.get(accountId, name);
    const providerUrl = cluster.issuerUrl.replace(/^https?:\/\//, '');
    const provider = providers.find((p) => p.url === providerUrl);
    clusters.push({
      name: cluster.name,
      arn: cluster.arn,
      issuerUrl: cluster.issuerUrl,
      providerUrl,
      ...(provider ? { providerArn: provider.arn, providerClientIds: provider.clientIds } : {}),
    });
    for (const sa of await sources.serviceAccounts.list(accountId, name)) {
      serviceAccounts.push({
        cluster: name,
        namespace: sa.namespace,
        name: sa.name,
        annotations: sa.annotations,
        recorded: true,
      });
    }
    const page = await sources.associations.list(accountId, name, {
      maxResults: SNAPSHOT_LIMITS.associationsPerCluster,
    });
    associations.push(...page.items);
  }
  for (const a of associations) {
    const known = serviceAccounts.some(
      (s) =>
        s.cluster === a.clusterName && s.namespace === a.namespace && s.name === a.serviceAccount,
    );
    if (!known) {
      serviceAccounts.push({
        cluster: a.clusterName,
        namespace: a.namespace,
        name: a.serviceAccount,
        annotations: {},
        recorded: false,
      });
    }
  }

  const roles: SnapshotRole[] = [];
  let marker: string | undefined;
  do {
    const page = await sources.roles.list(accountId, {
      pathPrefix: '/',
      maxItems: 100,
      ...(marker === undefined ? {} : { marker }),
    });
    for (const role of page.items) roles.push(await readRole(sources, role));
    marker = page.marker;
  } while (marker !== undefined && roles.length < SNAPSHOT_LIMITS.roles);

  // Targets of associations in other accounts: nodes of the graph, with their policies so that
  // what a pod can do through them is decided as AWS would (they are not listed as this
  // account's roles).
  for (const a of associations) {
    for (const arn of [a.roleArn, a.targetRoleArn]) {
      if (arn === undefined || roles.some((r) => r.arn === arn)) continue;
      const parsed = parseRoleArn(arn);
      if (parsed === undefined || parsed.accountId === accountId) continue;
      const role = await sources.roles.find(parsed.accountId, parsed.roleName);
      if (role === undefined) continue;
      roles.push({ ...(await readRole(sources, role)), foreign: true });
    }
  }

  const users: SnapshotUser[] = [];
  if (sources.users !== undefined) {
    let userMarker: string | undefined;
    do {
      const page = await sources.users.list(accountId, {
        pathPrefix: '/',
        maxItems: 100,
        ...(userMarker === undefined ? {} : { marker: userMarker }),
      });
      for (const user of page.items) {
        const holder = { kind: 'user' as const, accountId, name: user.userName };
        users.push({
          arn: user.arn,
          userName: user.userName,
          userId: user.userId,
          identity: await identityPolicies(sources, holder, `user/${user.userName}`),
        });
      }
      userMarker = page.marker;
    } while (userMarker !== undefined && users.length < SNAPSHOT_LIMITS.users);
  }

  const byArn = new Map(roles.map((r) => [r.arn, r]));
  return {
    accountId,
    clusters,
    serviceAccounts,
    associations,
    roles,
    users,
    providers,
    role: (arn) => byArn.get(arn),
  };
}

async function readRole(sources: AccessSources, role: IamRole): Promise<SnapshotRole> {
  const holder = { kind: 'role' as const, accountId: role.accountId, name: role.roleName };
  const identity = await identityPolicies(sources, holder, `role/${role.roleName}`);
  let boundary: SnapshotPolicy | undefined;
  if (role.permissionsBoundary !== undefined) {
    const text = await sources.policies
      .defaultDocument(role.permissionsBoundary)
      .catch(() => undefined);
    boundary =
      text === undefined ? undefined : compileOne(text, role.permissionsBoundary, 'boundary');
  }
  return {
    arn: role.arn,
    accountId: role.accountId,
    roleName: role.roleName,
    roleId: role.roleId,
    maxSessionDuration: role.maxSessionDuration,
    tags: role.tags,
    foreign: false,
    ...(compileStored(role.trustPolicy, `${role.arn}#trust`, 'trust') ?? {}),
    identity,
    ...(boundary ? { boundary } : {}),
  };
}

/** Inline and attached policies of a role or user, named as `PolicySetLoader` names them. */
async function identityPolicies(
  sources: AccessSources,
  holder: { kind: 'role' | 'user'; accountId: string; name: string },
  prefix: string,
): Promise<SnapshotPolicy[]> {
  const out: SnapshotPolicy[] = [];
  for (const inline of await sources.principalPolicies.listInline(holder)) {
    const p = compileOne(inline.document, `${prefix}/inline/${inline.policyName}`, 'identity');
    if (p) out.push(p);
  }
  for (const arn of await sources.principalPolicies.attached(holder)) {
    const text = await sources.policies.defaultDocument(arn).catch(() => undefined);
    const p = text === undefined ? undefined : compileOne(text, arn, 'identity');
    if (p) out.push(p);
  }
  return out;
}

function compileStored(
  text: string,
  id: string,
  kind: PolicyKind,
): { trust: SnapshotPolicy } | undefined {
  const trust = compileOne(text, id, kind);
  return trust ? { trust } : undefined;
}

/** Parses and compiles a stored document (validated when stored); undefined if it no longer parses. */
export function compileOne(text: string, id: string, kind: PolicyKind): SnapshotPolicy | undefined {
  try {
    const document = parsePolicy(text, { kind, maxLength: false });
    return { id, text, document, compiled: compilePolicy(document, id) };
  } catch {
    return undefined;
  }
}
