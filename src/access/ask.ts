/**
 * The access questions asked of a running server: read the account's snapshot and what the
 * resource side brings (the bucket's owner and policy, the other accounts that policy names,
 * the bucket policies that name a role), then answer with the pure queries.
 */
import type { PolicyDocument } from '../policy/index.js';
import { canIt, canReach, checkResource, whoCan } from './queries.js';
import type {
  CanItInput,
  CanItResult,
  CanReachInput,
  CanReachResult,
  WhoCanResult,
} from './queries.js';
import {
  accountsNamedBy,
  isAssumeRoleAction,
  loadBucketPolicies,
  loadResourceFacts,
  type ResourceFacts,
} from './resources.js';
import { loadAccessSnapshot, type AccessSnapshot, type AccessSources } from './snapshot.js';

/** Other accounts read at most for one "who can" (those a bucket or trust policy names). */
export const MAX_OTHER_ACCOUNTS = 20;

/**
 * Who can do `action` on `resource`, asked by `accountId`. For a bucket of `accountId` whose
 * policy names other accounts — or, for sts:AssumeRole-family actions, a role of `accountId`
 * whose trust policy does — their users, roles and service accounts are decided too (only
 * those the policy lets in can pass).
 *
 * @example
 * const r = await askWhoCan(sources, '000000000000', 's3:GetObject', 'arn:aws:s3:::reports/q1');
 * r.principals;
 */
export async function askWhoCan(
  sources: AccessSources,
  accountId: string,
  action: string,
  resource: string,
): Promise<WhoCanResult> {
  const [snapshot, facts] = await Promise.all([
    loadAccessSnapshot(sources, accountId),
    loadResourceFacts(sources, resource),
  ]);
  const others: AccessSnapshot[] = [];
  const named = otherAccountsNamed(facts, accountId, action);
  for (const other of named.slice(0, MAX_OTHER_ACCOUNTS)) {
    others.push(await loadAccessSnapshot(sources, other));
  }
  return whoCan(snapshot, action, resource, { resource: facts, others });
}

/**
 * The other accounts the policy of a resource of `accountId` lets in: a bucket's policy, or a
 * role's trust policy when `action` is one it decides.
 */
function otherAccountsNamed(facts: ResourceFacts, accountId: string, action: string): string[] {
  let document: PolicyDocument | undefined;
  if (facts.policy !== undefined && facts.account === accountId) {
    document = facts.policy.document;
  } else if (isAssumeRoleAction(action) && facts.role?.accountId === accountId) {
    document = facts.role.trust?.document;
  }
  if (document === undefined) return [];
  return accountsNamedBy(document).accounts.filter((a) => a !== accountId);
}

/**
 * What a service account of `accountId` can reach, with the bucket-policy statements that name
 * the roles it reaches.
 */
export async function askCanReach(
  sources: AccessSources,
  accountId: string,
  input: CanReachInput,
): Promise<CanReachResult> {
  const [snapshot, buckets] = await Promise.all([
    loadAccessSnapshot(sources, accountId),
    loadBucketPolicies(sources),
  ]);
  return canReach(snapshot, input, buckets);
}

/** Can a service account of `accountId` do an action on a resource (its bucket's policy too)? */
export async function askCanIt(
  sources: AccessSources,
  accountId: string,
  input: CanItInput,
): Promise<CanItResult> {
  const [snapshot, facts] = await Promise.all([
    loadAccessSnapshot(sources, accountId),
    // A malformed resource is refused by canIt, after the other fields are checked.
    isResource(input.resource) ? loadResourceFacts(sources, input.resource) : {},
  ]);
  return canIt(snapshot, input, facts);
}

function isResource(value: unknown): value is string {
  try {
    checkResource(value);
    return true;
  } catch {
    return false;
  }
}
