import {
  generateKeyPairSync,
  KeyObject,
  randomBytes,
  sign as nodeSign,
  type KeyObject as NodeKey,
} from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CompactEncrypt,
  CompactSign,
  exportJWK,
  exportSPKI,
  generateKeyPair,
  type CompactJWSHeaderParameters,
  type CryptoKey,
  type JWK,
} from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AwsError } from '../../src/errors/index.js';
import { IssuerKeys, mintServiceAccountToken } from '../../src/oidc/index.js';
import { LocalKeySet, type KeySetSource } from '../../src/oidc/key-set.js';
import {
  checkWebIdentityTokenLength,
  verifyWebIdentityToken,
  type VerifyWebIdentityOptions,
} from '../../src/oidc/verify-web-identity.js';
import { toEksAuthError, WebIdentityMessages } from '../../src/oidc/web-identity-errors.js';
import { openStore, type Store } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const ISSUER = 'https://oidc.example.test/id/0123456789ABCDEF';
const OTHER_ISSUER = 'https://oidc.example.test/id/FEDCBA9876543210';
const NOW = 1_750_000_000;
const SUB = 'system:serviceaccount:default:web';

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  publicKey: CryptoKey;
  jwk: JWK;
}

async function makeKey(alg: 'RS256' | 'ES256' | 'ES384', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { kid, privateKey, publicKey, jwk };
}

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

function sign(
  key: CryptoKey | Uint8Array,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): Promise<string> {
  return new CompactSign(encode(payload))
    .setProtectedHeader(header as CompactJWSHeaderParameters)
    .sign(key);
}

/** RS256 by hand, for headers and keys jose refuses to produce (crit, weak keys). */
function rawRs256(
  key: NodeKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${nodeSign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    iss: ISSUER,
    sub: SUB,
    aud: ['sts.amazonaws.com'],
    iat: NOW - 60,
    nbf: NOW - 60,
    exp: NOW + 3600,
    ...overrides,
  };
}

let rsa: TestKey;
let rsaRotated: TestKey;
let ec: TestKey;
let attacker: TestKey;
let keySet: LocalKeySet;

function options(extra: Partial<VerifyWebIdentityOptions> = {}): VerifyWebIdentityOptions {
  return {
    keysFor: (iss) => Promise.resolve(iss === ISSUER ? keySet : undefined),
    now: NOW,
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<AwsError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AwsError);
  return err as AwsError;
}

async function expectInvalid(token: string, message?: string, extra = {}): Promise<AwsError> {
  const err = await rejection(verifyWebIdentityToken(token, options(extra)));
  expect(err.code).toBe('InvalidIdentityToken');
  expect(err.status).toBe(400);
  if (message !== undefined) expect(err.message).toBe(message);
  return err;
}

beforeAll(async () => {
  rsa = await makeKey('RS256', 'rsa-1');
  rsaRotated = await makeKey('RS256', 'rsa-2');
  ec = await makeKey('ES256', 'ec-1');
  attacker = await makeKey('RS256', 'attacker');
  keySet = new LocalKeySet([rsa.jwk, rsaRotated.jwk, ec.jwk]);
});

