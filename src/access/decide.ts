/**
 * The engine's questions the access graph asks: may a service account assume a role (IRSA or
 * Pod Identity trust), may one role chain into another, may a role's session act on a resource.
 * Every answer is the engine's own decision, with its trace.
 */
import {
  buildRequestContext,
  evaluatePolicies,
  evaluateTrust,
  type CompiledPolicy,
  type Decision,
  type RequestPrincipal,
} from '../policy/index.js';
import type { SnapshotCluster, SnapshotRole, SnapshotUser } from './snapshot.js';

/** The service principal Pod Identity assumes association roles as. */
export const POD_IDENTITY_SERVICE = 'pods.eks.amazonaws.com';

/** The audience IRSA tokens carry by default (the webhook's and eksctl's). */
export const IRSA_AUDIENCE = 'sts.amazonaws.com';

/** Lifetime of Pod Identity credentials (EKS issues six-hour credentials). */
export const POD_IDENTITY_SESSION_SECONDS = 6 * 3600;

/** Role chaining caps a session at one hour. */
export const CHAINED_SESSION_SECONDS = 3600;

/** The session name analyses use; it never reaches a real session. */
const SESSION_NAME = 'latchkey-analysis';

const FULL = { trace: 'full' } as const;

/** The subject of a service account's projected token. */
export function subjectOf(namespace: string, serviceAccount: string): string {
  return `system:serviceaccount:${namespace}:${serviceAccount}`;
}

/** The session tags EKS Pod Identity adds to an association's sessions. */
export function podIdentityTags(
  cluster: { name: string; arn: string },
  namespace: string,
  serviceAccount: string,
): Record<string, string> {
  return {
    'eks-cluster-arn': cluster.arn,
    'eks-cluster-name': cluster.name,
    'kubernetes-namespace': namespace,
    'kubernetes-service-account': serviceAccount,
  };
}

