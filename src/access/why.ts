/**
 * "Why?" for an audited denial: the record's error, the step of a credential chain that failed,
 * and the decision trace it keeps, in plain words.
 */
import type { CloudTrailRecord } from '../audit/index.js';
import { decisionFromJson, explainInWords, type Explanation } from './explain.js';

/** An audited call, explained. */
export interface AuditedDecision {
  eventId: string;
  eventTime: string;
  eventSource: string;
  eventName: string;
  /** Who called: an ARN, or for web identities the token's subject. */
  caller: string;
  denied: boolean;
  errorCode?: string;
  errorMessage?: string;
  /** The action and resource the decision was about (from AWS's AccessDenied message). */
  action?: string;
  resource?: string;
  /** Which step of a credential chain was refused, in words. */
  step?: string;
  /** The decision in words, when the record keeps its trace. */
  explanation?: Explanation;
  /** Why there is no trace to explain (the call failed for another reason). */
  note?: string;
}

const DENIED_CODES = new Set(['AccessDenied', 'AccessDeniedException']);

/**
 * Explains one audit record: for a denial, what decided it.
 *
 * @example
 * const why = explainAuditRecord(record);
 * console.log(why.explanation?.summary);
 */
export function explainAuditRecord(record: CloudTrailRecord): AuditedDecision {
  const caller =
    record.userIdentity.arn ?? record.userIdentity.userName ?? record.userIdentity.type;
  const base: AuditedDecision = {
    eventId: record.eventID,
    eventTime: record.eventTime,
    eventSource: record.eventSource,
    eventName: record.eventName,
    caller,
    denied: record.errorCode !== undefined && DENIED_CODES.has(record.errorCode),
    ...(record.errorCode !== undefined ? { errorCode: record.errorCode } : {}),
    ...(record.errorMessage !== undefined ? { errorMessage: record.errorMessage } : {}),
  };
  if (record.errorCode === undefined) return { ...base, note: 'The call succeeded.' };
  const m =
    /is not authorized to perform: (\S+?)(?: on resource: (\S+?))?(?: because| with|$)/.exec(
      record.errorMessage ?? '',
    );
  const action = m?.[1];
  const resource = m?.[2];
  const decision = decisionFromJson(record.additionalEventData?.decision);
  const data = record.additionalEventData ?? {};
  const out: AuditedDecision = {
    ...base,
    ...(action !== undefined ? { action } : {}),
    ...(resource !== undefined ? { resource } : {}),
  };
  if (decision === undefined) {
    return {
      ...out,
      note: `No policy decided this: the call failed with ${record.errorCode} before any policy was evaluated.`,
    };
  }
  const principal = /^User: (\S+) is not authorized/.exec(record.errorMessage ?? '')?.[1];
  const assuming =
    action !== undefined &&
    /^sts:(AssumeRole\w*|TagSession)$/i.test(action) &&
    resource !== undefined &&
    /^arn:aws:iam::\d{12}:role\//.test(resource);
  const type = decision.denial?.policyType;
  if (assuming) {
    const onBehalf =
      record.eventName === 'AssumeRoleForPodIdentity' && typeof data.serviceAccount === 'string'
        ? ` on behalf of EKS Pod Identity, for service account ${String(data.namespace)}/${data.serviceAccount}`
        : record.eventName === 'AssumeRoleWithWebIdentity'
          ? ` with the web identity ${caller}`
          : '';
    const refusedBy =
      type === 'trust'
        ? "the role's trust policy does not allow it"
        : type === 'identity'
          ? `the permissions of ${principal ?? caller} do not allow ${action} on it`
          : `a ${type ?? 'policy'} refuses it`;
    out.step = `Assuming the role ${resource} was refused: ${principal ?? caller} asked for ${action}${onBehalf}, and ${refusedBy}.`;
  } else if (type !== undefined) {
    out.step = `${caller} had credentials, but the call itself (${action ?? record.eventName}) was refused by ${type === 'identity' ? 'the caller’s permissions' : `a ${type} policy`}.`;
  }
  return {
    ...out,
    explanation: explainInWords(decision, {
      action: action ?? record.eventName,
      ...(resource !== undefined ? { resource } : {}),
    }),
  };
}