describe('verifyWebIdentityToken: valid tokens', () => {
  it('accepts an RS256 token and returns its identity', async () => {
    const token = await sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims());
    const id = await verifyWebIdentityToken(token, options({ audiences: ['sts.amazonaws.com'] }));
    expect(id).toMatchObject({
      issuer: ISSUER,
      subject: SUB,
      audiences: ['sts.amazonaws.com'],
      header: { alg: 'RS256', kid: 'rsa-1' },
    });
    expect(id.expiresAt.getTime()).toBe((NOW + 3600) * 1000);
    expect(id.issuedAt?.getTime()).toBe((NOW - 60) * 1000);
    expect(id.claims.sub).toBe(SUB);
  });

  it('accepts ES256 tokens and a string aud', async () => {
    const token = await sign(ec.privateKey, { alg: 'ES256', kid: ec.kid }, claims({ aud: 'x' }));
    const id = await verifyWebIdentityToken(token, options());
    expect(id.audiences).toEqual(['x']);
    expect(id.header.alg).toBe('ES256');
  });

  it('verifies tokens minted by Latchkey’s own issuer keys (projected-token claims, 24 h)', async () => {
    const dir = tempDir();
    const store: Store = await openStore({ dataDir: dir.path });
    try {
      const issuerKeys = new IssuerKeys(store.db, randomBytes(32));
      await issuerKeys.rotate('cluster-a');
      const token = await mintServiceAccountToken(await issuerKeys.signingKey('cluster-a'), {
        issuerUrl: ISSUER,
        namespace: 'default',
        serviceAccount: 'web',
        audiences: ['pods.eks.amazonaws.com'],
        expirationSeconds: 86_400,
        now: NOW - 86_000,
      });
      const own = new LocalKeySet(await issuerKeys.publishedKeys('cluster-a'));
      const id = await verifyWebIdentityToken(token, {
        keysFor: (iss) => Promise.resolve(iss === ISSUER ? own : undefined),
        audiences: ['pods.eks.amazonaws.com'],
        now: NOW,
      });
      expect(id.subject).toBe(SUB);
      expect(id.expiresAt.getTime() - (id.issuedAt?.getTime() ?? 0)).toBe(86_400_000);
    } finally {
      await store.close();
      dir.remove();
    }
  });

  it('accepts the same token 50 times (no replay cache)', async () => {
    const token = await sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims());
    const results = await Promise.allSettled(
      Array.from({ length: 50 }, () => verifyWebIdentityToken(token, options())),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(50);
  });

  it('tries every key carrying the kid (two keys briefly share one during rotation)', async () => {
    const twin = { ...rsaRotated.jwk, kid: rsa.kid };
    const set = new LocalKeySet([rsa.jwk, twin]);
    const token = await sign(rsaRotated.privateKey, { alg: 'RS256', kid: rsa.kid }, claims());
    const id = await verifyWebIdentityToken(token, {
      keysFor: () => Promise.resolve(set),
      now: NOW,
    });
    expect(id.subject).toBe(SUB);
  });
});

