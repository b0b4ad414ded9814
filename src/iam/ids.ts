import { randomBytesPooled } from '../secrets/index.js';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function randomFrom(alphabet: string, length: number): string {
  // Both alphabets have 32 or 64 symbols, so `byte % length` has no bias.
  const bytes = randomBytesPooled(length);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

/** A unique id of AWS's form: a four-letter prefix (`AIDA` user, `AROA` role) and 17 characters. */
export function newUniqueId(prefix: 'AIDA' | 'AROA' | 'ANPA'): string {
  return prefix + randomFrom(BASE32, 17);
}

/** An access key id: `AKIA` (long-term) or `ASIA` (temporary) and 16 characters. */
export function newAccessKeyId(prefix: 'AKIA' | 'ASIA' = 'AKIA'): string {
  return prefix + randomFrom(BASE32, 16);
}

/** A 40-character secret access key. */
export function newSecretAccessKey(): string {
  return randomFrom(BASE64, 40);
}
