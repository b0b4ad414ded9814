/**
 * AWS's policy evaluation logic.
 *
 * 1. Every applicable policy is searched for a matching `Deny`: one is an explicit deny.
 * 2. Within one account, an `Allow` in an identity-based or a resource-based policy grants,
 *    subject to what limits it:
 *    - a resource policy naming the caller itself (user ARN, session ARN, `*`) is not limited by
 *      implicit denies in identity policies, permissions boundaries or session policies;
 *    - one naming the role behind a session (or the user behind a federated-user session) is
 *      limited by the permissions boundary and session policies;
 *    - identity policies are limited by the boundary and session policies;
 *    - naming the account delegates to the identity policies.
 * 3. Across accounts both sides must allow: the resource policy (naming the caller, its role or
 *    its account) and the identity side (identity ∩ boundary ∩ session policies).
 * 4. Role trust policies must always allow: within the account, naming the account still needs
 *    an identity-policy allow; naming the caller (or its role) suffices.
 * 5. Otherwise the request is implicitly denied.
 */
import { splitArn } from './arn.js';
import type {
  CompiledPolicy,
  CompiledStatement,
  RequestAction,
  ResourceTarget,
} from './compile.js';
import type { ConditionScope } from './conditions/condition.js';
import { isPrepared, normaliseContext, normaliseValue } from './context.js';
import type {
  AuthorizationRequest,
  ContextValue,
  Decision,
  Denial,
  EvaluateOptions,
  Mismatch,
  PolicyType,
  PreparedContext,
  PrincipalMatchKind,
  RequestContext,
  RequestPrincipal,
  StatementRef,
  TraceEntry,
} from './types.js';
import type { ContextValues, VariableRef } from './variables.js';

/** A role trust policy evaluation (`sts:AssumeRole`, `…WithWebIdentity`, `sts:TagSession`, …). */
export interface TrustRequest {
  /** The caller; for web identity the OIDC provider's ARN, for services the service name. */
  principal: RequestPrincipal;
  /** E.g. `sts:AssumeRoleWithWebIdentity`. */
  action: string;
  /** The role being assumed. */
  roleArn: string;
  /** The role's account; defaults to the account in `roleArn`. */
  roleAccount?: string;
  trustPolicy: CompiledPolicy;
  /** Condition keys (e.g. `oidc.example.com:sub`, `aws:RequestTag/team`). */
  context: RequestContext | PreparedContext;
  /** The caller's identity policies (IAM users and role sessions calling `AssumeRole`). */
  identityPolicies?: readonly CompiledPolicy[];
  permissionsBoundary?: CompiledPolicy;
  sessionPolicies?: readonly CompiledPolicy[];
}

const NONE: StatementRef[] = Object.freeze([]) as unknown as StatementRef[];
const NO_KEYS: string[] = Object.freeze([]) as unknown as string[];

/** The denial of each policy type, explicit and implicit, shared by every decision. */
const DENIALS = Object.fromEntries(
  (['identity', 'resource', 'boundary', 'session', 'trust'] as const).map((t) => [
    t,
    {
      explicit: Object.freeze({ policyType: t, explicit: true }),
      implicit: Object.freeze({ policyType: t, explicit: false }),
    },
  ]),
) as Record<PolicyType, { explicit: Denial; implicit: Denial }>;

/** The statements of one group (identity, boundary, …) that applied, by effect. */
class Tally {
  allows: StatementRef[] = NONE;
  denies: StatementRef[] = NONE;
  /** Resource and trust policies: allows by how the principal matched. */
  direct: StatementRef[] = NONE;
  entity: StatementRef[] = NONE;
  account: StatementRef[] = NONE;

  add(list: 'allows' | 'denies' | PrincipalMatchKind, ref: StatementRef): void {
    if (this[list] === NONE) this[list] = [ref];
    else this[list].push(ref);
  }
}

const EMPTY = new Tally();

/** A statement's outcome, compact: applies (with how the principal matched), or why not. */
type Outcome = Mismatch | PrincipalMatchKind | true;

/**
 * One evaluation: the request's facts, and what it collects. The trace is kept compact (one
 * log of outcomes) and only turned into {@link TraceEntry} objects when read.
 */