describe('verifyWebIdentityToken: forged signatures', () => {
  it('rejects alg none, with and without a signature segment', async () => {
    const unsigned = `${b64({ alg: 'none', kid: rsa.kid })}.${b64(claims())}`;
    await expectInvalid(`${unsigned}.`, WebIdentityMessages.notAJwt);
    await expectInvalid(`${unsigned}.AAAA`, WebIdentityMessages.notAJwt);
    await expectInvalid(unsigned, WebIdentityMessages.notAJwt);
  });

  it('rejects HS256 keyed with the issuer’s public key (PEM and JWK bytes)', async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const jwkBytes = new TextEncoder().encode(JSON.stringify(rsa.jwk));
    for (const secret of [pem, jwkBytes]) {
      const token = await sign(secret, { alg: 'HS256', kid: rsa.kid }, claims());
      await expectInvalid(token, WebIdentityMessages.notAJwt);
    }
  });

  it('rejects HS256 even when the caller puts it on the allow-list', async () => {
    const pem = new TextEncoder().encode(await exportSPKI(rsa.publicKey));
    const token = await sign(pem, { alg: 'HS256', kid: rsa.kid }, claims());
    const algorithms = ['HS256', 'RS256'] as unknown as VerifyWebIdentityOptions['algorithms'];
    await expectInvalid(token, WebIdentityMessages.notAJwt, { algorithms });
  });

  it('rejects RS256 by an unknown key that reuses a valid kid', async () => {
    const token = await sign(attacker.privateKey, { alg: 'RS256', kid: rsa.kid }, claims());
    await expectInvalid(token, WebIdentityMessages.invalidSignature);
  });

  it('rejects an unknown kid with AWS’s verification-key message', async () => {
    const token = await sign(attacker.privateKey, { alg: 'RS256', kid: 'nope' }, claims());
    await expectInvalid(token, WebIdentityMessages.keyNotFound);
    expect(WebIdentityMessages.keyNotFound).toContain('provider,  please');
  });

  it('rejects ECDSA "psychic signatures" (r = s = 0)', async () => {
    const real = await sign(ec.privateKey, { alg: 'ES256', kid: ec.kid }, claims());
    const [h, p] = real.split('.');
    const zeros = Buffer.alloc(64).toString('base64url');
    await expectInvalid(`${h}.${p}.${zeros}`, WebIdentityMessages.invalidSignature);
    // The DER form CVE-2022-21449 exploits (SEQUENCE { INTEGER 0, INTEGER 0 }).
    await expectInvalid(`${h}.${p}.MAYCAQACAQA`, WebIdentityMessages.invalidSignature);
  });

  it('rejects a 5-segment JWE without decrypting it', async () => {
    const jwe = await new CompactEncrypt(encode(claims()))
      .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: rsa.kid })
      .encrypt(randomBytes(32));
    expect(jwe.split('.')).toHaveLength(5);
    await expectInvalid(jwe, WebIdentityMessages.notAJwt);
    const pbes2 = `${b64({ alg: 'PBES2-HS512+A256KW', enc: 'A256GCM', p2c: 2 ** 31, p2s: 'AAAA' })}.a.b.c.d`;
    await expectInvalid(pbes2, WebIdentityMessages.notAJwt);
  });

  it('never trusts or fetches header jwk / jku / x5u / x5c', async () => {
    let requests = 0;
    const server: Server = createServer((_req, res) => {
      requests += 1;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: [attacker.jwk] }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const url = `http://127.0.0.1:${port}/keys`;
      const hostile = {
        alg: 'RS256',
        jwk: attacker.jwk,
        jku: url,
        x5u: `http://127.0.0.1:${port}/cert.pem`,
        x5c: ['MIIB'],
      };
      await expectInvalid(
        await sign(attacker.privateKey, { ...hostile, kid: 'attacker' }, claims()),
        WebIdentityMessages.keyNotFound,
      );
      await expectInvalid(
        await sign(attacker.privateKey, { ...hostile, kid: rsa.kid }, claims()),
        WebIdentityMessages.invalidSignature,
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(requests).toBe(0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('refuses a key whose curve or declared alg does not fit the algorithm', async () => {
    // ES256 signed by hand with a P-384 key (jose would not), the P-384 key offered for it.
    const p384 = await makeKey('ES384', 'p384');
    const input = `${b64({ alg: 'ES256', kid: 'p384' })}.${b64(claims())}`;
    const signature = nodeSign('sha256', Buffer.from(input), {
      key: KeyObject.from(p384.privateKey),
      dsaEncoding: 'ieee-p1363',
    });
    const wrongCurve: KeySetSource = {
      selectKeys: () => Promise.resolve([{ ...p384.jwk, alg: undefined }]),
    };
    const curveErr = await rejection(
      verifyWebIdentityToken(`${input}.${signature.toString('base64url')}`, {
        keysFor: () => Promise.resolve(wrongCurve),
        now: NOW,
      }),
    );
    expect(curveErr.message).toBe(WebIdentityMessages.invalidSignature);
    // An RSA key whose alg says RS384, for an RS256 token; without the alg it verifies.
    const token = await sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims());
    const keysOf = (jwk: JWK) => ({
      keysFor: () => Promise.resolve<KeySetSource>({ selectKeys: () => Promise.resolve([jwk]) }),
      now: NOW,
    });
    const algErr = await rejection(
      verifyWebIdentityToken(token, keysOf({ ...rsa.jwk, alg: 'RS384' })),
    );
    expect(algErr.message).toBe(WebIdentityMessages.invalidSignature);
    const plain = await verifyWebIdentityToken(token, keysOf({ ...rsa.jwk, alg: undefined }));
    expect(plain.subject).toBe(SUB);
  });

  it('refuses a key whose type does not fit the algorithm', async () => {
    // A key source that ignores the selector and hands out an EC key for an RS256 token.
    const wrongType: KeySetSource = { selectKeys: () => Promise.resolve([ec.jwk]) };
    const token = await sign(rsa.privateKey, { alg: 'RS256', kid: ec.kid }, claims());
    const err = await rejection(
      verifyWebIdentityToken(token, { keysFor: () => Promise.resolve(wrongType), now: NOW }),
    );
    expect(err.message).toBe(WebIdentityMessages.invalidSignature);
    // The selector itself never offers it: the EC kid with RS256 finds no key.
    await expectInvalid(token, WebIdentityMessages.keyNotFound);
  });

  it('refuses RSA keys under 2048 bits', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const jwk = { ...weak.publicKey.export({ format: 'jwk' }), kid: 'weak' } as JWK;
    const set = new LocalKeySet([jwk]);
    const token = rawRs256(weak.privateKey, { alg: 'RS256', kid: 'weak' }, claims());
    const err = await rejection(
      verifyWebIdentityToken(token, { keysFor: () => Promise.resolve(set), now: NOW }),
    );
    expect(err.message).toBe(WebIdentityMessages.invalidSignature);
  });

  it('rejects algorithms off the allow-list (PS256 is not accepted by AWS STS)', async () => {
    const ps = await generateKeyPair('PS256', { extractable: true });
    const set = new LocalKeySet([{ ...(await exportJWK(ps.publicKey)), kid: 'ps' }]);
    const token = await sign(ps.privateKey, { alg: 'PS256', kid: 'ps' }, claims());
    const psOptions = { keysFor: () => Promise.resolve(set), now: NOW };
    const err = await rejection(verifyWebIdentityToken(token, psOptions));
    expect(err.message).toBe(WebIdentityMessages.notAJwt);
    const ok = await verifyWebIdentityToken(token, { ...psOptions, algorithms: ['PS256'] });
    expect(ok.header.alg).toBe('PS256');
  });

  it('rejects crit, b64 and nested-JWT headers and malformed segments', async () => {
    const rsaKey = KeyObject.from(rsa.privateKey);
    for (const extra of [{ crit: ['exp'], exp: 1 }, { b64: false }, { cty: 'JWT' }]) {
      const token = rawRs256(rsaKey, { alg: 'RS256', kid: rsa.kid, ...extra }, claims());
      await expectInvalid(token, WebIdentityMessages.notAJwt);
    }
    // The same hand-made signature without the extension header is valid.
    const plain = rawRs256(rsaKey, { alg: 'RS256', kid: rsa.kid }, claims());
    expect((await verifyWebIdentityToken(plain, options())).subject).toBe(SUB);
    for (const token of ['abcd', 'a.b', 'a.b.c', `${b64([1])}.${b64(claims())}.AAAA`, 'a..c']) {
      await expectInvalid(token, WebIdentityMessages.notAJwt);
    }
    const numericKid = await sign(rsa.privateKey, { alg: 'RS256', kid: 7 }, claims());
    await expectInvalid(numericKid, WebIdentityMessages.notAJwt);
  });
});

describe('verifyWebIdentityToken: issuer and audience', () => {
  it('rejects a token of an issuer the caller does not trust', async () => {
    for (const iss of [OTHER_ISSUER, `${ISSUER}/`, ISSUER.toLowerCase()]) {
      const token = await sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims({ iss }));
      await expectInvalid(token, `No OpenIDConnect provider found in your account for ${iss}`);
    }
  });

  it('rejects a token signed by another trusted issuer’s key but claiming this issuer', async () => {
    const other = new LocalKeySet([attacker.jwk]);
    const token = await sign(attacker.privateKey, { alg: 'RS256', kid: 'attacker' }, claims());
    const err = await rejection(
      verifyWebIdentityToken(token, {
        keysFor: (iss) => Promise.resolve(iss === ISSUER ? keySet : other),
        now: NOW,
      }),
    );
    expect(err.message).toBe(WebIdentityMessages.keyNotFound);
  });

  it('rejects a missing or non-string iss as not a JWT', async () => {
    for (const iss of [undefined, 42, '']) {
      const token = await sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims({ iss }));
      await expectInvalid(token, WebIdentityMessages.notAJwt);
    }
  });

  it('requires one of the given audiences (Pod Identity audience at STS)', async () => {
    const token = await sign(
      rsa.privateKey,
      { alg: 'RS256', kid: rsa.kid },
      claims({ aud: ['pods.eks.amazonaws.com'] }),
    );
    await expectInvalid(token, 'Incorrect token audience', { audiences: ['sts.amazonaws.com'] });
    const ok = await verifyWebIdentityToken(token, options());
    expect(ok.audiences).toEqual(['pods.eks.amazonaws.com']);
  });

  it('rejects missing, empty or malformed aud and sub', async () => {
    const sign2 = (over: Record<string, unknown>): Promise<string> =>
      sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims(over));
    await expectInvalid(await sign2({ aud: undefined }), 'Incorrect token audience');
    await expectInvalid(await sign2({ aud: [] }), 'Incorrect token audience');
    await expectInvalid(await sign2({ aud: [1] }), WebIdentityMessages.notAJwt);
    await expectInvalid(await sign2({ sub: undefined }));
    await expectInvalid(await sign2({ sub: 5 }));
  });
});

