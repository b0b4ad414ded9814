/**
 * Rotation seen from two replicas sharing one store: a key made by a rotation on one replica
 * verifies at once on the other (OwnIssuerKeySet reads the store for an unknown kid, at most
 * once a second), the rotated-out key stays published for the overlap window and then leaves,
 * and the key list describes what is published. Also the bounded registry of external key sets.
 */
import { randomBytes } from 'node:crypto';
import { decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  IssuerKeys,
  MAX_REMOTE_ISSUERS,
  mintServiceAccountToken,
  OwnIssuerKeySet,
  RemoteKeySets,
  verifyWebIdentityToken,
} from '../../src/oidc/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const ISSUER = 'http://127.0.0.1:4599/_latchkey/oidc/id/0123456789ABCDEF0123456789ABCDEF';
const dir = tempDir();
let store: Store;
const masterKey = randomBytes(32);

beforeAll(async () => {
  store = await openStore({ dataDir: dir.path });
});
afterAll(async () => {
  await store.close();
  dir.remove();
});

async function token(keys: IssuerKeys, issuerId: string): Promise<string> {
  return mintServiceAccountToken(await keys.signingKey(issuerId), {
    issuerUrl: ISSUER,
    namespace: 'default',
    serviceAccount: 'app',
    audiences: ['sts.amazonaws.com'],
    expirationSeconds: 3600,
  });
}

function verifyWith(keys: OwnIssuerKeySet, jwt: string) {
  return verifyWebIdentityToken(jwt, {
    keysFor: (iss) => Promise.resolve(iss === ISSUER ? keys : undefined),
  });
}

describe('rotation across replicas', () => {
  it('a token of the new key verifies at once on a replica whose cache predates the rotation', async () => {
    const replicaA = new IssuerKeys(store.db, masterKey);
    const replicaB = new IssuerKeys(store.db, masterKey);
    await replicaA.rotate('R1');
    const before = await token(replicaA, 'R1');
    const onB = new OwnIssuerKeySet(replicaB, 'R1');
    await verifyWith(onB, before); // B's cache now holds the first key only

    await replicaA.rotate('R1', 'ES256');
    const after = await token(replicaA, 'R1');
    expect(decodeProtectedHeader(after).alg).toBe('ES256');
    expect((await verifyWith(onB, after)).subject).toBe('system:serviceaccount:default:app');
    expect((await verifyWith(onB, before)).subject).toBe('system:serviceaccount:default:app');
  });

  it('an unknown kid reads the store at most once a second', async () => {
    const replicaA = new IssuerKeys(store.db, masterKey);
    const replicaB = new IssuerKeys(store.db, masterKey);
    await replicaA.rotate('R2');
    const onB = new OwnIssuerKeySet(replicaB, 'R2');
    const first = await onB.selectKeys({ alg: 'RS256', kid: 'nope' });
    const probedAt = performance.now();
    expect(first).toEqual([]);
    // Within the second: a new key is not looked for again… (ES256: made in milliseconds)
    await replicaA.rotate('R2', 'ES256');
    const fresh = await token(replicaA, 'R2');
    const refused = verifyWith(onB, fresh);
    if (performance.now() - probedAt < 900) {
      await expect(refused).rejects.toMatchObject({ code: 'InvalidIdentityToken' });
    } else {
      await refused.catch(() => undefined); // too slow a machine to tell within the second
    }
    // …after it, it is.
    await new Promise((resolve) => setTimeout(resolve, 1_050));
    expect((await verifyWith(onB, fresh)).issuer).toBe(ISSUER);
  });

  it('the rotated-out key stays published for the overlap window, then leaves', async () => {
    const keys = new IssuerKeys(store.db, masterKey, 1);
    const { kid: first } = await keys.rotate('R3');
    const { kid: second } = await keys.rotate('R3');
    const listed = await keys.describeKeys('R3');
    expect(listed.map((k) => [k.kid, k.signing])).toEqual([
      [second, true],
      [first, false],
    ]);
    expect(listed[0]?.retireAfter).toBeUndefined();
    const retire = listed[1]?.retireAfter?.getTime() ?? 0;
    expect(Math.abs(retire - (Date.now() + 1000))).toBeLessThan(500);
    expect((await keys.publishedKeys('R3', { fresh: true })).map((k) => k.kid)).toEqual([
      second,
      first,
    ]);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    expect((await keys.publishedKeys('R3', { fresh: true })).map((k) => k.kid)).toEqual([second]);
    expect((await keys.describeKeys('R3')).map((k) => k.kid)).toEqual([second]);
  });

  it('an issuer without keys (an external cluster) has no signing key: InvalidRequestException', async () => {
    const keys = new IssuerKeys(store.db, masterKey);
    await expect(keys.signingKey('NONE')).rejects.toMatchObject({
      code: 'InvalidRequestException',
    });
  });
});

describe('RemoteKeySets', () => {
  it('shares one key set per issuer and keeps at most MAX_REMOTE_ISSUERS', () => {
    const sets = new RemoteKeySets();
    const first = sets.get('https://issuer-0.example.com');
    expect(sets.get('https://issuer-0.example.com')).toBe(first);
    for (let i = 1; i <= MAX_REMOTE_ISSUERS; i++) sets.get(`https://issuer-${i}.example.com`);
    // issuer-0 was the least recently used: it was dropped and is made anew.
    expect(sets.get('https://issuer-0.example.com')).not.toBe(first);
    expect(() => sets.get('http://plain.example.com')).toThrow(/must use https/);
  });
});
