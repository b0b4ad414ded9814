/**
 * The questions security engineers ask: who can do ACTION on RESOURCE, what can this service
 * account reach, and can it do this one thing (and why not).
 */
import { AwsError } from '../errors/index.js';
import type { Decision, PolicyStatement } from '../policy/index.js';
import {
  decideChain,
  decideForAnonymous,
  decideForRole,
  decideForUser,
  decideUserAssume,
  subjectOf,
  type AssumeTarget,
  type ResourceSide,
} from './decide.js';
import { explainInWords, statementName, type Explanation } from './explain.js';
import {
  allPaths,
  pathsForServiceAccount,
  patternPaths,
  subjectMatches,
  type AccessPath,
  type PathStep,
} from './paths.js';
import {
  isAssumeRoleAction,
  resourceStatementsFor,
  roleOfArn,
  sideOf,
  type BucketPolicy,
  type ResourceFacts,
  type ResourceStatementSummary,
} from './resources.js';
import type { AccessSnapshot, SnapshotRole, SnapshotUser } from './snapshot.js';
import { summarizeStatement, type StatementSummary } from './statements.js';

export type { StatementSummary } from './statements.js';

/** A step of a path, without its trace (for listings). */
export interface StepSummary {
  via: PathStep['via'];
  roleArn: string;
  associationId?: string;
}

/** One principal that may do the action. */
export interface WhoCanEntry {
  /** `anonymous`: anyone, without credentials (a resource policy allows `Principal: "*"`). */
  kind: 'serviceAccount' | 'subjectPattern' | 'role' | 'user' | 'anonymous';
  /** The account of the user, role or service account (absent for `anonymous`). */
  accountId?: string;
  cluster?: string;
  namespace?: string;
  serviceAccount?: string;
  subjectPattern?: string;
  /** The role whose session may act (absent for a user). */
  roleArn?: string;
  /** The IAM user that may act (users only). */
  userArn?: string;
  /** How the service account gets there (empty for a role on its own). */
  path: StepSummary[];
  /** The statements that allow it. */
  allowedBy: string[];
}

/** The answer to "who can do ACTION on RESOURCE". */
export interface WhoCanResult {
  action: string;
  resource: string;
  /** The account that owns the resource, when Latchkey holds it (an existing bucket). */
  resourceAccount?: string;
  /** The ARN of the resource whose own policy took part (a bucket with a bucket policy). */
  resourcePolicy?: string;
  /**
   * For sts:AssumeRole, sts:TagSession or sts:SetSourceIdentity on a role ARN: the role whose
   * trust policy decided (`known: true`), or `known: false` when Latchkey holds no role with
   * that ARN — then identity policies alone decided, as for any other resource.
   */
  roleTrust?: { roleArn: string; known: boolean };
  principals: WhoCanEntry[];
}

/** What `whoCan` considers besides the account's own identity configuration. */
export interface WhoCanOptions {
  /** The resource's owner and policy (see `loadResourceFacts`); without them, none. */
  resource?: ResourceFacts;
  /** Snapshots of other accounts whose principals the resource (or trust) policy names. */
  others?: readonly AccessSnapshot[];
  /** The account's paths, when already computed. */
  paths?: AccessPath[];
}

/** One way a service account reaches a role, and what that role may do. */
export interface ReachPath {
  mechanism: 'irsa' | 'pod-identity';
  subjectPattern?: string;
  steps: StepSummary[];
  works: boolean;
  problem?: string;
  maxSessionSeconds: number;
  sessionTags: Record<string, string>;
  /** The Allow statements of the last role's policies. */
  allows: StatementSummary[];
  /** The Deny statements of the last role's policies. */
  denies: StatementSummary[];
  /** Bucket-policy statements that name the last role (or its account, or everyone). */
  resourcePolicies: ResourceStatementSummary[];
  permissionsBoundary?: string;
}

/** The answer to "what can this service account reach". */
export interface CanReachResult {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  paths: ReachPath[];
}

/** A "can it reach" question as it arrives (unchecked: `canReach` validates each field). */
export interface CanReachInput {
  cluster?: unknown;
  namespace?: unknown;
  serviceAccount?: unknown;
}

/** A "can it do this" question as it arrives (unchecked: `canIt` validates each field). */
export interface CanItInput extends CanReachInput {
  action?: unknown;
  resource?: unknown;
}

/** The answer to "can it do this", with every path's reasoning. */
export interface CanItResult {
  allowed: boolean;
  summary: string;
  paths: {
    steps: (StepSummary & { action: string; explanation: Explanation })[];
    works: boolean;
    problem?: string;
    permission?: { roleArn: string; explanation: Explanation };
    allowed: boolean;
  }[];
}

