import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AwsError } from '../../src/errors/index.js';
import { LocalKeySet } from '../../src/oidc/key-set.js';
import {
  checkIssuerUrl,
  checkJwksUri,
  maxAgeSeconds,
  RemoteKeySet,
  type RemoteKeySetOptions,
} from '../../src/oidc/remote-key-set.js';
import { verifyWebIdentityToken } from '../../src/oidc/verify-web-identity.js';
import { WebIdentityMessages } from '../../src/oidc/web-identity-errors.js';

type Mode = 'ok' | 'reset' | 'hang' | 'error503';

/** A fake cluster issuer on 127.0.0.1: discovery, JWKS, and knobs to misbehave. */
interface Idp {
  issuer: string;
  port: number;
  mode: Mode;
  keys: JWK[];
  cacheControl: string | undefined;
  discovery: (issuer: string) => Record<string, unknown>;
  /** Overrides the JWKS response entirely. */
  jwksHandler: ((res: ServerResponse) => void) | undefined;
  hits: { discovery: number; jwks: number; other: number };
  close(): Promise<void>;
}

/**
 * A throw-away self-signed certificate for 127.0.0.1 / localhost (EC P-256, valid until 2126),
 * made with `openssl req -x509 … -addext subjectAltName=IP:127.0.0.1,DNS:localhost`. Test only.
 */
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBqzCCAVGgAwIBAgIUW1kn2TM0+pGHqjtcol32kiGZUj8wCgYIKoZIzj0EAwIw
HDEaMBgGA1UEAwwRbGF0Y2hrZXktdGVzdC1pZHAwIBcNMjYxMTIzMDY0OTQwWhgP
MjEyNjEwMzAwNjQ5NDBaMBwxGjAYBgNVBAMMEWxhdGNoa2V5LXRlc3QtaWRwMFkw
EwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEYi2hYwk+d1ameZvovhsfPKdKPJPAc4B5
0AbwPSvTN6miiPmbydR0aHuDMdgeYn01PO0lE4NrTLDTzHty190Lh6NvMG0wHQYD
VR0OBBYEFAX2CEQgZ58+zLTAiPdOmDHz8H2GMB8GA1UdIwQYMBaAFAX2CEQgZ58+
zLTAiPdOmDHz8H2GMBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAPBgNVHRMB
Af8EBTADAQH/MAoGCCqGSM49BAMCA0gAMEUCIDK0oQuTSTFeWtKl3qgS+tWawv6x
2kxzDicpa1CNI4AwAiEAvtfqoc3hyXMmLk36bN1GRWuobuDo9fyR+lI1jTi1E94=
-----END CERTIFICATE-----
`;
const TEST_CERT_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgjvINlOOu+MaN0Ty7
7Zc9WAavd00jjc1gU4PV9BihcV2hRANCAARiLaFjCT53VqZ5m+i+Gx88p0o8k8Bz
gHnQBvA9K9M3qaKI+ZvJ1HRoe4Mx2B5ifTU87SUTg2tMsNPMe3LX3QuH
-----END PRIVATE KEY-----
`;

