import { createCipheriv, createDecipheriv } from 'node:crypto';
import { randomBytesPooled } from './random-bytes.js';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts a secret for storage with AES-256-GCM under the master key. `context` (e.g. the
 * access key id) is bound as additional authenticated data, so a sealed value copied to
 * another row does not open.
 *
 * @example
 * const sealed = sealSecret(masterKey, secretAccessKey, accessKeyId);
 * openSecret(masterKey, sealed, accessKeyId) === secretAccessKey;
 */
export function sealSecret(masterKey: Buffer, plaintext: string, context: string): string {
  const iv = randomBytesPooled(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', masterKey, iv);
  cipher.setAAD(Buffer.from(context, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return `${VERSION}:${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64')}`;
}

/** Opens a value made by {@link sealSecret}; throws if it was altered or sealed elsewhere. */
export function openSecret(masterKey: Buffer, sealed: string, context: string): string {
  const [version, data] = sealed.split(':', 2);
  if (version !== VERSION || data === undefined) throw new Error('unknown sealed secret format');
  const raw = Buffer.from(data, 'base64');
  if (raw.length < IV_BYTES + TAG_BYTES) throw new Error('sealed secret is truncated');
  const decipher = createDecipheriv('aes-256-gcm', masterKey, raw.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(context, 'utf8'));
  decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
  const body = raw.subarray(IV_BYTES, raw.length - TAG_BYTES);
  return Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
}