const ACTION = /^[A-Za-z0-9-]{1,64}:[A-Za-z0-9*?]{1,128}$/;
const K8S_NAME = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

/** Validates an action such as `s3:GetObject`; InvalidParameterException when malformed. */
export function checkAction(action: unknown): string {
  if (typeof action !== 'string' || !ACTION.test(action)) {
    throw new AwsError(
      'InvalidParameterException',
      `action must look like service:Action (e.g. s3:GetObject); got ${JSON.stringify(action ?? null).slice(0, 80)}.`,
    );
  }
  return action;
}

/** Validates a resource: `*` or an ARN. */
export function checkResource(resource: unknown): string {
  if (
    typeof resource !== 'string' ||
    resource.length > 2048 ||
    (resource !== '*' && !/^arn:[a-z-]+:[a-z0-9-]*:[a-z0-9-]*:[0-9a-z-]*:\S+$/.test(resource))
  ) {
    throw new AwsError(
      'InvalidParameterException',
      `resource must be * or an ARN (e.g. arn:aws:s3:::bucket/key); got ${JSON.stringify(resource ?? null).slice(0, 80)}.`,
    );
  }
  return resource;
}

/** Validates a service account's cluster, namespace and name against the snapshot. */
export function checkServiceAccount(
  snapshot: AccessSnapshot,
  input: CanReachInput,
): { cluster: string; namespace: string; serviceAccount: string } {
  for (const field of ['namespace', 'serviceAccount'] as const) {
    const v = input[field];
    if (typeof v !== 'string' || !K8S_NAME.test(v)) {
      throw new AwsError(
        'InvalidParameterException',
        `${field} must be a Kubernetes name; got ${JSON.stringify(v ?? null).slice(0, 80)}.`,
      );
    }
  }
  const cluster = input.cluster;
  if (typeof cluster !== 'string' || cluster === '') {
    throw new AwsError('InvalidParameterException', 'cluster is required.');
  }
  if (!snapshot.clusters.some((c) => c.name === cluster)) {
    throw new AwsError('ResourceNotFoundException', `No cluster found for name: ${cluster}.`);
  }
  return {
    cluster,
    namespace: input.namespace as string,
    serviceAccount: input.serviceAccount as string,
  };
}

/**
 * How a question is decided: with the resource's side (its owner and policy), or — for an
 * sts:AssumeRole-family action on a role Latchkey holds — by the role's trust policy.
 */
type Question =
  | { action: string; resource: string; side: ResourceSide }
  | { action: string; resource: string; target: AssumeTarget };

/**
 * The question `action` on `resource` asks: an sts:AssumeRole-family action on the ARN of a
 * role Latchkey holds (in `facts`, or in the snapshot) is decided by that role's trust policy;
 * anything else, and a role ARN Latchkey does not hold, by the resource's side.
 */
function questionOf(
  snapshot: AccessSnapshot,
  action: string,
  resource: string,
  facts: ResourceFacts,
): Question {
  if (isAssumeRoleAction(action) && roleOfArn(resource) !== undefined) {
    const target = facts.role ?? snapshot.role(resource);
    if (target !== undefined) return { action, resource, target };
  }
  return { action, resource, side: sideOf(facts) };
}

/** May a session of `role` (with `sessionTags`) do what the question asks? */
function decideRoleQuestion(
  role: SnapshotRole,
  q: Question,
  sessionTags: Readonly<Record<string, string>> = {},
): Decision {
  return 'target' in q
    ? decideChain(role, q.target, sessionTags, undefined, q.action)
    : decideForRole(role, q.action, q.resource, sessionTags, q.side);
}

/** May an IAM user of `accountId` do what the question asks? */
function decideUserQuestion(user: SnapshotUser, accountId: string, q: Question): Decision {
  return 'target' in q
    ? decideUserAssume(user, accountId, q.action, q.target)
    : decideForUser(user, accountId, q.action, q.resource, q.side);
}

/**
 * Who may do `action` on `resource`: every IAM user and role of the account allowed to, every
 * service account (or subject pattern) with a working path to such a role, the principals of
 * `others` the resource policy lets in, and anyone at all when the resource policy allows
 * anonymous callers. Each is the engine's decision with the resource's policy and owner
 * (within the owner's account either policy may allow; across accounts both must). For
 * sts:AssumeRole, sts:TagSession and sts:SetSourceIdentity on a role's ARN the role's trust
 * policy decides, as STS does: naming a principal's ARN suffices in the role's account, naming
 * the account needs the principal's identity policies to allow too, and across accounts both
 * must.
 *
 * @example
 * whoCan(snapshot, 's3:GetObject', 'arn:aws:s3:::reports/q1.csv').principals;
 */
