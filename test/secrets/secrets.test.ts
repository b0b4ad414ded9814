import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMasterKey, openSecret, sealSecret } from '../../src/secrets/index.js';
import { tempDir } from '../helpers/tmp.js';

describe('master key', () => {
  const dirs: { remove: () => void }[] = [];
  afterEach(() => dirs.splice(0).forEach((d) => d.remove()));

  it('is generated once into DIR/master.key with mode 0600, then reused', () => {
    const dir = tempDir();
    dirs.push(dir);
    const key = loadMasterKey(dir.path, {});
    expect(key).toHaveLength(32);
    const file = join(dir.path, 'master.key');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadMasterKey(dir.path, {}).equals(key)).toBe(true);
    expect(readFileSync(file, 'utf8').trim()).toBe(key.toString('base64'));
  });

  it('comes from LATCHKEY_MASTER_KEY when set, and no file is written', () => {
    const dir = tempDir();
    dirs.push(dir);
    const value = randomBytes(32).toString('base64');
    expect(loadMasterKey(dir.path, { LATCHKEY_MASTER_KEY: value }).toString('base64')).toBe(value);
    expect(() => statSync(join(dir.path, 'master.key'))).toThrow();
  });

  it('refuses a key of the wrong length without echoing it', () => {
    const bad = randomBytes(16).toString('base64');
    expect(() => loadMasterKey('/nonexistent', { LATCHKEY_MASTER_KEY: bad })).toThrow(
      /LATCHKEY_MASTER_KEY must hold 32 random bytes/,
    );
    try {
      loadMasterKey('/nonexistent', { LATCHKEY_MASTER_KEY: bad });
    } catch (err) {
      expect((err as Error).message).not.toContain(bad);
    }
  });
});

describe('sealed secrets', () => {
  const key = randomBytes(32);

  it('round-trips and hides the plaintext', () => {
    const sealed = sealSecret(key, 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY', 'AKIAEXAMPLE');
    expect(sealed).not.toContain('wJalr');
    expect(openSecret(key, sealed, 'AKIAEXAMPLE')).toBe('wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY');
  });

  it('fails on any altered byte, another context, or another key', () => {
    const sealed = sealSecret(key, 'secret', 'ctx');
    const raw = Buffer.from(sealed.slice(3), 'base64');
    for (let i = 0; i < raw.length; i++) {
      const copy = Buffer.from(raw);
      copy[i] = (copy[i] ?? 0) ^ 1;
      expect(() => openSecret(key, `v1:${copy.toString('base64')}`, 'ctx')).toThrow();
    }
    expect(() => openSecret(key, sealed, 'other')).toThrow();
    expect(() => openSecret(randomBytes(32), sealed, 'ctx')).toThrow();
    expect(() => openSecret(key, 'v2:abc', 'ctx')).toThrow(/format/);
  });
});