class Evaluation implements ConditionScope, ResourceTarget, ContextValues {
  /** The context's values: a prepared context's, or this evaluation reading the raw context. */
  readonly values: ContextValues;
  readonly #raw: RequestContext | undefined;
  #normalised: ContextValues | undefined;
  readonly action: RequestAction;
  readonly service: string;
  readonly name: string;
  readonly resource: string;
  /** Whether the request resource is an ARN; null until needed. */
  #isArn: boolean | null = null;
  c0 = 0;
  c1 = 0;
  c2 = 0;
  c3 = 0;
  c4 = 0;
  /**
   * What was evaluated, in order, flattened: for each group its policy type and policies, then
   * the outcome of each statement examined (their number is known from the policies).
   */
  readonly #log: (PolicyType | readonly CompiledPolicy[] | Outcome)[] = [];
  missingKeys: string[] = NO_KEYS;
  firstUnresolved: VariableRef | undefined = undefined;

  constructor(
    request: AuthorizationRequest,
    readonly principal: RequestPrincipal,
    readonly full: boolean,
  ) {
    const context = request.context;
    if (isPrepared(context)) {
      this.values = context.values;
    } else {
      this.#raw = context;
      this.values = this;
    }
    const action = splitAction(request.action);
    this.action = action;
    this.service = action.service;
    this.name = action.name;
    this.resource = request.resource;
  }

  /**
   * A raw context read in place: a key is first looked up as the policy spells it (callers and
   * policies usually agree on AWS's spelling); only when that misses is the context normalised
   * for a case-insensitive look-up.
   */
  get(key: string, spelled?: string): string | readonly string[] | undefined {
    const raw = this.#raw as RequestContext;
    if (spelled !== undefined) {
      const v: unknown = raw[spelled];
      if (typeof v === 'string') return v;
      if (
        Array.isArray(v) ||
        typeof v === 'number' ||
        typeof v === 'boolean' ||
        v instanceof Date
      ) {
        return normaliseValue(v as ContextValue);
      }
      // Absent, or not a context value (e.g. an inherited property): look it up properly.
    }
    this.#normalised ??= normaliseContext(raw);
    return this.#normalised.get(key);
  }

  isArn(): boolean {
    if (this.#isArn === null) {
      // The first five colons, found once; resource patterns match the segments in place.
      const r = this.resource;
      this.c0 = r.indexOf(':');
      this.c1 = this.c0 < 0 ? -1 : r.indexOf(':', this.c0 + 1);
      this.c2 = this.c1 < 0 ? -1 : r.indexOf(':', this.c1 + 1);
      this.c3 = this.c2 < 0 ? -1 : r.indexOf(':', this.c2 + 1);
      this.c4 = this.c3 < 0 ? -1 : r.indexOf(':', this.c3 + 1);
      this.#isArn = this.c4 >= 0;
    }
    return this.#isArn;
  }

  missing(name: string): void {
    if (this.missingKeys === NO_KEYS) this.missingKeys = [name];
    else if (!this.missingKeys.includes(name)) this.missingKeys.push(name);
  }

  unresolved(ref: VariableRef): void {
    this.firstUnresolved ??= ref;
    this.missing(ref.name);
  }

  /** The statements of `policy` this evaluation examines. */
  statementsOf(policy: CompiledPolicy): readonly CompiledStatement[] {
    return this.full ? policy.statements : policy.forAction(this.action);
  }

  group(type: PolicyType, policies: readonly CompiledPolicy[]): void {
    this.#log.push(type, policies);
  }

  record(outcome: Outcome): void {
    this.#log.push(outcome);
  }

  /**
   * The trace as {@link TraceEntry} objects, rebuilt from the log: the statements examined of
   * each policy come back in the same order from {@link statementsOf}.
   */
  trace(): TraceEntry[] {
    const out: TraceEntry[] = [];
    const log = this.#log;
    let k = 0;
    while (k < log.length) {
      const policyType = log[k++] as PolicyType;
      for (const policy of log[k++] as readonly CompiledPolicy[]) {
        const statements = this.statementsOf(policy);
        const skipped = policy.statementCount - statements.length;
        if (skipped > 0) {
          out.push({ kind: 'skipped', policyType, policyId: policy.id, statements: skipped });
        }
        for (const st of statements) {
          const outcome = log[k++] as Outcome;
          const entry: StatementEntry = {
            kind: 'statement',
            policyType,
            statement: st.ref,
            effect: st.effect,
            applies: typeof outcome !== 'object',
          };
          if (typeof outcome === 'object') entry.mismatch = outcome;
          else if (outcome !== true) entry.principalMatch = outcome;
          out.push(entry);
        }
      }
    }
    return out;
  }
}

