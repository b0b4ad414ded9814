/**
 * The resource side of the access questions: the account that owns an S3 bucket and its bucket
 * policy (read from the S3 store through {@link BucketSource}), the other accounts a bucket
 * policy names, and the bucket-policy statements that name a given role.
 */
import { parseRoleArn } from '../iam/index.js';
import type { PolicyDocument, PrincipalElement } from '../policy/index.js';
import type { AssumeTarget, ResourceSide } from './decide.js';
import {
  compileOne,
  type AccessSources,
  type BucketFacts,
  type SnapshotPolicy,
  type SnapshotRole,
} from './snapshot.js';
import { summarizeStatement, type StatementSummary } from './statements.js';

/**
 * What Latchkey knows of a resource: its owner and its own policy (for an existing bucket), or
 * the role (for a role ARN of a role Latchkey holds), whose trust policy decides
 * sts:AssumeRole-family actions on it.
 */
export interface ResourceFacts {
  /** The account that owns the resource; absent when Latchkey does not hold the resource. */
  account?: string;
  /** The resource's policy, parsed and compiled (id `resource-policy:arn:aws:s3:::BUCKET`). */
  policy?: SnapshotPolicy;
  /** The role a role ARN names, with its trust policy (id `ROLE_ARN#trust`). */
  role?: AssumeTarget;
}

/** A bucket's policy, with the bucket's ARN and owner. */
export interface BucketPolicy {
  /** `arn:aws:s3:::BUCKET`. */
  arn: string;
  ownerAccount: string;
  policy: SnapshotPolicy;
}

/** A bucket-policy statement that names a role, summarised. */
export interface ResourceStatementSummary extends StatementSummary {
  effect: 'Allow' | 'Deny';
  /** The bucket whose policy holds the statement (`arn:aws:s3:::BUCKET`). */
  resourceArn: string;
  resourceAccount: string;
  /** How the statement names the role: the role (or its sessions), its account, or everyone. */
  names: 'role' | 'account' | 'anyone';
  /** The bucket is of another account: an Allow works only if the role's own policies allow too. */
  crossAccount: boolean;
}

/** Bucket policies read at most, for "what can this service account reach". */
export const MAX_BUCKET_POLICIES = 1000;

/** A bucket name: S3's rules (3–63 of a-z, 0-9, `.`, `-`), so no wildcard. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * The bucket an S3 ARN names (`arn:aws:s3:::BUCKET` or `arn:aws:s3:::BUCKET/KEY`); undefined
 * for other ARNs, `*`, and bucket parts with wildcards.
 */
export function bucketOfArn(resource: string): string | undefined {
  const prefix = 'arn:aws:s3:::';
  if (!resource.startsWith(prefix)) return undefined;
  const rest = resource.slice(prefix.length);
  const slash = rest.indexOf('/');
  const name = slash < 0 ? rest : rest.slice(0, slash);
  return BUCKET_NAME.test(name) ? name : undefined;
}

/**
 * The actions a role's trust policy decides, on the role's ARN (lower case: actions are
 * case-insensitive).
 */
const ASSUME_ROLE_ACTIONS = new Set(['sts:assumerole', 'sts:tagsession', 'sts:setsourceidentity']);

/**
 * Whether `action` is one a role's trust policy decides when done on the role's ARN:
 * sts:AssumeRole, sts:TagSession or sts:SetSourceIdentity (in any case).
 */
export function isAssumeRoleAction(action: string): boolean {
  return ASSUME_ROLE_ACTIONS.has(action.toLowerCase());
}

/**
 * The account and name of the role a role ARN (`arn:aws:iam::ACCOUNT:role/[PATH/]NAME`) names;
 * undefined for other ARNs and ARNs with wildcards.
 */
export function roleOfArn(resource: string): { accountId: string; roleName: string } | undefined {
  return /[*?]/.test(resource) ? undefined : parseRoleArn(resource);
}

/** The bucket's policy parsed and compiled; undefined without one (or if it no longer parses). */
export function bucketPolicyOf(bucket: BucketFacts): SnapshotPolicy | undefined {
  if (bucket.policy === null) return undefined;
  return compileOne(bucket.policy, `resource-policy:arn:aws:s3:::${bucket.name}`, 'resource');
}

/**
 * The owner and policy of the bucket `resource` names, when Latchkey holds that bucket; the
 * role (with its trust policy) a role ARN names, when Latchkey holds that role; `{}` for other
 * resources (their account is the one in their ARN, and they have no policy here).
 *
 * @example
 * const facts = await loadResourceFacts(sources, 'arn:aws:s3:::reports/q1.csv');
 * facts.account; // the bucket owner
 */
