/**
 * AWS's policy size limits, by kind, and the check IAM and STS apply.
 *
 * IAM counts characters other than white space ("Policy size calculations do not include white
 * space characters"); STS limits the session policy parameter's plain length.
 */
import { AwsError } from '../errors/index.js';
import type { PolicyKind } from './types.js';

/** The default limit of each kind (characters); `identity` has none. */
export const POLICY_SIZE_LIMITS: Readonly<Record<PolicyKind, number | undefined>> = {
  identity: undefined,
  managed: 6_144,
  boundary: 6_144,
  'role-inline': 10_240,
  'user-inline': 2_048,
  'group-inline': 5_120,
  trust: 2_048,
  session: 2_048,
  resource: 20_480,
};

/** Options of {@link checkPolicySize}. */
export interface SizeCheckOptions {
  /** Overrides the kind's limit (e.g. a raised ACLSizePerRole quota of 4,096). */
  maxLength?: number;
  /** The user, group or role an inline policy belongs to, for AWS's message. */
  entityName?: string;
}

/**
 * The size AWS measures for `kind`: non-whitespace characters, or the whole text for sessions.
 *
 * @example
 * policySize('{ "Version": "2012-10-17" }', 'managed'); // 24
 */
export function policySize(text: string, kind: PolicyKind): number {
  if (kind === 'session') return text.length;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) n++;
  }
  return n;
}

/**
 * Throws AWS's error when `text` exceeds the limit of `kind` (or `options.maxLength`): IAM's
 * `LimitExceeded` for IAM documents, STS's `ValidationError` for session policies.
 *
 * @example
 * checkPolicySize(doc, 'user-inline', { entityName: 'alice' });
 * // AwsError LimitExceeded: "Maximum policy size of 2048 bytes exceeded for user alice"
 */
export function checkPolicySize(
  text: string,
  kind: PolicyKind,
  options: SizeCheckOptions = {},
): void {
  const limit = options.maxLength ?? POLICY_SIZE_LIMITS[kind];
  if (limit === undefined || policySize(text, kind) <= limit) return;
  const name = options.entityName ?? '';
  switch (kind) {
    case 'managed':
    case 'boundary':
    case 'identity':
      throw new AwsError('LimitExceeded', `Cannot exceed quota for PolicySize: ${limit}`);
    case 'role-inline':
      throw new AwsError(
        'LimitExceeded',
        `Maximum policy size of ${limit} bytes exceeded for role ${name}`,
      );
    case 'user-inline':
      throw new AwsError(
        'LimitExceeded',
        `Maximum policy size of ${limit} bytes exceeded for user ${name}`,
      );
    case 'group-inline':
      throw new AwsError(
        'LimitExceeded',
        `Maximum policy size of ${limit} bytes exceeded for group ${name}`,
      );
    case 'trust':
      throw new AwsError('LimitExceeded', `Cannot exceed quota for ACLSizePerRole: ${limit}`);
    case 'session':
      throw new AwsError(
        'ValidationError',
        `1 validation error detected: Value at 'policy' failed to satisfy constraint: ` +
          `Member must have length less than or equal to ${limit}`,
      );
    case 'resource':
      throw new AwsError(
        'MalformedPolicyDocument',
        `Policy document exceeds the maximum allowed size of ${limit} characters.`,
      );
  }
}
