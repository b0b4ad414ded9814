/**
 * Decisions in plain words: which statement, condition or chain step decided, for people who
 * would rather not read a trace. Works on live decisions and on the traces audit records keep.
 */
import type { Decision, PolicyType, StatementRef, TraceEntry } from '../policy/index.js';

/** A decision explained. */
export interface Explanation {
  decision: Decision['decision'];
  /** One sentence: the outcome and what decided it. */
  summary: string;
  /** The statements or conditions that decided, in words. */
  decidedBy: string[];
  /** Every statement the engine looked at, in words. */
  steps: string[];
  /** Condition keys the policies asked about but the request did not carry. */
  missingContextKeys: string[];
}

/** What was asked, for the words. */
export interface ExplainedRequest {
  action: string;
  resource?: string;
}

const POLICY_TYPE: Readonly<Record<PolicyType, string>> = {
  identity: 'identity-based policy',
  resource: 'resource-based policy',
  boundary: 'permissions boundary',
  session: 'session policy',
  trust: 'role trust policy',
};

/**
 * Explains a decision (a live one, or the `decision` an audit record of a denial keeps).
 *
 * @example
 * const words = explainInWords(decision, { action: 's3:PutObject', resource: 'arn:aws:s3:::b/k' });
 * words.summary; // 'Denied: no identity-based policy allows s3:PutObject …'
 */
export function explainInWords(decision: Decision, request?: ExplainedRequest): Explanation {
  const action = request?.action ?? 'the action';
  const on =
    request?.resource !== undefined && request.resource !== '*' ? ` on ${request.resource}` : '';
  const steps = decision.trace.map(stepInWords);
  const missing = [...decision.missingContextKeys];
  const base = { decision: decision.decision, steps, missingContextKeys: missing };
  if (decision.decision === 'allowed') {
    const by = decision.matched.map((m) => `${statementName(m)} allows it`);
    return {
      ...base,
      summary: `Allowed: ${action}${on} is allowed by ${decision.matched.map(statementName).join(' and ') || 'the policies'}.`,
      decidedBy: by,
    };
  }
  const type = decision.denial?.policyType ?? 'identity';
  if (decision.decision === 'explicitDeny') {
    const denies = decision.matched.map(statementName);
    return {
      ...base,
      summary: `Denied by an explicit Deny: ${denies.join(' and ') || `a Deny statement in a ${POLICY_TYPE[type]}`} applies to ${action}${on}. An explicit Deny wins over every Allow.`,
      decidedBy: decision.matched.map(
        (m) => `${statementName(m)} says Deny, and its Action, Resource and Conditions all match`,
      ),
    };
  }
  // Implicit deny: nothing of this policy type allowed; say why the nearest Allows did not.
  const near = decision.trace.filter(
    (e): e is Extract<TraceEntry, { kind: 'statement' }> =>
      e.kind === 'statement' && e.policyType === type && e.effect === 'Allow' && !e.applies,
  );
  const decidedBy = near.map(
    (e) =>
      `${statementName(e.statement)} would allow it, but ${mismatchInWords(e.mismatch?.element, e.mismatch?.detail, e.mismatch?.key, e.mismatch?.operator)}`,
  );
  if (decidedBy.length === 0) {
    const anyOfType = decision.trace.some((e) => e.policyType === type);
    decidedBy.push(
      anyOfType
        ? `no statement of the ${POLICY_TYPE[type]} mentions ${action}`
        : `there is no ${POLICY_TYPE[type]} with a statement for ${action}`,
    );
  }
  return {
    ...base,
    summary: `Denied: no ${POLICY_TYPE[type]} allows ${action}${on}, and IAM denies what is not allowed.`,
    decidedBy,
  };
}

/** A statement by its Sid (or position) and the policy that holds it. */
export function statementName(ref: StatementRef): string {
  const st =
    ref.sid !== undefined && ref.sid !== ''
      ? `statement "${ref.sid}"`
      : `statement #${ref.index + 1}`;
  return `${st} of ${policyName(ref.policyId)}`;
}