export async function loadResourceFacts(
  sources: Pick<AccessSources, 'buckets' | 'roles'>,
  resource: string,
): Promise<ResourceFacts> {
  const role = roleOfArn(resource);
  if (role !== undefined) return loadRoleFacts(sources, resource, role);
  const name = bucketOfArn(resource);
  if (name === undefined || sources.buckets === undefined) return {};
  const bucket = await sources.buckets.bucket(name);
  if (bucket === undefined) return {};
  const policy = bucketPolicyOf(bucket);
  return { account: bucket.ownerAccount, ...(policy ? { policy } : {}) };
}

/** The role `arn` names, when Latchkey holds it under exactly that ARN (as STS requires). */
async function loadRoleFacts(
  sources: Pick<AccessSources, 'roles'>,
  arn: string,
  role: { accountId: string; roleName: string },
): Promise<ResourceFacts> {
  const found = await sources.roles.find(role.accountId, role.roleName);
  if (found === undefined || found.arn !== arn) return {};
  const trust = compileOne(found.trustPolicy, `${found.arn}#trust`, 'trust');
  return { role: { arn: found.arn, accountId: found.accountId, ...(trust ? { trust } : {}) } };
}

/** Every bucket policy Latchkey holds (at most {@link MAX_BUCKET_POLICIES}), compiled. */
export async function loadBucketPolicies(
  sources: Pick<AccessSources, 'buckets'>,
): Promise<BucketPolicy[]> {
  if (sources.buckets === undefined) return [];
  const out: BucketPolicy[] = [];
  for (const bucket of await sources.buckets.withPolicies(MAX_BUCKET_POLICIES)) {
    const policy = bucketPolicyOf(bucket);
    if (policy !== undefined) {
      out.push({ arn: `arn:aws:s3:::${bucket.name}`, ownerAccount: bucket.ownerAccount, policy });
    }
  }
  return out;
}

/** The engine's view of the facts. */
export function sideOf(facts: ResourceFacts): ResourceSide {
  return {
    ...(facts.account !== undefined ? { account: facts.account } : {}),
    ...(facts.policy !== undefined ? { policy: facts.policy.compiled } : {}),
  };
}

/**
 * The accounts an Allow of a resource policy names (by account id, `…:root`, or a role, user or
 * session ARN), and whether one allows everyone (`"*"`, or `NotPrincipal`).
 *
 * @example
 * accountsNamedBy(policy.document); // { accounts: ['111122223333'], anyone: false }
 */
export function accountsNamedBy(document: PolicyDocument): { accounts: string[]; anyone: boolean } {
  const accounts = new Set<string>();
  let anyone = false;
  for (const st of document.statements) {
    if (st.effect !== 'Allow') continue;
    if (st.notPrincipal !== undefined) anyone = true;
    if (st.principal === undefined) continue;
    if (st.principal === '*') {
      anyone = true;
      continue;
    }
    for (const value of st.principal.AWS ?? []) {
      if (value === '*') anyone = true;
      const account = /^\d{12}$/.test(value)
        ? value
        : /^arn:aws:(?:iam|sts)::(\d{12}):/.exec(value)?.[1];
      if (account !== undefined) accounts.add(account);
    }
  }
  return { accounts: [...accounts], anyone };
}

/**
 * The statements of bucket policies that name `role`: Allows that name the role itself or
 * everyone, Allows that name its account from another account's bucket (within the account,
 * naming it only hands the decision to identity policies), and every Deny that names it.
 */
export function resourceStatementsFor(
  role: SnapshotRole,
  buckets: readonly BucketPolicy[],
): ResourceStatementSummary[] {
  const out: ResourceStatementSummary[] = [];
  for (const bucket of buckets) {
    const crossAccount = bucket.ownerAccount !== role.accountId;
    bucket.policy.document.statements.forEach((st, i) => {
      if (st.principal === undefined) return;
      const names = howNamed(st.principal, role);
      if (names === undefined) return;
      if (st.effect === 'Allow' && names === 'account' && !crossAccount) return;
      out.push({
        ...summarizeStatement(bucket.policy.id, st, i),
        effect: st.effect,
        resourceArn: bucket.arn,
        resourceAccount: bucket.ownerAccount,
        names,
        crossAccount,
      });
    });
  }
  return out;
}

function howNamed(
  principal: PrincipalElement,
  role: SnapshotRole,
): ResourceStatementSummary['names'] | undefined {
  if (principal === '*') return 'anyone';
  const aws = principal.AWS ?? [];
  if (aws.includes('*')) return 'anyone';
  const session = `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/`;
  if (aws.some((v) => v === role.arn || v === role.roleId || v.startsWith(session))) return 'role';
  if (aws.some((v) => v === role.accountId || v === `arn:aws:iam::${role.accountId}:root`)) {
    return 'account';
  }
  return undefined;
}
