/**
 * Authorization by the policy engine: a principal's current policies (read through
 * {@link PolicySetLoader}), the resource's policy and the request's context, decided by AWS's
 * evaluation logic. Also decides role trust (AssumeRole*, Pod Identity).
 */
import type { AuthorizationRequest, Authorizer, Principal } from '../auth/index.js';
import {
  accessDenied,
  buildRequestContext,
  compilePolicy,
  evaluatePolicies,
  evaluateTrust,
  parsePolicy,
  type CompiledPolicy,
  type ContextValue,
  type PolicyKind,
  type RequestPrincipal,
} from '../policy/index.js';
import type { PrincipalPolicySet, PolicySetLoader } from './policy-set.js';
import type { IamRole } from './roles.js';

/** How long a principal's policies are reused; changes made through this instance apply at once. */
const POLICY_SET_TTL_MS = 1_000;
const MAX_CACHED = 10_000;

/** A trust question (the shape `src/sts`'s TrustEvaluator asks). */
export interface TrustQuestion {
  role: IamRole;
  action: string;
  principal:
    | { kind: 'aws'; principal: Principal }
    | { kind: 'federated'; providerArn: string }
    | { kind: 'service'; service: string; sourceAccount?: string };
  context: Readonly<Record<string, string | string[]>>;
}

/** The policy engine behind the {@link Authorizer} interface. */
export class PolicyAuthorizer implements Authorizer {
  /** Compiled policies by document text, then by kind and id. */
  readonly #compiled = new Map<string, Map<string, CompiledPolicy>>();
  readonly #sets = new Map<string, { set: PrincipalPolicySet; loadedAt: number }>();

  constructor(private readonly loader: PolicySetLoader) {}

  /** Forgets cached policy sets (called after any IAM change made through this instance). */
  invalidate(): void {
    this.#sets.clear();
  }

