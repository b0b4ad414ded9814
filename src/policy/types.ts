/**
 * Public types of the policy engine: parsed documents, requests, decisions and traces.
 *
 * Kept in one module so every other module (and every caller) shares one vocabulary.
 */
import type { CompiledPolicy } from './compile.js';

/**
 * Where a policy document is used. Each kind has its own grammar rules and AWS size limit:
 *
 * - `identity`: an identity-based policy with no particular size limit (e.g. an AWS-managed one).
 * - `managed`: a customer managed policy (`CreatePolicy`), 6,144 non-whitespace characters.
 * - `role-inline`, `user-inline`, `group-inline`: inline policies (10,240 / 2,048 / 5,120).
 * - `boundary`: a managed policy used as a permissions boundary (6,144).
 * - `session`: an inline session policy passed to `AssumeRole*` (2,048 characters).
 * - `resource`: a resource-based policy such as a bucket policy (20 KB); `Principal` required.
 * - `trust`: a role trust policy (2,048); `Principal` required, `Resource` forbidden.
 */
export type PolicyKind =
  | 'identity'
  | 'managed'
  | 'role-inline'
  | 'user-inline'
  | 'group-inline'
  | 'boundary'
  | 'session'
  | 'resource'
  | 'trust';

/** The two policy-language versions AWS accepts. */
export type PolicyVersion = '2012-10-17' | '2008-10-17';

/** `Principal` / `NotPrincipal` content: `"*"` or a map of principal types to values. */
export type PrincipalElement =
  | '*'
  | {
      AWS?: string[];
      Service?: string[];
      Federated?: string[];
      CanonicalUser?: string[];
    };

/** One `Condition` entry: operator, key and the policy's values (always strings). */
export interface ConditionEntry {
  /** As written, e.g. `ForAnyValue:StringLikeIfExists`. */
  operator: string;
  /** As written, e.g. `aws:PrincipalTag/team` (matched case-insensitively). */
  key: string;
  values: string[];
}

/** A validated statement, normalised: single values become one-element arrays. */
export interface PolicyStatement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  principal?: PrincipalElement;
  notPrincipal?: PrincipalElement;
  action?: string[];
  notAction?: string[];
  resource?: string[];
  notResource?: string[];
  conditions: ConditionEntry[];
}

/** A validated policy document. */
export interface PolicyDocument {
  kind: PolicyKind;
  /** Absent when the document has no `Version` (AWS then applies 2008-10-17 rules). */
  version?: PolicyVersion;
  id?: string;
  statements: PolicyStatement[];
}

/** Names a statement in traces: the policy's identifier, the statement's Sid and its index. */
export interface StatementRef {
  policyId: string;
  sid?: string;
  /** Zero-based position of the statement in its policy. */
  index: number;
}

/** The role a policy plays in a request, as AWS names it in AccessDenied messages. */
export type PolicyType = 'identity' | 'resource' | 'boundary' | 'session' | 'trust';

/** Kinds of caller the engine distinguishes (CloudTrail's userIdentity.type, plus providers). */
export type PrincipalType =
  | 'IAMUser'
  | 'AssumedRole'
  | 'FederatedUser'
  | 'Root'
  | 'WebIdentity'
  | 'SAMLUser'
  | 'Service'
  | 'Anonymous';

/** The caller as the engine sees it. */
export interface RequestPrincipal {
  type: PrincipalType;
  /**
   * The caller's ARN: `arn:aws:iam::ACCT:user/NAME`, `arn:aws:sts::ACCT:assumed-role/ROLE/SESSION`,
   * `arn:aws:iam::ACCT:root`; for `WebIdentity` / `SAMLUser` the identity provider's ARN or name
   * (what a trust policy's `Federated` names); for `Service` the service principal name
   * (`pods.eks.amazonaws.com`).
   */
  arn: string;
  /** The caller's account ('' for service principals). */
  accountId: string;
  /**
   * For an assumed-role session the role's ARN (with its path); for a federated-user session the
   * IAM user's ARN. Derived from `arn` when absent (without a path).
   */
  sessionIssuerArn?: string;
  /** The unique id (`AIDA…`, `AROA…:session`), matched against unique-id principals. */
  principalId?: string;
  /** S3 canonical user id, matched against `CanonicalUser` principals. */
  canonicalUserId?: string;
  /** Whether the IAM user or role has a permissions boundary (for the NotPrincipal rule). */
  hasPermissionsBoundary?: boolean;
}