async function startIdp(tls = false): Promise<Idp> {
  const idp: Idp = {
    issuer: '',
    port: 0,
    mode: 'ok',
    keys: [],
    cacheControl: undefined,
    discovery: (issuer) => ({ issuer, jwks_uri: `${issuer}/keys` }),
    jwksHandler: undefined,
    hits: { discovery: 0, jwks: 0, other: 0 },
    close: () => Promise.resolve(),
  };
  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    const path = req.url ?? '';
    if (path === '/.well-known/openid-configuration') idp.hits.discovery += 1;
    else if (path === '/keys') idp.hits.jwks += 1;
    else idp.hits.other += 1;
    if (idp.mode === 'reset') {
      req.socket.destroy();
      return;
    }
    if (idp.mode === 'hang') return;
    if (idp.mode === 'error503') {
      res.statusCode = 503;
      res.end();
      return;
    }
    res.setHeader('content-type', 'application/json');
    if (path === '/.well-known/openid-configuration') {
      res.end(JSON.stringify(idp.discovery(idp.issuer)));
    } else if (path === '/keys') {
      if (idp.jwksHandler !== undefined) {
        idp.jwksHandler(res);
        return;
      }
      if (idp.cacheControl !== undefined) res.setHeader('cache-control', idp.cacheControl);
      res.end(JSON.stringify({ keys: idp.keys }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  };
  const server = tls
    ? createTlsServer({ cert: TEST_CERT, key: TEST_CERT_KEY }, handler)
    : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  idp.port = (server.address() as AddressInfo).port;
  idp.issuer = `${tls ? 'https' : 'http'}://127.0.0.1:${idp.port}`;
  idp.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return idp;
}

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function signingKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return {
    kid,
    privateKey,
    jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' },
  };
}

const T0 = 1_750_000_000_000;

describe('RemoteKeySet', () => {
  let idp: Idp;
  let key: SigningKey;
  let rotated: SigningKey;
  let clock: number;
  const now = (): number => clock;

  beforeAll(async () => {
    key = await signingKey('k1');
    rotated = await signingKey('k2');
  });
  beforeEach(async () => {
    idp = await startIdp();
    idp.keys = [key.jwk];
    clock = T0;
  });
  afterEach(async () => {
    await idp.close();
  });

  const keySet = (extra: RemoteKeySetOptions = {}): RemoteKeySet =>
    new RemoteKeySet(idp.issuer, { allowLoopback: true, now, ...extra });

  const token = (signer: SigningKey, kid = signer.kid): Promise<string> =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid })
      .setIssuer(idp.issuer)
      .setSubject('system:serviceaccount:default:web')
      .setAudience(['sts.amazonaws.com'])
      .setIssuedAt(Math.floor(clock / 1000))
      .setExpirationTime(Math.floor(clock / 1000) + 86_400)
      .sign(signer.privateKey);

  const verify = (set: RemoteKeySet, jwt: string): Promise<unknown> =>
    verifyWebIdentityToken(jwt, {
      keysFor: (iss) => Promise.resolve(iss === set.issuer ? set : undefined),
      now: Math.floor(clock / 1000),
      audiences: ['sts.amazonaws.com'],
    });

  async function rejection(promise: Promise<unknown>): Promise<AwsError> {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AwsError);
    return err as AwsError;
  }

  it('discovers the JWKS, verifies, and serves later tokens from the cache', async () => {
    const set = keySet();
    await verify(set, await token(key));
    await verify(set, await token(key));
    expect(idp.hits).toEqual({ discovery: 1, jwks: 1, other: 0 });
  });

  it('keeps verifying with cached keys while the endpoint is down, then recovers', async () => {
    const set = keySet();
    const jwt = await token(key);
    await verify(set, jwt);
    idp.mode = 'reset';
    clock += 11 * 60_000; // past the 10-minute freshness
    await verify(set, jwt);
    clock += 23 * 60 * 60_000; // still within 24 h of stale-if-error
    await verify(set, jwt);
    clock += 2 * 60 * 60_000; // beyond it: the keys are no longer usable
    const err = await rejection(verify(set, jwt));
    expect(err.code).toBe('IDPCommunicationError');
    expect(err.status).toBe(400);
    idp.mode = 'ok';
    clock += 10_000; // past the error back-off
    await verify(set, await token(key));
  });

  it('fails with IDPCommunicationError within the timeout when down with no cache', async () => {
    idp.mode = 'hang';
    const set = keySet({ timeoutMs: 300 });
    const started = Date.now();
    const err = await rejection(verify(set, await token(key)));
    expect(err.code).toBe('IDPCommunicationError');
    expect(Date.now() - started).toBeLessThan(2_000);
    // Within the back-off, callers fail fast instead of waiting again.
    const fast = Date.now();
    expect((await rejection(verify(set, await token(key)))).code).toBe('IDPCommunicationError');
    expect(Date.now() - fast).toBeLessThan(100);
  });

  it('maps 503 and refused connections to IDPCommunicationError', async () => {
    idp.mode = 'error503';
    expect((await rejection(verify(keySet(), await token(key)))).code).toBe(
      'IDPCommunicationError',
    );
    const gone = new RemoteKeySet(idp.issuer, { allowLoopback: true, now });
    await idp.close();
    expect((await rejection(verify(gone, await token(key)))).code).toBe('IDPCommunicationError');
  });

  it('fetches at most once per cooldown for 10,000 tokens with random kids', async () => {
    const set = keySet();
    const good = await token(key);
    await verify(set, good);
    const [h, p, s] = good.split('.');
    const header = JSON.parse(Buffer.from(h ?? '', 'base64url').toString()) as object;
    const forged = (): string => {
      const kid = randomBytes(12).toString('hex');
      return `${Buffer.from(JSON.stringify({ ...header, kid })).toString('base64url')}.${p}.${s}`;
    };
    const flood = async (): Promise<void> => {
      for (let batch = 0; batch < 10; batch += 1) {
        const results = await Promise.allSettled(
          Array.from({ length: 1000 }, () => verify(set, forged())),
        );
        for (const r of results) {
          expect(r.status).toBe('rejected');
          const reason = (r as PromiseRejectedResult).reason as AwsError;
          expect(reason.message).toBe(WebIdentityMessages.keyNotFound);
        }
      }
    };
    await flood();
    expect(idp.hits.jwks).toBe(1);
    await verify(set, good); // valid tokens keep verifying during the flood
    clock += 31_000;
    await flood();
    expect(idp.hits.jwks).toBe(2);
  });

  it('shares one fetch among concurrent cold callers (single flight)', async () => {
    const set = keySet();
    const jwt = await token(key);
    await Promise.all(Array.from({ length: 200 }, () => verify(set, jwt)));
    expect(idp.hits).toEqual({ discovery: 1, jwks: 1, other: 0 });
  });

  it('picks up a rotated key on its first token, and drops removed keys after max-age', async () => {
    const set = keySet();
    await verify(set, await token(key));
    idp.keys = [rotated.jwk];
    clock += 31_000; // past the cooldown
    await verify(set, await token(rotated));
    expect(idp.hits.jwks).toBe(2);
    // k1 is gone from the newest JWKS, so it no longer verifies.
    expect((await rejection(verify(set, await token(key)))).message).toBe(
      WebIdentityMessages.keyNotFound,
    );
  });

  it('honours Cache-Control max-age within bounds', async () => {
    idp.cacheControl = 'public, max-age=120';
    const set = keySet();
    const jwt = await token(key);
    await verify(set, jwt);
    clock += 119_000;
    await verify(set, jwt);
    expect(idp.hits.jwks).toBe(1);
    clock += 2_000;
    await verify(set, jwt); // stale: answered from cache, refreshed in the background
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(idp.hits.jwks).toBe(2);

    idp.cacheControl = 'max-age=1'; // raised to the 60 s floor
    const floor = keySet();
    await verify(floor, jwt);
    const before = idp.hits.jwks;
    clock += 30_000;
    await verify(floor, jwt);
    expect(idp.hits.jwks).toBe(before);
  });

  it('parses Cache-Control', () => {
    expect(maxAgeSeconds(undefined)).toBeUndefined();
    expect(maxAgeSeconds('public, max-age=300')).toBe(300);
    expect(maxAgeSeconds('no-store')).toBe(0);
    expect(maxAgeSeconds('max-age=abc')).toBeUndefined();
  });

  it('refuses a redirect; the redirect target receives nothing', async () => {
    const target = await startIdp();
    try {
      idp.jwksHandler = (res) => {
        res.statusCode = 302;
        res.setHeader('location', `${target.issuer}/keys`);
        res.end();
      };
      const err = await rejection(verify(keySet(), await token(key)));
      expect(err.code).toBe('InvalidIdentityToken');
      expect(err.message).toBe(WebIdentityMessages.keyNotFound);
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(target.hits).toEqual({ discovery: 0, jwks: 0, other: 0 });
    } finally {
      await target.close();
    }
  });

  it('refuses a JWKS of 101 keys and accepts 100', async () => {
    const filler = Array.from({ length: 99 }, (_, i) => ({ ...key.jwk, kid: `f${i}` }));
    idp.keys = [key.jwk, ...filler, { ...key.jwk, kid: 'f-extra' }];
    const err = await rejection(verify(keySet(), await token(key)));
    expect(err.code).toBe('InvalidIdentityToken');
    idp.keys = [key.jwk, ...filler];
    await verify(keySet(), await token(key));
  });

  it('refuses a body over the 256 KiB cap', async () => {
    idp.jwksHandler = (res) =>
      res.end(JSON.stringify({ keys: [key.jwk], pad: 'x'.repeat(300_000) }));
    const err = await rejection(verify(keySet(), await token(key)));
    expect(err.code).toBe('InvalidIdentityToken');
  });

  it('refuses a jwks_uri on another host, and a discovery document for another issuer', async () => {
    idp.discovery = () => ({ issuer: idp.issuer, jwks_uri: `http://localhost:${idp.port}/keys` });
    expect((await rejection(verify(keySet(), await token(key)))).code).toBe('InvalidIdentityToken');
    idp.discovery = () => ({ issuer: 'https://elsewhere.example', jwks_uri: `${idp.issuer}/keys` });
    expect((await rejection(verify(keySet(), await token(key)))).code).toBe('InvalidIdentityToken');
    expect(idp.hits.jwks).toBe(0);
  });

  it('refuses a loopback issuer without allowLoopback, fetching nothing', async () => {
    expect(() => new RemoteKeySet(idp.issuer)).toThrow(TypeError);
    const set = new RemoteKeySet(`https://localhost:${idp.port}`, { now });
    const err = await rejection(
      verifyWebIdentityToken(await token(key), {
        keysFor: () => Promise.resolve(set),
        now: Math.floor(clock / 1000),
      }),
    );
    expect(err.message).toBe(WebIdentityMessages.keyNotFound);
    expect(idp.hits).toEqual({ discovery: 0, jwks: 0, other: 0 });
  });

  it('keeps good cached keys when a refresh returns a bad document', async () => {
    const set = keySet();
    const jwt = await token(key);
    await verify(set, jwt);
    idp.jwksHandler = (res) => res.end('not json');
    clock += 11 * 60_000;
    await verify(set, jwt);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await verify(set, jwt);
  });
});

