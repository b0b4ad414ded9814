/**
 * CloudTrail's record format, and how Latchkey's callers map onto its `userIdentity`.
 * See https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-record-contents.html
 */
import type { Principal } from '../auth/index.js';
import { newEventId } from './event-id.js';

/** CloudTrail's `userIdentity`. */
export interface UserIdentity {
  type: 'IAMUser' | 'AssumedRole' | 'WebIdentityUser' | 'AWSService' | 'AWSAccount' | 'Unknown';
  principalId?: string;
  arn?: string;
  accountId?: string;
  accessKeyId?: string;
  userName?: string;
  identityProvider?: string;
  invokedBy?: string;
  sessionContext?: {
    sessionIssuer?: {
      type: 'Role';
      principalId: string;
      arn: string;
      accountId: string;
      userName: string;
    };
    webIdFederationData?: { federatedProvider: string; attributes: Record<string, string> };
    attributes: { creationDate: string; mfaAuthenticated: 'false' };
    sourceIdentity?: string;
  };
}

/** One CloudTrail record. */
export interface CloudTrailRecord {
  eventVersion: string;
  userIdentity: UserIdentity;
  eventTime: string;
  eventSource: string;
  eventName: string;
  awsRegion: string;
  sourceIPAddress: string;
  userAgent: string;
  requestParameters: Record<string, unknown> | null;
  responseElements: Record<string, unknown> | null;
  errorCode?: string;
  errorMessage?: string;
  additionalEventData?: Record<string, unknown>;
  requestID: string;
  eventID: string;
  readOnly: boolean;
  resources?: { ARN: string; accountId?: string; type?: string }[];
  eventType: 'AwsApiCall';
  managementEvent: boolean;
  recipientAccountId: string;
  sharedEventID?: string;
  eventCategory: 'Management' | 'Data';
}

/** CloudTrail's time format: seconds, UTC, `Z`. */
export function cloudTrailTime(date: Date): string {
  // toISOString is always `YYYY-MM-DDTHH:mm:ss.sssZ` for the dates of calls.
  return `${date.toISOString().slice(0, 19)}Z`;
}

/** The `userIdentity` of an authenticated principal. */
export function principalIdentity(principal: Principal): UserIdentity {
  const base = {
    principalId: principal.principalId,
    arn: principal.arn,
    accountId: principal.accountId,
    accessKeyId: principal.accessKeyId,
  };
  const session = principal.session;
  if (session === undefined) {
    return {
      type: 'IAMUser',
      ...base,
      ...(principal.userName ? { userName: principal.userName } : {}),
    };
  }
  const roleName = session.roleArn.slice(session.roleArn.lastIndexOf('/') + 1);
  return {
    type: 'AssumedRole',
    ...base,
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: session.roleId,
        arn: session.roleArn,
        accountId: session.accountId,
        userName: roleName,
      },
      ...(session.webIdentity
        ? {
            webIdFederationData: {
              federatedProvider: session.webIdentity.provider,
              attributes: {},
            },
          }
        : {}),
      attributes: {
        creationDate: cloudTrailTime(new Date(session.issuedAt)),
        mfaAuthenticated: 'false',
      },
      ...(session.sourceIdentity ? { sourceIdentity: session.sourceIdentity } : {}),
    },
  };
}

/** The `userIdentity` of a web identity (AssumeRoleWithWebIdentity's caller). */
export function webIdentityUser(provider: string, audience: string, subject: string): UserIdentity {
  return {
    type: 'WebIdentityUser',
    principalId: `${provider}:${audience}:${subject}`,
    userName: subject,
    identityProvider: provider,
  };
}

/** What every record of one call has in common. */
export interface CallFacts {
  eventSource: string;
  eventName: string;
  region: string;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  readOnly: boolean;
  identity: UserIdentity;
  recipientAccountId: string;
  requestParameters: Record<string, unknown> | null;
  dataEvent?: boolean;
}

/** A new record for a call, before its outcome is known. */
export function newRecord(facts: CallFacts, now = new Date()): CloudTrailRecord {
  return {
    eventVersion: '1.09',
    userIdentity: facts.identity,
    eventTime: cloudTrailTime(now),
    eventSource: facts.eventSource,
    eventName: facts.eventName,
    awsRegion: facts.region,
    sourceIPAddress: facts.sourceIp,
    userAgent: facts.userAgent,
    requestParameters: facts.requestParameters,
    responseElements: null,
    requestID: facts.requestId,
    eventID: newEventId(now.getTime()),
    readOnly: facts.readOnly,
    eventType: 'AwsApiCall',
    managementEvent: !facts.dataEvent,
    recipientAccountId: facts.recipientAccountId,
    eventCategory: facts.dataEvent ? 'Data' : 'Management',
  };
}

/** A handler's result as CloudTrail's responseElements: camelCase keys, ISO dates. */
export function toRecordValue(value: unknown): unknown {
  if (value instanceof Date) return cloudTrailTime(value);
  if (Array.isArray(value)) return value.map(toRecordValue);
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (v !== undefined) out[k.charAt(0).toLowerCase() + k.slice(1)] = toRecordValue(v);
    }
    return out;
  }
  return value;
}