type StatementEntry = Extract<TraceEntry, { kind: 'statement' }>;

/** Actions seen before, split and lower-cased (a service answers a bounded set of actions). */
const actions = new Map<string, RequestAction>();
const ACTIONS_LIMIT = 8192;

function splitAction(action: string): RequestAction {
  let hit = actions.get(action);
  if (hit === undefined) {
    const key = action.toLowerCase();
    const colon = key.indexOf(':');
    hit =
      colon < 0
        ? { key, service: key, name: '' }
        : { key, service: key.slice(0, colon), name: key.slice(colon + 1) };
    if (actions.size < ACTIONS_LIMIT) actions.set(action, hit);
  }
  return hit;
}

/** A decision whose trace is built from the compact record when first read. */
class EvaluatedDecision implements Decision {
  readonly decision: Decision['decision'];
  readonly matched: readonly StatementRef[];
  readonly missingContextKeys: readonly string[];
  readonly denial?: Denial;
  #trace: readonly TraceEntry[] | undefined;
  readonly #ev: Evaluation;

  constructor(
    ev: Evaluation,
    decision: Decision['decision'],
    matched: readonly StatementRef[],
    denial?: Denial,
  ) {
    this.decision = decision;
    this.matched = matched;
    this.missingContextKeys = ev.missingKeys;
    if (denial !== undefined) this.denial = denial;
    this.#ev = ev;
  }

  get trace(): readonly TraceEntry[] {
    this.#trace ??= this.#ev.trace();
    return this.#trace;
  }

  toJSON(): Decision {
    const out: Decision = {
      decision: this.decision,
      matched: this.matched,
      trace: this.trace,
      missingContextKeys: this.missingContextKeys,
    };
    if (this.denial !== undefined) out.denial = this.denial;
    return out;
  }
}

function withVariable(m: Mismatch, detail: string, variable: VariableRef): Mismatch {
  return { ...m, detail, unresolvedVariable: variable.name };
}

/** Evaluates one statement: true or how the principal matched when it applies, else why not. */
function evaluateStatement(
  st: CompiledStatement,
  ev: Evaluation,
  policyType: PolicyType,
): Mismatch | PrincipalMatchKind | true {
  // Statements come pre-filtered by action, except when the whole policy is traced.
  if (ev.full && st.actions.has(ev.service, ev.name) === st.notAction) return st.mismatches.action;
  const resources = st.resources;
  if (resources !== undefined) {
    let matched = false;
    let unresolved: VariableRef | undefined;
    for (let i = 0; i < resources.length; i++) {
      const r = resources[i]!.match(ev);
      if (r === true) {
        matched = true;
        if (!st.notResource) break;
      } else if (r !== false) {
        unresolved ??= r;
        ev.missing(r.name);
      }
    }
    if (st.notResource) {
      if (unresolved !== undefined) {
        const detail = `\${${unresolved.name}} has no value, so the statement does not apply`;
        return withVariable(st.mismatches.resource, detail, unresolved);
      }
      if (matched) return st.mismatches.resource;
    } else if (!matched) {
      return unresolved === undefined
        ? st.mismatches.resource
        : withVariable(
            st.mismatches.resource,
            `the resource is not in Resource (\${${unresolved.name}} has no value)`,
            unresolved,
          );
    }
  }
  let principalMatch: PrincipalMatchKind | true = true;
  if (policyType === 'resource' || policyType === 'trust') {
    const kind = st.principals?.match(ev.principal);
    if (st.notPrincipal) {
      // AWS: NotPrincipal with Deny "will always deny any IAM principal that has a permissions
      // boundary policy attached, regardless of the values specified in the NotPrincipal".
      const boundaryRule = st.effect === 'Deny' && ev.principal.hasPermissionsBoundary === true;
      if (kind !== undefined && !boundaryRule) return st.mismatches.principal;
      principalMatch = 'direct';
    } else if (kind === undefined) {
      return st.mismatches.principal;
    } else {
      principalMatch = kind;
    }
  }
  const conditions = st.conditions;
  for (let i = 0; i < conditions.length; i++) {
    const c = conditions[i]!;
    const failure = c.evaluate(ev.values, ev);
    if (failure === undefined) continue;
    // Keep reporting keys the remaining conditions would need.
    for (let j = i + 1; j < conditions.length; j++) {
      const rest = conditions[j]!;
      if (rest.op.base.family !== 'null' && ev.values.get(rest.lookupKey, rest.key) === undefined) {
        ev.missing(rest.key);
      }
    }
    const m = c.mismatches[failure];
    const variable = ev.firstUnresolved;
    return variable === undefined
      ? m
      : withVariable(m, `${m.detail} (\${${variable.name}} has no value)`, variable);
  }
  return principalMatch;
}