/** A policy by what it is: `role/app/inline/read` is "inline policy read of role app". */
export function policyName(policyId: string): string {
  let m = /^(role|user)\/([^/]+)\/inline\/(.+)$/.exec(policyId);
  if (m) return `inline policy ${m[3]} of ${m[1]} ${m[2]}`;
  m = /^arn:aws:iam::aws:policy\/(?:.*\/)?([^/]+)$/.exec(policyId);
  if (m) return `AWS managed policy ${m[1]}`;
  m = /^arn:aws:iam::\d{12}:policy\/(?:.*\/)?([^/]+)$/.exec(policyId);
  if (m) return `managed policy ${m[1]}`;
  m = /^(arn:aws:iam::\d{12}:role\/.+)#trust$/.exec(policyId);
  if (m) return `the trust policy of ${m[1]}`;
  m = /^resource-policy:(.+)$/.exec(policyId);
  if (m) return `the resource policy of ${m[1]}`;
  return `policy ${policyId}`;
}

function stepInWords(e: TraceEntry): string {
  if (e.kind === 'skipped') {
    return `${policyName(e.policyId)} (${POLICY_TYPE[e.policyType]}): ${e.statements} statement(s) are about other actions`;
  }
  const head = `${statementName(e.statement)} (${POLICY_TYPE[e.policyType]}, ${e.effect})`;
  if (e.applies) {
    return e.principalMatch === undefined
      ? `${head}: applies`
      : `${head}: applies (the principal matched ${principalMatchWords(e.principalMatch)})`;
  }
  return `${head}: does not apply — ${mismatchInWords(e.mismatch?.element, e.mismatch?.detail, e.mismatch?.key, e.mismatch?.operator)}`;
}

function principalMatchWords(kind: string): string {
  switch (kind) {
    case 'direct':
      return 'directly';
    case 'entity':
      return 'through the role behind the session';
    case 'account':
      return 'through its account';
    default:
      return kind;
  }
}

function mismatchInWords(
  element: string | undefined,
  detail: string | undefined,
  key: string | undefined,
  operator: string | undefined,
): string {
  const why = detail !== undefined && detail !== '' ? `: ${detail}` : '';
  switch (element) {
    case 'Condition':
      return `its condition ${operator ?? ''} on ${key ?? 'a key'} is not met${why}`.replace(
        /\s+/g,
        ' ',
      );
    case 'Action':
    case 'NotAction':
      return `its ${element} does not cover the action${why}`;
    case 'Resource':
    case 'NotResource':
      return `its ${element} does not cover the resource${why}`;
    case 'Principal':
    case 'NotPrincipal':
      return `its ${element} does not name the caller${why}`;
    default:
      return `it does not match${why}`;
  }
}

/**
 * A decision read back from JSON (an audit record's `additionalEventData.decision`), checked
 * field by field; undefined when it is not one.
 */
export function decisionFromJson(value: unknown): Decision | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  if (v.decision !== 'allowed' && v.decision !== 'explicitDeny' && v.decision !== 'implicitDeny') {
    return undefined;
  }
  const denial = v.denial as { policyType?: unknown; explicit?: unknown } | undefined;
  const policyTypes = ['identity', 'resource', 'boundary', 'session', 'trust'];
  return {
    decision: v.decision,
    matched: Array.isArray(v.matched) ? (v.matched.filter(isStatementRef) as StatementRef[]) : [],
    trace: Array.isArray(v.trace) ? (v.trace.filter(isTraceEntry) as TraceEntry[]) : [],
    missingContextKeys: Array.isArray(v.missingContextKeys)
      ? v.missingContextKeys.filter((k): k is string => typeof k === 'string')
      : [],
    ...(denial !== undefined &&
    typeof denial.policyType === 'string' &&
    policyTypes.includes(denial.policyType)
      ? {
          denial: {
            policyType: denial.policyType as PolicyType,
            explicit: denial.explicit === true,
          },
        }
      : {}),
  };
}

function isStatementRef(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Record<string, unknown>;
  return typeof r.policyId === 'string' && typeof r.index === 'number';
}

function isTraceEntry(v: unknown): boolean {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  if (e.kind === 'skipped') return typeof e.policyId === 'string';
  return e.kind === 'statement' && isStatementRef(e.statement) && typeof e.applies === 'boolean';
}
