import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Length of the master key in bytes (AES-256). */
export const MASTER_KEY_BYTES = 32;

/**
 * Loads the master key: `LATCHKEY_MASTER_KEY` (32 bytes, base64) when set, else
 * `DIR/master.key`, generated with mode 0600 on first use. Every replica of one deployment
 * must be given the same key.
 */
export function loadMasterKey(dataDir: string, env: NodeJS.ProcessEnv = process.env): Buffer {
  const fromEnv = env.LATCHKEY_MASTER_KEY;
  if (fromEnv !== undefined && fromEnv !== '')
    return decodeMasterKey(fromEnv, 'LATCHKEY_MASTER_KEY');
  const file = join(dataDir, 'master.key');
  if (existsSync(file)) return decodeMasterKey(readFileSync(file, 'utf8').trim(), file);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const key = randomBytes(MASTER_KEY_BYTES);
  // 'wx' fails if another process created the file meanwhile, rather than overwrite its key.
  writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
  chmodSync(file, 0o600);
  return key;
}

function decodeMasterKey(text: string, source: string): Buffer {
  const key = Buffer.from(text, 'base64');
  if (key.length !== MASTER_KEY_BYTES || key.toString('base64') !== text) {
    // The message names the source, never the value.
    throw new Error(`${source} must hold ${MASTER_KEY_BYTES} random bytes in base64`);
  }
  return key;
}
