import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  discoveryDocument,
  IssuerKeys,
  jwksDocument,
  MAX_PUBLISHED_KEYS,
  mintServiceAccountToken,
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

describe('issuer keys and service-account tokens', () => {
  it('mints a token with the claims of a projected service-account token', async () => {
    const keys = new IssuerKeys(store.db, masterKey);
    await keys.rotate('A');
    const token = await mintServiceAccountToken(await keys.signingKey('A'), {
      issuerUrl: ISSUER,
      namespace: 'default',
      serviceAccount: 's3-reader',
      audiences: ['sts.amazonaws.com'],
      expirationSeconds: 86_400,
      pod: { name: 'web-1' },
    });
    const jwks = createLocalJWKSet(jwksDocument(await keys.publishedKeys('A')));
    const { payload, protectedHeader } = await jwtVerify(token, jwks, {
      issuer: ISSUER,
      audience: 'sts.amazonaws.com',
    });
    expect(protectedHeader.alg).toBe('RS256');
    expect(payload.sub).toBe('system:serviceaccount:default:s3-reader');
    expect(payload.aud).toEqual(['sts.amazonaws.com']);
    expect((payload.exp ?? 0) - (payload.iat ?? 0)).toBe(86_400);
    expect(payload.nbf).toBe(payload.iat);
    expect(payload.jti).toMatch(/^[0-9a-f-]{36}$/);
    expect(payload['kubernetes.io']).toMatchObject({
      namespace: 'default',
      serviceaccount: { name: 's3-reader' },
      pod: { name: 'web-1' },
    });
  });

  it('keeps rotated-out keys published for the overlap window, then drops them', async () => {
    const keys = new IssuerKeys(store.db, masterKey, 1);
    const first = await keys.rotate('B');
    const oldToken = await mintServiceAccountToken(await keys.signingKey('B'), {
      issuerUrl: ISSUER,
      namespace: 'ns',
      serviceAccount: 'sa',
      audiences: ['sts.amazonaws.com'],
      expirationSeconds: 600,
    });
    const second = await keys.rotate('B', 'ES256');
    expect((await keys.signingKey('B')).kid).toBe(second.kid);
    expect((await keys.publishedKeys('B')).map((k) => k.kid)).toEqual([second.kid, first.kid]);
    await jwtVerify(oldToken, createLocalJWKSet(jwksDocument(await keys.publishedKeys('B'))));
    await new Promise((r) => setTimeout(r, 1100));
    const fresh = new IssuerKeys(store.db, masterKey, 1); // no cache
    expect((await fresh.publishedKeys('B')).map((k) => k.kid)).toEqual([second.kid]);
    await expect(
      jwtVerify(oldToken, createLocalJWKSet(jwksDocument(await fresh.publishedKeys('B')))),
    ).rejects.toThrow();
    const es = await mintServiceAccountToken(await fresh.signingKey('B'), {
      issuerUrl: ISSUER,
      namespace: 'ns',
      serviceAccount: 'sa',
      audiences: ['x'],
      expirationSeconds: 600,
    });
    expect(decodeProtectedHeader(es).alg).toBe('ES256');
  });

  it('never publishes more than 100 keys', async () => {
    const keys = new IssuerKeys(store.db, masterKey);
    for (let i = 0; i < MAX_PUBLISHED_KEYS + 3; i++) await keys.rotate('C', 'ES256');
    const published = await keys.publishedKeys('C');
    expect(published).toHaveLength(MAX_PUBLISHED_KEYS);
    expect(published[0]?.kid).toBe((await keys.signingKey('C')).kid);
  });

  it('stores private keys sealed', async () => {
    const rows = await store.db.selectFrom('oidc_signing_keys').selectAll().execute();
    for (const row of rows) {
      expect(row.private_jwk_sealed).toMatch(/^v1:/);
      expect(row.private_jwk_sealed).not.toContain('"d"');
      expect(JSON.parse(row.public_jwk)).not.toHaveProperty('d');
    }
  });

  it('describes the issuer as kube-apiserver does', () => {
    expect(discoveryDocument(ISSUER, ['RS256'])).toMatchObject({
      issuer: ISSUER,
      jwks_uri: `${ISSUER}/keys`,
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });
});