function evaluateGroup(
  policies: readonly CompiledPolicy[],
  policyType: PolicyType,
  ev: Evaluation,
): Tally {
  let out = EMPTY;
  ev.group(policyType, policies);
  for (let p = 0; p < policies.length; p++) {
    const statements = ev.statementsOf(policies[p]!);
    for (let i = 0; i < statements.length; i++) {
      const st = statements[i]!;
      const outcome = evaluateStatement(st, ev, policyType);
      ev.record(outcome);
      if (typeof outcome === 'object') continue;
      if (out === EMPTY) out = new Tally();
      if (st.effect === 'Deny') {
        out.add('denies', st.ref);
        continue;
      }
      out.add('allows', st.ref);
      if (outcome !== true) out.add(outcome, st.ref);
    }
  }
  return out;
}

const IAM_CALLERS = new Set(['IAMUser', 'AssumedRole', 'FederatedUser', 'Root']);

/** The concatenation of the lists (the single non-empty list itself when there is one). */
function concat(
  a: readonly StatementRef[],
  b: readonly StatementRef[],
  c: readonly StatementRef[],
  d: readonly StatementRef[] = NONE,
): readonly StatementRef[] {
  if (b.length + c.length + d.length === 0) return a;
  if (a.length + c.length + d.length === 0) return b;
  const out = a.concat(b, c, d);
  return out;
}

const DENY_ORDER = ['identity', 'resource', 'boundary', 'session'] as const;

function decide(
  request: AuthorizationRequest,
  mode: 'resource' | 'trust',
  options: EvaluateOptions,
): Decision {
  const principal = request.principal;
  const ev = new Evaluation(request, principal, options.trace === 'full');
  const iamCaller = IAM_CALLERS.has(principal.type);
  const root = principal.type === 'Root';
  const resourceType: PolicyType = mode === 'trust' ? 'trust' : 'resource';
  const ownPolicies = iamCaller && !root;

  // Root and non-IAM callers (services, identity providers) have no identity policies.
  const identity = ownPolicies ? evaluateGroup(request.identityPolicies, 'identity', ev) : EMPTY;
  const boundary =
    ownPolicies && request.permissionsBoundary !== undefined
      ? evaluateGroup([request.permissionsBoundary], 'boundary', ev)
      : undefined;
  const sessions = request.sessionPolicies;
  const session =
    ownPolicies && sessions !== undefined && sessions.length > 0
      ? evaluateGroup(sessions, 'session', ev)
      : undefined;
  const resource =
    request.resourcePolicy === undefined
      ? EMPTY
      : evaluateGroup([request.resourcePolicy], resourceType, ev);

  // 1. Explicit denies, reported in the order identity, resource, boundary, session.
  if (
    identity.denies.length + resource.denies.length > 0 ||
    (boundary?.denies.length ?? 0) + (session?.denies.length ?? 0) > 0
  ) {
    const groups = { identity, resource, boundary, session };
    let denial: Denial | undefined;
    const denies: StatementRef[] = [];
    for (const type of DENY_ORDER) {
      const g = groups[type];
      if (g === undefined || g.denies.length === 0) continue;
      denies.push(...g.denies);
      denial ??= DENIALS[type === 'resource' ? resourceType : type].explicit;
    }
    return new EvaluatedDecision(ev, 'explicitDeny', denies, denial);
  }

  // 2–4. Allows.
  if (!iamCaller) {
    return resource.direct.length > 0
      ? new EvaluatedDecision(ev, 'allowed', resource.direct)
      : new EvaluatedDecision(ev, 'implicitDeny', [], {
          policyType: resourceType,
          explicit: false,
        });
  }
  const resourceAccount = request.resourceAccount ?? principal.accountId;
  const sameAccount = resourceAccount === principal.accountId;
  const identityAllows = root || identity.allows.length > 0;
  const boundaryOk = boundary === undefined || boundary.allows.length > 0;
  // A federated-user session always has a session policy; without one it can do nothing.
  const sessionOk =
    session === undefined ? principal.type !== 'FederatedUser' : session.allows.length > 0;
  const boundaryAllows = boundary?.allows ?? NONE;
  const sessionAllows = session?.allows ?? NONE;

  if (sameAccount) {
    if (resource.direct.length > 0) return new EvaluatedDecision(ev, 'allowed', resource.direct);
    if (resource.entity.length > 0 && boundaryOk && sessionOk) {
      const matched = concat(resource.entity, boundaryAllows, sessionAllows);
      return new EvaluatedDecision(ev, 'allowed', matched);
    }
    const accountOk = mode === 'resource' || root || resource.account.length > 0;
    if (identityAllows && boundaryOk && sessionOk && accountOk) {
      const account = mode === 'trust' ? resource.account : NONE;
      const matched = concat(identity.allows, account, boundaryAllows, sessionAllows);
      return new EvaluatedDecision(ev, 'allowed', matched);
    }
  } else if (identityAllows && boundaryOk && sessionOk && resource.allows.length > 0) {
    const matched = concat(resource.allows, identity.allows, boundaryAllows, sessionAllows);
    return new EvaluatedDecision(ev, 'allowed', matched);
  }

  // Implicit deny: name the first missing allow in AWS's evaluation order.
  let policyType: PolicyType = resourceType;
  if (mode === 'trust' && resource.allows.length === 0) policyType = 'trust';
  else if (!identityAllows && !(sameAccount && resource.entity.length > 0)) policyType = 'identity';
  else if (!boundaryOk) policyType = 'boundary';
  else if (!sessionOk) policyType = 'session';
  return new EvaluatedDecision(ev, 'implicitDeny', NONE, DENIALS[policyType].implicit);
}

