/**
 * Explaining decisions: AWS's AccessDenied messages (the 2021+ form naming the policy type) and
 * a readable rendering of a decision's trace.
 */
import { AwsError } from '../errors/index.js';
import type { Decision, PolicyType, StatementRef, TraceEntry } from './types.js';

/** The request facts an AccessDenied message names. */
export interface DeniedRequest {
  principal: { arn: string };
  action: string;
  resource: string;
  /** S3's form: the resource ARN in double quotes. */
  quoteResource?: boolean;
}

const IMPLICIT: Readonly<Record<PolicyType, string>> = {
  identity: 'no identity-based policy allows',
  resource: 'no resource-based policy allows',
  boundary: 'no permissions boundary allows',
  session: 'no session policy allows',
  trust: 'no role trust policy allows',
};

const EXPLICIT: Readonly<Record<PolicyType, string>> = {
  identity: 'with an explicit deny in an identity-based policy',
  resource: 'with an explicit deny in a resource-based policy',
  boundary: 'with an explicit deny in a permissions boundary',
  session: 'with an explicit deny in a session policy',
  trust: 'with an explicit deny in the role trust policy',
};

/**
 * AWS's AccessDenied message for a denied decision, e.g. "User: arn:aws:iam::111122223333:user/bob
 * is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k because no
 * identity-based policy allows the s3:GetObject action", or "… with an explicit deny in a
 * resource-based policy". The resource is omitted when it is `*`, as AWS does.
 *
 * @example
 * if (decision.decision !== 'allowed') {
 *   throw new AwsError('AccessDenied', accessDeniedMessage(request, decision));
 * }
 */
export function accessDeniedMessage(request: DeniedRequest, decision: Decision): string {
  const resource = request.quoteResource ? `"${request.resource}"` : request.resource;
  const on = request.resource === '*' ? '' : ` on resource: ${resource}`;
  const head = `User: ${request.principal.arn} is not authorized to perform: ${request.action}${on}`;
  const denial = decision.denial ?? { policyType: 'identity', explicit: false };
  return denial.explicit
    ? `${head} ${EXPLICIT[denial.policyType]}`
    : `${head} because ${IMPLICIT[denial.policyType]} the ${request.action} action`;
}

/**
 * An AwsError AccessDenied for a denied decision, carrying the trace as its (never sent)
 * explanation for the audit trail.
 *
 * @example
 * const decision = evaluatePolicies(request);
 * if (decision.decision !== 'allowed') throw accessDenied(request, decision);
 */
export function accessDenied(request: DeniedRequest, decision: Decision): AwsError {
  return new AwsError('AccessDenied', accessDeniedMessage(request, decision), undefined, {
    decision: decision.decision,
    denial: decision.denial,
    matched: decision.matched,
    trace: decision.trace,
    missingContextKeys: decision.missingContextKeys,
  });
}

/**
 * `policyId#Sid`, or `policyId#3` (the statement's index) when it has no Sid.
 *
 * @example
 * decision.matched.map(formatStatementRef); // ['arn:aws:iam::111122223333:policy/Deny#NoLogs']
 */
export function formatStatementRef(ref: StatementRef): string {
  return `${ref.policyId}#${ref.sid ?? ref.index}`;
}

/**
 * One line per trace entry, e.g. "resource arn:…:bucket/b#Public: Allow applies (direct)" or
 * "identity app-inline#2: Deny does not apply — Condition: StringEquals on aws:PrincipalTag/team: …".
 *
 * @example
 * console.log(explainDecision(decision).join('\n'));
 */
export function explainDecision(decision: Decision): string[] {
  const lines = [`decision: ${decision.decision}`];
  for (const e of decision.trace) lines.push(explainEntry(e));
  if (decision.missingContextKeys.length > 0) {
    lines.push(`missing context keys: ${decision.missingContextKeys.join(', ')}`);
  }
  return lines;
}

function explainEntry(e: TraceEntry): string {
  if (e.kind === 'skipped') {
    return `${e.policyType} ${e.policyId}: ${e.statements} statement(s) do not cover the action`;
  }
  const where = `${e.policyType} ${formatStatementRef(e.statement)}: ${e.effect}`;
  if (e.applies) {
    return e.principalMatch === undefined
      ? `${where} applies`
      : `${where} applies (${e.principalMatch})`;
  }
  return `${where} does not apply — ${e.mismatch?.element ?? '?'}: ${e.mismatch?.detail ?? ''}`;
}
