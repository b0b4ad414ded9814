/**
 * The request context: condition keys and their values, normalised once per request.
 *
 * Keys are case-insensitive ("Key names are case-insensitive"), values are strings; an array makes
 * a multivalued key. An empty array is a null data set and treated as an absent key.
 */
import type { ContextValue, PreparedContext, PrincipalType, RequestContext } from './types.js';

/**
 * Formats a date as AWS writes aws:CurrentTime: ISO 8601 in UTC, whole seconds.
 *
 * @example
 * formatAwsTime(new Date(Date.UTC(2024, 5, 1, 12))); // '2024-06-01T12:00:00Z'
 */
export function formatAwsTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Lower-cased spellings of keys seen before (key names repeat across requests). */
const lowerKeys = new Map<string, string>();
const LOWER_KEYS_LIMIT = 4096;

function lower(key: string): string {
  let l = lowerKeys.get(key);
  if (l === undefined) {
    l = key.toLowerCase();
    if (lowerKeys.size < LOWER_KEYS_LIMIT) lowerKeys.set(key, l);
  }
  return l;
}

/**
 * A small context: a linear scan beats hashing for the dozen keys a request carries. Keys and
 * values alternate in one array.
 */
class SmallValues {
  readonly #entries: (string | readonly string[])[] = [];

  get(key: string): string | readonly string[] | undefined {
    const e = this.#entries;
    for (let i = 0; i < e.length; i += 2) if (e[i] === key) return e[i + 1];
    return undefined;
  }

  /** The entries as pairs. */
  entries(): [string, string | readonly string[]][] {
    const out: [string, string | readonly string[]][] = [];
    for (let i = 0; i < this.#entries.length; i += 2) {
      out.push([this.#entries[i] as string, this.#entries[i + 1]!]);
    }
    return out;
  }

  set(key: string, value: string | readonly string[]): void {
    const e = this.#entries;
    for (let i = 0; i < e.length; i += 2) {
      if (e[i] === key) {
        e[i + 1] = value;
        return;
      }
    }
    e.push(key, value);
  }
}

const SMALL = 16;

/** A context value as evaluation reads it: a string, or a non-empty list of strings. */
export function normaliseValue(v: ContextValue): string | readonly string[] | undefined {
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
  return { prepared: true, values: normaliseContext(context) };
}

/** The context's values by lower-cased key, normalised (see {@link prepareContext}). */
export function normaliseContext(context: RequestContext): PreparedContext['values'] {
  let values: SmallValues | Map<string, string | readonly string[]> = new SmallValues();
  let n = 0;
  for (const key in context) {
    const v = context[key];
    if (v === undefined) continue;
    const value = typeof v === 'string' ? v : normaliseValue(v);
    if (value === undefined) continue;
    // Past a dozen or so keys, hashing beats scanning.
    if (++n === SMALL) values = new Map(values.entries());
    values.set(lower(key), value);
  }
  return values;
}

/** Whether `c` was made by {@link prepareContext}. */
export function isPrepared(c: RequestContext | PreparedContext): c is PreparedContext {
  return (
    (c as PreparedContext).prepared === true && typeof (c as PreparedContext).values === 'object'
  );
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

/**
 * The value AWS gives aws:PrincipalType for each kind of caller.
 *
 * @example
 * principalTypeValue('IAMUser'); // 'User'
 */
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
