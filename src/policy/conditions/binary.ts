/**
 * `BinaryEquals`: compares the key's value byte for byte with the base64-encoded policy value.
 */
import type { ValueSetMatcher } from './matcher.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of a base64 value as a comparable string, or the raw text when not base64. */
function bytesKey(s: string): string {
  return BASE64.test(s) ? Buffer.from(s, 'base64').toString('latin1') : `\u0000raw:${s}`;
}

/** Compiles `BinaryEquals`'s policy values. */
export function binaryMatcher(values: readonly string[]): ValueSetMatcher {
  const keys = new Set(values.map(bytesKey));
  return (requestValue) => keys.has(bytesKey(requestValue));
}