export function whoCan(
  snapshot: AccessSnapshot,
  action: string,
  resource: string,
  options: WhoCanOptions = {},
): WhoCanResult {
  checkAction(action);
  checkResource(resource);
  const facts = options.resource ?? {};
  const q = questionOf(snapshot, action, resource, facts);
  const principals: WhoCanEntry[] = [];
  if ('side' in q && facts.policy !== undefined) {
    const d = decideForAnonymous(action, resource, q.side);
    if (d.decision === 'allowed') {
      principals.push({ kind: 'anonymous', path: [], allowedBy: d.matched.map(statementName) });
    }
  }
  principals.push(...accountPrincipals(snapshot, q, options.paths ?? allPaths(snapshot)));
  for (const other of options.others ?? []) {
    if (other.accountId === snapshot.accountId) continue;
    principals.push(...accountPrincipals(other, q, allPaths(other)));
  }
  return { action, resource, ...resultFacts(q, facts), principals };
}

/** What the answer says of the resource: its owner and the policy that took part. */
function resultFacts(
  q: Question,
  facts: ResourceFacts,
): Pick<WhoCanResult, 'resourceAccount' | 'resourcePolicy' | 'roleTrust'> {
  if ('target' in q) {
    return {
      resourceAccount: q.target.accountId,
      roleTrust: { roleArn: q.target.arn, known: true },
    };
  }
  return {
    ...(facts.account !== undefined ? { resourceAccount: facts.account } : {}),
    ...(facts.policy !== undefined
      ? { resourcePolicy: facts.policy.id.replace(/^resource-policy:/, '') }
      : {}),
    ...(isAssumeRoleAction(q.action) && roleOfArn(q.resource) !== undefined
      ? { roleTrust: { roleArn: q.resource, known: false } }
      : {}),
  };
}

/** The users, roles and service accounts of one account allowed to act. */
function accountPrincipals(
  snapshot: AccessSnapshot,
  q: Question,
  paths: AccessPath[],
): WhoCanEntry[] {
  const principals: WhoCanEntry[] = [];
  for (const role of snapshot.roles) {
    if (role.foreign) continue;
    const d = decideRoleQuestion(role, q);
    if (d.decision === 'allowed') {
      principals.push({
        kind: 'role',
        accountId: role.accountId,
        roleArn: role.arn,
        path: [],
        allowedBy: d.matched.map(statementName),
      });
    }
  }
  for (const user of snapshot.users) {
    const d = decideUserQuestion(user, snapshot.accountId, q);
    if (d.decision === 'allowed') {
      principals.push({
        kind: 'user',
        accountId: snapshot.accountId,
        userArn: user.arn,
        path: [],
        allowedBy: d.matched.map(statementName),
      });
    }
  }
  for (const path of paths) {
    if (!path.works) continue;
    // The last role may be another account's (an association's target): its own policies decide.
    const last = snapshot.role(path.steps.at(-1)?.roleArn ?? '');
    if (last === undefined) continue;
    const d = decideRoleQuestion(last, q, path.sessionTags);
    if (d.decision !== 'allowed') continue;
    principals.push({
      kind: path.subjectPattern === undefined ? 'serviceAccount' : 'subjectPattern',
      accountId: snapshot.accountId,
      cluster: path.cluster,
      namespace: path.namespace,
      serviceAccount: path.serviceAccount,
      ...(path.subjectPattern !== undefined ? { subjectPattern: path.subjectPattern } : {}),
      roleArn: last.arn,
      path: path.steps.map(stepSummary),
      allowedBy: d.matched.map(statementName),
    });
  }
  return principals;
}

/**
 * What a service account can reach: each path to a role, that role's statements, and the
 * statements of bucket policies that name it. The statements of another account's role (an
 * association's target) are shown only on a path that works, i.e. when that role trusts it.
 *
 * @example
 * canReach(snapshot, { cluster: 'dev', namespace: 'default', serviceAccount: 'app' });
 */
export function canReach(
  snapshot: AccessSnapshot,
  input: CanReachInput,
  bucketPolicies: readonly BucketPolicy[] = [],
): CanReachResult {
  const sa = checkServiceAccount(snapshot, input);
  const paths = saPaths(snapshot, sa);
  return {
    ...sa,
    paths: paths.map((p) => {
      const found = snapshot.role(p.steps.at(-1)?.roleArn ?? '');
      const last = found !== undefined && (!found.foreign || p.works) ? found : undefined;
      const statements = last ? roleStatements(last) : { allows: [], denies: [] };
      return {
        mechanism: p.steps[0]?.via === 'pod-identity' ? 'pod-identity' : 'irsa',
        ...(p.subjectPattern !== undefined ? { subjectPattern: p.subjectPattern } : {}),
        steps: p.steps.map(stepSummary),
        works: p.works,
        ...(p.problem !== undefined ? { problem: p.problem } : {}),
        maxSessionSeconds: p.maxSessionSeconds,
        sessionTags: p.sessionTags,
        ...statements,
        resourcePolicies: last ? resourceStatementsFor(last, bucketPolicies) : [],
        ...(last?.boundary ? { permissionsBoundary: last.boundary.id } : {}),
      };
    }),
  };
}

