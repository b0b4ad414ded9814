import { isAwsError } from '../errors/index.js';
import { redactSecrets } from './redact.js';
import type { CloudTrailRecord, UserIdentity } from './record.js';
import { auditUnavailable, type AuditTrail } from './trail.js';

/**
 * How a call is recorded: read-only calls asynchronously; calls that only issue credentials
 * (nothing stored) before they answer; calls that change state (CreateAccessKey included)
 * both before they act and before they answer.
 */
export type CallKind = 'read' | 'write' | 'credentials';

const CREDENTIAL_CALLS = new Set([
  'AssumeRole',
  'AssumeRoleWithWebIdentity',
  'AssumeRoleForPodIdentity',
  'CreateServiceAccountToken',
]);

/** The kind of an operation, from its name as AWS names them. */
export function callKind(eventName: string): CallKind {
  if (CREDENTIAL_CALLS.has(eventName)) return 'credentials';
  if (/^(Get|List|Describe|Lookup|Simulate|Head)/.test(eventName)) return 'read';
  return 'write';
}

/**
 * What a handler may add to its call's record: the identity when the call proves it itself
 * (a web identity token), the account whose trail receives it, and facts that explain it.
 */
export interface AuditNotes {
  identity?: UserIdentity;
  recipientAccountId?: string;
  data?: Record<string, unknown>;
  resources?: { ARN: string; accountId?: string; type?: string }[];
}

/**
 * Runs a call under the audit trail. A call that changes state first commits a pending
 * record (if that fails, the call is not carried out: ServiceUnavailable); calls that change
 * state or issue credentials commit their final record before answering; read-only calls are
 * recorded without waiting. Secrets are redacted from everything recorded.
 */
export async function auditedCall<T>(
  trail: AuditTrail,
  record: CloudTrailRecord,
  notes: AuditNotes,
  run: () => Promise<T>,
  describe: (result: T) => Record<string, unknown> | null,
): Promise<T> {
  const kind = callKind(record.eventName);
  record.requestParameters = redactSecrets(record.requestParameters);
  if (kind === 'write') {
    await trail.write(record, 'pending').catch(() => {
      throw auditUnavailable();
    });
  }
  let result: T | undefined;
  let failure: unknown;
  try {
    result = await run();
    record.responseElements = kind === 'read' ? null : redactSecrets(describe(result));
  } catch (err) {
    failure = err;
    record.errorCode = isAwsError(err) ? err.code : 'InternalFailure';
    record.errorMessage = isAwsError(err) ? err.message : 'An internal error occurred.';
    const explanation = isAwsError(err) ? err.explanation : undefined;
    if (explanation !== undefined) notes.data = { ...notes.data, decision: explanation };
  }
  applyNotes(record, notes);
  if (kind === 'read') trail.writeLater(record);
  else {
    await trail.write(record, 'complete').catch(() => {
      throw auditUnavailable();
    });
  }
  if (failure !== undefined) throw failure;
  return result as T;
}

function applyNotes(record: CloudTrailRecord, notes: AuditNotes): void {
  if (notes.identity) record.userIdentity = notes.identity;
  if (notes.recipientAccountId) record.recipientAccountId = notes.recipientAccountId;
  if (notes.data) record.additionalEventData = redactSecrets(notes.data);
  if (notes.resources) record.resources = notes.resources;
}
