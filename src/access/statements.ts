/**
 * Policy statements summarised for listings ("what can this service account reach"): which
 * actions on which resources, and whether conditions narrow it.
 */
import type { PolicyStatement } from '../policy/index.js';

/** A statement of a policy, summarised. */
export interface StatementSummary {
  /** The policy's id (`role/app/inline/read`, a managed policy ARN, `resource-policy:ARN`). */
  policy: string;
  /** The statement's Sid, or `#N` (1-based) without one. */
  statement: string;
  actions: string[];
  resources: string[];
  conditional: boolean;
}

/**
 * Summarises statement `index` of policy `policyId`.
 *
 * @example
 * summarizeStatement('role/app/inline/read', statement, 0);
 * // { policy: 'role/app/inline/read', statement: 'ReadReports', actions: ['s3:GetObject'], … }
 */
export function summarizeStatement(
  policyId: string,
  st: PolicyStatement,
  index: number,
): StatementSummary {
  return {
    policy: policyId,
    statement: st.sid ?? `#${index + 1}`,
    actions: st.action ?? (st.notAction ? st.notAction.map((a) => `NOT ${a}`) : []),
    resources: st.resource ?? (st.notResource ? st.notResource.map((r) => `NOT ${r}`) : ['*']),
    conditional: st.conditions.length > 0,
  };
}