  async authorize(principal: Principal, request: AuthorizationRequest): Promise<void> {
    const set = await this.#policySet(principal);
    const resourceAccount = request.resourceAccount ?? principal.accountId;
    const decision = evaluatePolicies({
      principal: requestPrincipal(principal, set),
      action: request.action,
      resource: request.resource,
      resourceAccount,
      context: contextFor(principal, set, resourceAccount, request.context),
      identityPolicies: set.identity.map((p) => this.#compile(p.document, p.id, 'identity')),
      ...(request.resourcePolicy !== undefined
        ? {
            resourcePolicy: this.#compile(
              request.resourcePolicy,
              `resource-policy:${request.resourcePolicyOwner ?? request.resource}`,
              'resource',
            ),
          }
        : {}),
      ...(set.boundary
        ? { permissionsBoundary: this.#compile(set.boundary.document, set.boundary.id, 'boundary') }
        : {}),
      ...(set.session.length > 0
        ? { sessionPolicies: set.session.map((p) => this.#compile(p.document, p.id, 'session')) }
        : {}),
    });
    if (decision.decision !== 'allowed') {
      throw accessDenied(
        {
          principal,
          action: request.action,
          resource: request.resource,
          ...(request.quoteResource ? { quoteResource: true } : {}),
        },
        decision,
      );
    }
  }

  /** Decides whether a role may be assumed; throws AccessDenied (with the trace) when not. */
  async evaluateTrust(question: TrustQuestion): Promise<void> {
    const { role } = question;
    const trustPolicy = this.#compile(role.trustPolicy, `${role.arn}#trust`, 'trust');
    let principal: RequestPrincipal;
    let callerArn: string;
    let extra: Record<string, ContextValue> = {};
    let set: PrincipalPolicySet | undefined;
    switch (question.principal.kind) {
      case 'federated':
        principal = {
          type: 'WebIdentity',
          arn: question.principal.providerArn,
          accountId: role.accountId,
        };
        callerArn = question.principal.providerArn;
        break;
      case 'service':
        principal = { type: 'Service', arn: question.principal.service, accountId: '' };
        callerArn = question.principal.service;
        break;
      case 'aws': {
        const caller = question.principal.principal;
        set = await this.#policySet(caller);
        principal = requestPrincipal(caller, set);
        callerArn = caller.arn;
        extra = contextFor(caller, set, role.accountId, {});
        break;
      }
    }
    const context = {
      ...buildRequestContext({ resourceAccount: role.accountId }),
      ...extra,
      ...question.context,
    };
    const decision = evaluateTrust({
      principal,
      action: question.action,
      roleArn: role.arn,
      roleAccount: role.accountId,
      trustPolicy,
      context,
      ...(set
        ? { identityPolicies: set.identity.map((p) => this.#compile(p.document, p.id, 'identity')) }
        : {}),
      ...(set?.boundary
        ? { permissionsBoundary: this.#compile(set.boundary.document, set.boundary.id, 'boundary') }
        : {}),
      ...(set && set.session.length > 0
        ? { sessionPolicies: set.session.map((p) => this.#compile(p.document, p.id, 'session')) }
        : {}),
    });
    if (decision.decision !== 'allowed') {
      throw accessDenied(
        { principal: { arn: callerArn }, action: question.action, resource: role.arn },
        decision,
      );
    }
  }

  async #policySet(principal: Principal): Promise<PrincipalPolicySet> {
    const key = principal.session
      ? `${principal.session.roleArn}|${principal.accessKeyId}`
      : principal.arn;
    const now = Date.now();
    const cached = this.#sets.get(key);
    if (cached && now - cached.loadedAt < POLICY_SET_TTL_MS) return cached.set;
    const set = await this.loader.load(principal);
    if (this.#sets.size >= MAX_CACHED) this.#sets.clear();
    this.#sets.set(key, { set, loadedAt: now });
    return set;
  }

  /**
   * Compiles a stored document once (documents were validated when stored). Keyed by the text
   * itself: the cached policy sets hand the same string over on every call, and V8 keeps its
   * hash, so a hit costs no hashing of the document.
   */
  #compile(document: string, id: string, kind: PolicyKind): CompiledPolicy {
    const key = `${kind} ${id}`;
    let byId = this.#compiled.get(document);
    let compiled = byId?.get(key);
    if (compiled === undefined) {
      compiled = compilePolicy(parsePolicy(document, { kind, maxLength: false }), id);
      if (byId === undefined) {
        if (this.#compiled.size >= MAX_CACHED) this.#compiled.clear();
        byId = new Map();
        this.#compiled.set(document, byId);
      }
      byId.set(key, compiled);
    }
    return compiled;
  }
}

/** The caller as the engine sees it. */
function requestPrincipal(principal: Principal, set: PrincipalPolicySet): RequestPrincipal {
  const session = principal.session;
  return {
    type: principal.type,
    arn: principal.arn,
    accountId: principal.accountId,
    principalId: principal.principalId,
    ...(session ? { sessionIssuerArn: session.roleArn } : {}),
    hasPermissionsBoundary: set.boundary !== undefined,
  };
}

/** AWS's global condition keys of a caller, plus the request's own keys. */
function contextFor(
  principal: Principal,
  set: PrincipalPolicySet,
  resourceAccount: string,
  extra: Readonly<Record<string, string | string[]>> | undefined,
): Record<string, ContextValue> {
  const session = principal.session;
  return buildRequestContext(
    {
      principalArn: session ? session.roleArn : principal.arn,
      principalAccount: principal.accountId,
      principalType: principal.type,
      userId: principal.principalId,
      ...(principal.userName ? { username: principal.userName } : {}),
      principalTags: set.tags,
      ...(session ? { tokenIssueTime: new Date(session.issuedAt) } : {}),
      ...(session?.sourceIdentity ? { sourceIdentity: session.sourceIdentity } : {}),
      resourceAccount,
    },
    extra ?? {},
  );
}