describe('RemoteKeySet over HTTPS', () => {
  let idp: Idp;
  let key: SigningKey;
  beforeAll(async () => {
    key = await signingKey('tls');
  });
  beforeEach(async () => {
    idp = await startIdp(true);
    idp.keys = [key.jwk];
  });
  afterEach(async () => {
    await idp.close();
  });

  const verifyWith = async (set: RemoteKeySet): Promise<unknown> => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .setIssuer(idp.issuer)
      .setSubject('system:serviceaccount:default:web')
      .setAudience('sts.amazonaws.com')
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(key.privateKey);
    return verifyWebIdentityToken(jwt, { keysFor: () => Promise.resolve(set) });
  };

  it('verifies through an issuer whose certificate chains to a given CA', async () => {
    const set = new RemoteKeySet(idp.issuer, { allowLoopback: true, ca: TEST_CERT });
    await verifyWith(set);
    expect(idp.hits).toEqual({ discovery: 1, jwks: 1, other: 0 });
  });

  it('refuses an untrusted certificate as a key-retrieval failure, not an outage', async () => {
    const set = new RemoteKeySet(idp.issuer, { allowLoopback: true });
    const err = (await verifyWith(set).catch((e: unknown) => e)) as AwsError;
    expect(err.code).toBe('InvalidIdentityToken');
    expect(err.message).toBe(WebIdentityMessages.keyNotFound);
    expect(idp.hits.discovery).toBe(0);
  });

  it('refuses a jwks_uri downgraded to http, even with allowLoopback', async () => {
    const plain = await startIdp(false);
    try {
      plain.keys = [key.jwk];
      idp.discovery = () => ({ issuer: idp.issuer, jwks_uri: `${plain.issuer}/keys` });
      const set = new RemoteKeySet(idp.issuer, { allowLoopback: true, ca: TEST_CERT });
      const err = (await verifyWith(set).catch((e: unknown) => e)) as AwsError;
      expect(err.code).toBe('InvalidIdentityToken');
      expect(plain.hits).toEqual({ discovery: 0, jwks: 0, other: 0 });
    } finally {
      await plain.close();
    }
  });
});

