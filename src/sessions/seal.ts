import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { Session } from './session.js';
import { randomBytesPooled } from '../secrets/index.js';

const PREFIX = 'LK1';
const KEY_ID_BYTES = 8;
const IV_BYTES = 12;
const TAG_BYTES = 16;

/** A sealing key: 32 bytes for AES-256-GCM and a short id the token names it by. */
export interface SealingKey {
  /** 16 hex characters. */
  id: string;
  key: Buffer;
}

/** Keys a replica can open tokens with; `current` seals new ones. */
export interface SealingKeyring {
  current: SealingKey;
  /** Every key still accepted, `current` included (the overlap window of a rotation). */
  byId: ReadonlyMap<string, SealingKey>;
}

/** Makes a new random sealing key. */
export function newSealingKey(): SealingKey {
  return { id: randomBytes(KEY_ID_BYTES).toString('hex'), key: randomBytes(32) };
}

/**
 * Seals a session into a session token: AES-256-GCM over the session's JSON, the key id and
 * access key id bound as additional data, so a token opens only with its own access key id and
 * any altered byte fails.
 *
 * @example
 * const token = sealSession(keyring, session);
 * openSession(keyring, session.accessKeyId, token); // → session
 */
export function sealSession(keyring: SealingKeyring, session: Session): string {
  const { id, key } = keyring.current;
  const keyId = Buffer.from(id, 'hex');
  const iv = randomBytesPooled(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(additionalData(keyId, session.accessKeyId));
  const body = Buffer.concat([cipher.update(JSON.stringify(session), 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([keyId, iv, body, cipher.getAuthTag()]).toString('base64url');
}

/**
 * Opens a session token presented with `accessKeyId`. Returns null when the token is not one
 * of ours, names an unknown key, was altered, or belongs to another access key id. Expiry is
 * the caller's check (it decides the error).
 */
export function openSession(
  keyring: SealingKeyring,
  accessKeyId: string,
  token: string,
): Session | null {
  if (!token.startsWith(PREFIX) || token.length > 16_384) return null;
  const raw = Buffer.from(token.slice(PREFIX.length), 'base64url');
  if (raw.length < KEY_ID_BYTES + IV_BYTES + TAG_BYTES + 2) return null;
  const keyId = raw.subarray(0, KEY_ID_BYTES);
  const sealing = keyring.byId.get(keyId.toString('hex'));
  if (sealing === undefined) return null;
  try {
    const decipher = createDecipheriv(
      'aes-256-gcm',
      sealing.key,
      raw.subarray(KEY_ID_BYTES, KEY_ID_BYTES + IV_BYTES),
    );
    decipher.setAAD(additionalData(keyId, accessKeyId));
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES));
    const body = raw.subarray(KEY_ID_BYTES + IV_BYTES, raw.length - TAG_BYTES);
    const json = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    const session = JSON.parse(json) as Session;
    return session.accessKeyId === accessKeyId ? session : null;
  } catch {
    return null;
  }
}

/**
 * The id of the sealing key a token names (without opening it), or undefined when the token is
 * not one of ours. A replica that does not know the key yet reloads its keyring.
 */
export function sealedKeyId(token: string): string | undefined {
  if (!token.startsWith(PREFIX) || token.length > 16_384) return undefined;
  const raw = Buffer.from(token.slice(PREFIX.length, PREFIX.length + 12), 'base64url');
  return raw.length < KEY_ID_BYTES ? undefined : raw.subarray(0, KEY_ID_BYTES).toString('hex');
}

function additionalData(keyId: Buffer, accessKeyId: string): Buffer {
  return Buffer.concat([Buffer.from(PREFIX), keyId, Buffer.from(accessKeyId, 'utf8')]);
}
