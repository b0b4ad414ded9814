/**
 * From policy text to a validated {@link PolicyDocument}: size limit, strict JSON, grammar.
 */
import { MESSAGES, malformed } from './errors.js';
import { JsonSyntaxError, parseStrictJson, type JsonValue } from './json.js';
import { checkPolicySize } from './limits.js';
import type { PolicyDocument, PolicyKind } from './types.js';
import { validatePolicy } from './validate.js';

/** Options of {@link parsePolicy}. */
export interface ParseOptions {
  /** Where the document is used; decides the grammar rules and the default size limit. */
  kind: PolicyKind;
  /**
   * The size limit: defaults to AWS's limit for `kind` (none for `identity`); a number overrides
   * it (e.g. a raised trust-policy quota); `false` skips the check (e.g. for stored documents).
   */
  maxLength?: number | false;
  /** The user, group or role an inline policy belongs to, named in the size-limit message. */
  entityName?: string;
  /** Resource policies of one service (`s3`): actions and resources must be that service's. */
  service?: string;
}

/**
 * Parses and validates a policy document; throws AwsError with AWS's code and message
 * (MalformedPolicyDocument, or LimitExceeded / ValidationError for the size limit).
 *
 * @example
 * const doc = parsePolicy(text, { kind: 'role-inline', entityName: 'app' });
 * // A principal in an identity policy:
 * // AwsError MalformedPolicyDocument "Policy document should not specify a principal."
 */
export function parsePolicy(text: string, options: ParseOptions): PolicyDocument {
  if (options.maxLength !== false) {
    const sizeOptions: { maxLength?: number; entityName?: string } = {};
    if (options.maxLength !== undefined) sizeOptions.maxLength = options.maxLength;
    if (options.entityName !== undefined) sizeOptions.entityName = options.entityName;
    checkPolicySize(text, options.kind, sizeOptions);
  }
  let json: JsonValue;
  try {
    json = parseStrictJson(text);
  } catch (err) {
    if (!(err instanceof JsonSyntaxError)) throw err;
    throw malformed(options.kind === 'trust' ? MESSAGES.trustJson : MESSAGES.syntax);
  }
  const validateOptions: { kind: PolicyKind; service?: string } = { kind: options.kind };
  if (options.service !== undefined) validateOptions.service = options.service;
  return validatePolicy(json, validateOptions);
}
