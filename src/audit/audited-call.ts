import { randomUUID } from 'node:crypto';
import { newEventId } from './event-id.js';
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
  /**
   * Another account the call touched (a bucket's owner, a role's account): it receives a copy
   * of the record, and both carry the same `sharedEventID`, as CloudTrail does.
   */
  sharedWith?: string;
}

/** An error a client is answered with: AWS's (`AwsError`) or S3's (`S3Error`). */
interface AnsweredError extends Error {
  code: string;
  status: number;
  explanation?: Record<string, unknown>;
}

function isAnsweredError(err: unknown): err is AnsweredError {
  const e = err as Partial<AnsweredError> | null;
  return err instanceof Error && typeof e?.code === 'string' && typeof e.status === 'number';
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
    const answered = isAnsweredError(err);
    record.errorCode = answered ? err.code : 'InternalFailure';
    record.errorMessage = answered ? err.message : 'An internal error occurred.';
    const explanation = answered ? err.explanation : undefined;
    if (explanation !== undefined) notes.data = { ...notes.data, decision: explanation };
  }
  applyNotes(record, notes);
  const records = [record];
  if (notes.sharedWith !== undefined && notes.sharedWith !== record.recipientAccountId) {
    record.sharedEventID = randomUUID();
    records.push({ ...record, eventID: newEventId(), recipientAccountId: notes.sharedWith });
  }
  if (kind === 'read') for (const r of records) trail.writeLater(r);
  else {
    await Promise.all(records.map((r) => trail.write(r, 'complete'))).catch(() => {
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
