/**
 * Secrets never reach the audit trail or logs: secret keys, session tokens, raw web identity
 * tokens and passwords are replaced before a record is written. Claims may be recorded; the
 * token that carries them may not.
 */
const SECRET_KEYS = new Set(
  [
    'SecretAccessKey',
    'SessionToken',
    'WebIdentityToken',
    'token',
    'Token',
    'Password',
    'secretAccessKey',
    'sessionToken',
    'X-Amz-Security-Token',
    'X-Amz-Signature',
    'Authorization',
  ].map((k) => k.toLowerCase()),
);

/** The marker written in place of a secret. */
export const REDACTED = 'HIDDEN_DUE_TO_SECURITY_REASONS';

/** A deep copy of `value` with every secret field replaced. */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (depth > 20) return REDACTED;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      out[k] = SECRET_KEYS.has(k.toLowerCase()) ? REDACTED : redact(v, depth + 1);
    }
    return out;
  }
  return value;
}
