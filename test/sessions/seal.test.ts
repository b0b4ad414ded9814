import { describe, expect, it } from 'vitest';
import {
  assumedRoleArn,
  newSealingKey,
  openSession,
  sealSession,
  type SealingKeyring,
  type Session,
} from '../../src/sessions/index.js';

function keyring(...keys: ReturnType<typeof newSealingKey>[]): SealingKeyring {
  const [current] = keys;
  if (!current) throw new Error('no key');
  return { current, byId: new Map(keys.map((k) => [k.id, k])) };
}

const session: Session = {
  accessKeyId: 'ASIAEXAMPLEEXAMPLE12',
  secretAccessKey: 'S'.repeat(40),
  accountId: '111122223333',
  roleArn: 'arn:aws:iam::111122223333:role/team/s3-reader',
  roleId: 'AROAEXAMPLEEXAMPLE123',
  sessionName: 'pod-1',
  tags: { 'kubernetes-namespace': 'default' },
  transitiveTagKeys: ['kubernetes-namespace'],
  sessionPolicyArns: [],
  chainDepth: 0,
  issuedBy: 'AssumeRoleWithWebIdentity',
  issuedAt: 1_700_000_000_000,
  expiresAt: 1_700_003_600_000,
};

describe('sealed session tokens', () => {
  it('open to the same session, and hide the secret', () => {
    const ring = keyring(newSealingKey());
    const token = sealSession(ring, session);
    expect(token.startsWith('LK1')).toBe(true);
    expect(token).not.toContain('SSSS');
    expect(openSession(ring, session.accessKeyId, token)).toEqual(session);
  });

  it('open during a rotation’s overlap with the previous key, not after it is dropped', () => {
    const old = newSealingKey();
    const token = sealSession(keyring(old), session);
    const next = newSealingKey();
    expect(openSession(keyring(next, old), session.accessKeyId, token)).toEqual(session);
    expect(openSession(keyring(next), session.accessKeyId, token)).toBeNull();
  });

  it('refuse every single-character tamper, another access key id, and garbage', () => {
    const ring = keyring(newSealingKey());
    const token = sealSession(ring, session);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 3; i < token.length; i += 7) {
      const c = token[i] ?? 'A';
      const swapped = alphabet[(alphabet.indexOf(c) + 1) % alphabet.length] ?? 'A';
      const tampered = token.slice(0, i) + swapped + token.slice(i + 1);
      expect(openSession(ring, session.accessKeyId, tampered)).toBeNull();
    }
    expect(openSession(ring, 'ASIAOTHEROTHEROTHER1', token)).toBeNull();
    expect(openSession(ring, session.accessKeyId, 'FQoGZXIvYXdzEXAMPLE')).toBeNull();
    expect(openSession(ring, session.accessKeyId, 'LK1')).toBeNull();
    expect(openSession(ring, session.accessKeyId, 'LK1' + 'A'.repeat(20_000))).toBeNull();
  });

  it('names the assumed-role ARN as STS does', () => {
    expect(assumedRoleArn(session)).toBe('arn:aws:sts::111122223333:assumed-role/s3-reader/pod-1');
  });
});
