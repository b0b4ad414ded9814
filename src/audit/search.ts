import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { AwsError } from '../errors/index.js';
import type { Database } from '../store/index.js';
import type { CloudTrailRecord } from './record.js';

/** What to look for in one account's trail. */
export interface AuditQuery {
  accountId: string;
  /** One of CloudTrail's lookup attributes. */
  attribute?: { key: LookupAttributeKey; value: string };
  /** Only denied calls. */
  denied?: boolean;
  /** Only calls by this principal ARN. */
  principalArn?: string;
  /** Leave out data events (LookupEvents shows management events only). */
  managementOnly?: boolean;
  startTime?: Date;
  endTime?: Date;
  limit: number;
  /** The `nextToken` of the previous page. */
  nextToken?: string;
}

/** CloudTrail's lookup attribute keys. */
export const LOOKUP_ATTRIBUTE_KEYS = [
  'EventId',
  'EventName',
  'ReadOnly',
  'Username',
  'ResourceType',
  'ResourceName',
  'EventSource',
  'AccessKeyId',
] as const;
export type LookupAttributeKey = (typeof LOOKUP_ATTRIBUTE_KEYS)[number];

/** A page of records, newest first. */
export interface AuditPage {
  records: CloudTrailRecord[];
  nextToken?: string;
}

/**
 * Finds records of an account's trail, newest first. Page tokens are bound to the query that
 * made them: a token used with other filters, or altered, is InvalidNextTokenException.
 */
export async function searchAudit(db: Kysely<Database>, query: AuditQuery): Promise<AuditPage> {
  const fingerprint = createHash('sha256')
    .update(
      JSON.stringify([
        query.accountId,
        query.attribute,
        query.denied,
        query.principalArn,
        query.managementOnly,
        query.startTime,
        query.endTime,
      ]),
    )
    .digest('base64url')
    .slice(0, 16);
  let q = db
    .selectFrom('audit_events')
    .select(['event_id', 'event_time', 'record'])
    .where('account_id', '=', query.accountId)
    .where('status', '=', 'complete')
    .orderBy('event_time', 'desc')
    .orderBy('event_id', 'desc')
    .limit(query.limit + 1);
  if (query.startTime) q = q.where('event_time', '>=', cloudTrailSecond(query.startTime));
  if (query.endTime) q = q.where('event_time', '<=', cloudTrailSecond(query.endTime));
  if (query.denied) q = q.where('denied', '=', 1);
  if (query.managementOnly) q = q.where('data_event', '=', 0);
  if (query.principalArn) q = q.where('principal_arn', '=', query.principalArn);
  if (query.attribute) {
    const { key, value } = query.attribute;
    switch (key) {
      case 'EventId':
        q = q.where('event_id', '=', value);
        break;
      case 'EventName':
        q = q.where('event_name', '=', value);
        break;
      case 'ReadOnly':
        q = q.where('read_only', '=', value === 'true' ? 1 : 0);
        break;
      case 'Username':
        q = q.where('user_name', '=', value);
        break;
      case 'EventSource':
        q = q.where('event_source', '=', value);
        break;
      case 'AccessKeyId':
        q = q.where('access_key_id', '=', value);
        break;
      case 'ResourceName':
        q = q.where(
          sql<boolean>`record LIKE ${likeContaining(`"ARN":${JSON.stringify(value)}`)} ESCAPE '\\'`,
        );
        break;
      case 'ResourceType':
        q = q.where(
          sql<boolean>`record LIKE ${likeContaining(`"type":${JSON.stringify(value)}`)} ESCAPE '\\'`,
        );
        break;
    }
  }
  if (query.nextToken !== undefined) {
    const cursor = decodeToken(query.nextToken, fingerprint);
    q = q.where((eb) =>
      eb.or([
        eb('event_time', '<', cursor.t),
        eb.and([eb('event_time', '=', cursor.t), eb('event_id', '<', cursor.i)]),
      ]),
    );
  }
  const rows = await q.execute();
  const page = rows.slice(0, query.limit);
  const last = page.at(-1);
  const records = page.map((r) => JSON.parse(r.record) as CloudTrailRecord);
  return rows.length > query.limit && last
    ? { records, nextToken: encodeToken({ t: last.event_time, i: last.event_id, f: fingerprint }) }
    : { records };
}

/** A LIKE pattern matching text that contains `fragment` literally. */
function likeContaining(fragment: string): string {
  return `%${fragment.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

function cloudTrailSecond(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function encodeToken(cursor: { t: string; i: string; f: string }): string {
  return Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');
}

function decodeToken(token: string, fingerprint: string): { t: string; i: string } {
  try {
    const cursor = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
    if (typeof cursor.t === 'string' && typeof cursor.i === 'string' && cursor.f === fingerprint) {
      return { t: cursor.t, i: cursor.i };
    }
  } catch {
    // fall through
  }
  throw new AwsError(
    'InvalidNextTokenException',
    'A token that is not valid, or a token that was previously used in a request with different parameters.',
  );
}
