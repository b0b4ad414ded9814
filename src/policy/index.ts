/**
 * The IAM policy language engine: parse and validate documents by AWS's grammar, compile them
 * once, evaluate requests by AWS's policy evaluation logic, and explain every decision.
 *
 * @example
 * import { compilePolicy, evaluatePolicies, parsePolicy } from './policy/index.js';
 *
 * const doc = parsePolicy(
 *   '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject",' +
 *     '"Resource":"arn:aws:s3:::reports/${aws:username}/*"}]}',
 *   { kind: 'user-inline', entityName: 'alice' },
 * );
 * const policy = compilePolicy(doc, 'user/alice/inline/reports');
 * const decision = evaluatePolicies({
 *   principal: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice', accountId: '111122223333' },
 *   action: 's3:GetObject',
 *   resource: 'arn:aws:s3:::reports/alice/q1.csv',
 *   context: { 'aws:username': 'alice' },
 *   identityPolicies: [policy],
 * });
 * decision.decision; // 'allowed'
 */
export { parsePolicy, type ParseOptions } from './parse.js';
export { compilePolicy, type CompiledPolicy } from './compile.js';
export { evaluatePolicies, evaluateTrust, type TrustRequest } from './evaluate.js';
export {
  accessDenied,
  accessDeniedMessage,
  explainDecision,
  formatStatementRef,
  type DeniedRequest,
} from './explain.js';
export {
  buildRequestContext,
  formatAwsTime,
  prepareContext,
  principalTypeValue,
  type GlobalContextInput,
} from './context.js';
export {
  checkPolicySize,
  policySize,
  POLICY_SIZE_LIMITS,
  type SizeCheckOptions,
} from './limits.js';
export { MESSAGES as POLICY_ERROR_MESSAGES } from './errors.js';
export { statementSpans, type StatementSpan, type TextPosition } from './positions.js';
export type {
  AuthorizationRequest,
  ConditionEntry,
  ContextValue,
  Decision,
  Denial,
  EvaluateOptions,
  Mismatch,
  PolicyDocument,
  PolicyKind,
  PolicyStatement,
  PolicyType,
  PolicyVersion,
  PreparedContext,
  PrincipalElement,
  PrincipalMatchKind,
  PrincipalType,
  RequestContext,
  RequestPrincipal,
  StatementRef,
  TraceEntry,
} from './types.js';

import { compilePolicy, type CompiledPolicy } from './compile.js';
import { parsePolicy, type ParseOptions } from './parse.js';

/**
 * Parses, validates and compiles in one step.
 *
 * @example
 * const trust = compilePolicyText(roleTrustJson, { kind: 'trust', id: 'role/app/trust' });
 */
export function compilePolicyText(
  text: string,
  options: ParseOptions & { id: string },
): CompiledPolicy {
  return compilePolicy(parsePolicy(text, options), options.id);
}
