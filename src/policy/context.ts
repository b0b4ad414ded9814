/**
 * The request context: condition keys and their values, normalised once per request.
 *
 * Keys are case-insensitive ("Key names are case-insensitive"), values are strings; an array makes
 * a multivalued key. An empty array is a null data set and treated as an absent key.
 */
import type { ContextValue, PreparedContext, PrincipalType, RequestContext } from './types.js';

/** Formats a date as AWS writes aws:CurrentTime: ISO 8601 in UTC, whole seconds. */
export function formatAwsTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function normaliseValue(v: ContextValue): string | readonly string[] | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Date) return formatAwsTime(v);
  if (v.length === 0) return undefined;
  return v;
}

/**
 * Normalises `context` for evaluation: lower-cased keys, string values. Evaluations accept a raw
 * context too; preparing once helps when one context serves many decisions.
 *
 * @example
 * const ctx = prepareContext({ 'aws:SourceIp': '203.0.113.7', 'aws:TagKeys': ['team'] });
 */
export function prepareContext(context: RequestContext | PreparedContext): PreparedContext {
  if (isPrepared(context)) return context;
  const values = new Map<string, string | readonly string[]>();
  for (const key of Object.keys(context)) {
    const v = context[key];
    if (v === undefined) continue;
    const n = normaliseValue(v);
    if (n !== undefined) values.set(key.toLowerCase(), n);
  }
  return { prepared: true, values };
}

function isPrepared(c: RequestContext | PreparedContext): c is PreparedContext {
  return (c as PreparedContext).prepared === true && (c as PreparedContext).values instanceof Map;
}

/** Global condition keys a caller knows about a request; see {@link buildRequestContext}. */
export interface GlobalContextInput {
  /** aws:PrincipalArn: the user ARN, or for a role session the role's ARN. */
  principalArn?: string;
  /** aws:PrincipalAccount. */
  principalAccount?: string;
  /** aws:PrincipalType, derived from the engine's principal type. */
  principalType?: PrincipalType;
  /** aws:userid (`AIDA…`, `AROA…:session`). */
  userId?: string;
  /** aws:username (IAM users only). */
  username?: string;
  /** aws:PrincipalTag/… (role tags overridden by session tags). */
  principalTags?: Readonly<Record<string, string>>;
  /** aws:RequestTag/… . */
  requestTags?: Readonly<Record<string, string>>;
  /** aws:TagKeys; defaults to the keys of `requestTags` when those are given. */
  tagKeys?: readonly string[];
  /** aws:SourceIp. */
  sourceIp?: string;
  /** aws:CurrentTime and aws:EpochTime (default: now). */
  currentTime?: Date;
  /** aws:TokenIssueTime (temporary credentials only). */
  tokenIssueTime?: Date;
  /** aws:SecureTransport. */
  secureTransport?: boolean;
  /** aws:SourceIdentity. */
  sourceIdentity?: string;
  /** aws:ResourceAccount. */
  resourceAccount?: string;
}

/** The value AWS gives aws:PrincipalType for each kind of caller. */
export function principalTypeValue(type: PrincipalType): string {
  switch (type) {
    case 'IAMUser':
      return 'User';
    case 'Root':
      return 'Account';
    case 'AssumedRole':
    case 'WebIdentity':
    case 'SAMLUser':
      return 'AssumedRole';
    case 'FederatedUser':
      return 'FederatedUser';
    case 'Service':
      return 'Service';
    case 'Anonymous':
      return 'Anonymous';
  }
}

/**
 * Builds a request context with AWS's global condition keys, formatted as AWS formats them,
 * plus any service-specific `extra` keys.
 *
 * @example
 * buildRequestContext(
 *   { principalArn: 'arn:aws:iam::111122223333:user/alice', principalType: 'IAMUser',
 *     username: 'alice', sourceIp: '203.0.113.7', secureTransport: true },
 *   { 's3:prefix': 'home/alice/' },
 * );
 */
export function buildRequestContext(
  input: GlobalContextInput,
  extra: RequestContext = {},
): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  const now = input.currentTime ?? new Date();
  out['aws:CurrentTime'] = formatAwsTime(now);
  out['aws:EpochTime'] = String(Math.floor(now.getTime() / 1000));
  if (input.principalArn !== undefined) out['aws:PrincipalArn'] = input.principalArn;
  if (input.principalAccount !== undefined) out['aws:PrincipalAccount'] = input.principalAccount;
  if (input.principalType !== undefined) {
    out['aws:PrincipalType'] = principalTypeValue(input.principalType);
  }
  if (input.userId !== undefined) out['aws:userid'] = input.userId;
  if (input.username !== undefined) out['aws:username'] = input.username;
  for (const [k, v] of Object.entries(input.principalTags ?? {})) out[`aws:PrincipalTag/${k}`] = v;
  for (const [k, v] of Object.entries(input.requestTags ?? {})) out[`aws:RequestTag/${k}`] = v;
  const tagKeys = input.tagKeys ?? (input.requestTags ? Object.keys(input.requestTags) : undefined);
  if (tagKeys !== undefined && tagKeys.length > 0) out['aws:TagKeys'] = [...tagKeys];
  if (input.sourceIp !== undefined) out['aws:SourceIp'] = input.sourceIp;
  if (input.tokenIssueTime !== undefined) {
    out['aws:TokenIssueTime'] = formatAwsTime(input.tokenIssueTime);
  }
  if (input.secureTransport !== undefined) out['aws:SecureTransport'] = input.secureTransport;
  if (input.sourceIdentity !== undefined) out['aws:SourceIdentity'] = input.sourceIdentity;
  if (input.resourceAccount !== undefined) out['aws:ResourceAccount'] = input.resourceAccount;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) out[k] = v;
  return out;
}