/**
 * Can a service account do `action` on `resource`? Every path's trust steps and the last
 * role's permission decision (with the resource's policy and owner from `facts`; for an
 * sts:AssumeRole-family action on a role Latchkey holds, with that role's trust policy),
 * explained.
 *
 * @example
 * const r = canIt(snapshot, { cluster: 'dev', namespace: 'default', serviceAccount: 'app',
 *   action: 's3:PutObject', resource: 'arn:aws:s3:::reports/x' });
 * r.summary;
 */
export function canIt(
  snapshot: AccessSnapshot,
  input: CanItInput,
  facts: ResourceFacts = {},
): CanItResult {
  const sa = checkServiceAccount(snapshot, input);
  const action = checkAction(input.action);
  const resource = checkResource(input.resource);
  const q = questionOf(snapshot, action, resource, facts);
  const paths: CanItResult['paths'] = saPaths(snapshot, sa).map((p) => {
    const steps = p.steps.map((s) => ({
      ...stepSummary(s),
      action: s.action,
      explanation: explainInWords(s.decision, { action: s.action, resource: s.roleArn }),
    }));
    const last = snapshot.role(p.steps.at(-1)?.roleArn ?? '');
    if (!p.works || last === undefined) {
      return {
        steps,
        works: p.works,
        ...(p.problem !== undefined ? { problem: p.problem } : {}),
        allowed: false,
      };
    }
    const d = decideRoleQuestion(last, q, p.sessionTags);
    return {
      steps,
      works: true,
      permission: { roleArn: last.arn, explanation: explainInWords(d, { action, resource }) },
      allowed: d.decision === 'allowed',
    };
  });
  const who = `${sa.namespace}/${sa.serviceAccount} in cluster ${sa.cluster}`;
  const allowedPath = paths.find((p) => p.allowed);
  let summary: string;
  if (allowedPath !== undefined) {
    const chain = allowedPath.steps.map((s) => s.roleArn).join(' → ');
    summary = `Allowed: ${who} reaches ${chain} (${allowedPath.steps[0]?.via === 'pod-identity' ? 'Pod Identity' : 'IRSA'}), and ${allowedPath.permission?.explanation.summary.replace(/^Allowed: /, '')}`;
  } else if (paths.length === 0) {
    summary = `Denied: ${who} has no way to get AWS credentials — no pod identity association names it and no role's trust policy admits its token (${subjectOf(sa.namespace, sa.serviceAccount)}).`;
  } else if (paths.every((p) => !p.works)) {
    summary = `Denied: every way ${who} has to get credentials is broken — ${paths.map((p) => p.problem ?? 'a trust step refuses').join('; ')}.`;
  } else {
    summary =
      `Denied: ${who} gets credentials, but no role it reaches may do ${action}${resource === '*' ? '' : ` on ${resource}`}. ${paths.find((p) => p.permission)?.permission?.explanation.summary ?? ''}`.trim();
  }
  return { allowed: allowedPath !== undefined, summary, paths };
}

/** The concrete paths of a service account plus the pattern paths that admit it. */
function saPaths(
  snapshot: AccessSnapshot,
  sa: { cluster: string; namespace: string; serviceAccount: string },
): AccessPath[] {
  const subject = subjectOf(sa.namespace, sa.serviceAccount);
  const own = pathsForServiceAccount(snapshot, sa.cluster, sa.namespace, sa.serviceAccount);
  const seen = new Set(own.map((p) => p.steps.map((s) => s.roleArn).join('>')));
  const patterns = patternPaths(snapshot).filter(
    (p) =>
      p.cluster === sa.cluster &&
      subjectMatches(p.subjectPattern ?? '', subject) &&
      !seen.has(p.steps.map((s) => s.roleArn).join('>')),
  );
  return [...own, ...patterns];
}

function stepSummary(s: PathStep): StepSummary {
  return {
    via: s.via,
    roleArn: s.roleArn,
    ...(s.associationId !== undefined ? { associationId: s.associationId } : {}),
  };
}

function roleStatements(role: SnapshotRole): {
  allows: StatementSummary[];
  denies: StatementSummary[];
} {
  const allows: StatementSummary[] = [];
  const denies: StatementSummary[] = [];
  for (const policy of role.identity) {
    policy.document.statements.forEach((st: PolicyStatement, i) => {
      (st.effect === 'Allow' ? allows : denies).push(summarizeStatement(policy.id, st, i));
    });
  }
  return { allows, denies };
}