/** A role session as the engine sees its caller. */
export function sessionPrincipal(role: SnapshotRole): RequestPrincipal {
  return {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${role.accountId}:assumed-role/${role.roleName}/${SESSION_NAME}`,
    accountId: role.accountId,
    principalId: `${role.roleId}:${SESSION_NAME}`,
    sessionIssuerArn: role.arn,
    hasPermissionsBoundary: role.boundary !== undefined,
  };
}

function sessionContext(
  role: SnapshotRole,
  sessionTags: Readonly<Record<string, string>>,
  resourceAccount: string,
) {
  return buildRequestContext({
    principalArn: role.arn,
    principalAccount: role.accountId,
    principalType: 'AssumedRole',
    userId: `${role.roleId}:${SESSION_NAME}`,
    principalTags: { ...role.tags, ...sessionTags },
    resourceAccount,
  });
}

function userPrincipal(user: SnapshotUser, accountId: string): RequestPrincipal {
  return { type: 'IAMUser', arn: user.arn, accountId, principalId: user.userId };
}

function userContext(user: SnapshotUser, accountId: string, resourceAccount: string) {
  return buildRequestContext({
    principalArn: user.arn,
    principalAccount: accountId,
    principalType: 'IAMUser',
    userId: user.userId,
    username: user.userName,
    resourceAccount,
  });
}

/** The account of a resource ARN, or `fallback` when the ARN names none (S3, `*`). */
export function resourceAccountOf(resource: string, fallback: string): string {
  const account = resource.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : fallback;
}

/**
 * The resource's side of a decision: the account that owns it and its own policy (a bucket
 * policy). Both absent: the account in the resource's ARN (or, for ARNs without one, the
 * caller's), and no resource policy.
 */
export interface ResourceSide {
  account?: string;
  policy?: CompiledPolicy;
}

/** A decision that no policy was there to make: the role has no trust policy, or is unknown. */
export function noPolicyDecision(policyType: 'trust' | 'identity'): Decision {
  return {
    decision: 'implicitDeny',
    matched: [],
    trace: [],
    missingContextKeys: [],
    denial: { policyType, explicit: false },
  };
}

/**
 * May a role session do `action` on `resource`? Identity policies, permissions boundary, the
 * session's tags and the resource's own policy and account (same account: either policy may
 * allow; across accounts both must), as `PolicyAuthorizer` decides for a real session.
 */
export function decideForRole(
  role: SnapshotRole,
  action: string,
  resource: string,
  sessionTags: Readonly<Record<string, string>> = {},
  side: ResourceSide = {},
): Decision {
  const resourceAccount = side.account ?? resourceAccountOf(resource, role.accountId);
  return evaluatePolicies(
    {
      principal: sessionPrincipal(role),
      action,
      resource,
      resourceAccount,
      context: sessionContext(role, sessionTags, resourceAccount),
      identityPolicies: role.identity.map((p) => p.compiled),
      ...(side.policy ? { resourcePolicy: side.policy } : {}),
      ...(role.boundary ? { permissionsBoundary: role.boundary.compiled } : {}),
    },
    FULL,
  );
}

/** May an IAM user do `action` on `resource` (its identity policies and the resource's)? */
export function decideForUser(
  user: SnapshotUser,
  accountId: string,
  action: string,
  resource: string,
  side: ResourceSide = {},
): Decision {
  const resourceAccount = side.account ?? resourceAccountOf(resource, accountId);
  return evaluatePolicies(
    {
      principal: userPrincipal(user, accountId),
      action,
      resource,
      resourceAccount,
      context: userContext(user, accountId, resourceAccount),
      identityPolicies: user.identity.map((p) => p.compiled),
      ...(side.policy ? { resourcePolicy: side.policy } : {}),
    },
    FULL,
  );
}

/**
 * May anyone, without credentials, do `action` on `resource`? Only a resource policy can
 * allow it (a statement for `Principal: "*"`), as S3 decides for anonymous requests.
 */
export function decideForAnonymous(action: string, resource: string, side: ResourceSide): Decision {
  if (side.policy === undefined || side.account === undefined) return noPolicyDecision('identity');
  return evaluatePolicies(
    {
      principal: { type: 'Anonymous', arn: '*', accountId: '' },
      action,
      resource,
      resourceAccount: side.account,
      context: buildRequestContext({ resourceAccount: side.account }),
      identityPolicies: [],
      resourcePolicy: side.policy,
    },
    FULL,
  );
}

/** May a service account's projected token (IRSA) assume `role`, as STS would decide? */
export function decideIrsaTrust(
  role: SnapshotRole,
  cluster: SnapshotCluster,
  subject: string,
  audience = IRSA_AUDIENCE,
): Decision {
  if (role.trust === undefined || cluster.providerArn === undefined) {
    return noPolicyDecision('trust');
  }
  return evaluateTrust(
    {
      principal: { type: 'WebIdentity', arn: cluster.providerArn, accountId: role.accountId },
      action: 'sts:AssumeRoleWithWebIdentity',
      roleArn: role.arn,
      roleAccount: role.accountId,
      trustPolicy: role.trust.compiled,
      context: {
        ...buildRequestContext({ resourceAccount: role.accountId }),
        [`${cluster.providerUrl}:sub`]: subject,
        [`${cluster.providerUrl}:aud`]: audience,
      },
    },
    FULL,
  );
}

/**
 * May EKS Pod Identity assume `role` for an association (sts:AssumeRole, then sts:TagSession
 * when tags are passed)? The first denial, or the last allow.
 */
export function decidePodIdentityTrust(
  role: SnapshotRole,
  cluster: { name: string; arn: string },
  accountId: string,
  sessionTags: Readonly<Record<string, string>>,
): { action: string; decision: Decision } {
  const tagContext: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(sessionTags)) tagContext[`aws:RequestTag/${k}`] = v;
  if (Object.keys(sessionTags).length > 0) tagContext['aws:TagKeys'] = Object.keys(sessionTags);
  const actions = [
    'sts:AssumeRole',
    ...(Object.keys(sessionTags).length > 0 ? ['sts:TagSession'] : []),
  ];
  let last: { action: string; decision: Decision } = {
    action: 'sts:AssumeRole',
    decision: noPolicyDecision('trust'),
  };
  if (role.trust === undefined) return last;
  for (const action of actions) {
    const decision = evaluateTrust(
      {
        principal: { type: 'Service', arn: POD_IDENTITY_SERVICE, accountId: '' },
        action,
        roleArn: role.arn,
        roleAccount: role.accountId,
        trustPolicy: role.trust.compiled,
        context: {
          ...buildRequestContext({ resourceAccount: role.accountId }),
          'aws:SourceAccount': accountId,
          'aws:SourceArn': cluster.arn,
          ...tagContext,
        },
      },
      FULL,
    );
    last = { action, decision };
    if (decision.decision !== 'allowed') return last;
  }
  return last;
}

/**
 * The role an sts:AssumeRole-family request is about: its ARN, its account and its trust
 * policy (absent when it no longer parses: then nobody may assume it).
 */
export type AssumeTarget = Pick<SnapshotRole, 'arn' | 'accountId' | 'trust'>;

/**
 * May a session of `from` assume `to` (role chaining)? Both `from`'s identity policies and
 * `to`'s trust policy decide, as for sts:AssumeRole (or `action`: sts:TagSession,
 * sts:SetSourceIdentity).
 */
export function decideChain(
  from: SnapshotRole,
  to: AssumeTarget,
  sessionTags: Readonly<Record<string, string>> = {},
  externalId?: string,
  action = 'sts:AssumeRole',
): Decision {
  if (to.trust === undefined) return noPolicyDecision('trust');
  return evaluateTrust(
    {
      principal: sessionPrincipal(from),
      action,
      roleArn: to.arn,
      roleAccount: to.accountId,
      trustPolicy: to.trust.compiled,
      context: {
        ...sessionContext(from, sessionTags, to.accountId),
        'sts:RoleSessionName': SESSION_NAME,
        ...(externalId === undefined ? {} : { 'sts:ExternalId': externalId }),
      },
      identityPolicies: from.identity.map((p) => p.compiled),
      ...(from.boundary ? { permissionsBoundary: from.boundary.compiled } : {}),
    },
    FULL,
  );
}

/**
 * May an IAM user assume `to` (sts:AssumeRole, or `action`)? `to`'s trust policy must allow the
 * user; naming the user's ARN suffices in the role's account, naming the account needs the
 * user's identity policies to allow too, and across accounts both must — as STS decides.
 *
 * @example
 * decideUserAssume(user, '000000000000', 'sts:AssumeRole', role).decision; // 'allowed'
 */
export function decideUserAssume(
  user: SnapshotUser,
  accountId: string,
  action: string,
  to: AssumeTarget,
): Decision {
  if (to.trust === undefined) return noPolicyDecision('trust');
  return evaluateTrust(
    {
      principal: userPrincipal(user, accountId),
      action,
      roleArn: to.arn,
      roleAccount: to.accountId,
      trustPolicy: to.trust.compiled,
      context: {
        ...userContext(user, accountId, to.accountId),
        'sts:RoleSessionName': SESSION_NAME,
      },
      identityPolicies: user.identity.map((p) => p.compiled),
    },
    FULL,
  );
}