/** A condition-context value as callers provide it; arrays make a multivalued key. */
export type ContextValue = string | number | boolean | Date | readonly string[];

/** Condition keys of a request (names are case-insensitive). */
export type RequestContext = Readonly<Record<string, ContextValue | undefined>>;

/** Everything one authorization decision needs. */
export interface AuthorizationRequest {
  principal: RequestPrincipal;
  /** `service:Action`, matched case-insensitively. */
  action: string;
  /** The resource ARN, or `*` for actions that have none. */
  resource: string;
  /** The account that owns the resource; defaults to the principal's account. */
  resourceAccount?: string;
  /** Condition keys; see {@link buildRequestContext} for the global ones. */
  context: RequestContext | PreparedContext;
  /** Inline and attached managed policies of the user or role. */
  identityPolicies: readonly CompiledPolicy[];
  /** The resource's own policy (bucket policy, role trust policy, …). */
  resourcePolicy?: CompiledPolicy;
  permissionsBoundary?: CompiledPolicy;
  /** Session policies (inline and managed) of a role or federated-user session. */
  sessionPolicies?: readonly CompiledPolicy[];
}

/** Options of one evaluation. */
export interface EvaluateOptions {
  /**
   * `candidates` (default): trace the statements whose Action / NotAction covers the request's
   * action, and count the others per policy. `full`: trace every statement (slower; for
   * simulation and explain).
   */
  trace?: 'candidates' | 'full';
}

/** Why a statement did not apply (shared between decisions: treat as read-only). */
export interface Mismatch {
  readonly element:
    | 'Action'
    | 'NotAction'
    | 'Resource'
    | 'NotResource'
    | 'Principal'
    | 'NotPrincipal'
    | 'Condition';
  /** For conditions: the operator as written. */
  readonly operator?: string;
  /** For conditions: the key as written. */
  readonly key?: string;
  /** A policy variable that had no value in the request context. */
  readonly unresolvedVariable?: string;
  /** Human-readable explanation. */
  readonly detail: string;
}

/** One line of a decision's trace. */
export type TraceEntry =
  | {
      kind: 'statement';
      policyType: PolicyType;
      statement: StatementRef;
      effect: 'Allow' | 'Deny';
      /** Whether the statement applied to the request. */
      applies: boolean;
      /** For resource-based policies: how the principal matched. */
      principalMatch?: PrincipalMatchKind;
      mismatch?: Mismatch;
    }
  | {
      kind: 'skipped';
      policyType: PolicyType;
      policyId: string;
      /** Statements not examined because their Action / NotAction does not cover the action. */
      statements: number;
    };

/** How a resource-policy statement named the caller. */
export type PrincipalMatchKind =
  /** The caller itself: its user, session or federated-user ARN, a service, or `*`. */
  | 'direct'
  /** The identity behind a session: the role of an assumed-role session. */
  | 'entity'
  /** The caller's account (`123456789012` or `arn:aws:iam::123456789012:root`). */
  | 'account';

/** The policy type and kind of denial, for AWS's AccessDenied message (shared: read-only). */
export interface Denial {
  readonly policyType: PolicyType;
  readonly explicit: boolean;
}

/** The outcome of {@link evaluatePolicies}. */
export interface Decision {
  decision: 'allowed' | 'explicitDeny' | 'implicitDeny';
  /** The decisive statements: the matching denies, or the allows on the path that granted. */
  matched: readonly StatementRef[];
  /** Per statement: whether it applied, and if not, why. */
  trace: readonly TraceEntry[];
  /** Condition keys and variables the evaluated statements used but the context lacked. */
  missingContextKeys: readonly string[];
  /** Which policy type denied (absent when allowed). */
  denial?: Denial;
}

/** A request context normalised once for reuse across evaluations (see `prepareContext`). */
export interface PreparedContext {
  readonly prepared: true;
  /** Lower-cased key → value(s); `spelled` is the key as a policy writes it (a hint). */
  readonly values: { get(key: string, spelled?: string): string | readonly string[] | undefined };
}