const DEFAULTS: EvaluateOptions = {};

/**
 * Decides a request by AWS's policy evaluation logic across identity-based, resource-based,
 * permissions-boundary and session policies, same-account or cross-account.
 *
 * @example
 * const decision = evaluatePolicies({
 *   principal: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
 *   action: 's3:GetObject',
 *   resource: 'arn:aws:s3:::reports/2024.csv',
 *   context: { 'aws:SecureTransport': true },
 *   identityPolicies: [readReports],
 * });
 * if (decision.decision !== 'allowed') throw accessDenied(request, decision);
 */
export function evaluatePolicies(
  request: AuthorizationRequest,
  options: EvaluateOptions = DEFAULTS,
): Decision {
  return decide(request, 'resource', options);
}

/**
 * Decides whether `principal` may assume a role: the role's trust policy must allow (for IAM
 * callers in the role's account, naming the account also needs an identity-policy allow; across
 * accounts the caller's identity policies must allow too).
 *
 * @example
 * evaluateTrust({
 *   principal: { type: 'WebIdentity', arn: 'arn:aws:iam::111122223333:oidc-provider/oidc.example.com', accountId: '111122223333' },
 *   action: 'sts:AssumeRoleWithWebIdentity',
 *   roleArn: 'arn:aws:iam::111122223333:role/app',
 *   trustPolicy,
 *   context: { 'oidc.example.com:sub': 'system:serviceaccount:default:app' },
 * });
 */
export function evaluateTrust(
  request: TrustRequest,
  options: EvaluateOptions = DEFAULTS,
): Decision {
  const roleAccount = request.roleAccount ?? splitArn(request.roleArn)?.account ?? '';
  const full: AuthorizationRequest = {
    principal: request.principal,
    action: request.action,
    resource: request.roleArn,
    resourceAccount: roleAccount,
    context: request.context,
    identityPolicies: request.identityPolicies ?? [],
    resourcePolicy: request.trustPolicy,
  };
  if (request.permissionsBoundary !== undefined)
    full.permissionsBoundary = request.permissionsBoundary;
  if (request.sessionPolicies !== undefined) full.sessionPolicies = request.sessionPolicies;
  return decide(full, 'trust', options);
}