describe('verifyWebIdentityToken: time', () => {
  const at = (over: Record<string, unknown>): Promise<string> =>
    sign(rsa.privateKey, { alg: 'RS256', kid: rsa.kid }, claims(over));

  it('rejects a token expired 301 s ago with ExpiredTokenException and AWS’s message', async () => {
    const exp = NOW - 301;
    const err = await rejection(
      verifyWebIdentityToken(await at({ exp, iat: exp - 3600 }), options()),
    );
    expect(err.code).toBe('ExpiredTokenException');
    expect(err.status).toBe(400);
    expect(err.message).toBe(
      `Token expired: current date/time ${NOW} must be before the expiration date/time ${exp}`,
    );
  });

  it('accepts a token expired 299 s (and exactly 300 s) ago', async () => {
    for (const ago of [299, 300]) {
      const exp = NOW - ago;
      const id = await verifyWebIdentityToken(await at({ exp, iat: exp - 3600 }), options());
      expect(id.subject).toBe(SUB);
    }
  });

  it('honours a custom clock tolerance', async () => {
    const token = await at({ exp: NOW - 10, iat: NOW - 3600 });
    const err = await rejection(
      verifyWebIdentityToken(token, options({ clockToleranceSeconds: 0 })),
    );
    expect(err.code).toBe('ExpiredTokenException');
  });

  it('rejects iat or nbf 10 minutes in the future; accepts 299 s', async () => {
    await expectInvalid(await at({ iat: NOW + 600, nbf: NOW }));
    await expectInvalid(await at({ nbf: NOW + 600, iat: NOW }));
    const ok = await verifyWebIdentityToken(
      await at({ iat: NOW + 299, nbf: NOW + 299 }),
      options(),
    );
    expect(ok.subject).toBe(SUB);
  });

  it('rejects exp as a string, a float or missing; iat/nbf as floats', async () => {
    await expectInvalid(await at({ exp: String(NOW + 3600) }), WebIdentityMessages.timestamps);
    await expectInvalid(await at({ exp: NOW + 3600.5 }), WebIdentityMessages.timestamps);
    await expectInvalid(await at({ iat: NOW - 0.5 }), WebIdentityMessages.timestamps);
    await expectInvalid(await at({ nbf: '0' }), WebIdentityMessages.timestamps);
    await expectInvalid(
      await at({ exp: undefined }),
      'The web identity token is missing the required exp claim',
    );
  });

  it('accepts an 86,400 s token through its whole life', async () => {
    const token = await at({ iat: NOW, nbf: NOW, exp: NOW + 86_400 });
    for (const now of [NOW, NOW + 43_200, NOW + 86_400 + 299]) {
      const id = await verifyWebIdentityToken(token, options({ now }));
      expect(id.subject).toBe(SUB);
    }
  });

  it('uses the system clock by default', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = await at({ iat: now, nbf: now, exp: now + 600 });
    const id = await verifyWebIdentityToken(token, {
      keysFor: () => Promise.resolve(keySet),
    });
    expect(id.subject).toBe(SUB);
  });
});