describe('issuer and jwks_uri rules', () => {
  it('requires an https issuer without query, fragment or credentials', () => {
    expect(checkIssuerUrl('https://oidc.example.com/id/ABC/')).toBe(
      'https://oidc.example.com/id/ABC',
    );
    for (const bad of [
      'http://oidc.example.com',
      'https://oidc.example.com/?a=b',
      'https://oidc.example.com/#x',
      'https://u:p@oidc.example.com',
      'oidc.example.com',
    ]) {
      expect(() => checkIssuerUrl(bad)).toThrow(TypeError);
    }
    expect(checkIssuerUrl('http://127.0.0.1:8080', true)).toBe('http://127.0.0.1:8080');
  });

  it('requires jwks_uri on the issuer’s origin, over the same scheme', () => {
    const issuer = 'https://oidc.example.com/id/ABC';
    expect(checkJwksUri(issuer, 'https://oidc.example.com/id/ABC/keys').href).toBe(
      'https://oidc.example.com/id/ABC/keys',
    );
    for (const bad of [
      'http://oidc.example.com/keys',
      'https://evil.example.com/keys',
      'https://oidc.example.com:8443/keys',
      'https://169.254.169.254/latest/meta-data/',
      'https://u:p@oidc.example.com/keys',
      '/keys',
      42,
    ]) {
      expect(() => checkJwksUri(issuer, bad)).toThrow();
    }
  });

  it('loads a JWKS from a document (e.g. a file) and enforces the 100-key limit', async () => {
    const k = await signingKey('file');
    const set = LocalKeySet.fromJwksDocument(JSON.stringify({ keys: [k.jwk] }));
    expect(await set.selectKeys({ alg: 'RS256', kid: 'file' })).toHaveLength(1);
    expect(await set.selectKeys({ alg: 'ES256', kid: 'file' })).toHaveLength(0);
    const many = { keys: Array.from({ length: 101 }, (_, i) => ({ ...k.jwk, kid: `${i}` })) };
    expect(() => LocalKeySet.fromJwksDocument(many)).toThrow(/at most 100/);
    expect(() => LocalKeySet.fromJwksDocument('{')).toThrow();
    expect(() => LocalKeySet.fromJwksDocument({ keys: 'x' })).toThrow();
  });
});
