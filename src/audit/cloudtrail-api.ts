/**
 * CloudTrail's `LookupEvents` (AWS JSON 1.1), so `aws cloudtrail lookup-events` reads
 * Latchkey's trail: one lookup attribute, a time range, pages of up to 50 events.
 */
import type { Kysely } from 'kysely';
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import type { RestService } from '../protocol/index.js';
import type { Database } from '../store/index.js';
import type { CloudTrailRecord } from './record.js';
import { LOOKUP_ATTRIBUTE_KEYS, searchAudit, type LookupAttributeKey } from './search.js';

/** Builds the CloudTrail service (signing name `cloudtrail`). */
export function createCloudTrailService(deps: {
  db: Kysely<Database>;
  authorizer: Authorizer;
}): RestService {
  return {
    signingName: 'cloudtrail',
    routes: [
      {
        method: 'POST',
        path: '/',
        target: 'CloudTrail_20131101.LookupEvents',
        operation: 'LookupEvents',
        async handler({ principal, body }) {
          const attribute = readLookupAttribute(body.LookupAttributes);
          const startTime = readTime(body.StartTime, 'StartTime');
          const endTime = readTime(body.EndTime, 'EndTime');
          if (startTime && endTime && startTime > endTime) {
            throw new AwsError(
              'InvalidTimeRangeException',
              'Start time must be earlier than end time.',
            );
          }
          const category = body.EventCategory;
          if (category !== undefined && category !== 'insight') {
            throw new AwsError(
              'InvalidEventCategoryException',
              `Event category ${String(category)} is not valid.`,
            );
          }
          const maxResults = body.MaxResults ?? 50;
          if (
            typeof maxResults !== 'number' ||
            !Number.isInteger(maxResults) ||
            maxResults < 1 ||
            maxResults > 50
          ) {
            throw new AwsError(
              'InvalidMaxResultsException',
              'MaxResults must be an integer from 1 to 50.',
            );
          }
          const nextToken = body.NextToken;
          if (nextToken !== undefined && typeof nextToken !== 'string') {
            throw new AwsError('InvalidNextTokenException', 'The NextToken is not valid.');
          }
          await deps.authorizer.authorize(principal, {
            action: 'cloudtrail:LookupEvents',
            resource: '*',
          });
          // Insight events are not produced: that category is always empty.
          if (category === 'insight') return { Events: [] };
          const page = await searchAudit(deps.db, {
            accountId: principal.accountId,
            managementOnly: true,
            ...(attribute ? { attribute } : {}),
            ...(startTime ? { startTime } : {}),
            ...(endTime ? { endTime } : {}),
            limit: maxResults,
            ...(nextToken ? { nextToken } : {}),
          });
          return {
            Events: page.records.map(lookupEvent),
            ...(page.nextToken ? { NextToken: page.nextToken } : {}),
          };
        },
      },
    ],
  };
}

/** A record as LookupEvents lists it. */
function lookupEvent(record: CloudTrailRecord): Record<string, unknown> {
  const identity = record.userIdentity;
  const username =
    identity.userName ??
    (identity.type === 'AssumedRole'
      ? identity.arn?.slice(identity.arn.lastIndexOf('/') + 1)
      : undefined);
  return {
    EventId: record.eventID,
    EventName: record.eventName,
    ReadOnly: String(record.readOnly),
    ...(identity.accessKeyId ? { AccessKeyId: identity.accessKeyId } : {}),
    EventTime: new Date(record.eventTime).getTime() / 1000,
    EventSource: record.eventSource,
    ...(username ? { Username: username } : {}),
    Resources: (record.resources ?? []).map((r) => ({ ResourceType: r.type, ResourceName: r.ARN })),
    CloudTrailEvent: JSON.stringify(record),
  };
}

function readLookupAttribute(
  value: unknown,
): { key: LookupAttributeKey; value: string } | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw invalidAttributes('LookupAttributes must be a list.');
  if (value.length === 0) return undefined;
  if (value.length > 1) throw invalidAttributes('You can specify only one lookup attribute.');
  const [entry] = value as { AttributeKey?: unknown; AttributeValue?: unknown }[];
  const key = entry?.AttributeKey;
  const attributeValue = entry?.AttributeValue;
  if (typeof key !== 'string' || !(LOOKUP_ATTRIBUTE_KEYS as readonly string[]).includes(key)) {
    throw invalidAttributes(
      `Lookup attribute key ${String(key)} is not valid. Valid keys: ${LOOKUP_ATTRIBUTE_KEYS.join(', ')}.`,
    );
  }
  if (
    typeof attributeValue !== 'string' ||
    attributeValue.length < 1 ||
    attributeValue.length > 2000
  ) {
    throw invalidAttributes('AttributeValue must be a string of 1 to 2000 characters.');
  }
  return { key: key as LookupAttributeKey, value: attributeValue };
}

function readTime(value: unknown, field: string): Date | undefined {
  if (value === undefined || value === null) return undefined;
  const date =
    typeof value === 'number'
      ? new Date(value * 1000)
      : typeof value === 'string'
        ? new Date(value)
        : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) {
    throw new AwsError('InvalidTimeRangeException', `${field} is not a valid timestamp.`);
  }
  return date;
}

function invalidAttributes(message: string): AwsError {
  return new AwsError('InvalidLookupAttributesException', message);
}