describe('helpers', () => {
  it('checks STS’s WebIdentityToken length bounds without echoing the token', () => {
    expect(() => checkWebIdentityTokenLength('abcd')).not.toThrow();
    expect(() => checkWebIdentityTokenLength('a'.repeat(20_000))).not.toThrow();
    for (const token of ['abc', 'a'.repeat(20_001)]) {
      let thrown: unknown;
      try {
        checkWebIdentityTokenLength(token);
      } catch (err) {
        thrown = err;
      }
      expect(thrown).toBeInstanceOf(AwsError);
      expect((thrown as AwsError).code).toBe('ValidationError');
      expect((thrown as AwsError).message).not.toContain(token);
    }
  });

  it('maps token errors to EKS Auth codes', async () => {
    const token = await sign(attacker.privateKey, { alg: 'RS256', kid: rsa.kid }, claims());
    const err = await rejection(verifyWebIdentityToken(token, options()));
    const mapped = toEksAuthError(err) as AwsError;
    expect(mapped.code).toBe('InvalidTokenException');
    expect(mapped.status).toBe(400);
    const expired = new AwsError('ExpiredTokenException', 'x');
    expect(toEksAuthError(expired)).toBe(expired);
  });

  it('drops private and certificate members from JWKS entries', async () => {
    const { privateKey } = await generateKeyPair('RS256', { extractable: true });
    const priv = { ...(await exportJWK(privateKey)), kid: 'p', x5c: ['MIIB'] };
    const set = new LocalKeySet([
      priv,
      { kty: 'oct', k: 'AAAA', kid: 'h' },
      { ...rsa.jwk, use: 'enc' },
    ]);
    expect(set.keys).toHaveLength(1);
    expect(Object.keys(set.keys[0] ?? {}).sort()).toEqual(['e', 'kid', 'kty', 'n']);
  });
});
