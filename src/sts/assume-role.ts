/**
 * STS AssumeRole: a signed caller (user or role session) asks for a role's credentials. The
 * role's trust policy and the caller's own policies decide (cross-account needs both); a
 * session assuming a role is role chaining, capped at one hour, and its transitive tags pass
 * on and cannot be overridden.
 */
import type { Principal } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import { parseRoleArn, type PolicyValidator, type RoleDirectory } from '../iam/index.js';
import type { QueryCall, XmlObject } from '../protocol/index.js';
import type { SealingKeyring } from '../sessions/index.js';
import { issueSession, sessionXml } from './issue-session.js';
import type { TrustEvaluator } from './trust.js';
import {
  packedPolicyPercent,
  readDurationSeconds,
  sessionDuration,
  readRoleArn,
  readRoleSessionName,
  readSessionPolicies,
  readSessionTags,
} from './validate.js';

/** What AssumeRole works on. */
export interface AssumeRoleDeps {
  roles: RoleDirectory;
  evaluateTrust: TrustEvaluator;
  validatePolicy: PolicyValidator;
  keyring: () => SealingKeyring;
}

/** Handles one AssumeRole call. */
export async function assumeRole(deps: AssumeRoleDeps, call: QueryCall): Promise<XmlObject> {
  const { params, principal } = call;
  const roleArn = readRoleArn(params);
  const sessionName = readRoleSessionName(params);
  const requestedDuration = readDurationSeconds(params);
  const externalId = readExternalId(params.get('ExternalId'));
  const sourceIdentity = readSourceIdentity(params.get('SourceIdentity'), principal);
  const sessionPolicies = readSessionPolicies(params);
  if (sessionPolicies.policy !== undefined) deps.validatePolicy(sessionPolicies.policy, 'session');
  const requested = readSessionTags(params);
  const { tags, transitiveTagKeys } = inheritTags(principal, requested);

  const target = parseRoleArn(roleArn);
  const role =
    target === undefined ? undefined : await deps.roles.find(target.accountId, target.roleName);
  const denied = () =>
    new AwsError(
      'AccessDenied',
      `User: ${principal.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
  if (role === undefined || role.arn !== roleArn) throw denied();
  // A role of another account: that account's trail gets the record too (CloudTrail's sharedEventID).
  call.audit.sharedWith = role.accountId;

  const context: Record<string, string | string[]> = { 'sts:RoleSessionName': sessionName };
  if (externalId !== undefined) context['sts:ExternalId'] = externalId;
  if (sourceIdentity !== undefined) context['sts:SourceIdentity'] = sourceIdentity;
  for (const [k, v] of Object.entries(requested.tags)) context[`aws:RequestTag/${k}`] = v;
  if (Object.keys(requested.tags).length > 0) {
    context['aws:TagKeys'] = Object.keys(requested.tags);
    context['sts:TransitiveTagKeys'] = requested.transitiveTagKeys;
  }
  const ask = (action: string) =>
    deps
      .evaluateTrust({ role, action, principal: { kind: 'aws', principal }, context })
      .catch((err: unknown) => {
        if (err instanceof AwsError && err.code === 'AccessDenied') {
          throw new AwsError('AccessDenied', denied().message, 403, err.explanation);
        }
        throw err;
      });
  await ask('sts:AssumeRole');
  if (Object.keys(requested.tags).length > 0) await ask('sts:TagSession');
  if (sourceIdentity !== undefined && principal.session?.sourceIdentity === undefined)
    await ask('sts:SetSourceIdentity');

  const chained = principal.session !== undefined;
  const durationSeconds = sessionDuration(requestedDuration, role.maxSessionDuration, chained);
  const packed =
    sessionPolicies.policy !== undefined ||
    sessionPolicies.policyArns.length > 0 ||
    Object.keys(tags).length > 0
      ? packedPolicyPercent(sessionPolicies.policy, sessionPolicies.policyArns, tags)
      : undefined;
  const issued = issueSession(deps.keyring(), {
    role,
    sessionName,
    durationSeconds,
    tags,
    transitiveTagKeys,
    sessionPolicy: sessionPolicies.policy,
    sessionPolicyArns: sessionPolicies.policyArns,
    sourceIdentity,
    chainDepth: chained ? (principal.session?.chainDepth ?? 0) + 1 : 0,
    issuedBy: 'AssumeRole',
  });
  return {
    ...sessionXml(issued),
    ...(packed === undefined ? {} : { PackedPolicySize: packed }),
    ...(sourceIdentity === undefined ? {} : { SourceIdentity: sourceIdentity }),
  };
}

/**
 * The session's tags: the caller session's transitive tags pass on (they cannot be
 * overridden), then the requested ones.
 */
function inheritTags(
  principal: Principal,
  requested: { tags: Record<string, string>; transitiveTagKeys: string[] },
): { tags: Record<string, string>; transitiveTagKeys: string[] } {
  const parent = principal.session;
  if (parent === undefined) return requested;
  const inherited: Record<string, string> = {};
  for (const [k, v] of Object.entries(parent.tags)) {
    if (parent.transitiveTagKeys.includes(k.toLowerCase())) inherited[k] = v;
  }
  const inheritedKeys = new Set(Object.keys(inherited).map((k) => k.toLowerCase()));
  for (const key of Object.keys(requested.tags)) {
    if (inheritedKeys.has(key.toLowerCase())) {
      throw new AwsError(
        'InvalidParameterValue',
        "One of the specified transitive tag keys can't be set because it conflicts with a transitive tag key from the calling session.",
      );
    }
  }
  return {
    tags: { ...inherited, ...requested.tags },
    transitiveTagKeys: [...new Set([...inheritedKeys, ...requested.transitiveTagKeys])],
  };
}

function readExternalId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (value.length < 2 || value.length > 1224 || !/^[\w+=,.@:/-]*$/.test(value)) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${value}' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*`,
    );
  }
  return value;
}

/** SourceIdentity: 2–64 characters; once a session has one, it cannot change. */
function readSourceIdentity(value: string | undefined, principal: Principal): string | undefined {
  const inherited = principal.session?.sourceIdentity;
  if (value === undefined) return inherited;
  if (
    value.length < 2 ||
    value.length > 64 ||
    !/^[\w+=,.@-]*$/.test(value) ||
    /^aws:/i.test(value)
  ) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value '${value}' at 'sourceIdentity' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*`,
    );
  }
  if (inherited !== undefined && inherited !== value) {
    throw new AwsError(
      'AccessDenied',
      'The source identity of the calling session cannot be changed.',
    );
  }
  return value;
}
