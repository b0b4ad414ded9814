import { AwsError } from '../errors/index.js';
import type { QueryParams } from '../protocol/index.js';

/** STS's bounds. */
export const MIN_DURATION_SECONDS = 900;
export const ROLE_CHAINING_MAX_SECONDS = 3600;
export const DEFAULT_DURATION_SECONDS = 3600;
export const MAX_SESSION_POLICY_CHARS = 2048;
export const MAX_SESSION_POLICY_ARNS = 10;
export const MAX_SESSION_TAGS = 50;

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

function validation(field: string, value: string, constraint: string): AwsError {
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/** RoleSessionName: 2–64 of `[\w+=,.@-]`. */
export function readRoleSessionName(params: QueryParams): string {
  const value = params.require('RoleSessionName');
  if (value.length < 2)
    throw validation(
      'roleSessionName',
      value,
      'Member must have length greater than or equal to 2',
    );
  if (value.length > 64)
    throw validation('roleSessionName', value, 'Member must have length less than or equal to 64');
  if (!/^[\w+=,.@-]*$/.test(value)) {
    throw validation(
      'roleSessionName',
      value,
      'Member must satisfy regular expression pattern: [\\w+=,.@-]*',
    );
  }
  return value;
}

/** A role ARN parameter: 20–2048 characters. */
export function readRoleArn(params: QueryParams): string {
  const value = params.require('RoleArn');
  if (value.length < 20)
    throw validation('roleArn', value, 'Member must have length greater than or equal to 20');
  if (value.length > 2048)
    throw validation('roleArn', value, 'Member must have length less than or equal to 2048');
  return value;
}

/** DurationSeconds as sent: an integer from 900 to 43,200 (the API's own bounds), if given. */
export function readDurationSeconds(params: QueryParams): number | undefined {
  const raw = params.get('DurationSeconds');
  if (raw === undefined) return undefined;
  if (!/^\d{1,9}$/.test(raw)) throw validation('durationSeconds', raw, 'Member must be an integer');
  const seconds = Number(raw);
  if (seconds < MIN_DURATION_SECONDS) {
    throw validation(
      'durationSeconds',
      raw,
      `Member must have value greater than or equal to ${MIN_DURATION_SECONDS}`,
    );
  }
  if (seconds > 43_200)
    throw validation('durationSeconds', raw, 'Member must have value less than or equal to 43200');
  return seconds;
}

/**
 * The session's duration: as asked (default one hour), at most the role's MaxSessionDuration,
 * and at most one hour when the caller is itself a role session (role chaining).
 */
export function sessionDuration(
  requested: number | undefined,
  maxSessionDuration: number,
  chained: boolean,
): number {
  if (requested === undefined) return DEFAULT_DURATION_SECONDS;
  if (chained && requested > ROLE_CHAINING_MAX_SECONDS) {
    throw new AwsError(
      'ValidationError',
      'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
    );
  }
  if (requested > maxSessionDuration) {
    throw new AwsError(
      'ValidationError',
      'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    );
  }
  return requested;
}

/** The inline session policy (`Policy`, ≤ 2,048 characters) and `PolicyArns` (≤ 10). */
export function readSessionPolicies(params: QueryParams): {
  policy?: string;
  policyArns: string[];
} {
  const policy = params.get('Policy');
  if (policy !== undefined) {
    if (policy.length < 1)
      throw validation('policy', policy, 'Member must have length greater than or equal to 1');
    if (policy.length > MAX_SESSION_POLICY_CHARS) {
      throw validation(
        'policy',
        policy,
        `Member must have length less than or equal to ${MAX_SESSION_POLICY_CHARS}`,
      );
    }
  }
  const policyArns = params.structList('PolicyArns').map((p) => p.arn ?? '');
  if (policyArns.length > MAX_SESSION_POLICY_ARNS) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value at 'policyArns' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SESSION_POLICY_ARNS}`,
    );
  }
  for (const arn of policyArns) {
    if (arn.length < 20 || arn.length > 2048)
      throw validation(
        'policyArns.member.arn',
        arn,
        'Member must have length greater than or equal to 20',
      );
  }
  return { ...(policy === undefined ? {} : { policy }), policyArns };
}

/** Session `Tags` (≤ 50) and `TransitiveTagKeys`; keys unique case-insensitively. */
export function readSessionTags(params: QueryParams): {
  tags: Record<string, string>;
  transitiveTagKeys: string[];
} {
  const entries = params.structList('Tags');
  if (entries.length > MAX_SESSION_TAGS) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value at 'tags' failed to satisfy constraint: Member must have length less than or equal to ${MAX_SESSION_TAGS}`,
    );
  }
  const tags: Record<string, string> = {};
  const seen = new Set<string>();
  for (const { Key: key = '', Value: value = '' } of entries) {
    if (key.length < 1 || key.length > 128 || !TAG_CHARS.test(key)) {
      throw validation(
        'tags.member.key',
        key,
        'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]+',
      );
    }
    if (value.length > 256 || !TAG_CHARS.test(value)) {
      throw validation(
        'tags.member.value',
        value,
        'Member must satisfy regular expression pattern: [\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*',
      );
    }
    if (seen.has(key.toLowerCase())) {
      throw new AwsError(
        'InvalidParameterValue',
        'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
      );
    }
    seen.add(key.toLowerCase());
    tags[key] = value;
  }
  const transitiveTagKeys = params.list('TransitiveTagKeys');
  for (const k of transitiveTagKeys) {
    if (!seen.has(k.toLowerCase())) {
      throw new AwsError(
        'InvalidParameterValue',
        `The specified transitive tag key must be included in the requested tags.`,
      );
    }
  }
  return { tags, transitiveTagKeys: transitiveTagKeys.map((k) => k.toLowerCase()) };
}

/**
 * The packed size of session policies and tags, as a percentage of STS's allowance (the
 * response's PackedPolicySize). STS's packing is opaque; this counts the compacted policy and
 * the tag characters against a 2,048-character budget, which errs on the side of accepting
 * what AWS accepts.
 */
export function packedPolicyPercent(
  policy: string | undefined,
  policyArns: string[],
  tags: Record<string, string>,
): number {
  const policyChars = policy === undefined ? 0 : JSON.stringify(JSON.parse(policy)).length / 2;
  const arnChars = policyArns.reduce((n, a) => n + a.length, 0) / 4;
  const tagChars = Object.entries(tags).reduce((n, [k, v]) => n + k.length + v.length, 0) / 2;
  const percent = Math.ceil(((policyChars + arnChars + tagChars) / MAX_SESSION_POLICY_CHARS) * 100);
  if (percent > 100) {
    throw new AwsError(
      'PackedPolicyTooLarge',
      `Packed policy consumes ${percent}% of allotted space, please use smaller policy.`,
    );
  }
  return percent;
}
