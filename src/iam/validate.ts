import { AwsError } from '../errors/index.js';

/**
 * AWS's request-validation error:
 * "1 validation error detected: Value 'x' at 'userName' failed to satisfy constraint: …".
 */
export function validationError(field: string, value: string, constraint: string): AwsError {
  return new AwsError(
    'ValidationError',
    `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`,
  );
}

/** Checks a string parameter's length and pattern the way AWS's request validation does. */
export function validateParameter(
  field: string,
  value: string,
  rule: { pattern?: RegExp; patternText?: string; min?: number; max?: number },
): string {
  if (rule.min !== undefined && value.length < rule.min) {
    throw validationError(
      field,
      value,
      `Member must have length greater than or equal to ${rule.min}`,
    );
  }
  if (rule.max !== undefined && value.length > rule.max) {
    throw validationError(
      field,
      value,
      `Member must have length less than or equal to ${rule.max}`,
    );
  }
  if (rule.pattern !== undefined && !rule.pattern.test(value)) {
    const text = rule.patternText ?? rule.pattern.source;
    throw validationError(field, value, `Member must satisfy regular expression pattern: ${text}`);
  }
  return value;
}

/** IAM user, role and group names: 1–64 of `[\w+=,.@-]`. */
export function validateIamName(field: string, value: string): string {
  return validateParameter(field, value, {
    pattern: /^[\w+=,.@-]+$/,
    patternText: '[\\w+=,.@-]+',
    min: 1,
    max: 64,
  });
}

/** IAM paths: `/` or `/a/b/`, 1–512 printable ASCII characters. */
export function validateIamPath(field: string, value: string): string {
  return validateParameter(field, value, {
    pattern: /^(\/|\/[\u0021-\u007E]+\/)$/,
    patternText: '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)',
    min: 1,
    max: 512,
  });
}

/** An integer parameter within bounds, or `fallback` when absent. */
export function validateInteger(
  field: string,
  value: string | undefined,
  bounds: { min: number; max: number },
  fallback: number,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^-?\d{1,15}$/.test(value)) {
    throw validationError(field, value, 'Member must be an integer');
  }
  if (n < bounds.min) {
    throw validationError(
      field,
      value,
      `Member must have value greater than or equal to ${bounds.min}`,
    );
  }
  if (n > bounds.max) {
    throw validationError(
      field,
      value,
      `Member must have value less than or equal to ${bounds.max}`,
    );
  }
  return n;
}

/** Policy names: 1–128 of `[\w+=,.@-]`. */
export function validatePolicyName(value: string): string {
  return validateParameter('policyName', value, {
    pattern: /^[\w+=,.@-]+$/,
    patternText: '[\\w+=,.@-]+',
    min: 1,
    max: 128,
  });
}

/** A `PathPrefix` parameter (default `/`). */
export function validatePathPrefix(value: string | undefined): string {
  return validateParameter('pathPrefix', value ?? '/', {
    pattern: /^\/[\u0021-\u007F]*$/,
    patternText: '\\u002F[\\u0021-\\u007F]*',
    min: 1,
    max: 512,
  });
}
