/**
 * SHA-256 for the hot path. `crypto.hash` (Node ≥ 20.12) is a one-shot that costs less than half
 * of `createHash().update().digest()` on inputs this small; older Node falls back.
 */
import * as nodeCrypto from 'node:crypto';

const oneShot = typeof nodeCrypto.hash === 'function' ? nodeCrypto.hash : undefined;
const NON_ASCII = /[\u0080-\uffff]/;

/** SHA-256 of `data` read as UTF-8 text (or raw bytes), hex or base64. */
export function sha256(data: string | Buffer, encoding: 'hex' | 'base64'): string {
  if (oneShot !== undefined) return oneShot('sha256', data, encoding);
  return nodeCrypto.createHash('sha256').update(data).digest(encoding);
}

/** Hex SHA-256 of a byte string: every character (≤ U+00FF) is one byte. */
export function sha256Latin1Hex(data: string): string {
  return sha256(NON_ASCII.test(data) ? Buffer.from(data, 'latin1') : data, 'hex');
}
