/**
 * Hostile and malformed requests: each gets AWS's error code, status and message, and a typed
 * `reason` for protocol layers that word it differently (S3).
 */
import { createHmac } from 'node:crypto';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  parseSignatureV4,
  SigV4Error,
  verifySignatureV4,
  type SigV4FailureReason,
  type SigV4Request,
  type VerifyOptions,
} from '../../src/sigv4/index.js';
import { signingKeyCacheSize } from '../../src/sigv4/signing-key.js';
import { sdkSign, sha256Hex, type Credentials } from './helpers.js';

const CREDENTIALS: Credentials = {
  accessKeyId: 'AKIDEXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY',
};
const SECRET = CREDENTIALS.secretAccessKey;
const T = Date.UTC(2015, 7, 30, 12, 36, 0); // 20150830T123600Z
const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const STS_OPTIONS: VerifyOptions = { now: T, maxSkewSeconds: 300, payloadHash: sha256Hex(BODY) };

/** An STS-like POST, signed by the SDK at T. */
function stsPost(credentials: Credentials = CREDENTIALS): Promise<SigV4Request> {
  return sdkSign(
    {
      method: 'POST',
      path: '/',
      query: {},
      headers: {
        host: 'sts.localhost',
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      },
      body: BODY,
    },
    { service: 'sts', region: 'us-east-1', credentials, signingDate: new Date(T) },
  );
}

/** An S3 GET presigned by the SDK at T. */
function s3Presigned(
  expiresIn: number,
  credentials: Credentials = CREDENTIALS,
): Promise<SigV4Request> {
  return sdkSign(
    {
      method: 'GET',
      path: '/bucket/key.txt',
      query: { 'x-id': 'GetObject' },
      headers: { host: 's3.localhost', 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    },
    {
      service: 's3',
      region: 'us-east-1',
      credentials,
      signingDate: new Date(T),
      presign: { expiresIn, unhoistableHeaders: new Set(['x-amz-content-sha256']) },
    },
  );
}

const S3_OPTIONS: VerifyOptions = {
  now: T,
  maxSkewSeconds: 900,
  payloadHash: 'UNSIGNED-PAYLOAD',
  uriEscapePath: false,
};

function withHeader(req: SigV4Request, name: string, value: string | undefined): SigV4Request {
  const headers = { ...req.headers, [name]: value };
  if (value === undefined) delete headers[name];
  return { ...req, headers };
}

function authorization(req: SigV4Request): string {
  return String(req.headers.authorization);
}

/** Runs parse + verify and returns the SigV4Error (fails the test if there is none). */
function failure(
  req: SigV4Request,
  options: VerifyOptions = STS_OPTIONS,
  secret = SECRET,
): SigV4Error {
  try {
    const parsed = parseSignatureV4(req);
    if (parsed === null) throw new Error('anonymous');
    verifySignatureV4(req, parsed, secret, options);
  } catch (err) {
    if (err instanceof SigV4Error) return err;
    throw err;
  }
  throw new Error('expected a SigV4Error');
}

function expectFailure(
  err: SigV4Error,
  code: string,
  status: number,
  reason: SigV4FailureReason,
  message?: string,
): void {
  expect({ code: err.code, status: err.status, reason: err.reason }).toEqual({
    code,
    status,
    reason,
  });
  if (message !== undefined) expect(err.message).toBe(message);
}

function verifies(req: SigV4Request, options: VerifyOptions = STS_OPTIONS): void {
  const parsed = parseSignatureV4(req);
  expect(parsed).not.toBeNull();
  expect(() => verifySignatureV4(req, parsed!, SECRET, options)).not.toThrow();
}

describe('anonymous requests', () => {
  it('parse returns null when there is no SigV4 at all', () => {
    expect(parseSignatureV4({ method: 'GET', path: '/', query: '', headers: {} })).toBeNull();
    expect(
      parseSignatureV4({ method: 'GET', path: '/', query: 'Action=X&X-Amz-Date=1', headers: {} }),
    ).toBeNull();
  });
});

describe('malformed Authorization header', () => {
  const base: SigV4Request = {
    method: 'POST',
    path: '/',
    query: '',
    headers: { host: 'sts.localhost', 'x-amz-date': '20150830T123600Z' },
  };

  it('lists every missing component, as AWS does', () => {
    const req = withHeader(base, 'authorization', 'AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE');
    expectFailure(
      failure(req),
      'IncompleteSignature',
      400,
      'malformed-authorization',
      "Authorization header requires 'Signature' parameter. Authorization header requires " +
        "'SignedHeaders' parameter. Authorization=AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE",
    );
  });

  it('adds the date requirement when neither X-Amz-Date nor Date is sent', () => {
    const req = withHeader(
      withHeader(base, 'x-amz-date', undefined),
      'authorization',
      'AWS4-HMAC-SHA256 Foo=Bar, Baz=Burp',
    );
    expectFailure(
      failure(req),
      'IncompleteSignature',
      400,
      'malformed-authorization',
      "Authorization header requires 'Credential' parameter. Authorization header requires " +
        "'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. " +
        "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
        'Authorization=AWS4-HMAC-SHA256 Foo=Bar, Baz=Burp',
    );
  });

  it('rejects a component without an equal sign', () => {
    const req = withHeader(base, 'authorization', 'AWS4-HMAC-SHA256 FooBar, BazBurp');
    expectFailure(
      failure(req),
      'IncompleteSignature',
      400,
      'malformed-authorization',
      "'FooBar' not a valid key=value pair (missing equal-sign) in Authorization header: " +
        "'AWS4-HMAC-SHA256 FooBar, BazBurp'",
    );
  });

  it('rejects other schemes and SigV4a', () => {
    for (const value of [
      'Bearer eyJhbGciOi.x.y',
      'AWS AKIDEXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=',
      'Basic Zm9vOmJhcg==',
    ]) {
      const err = failure(withHeader(base, 'authorization', value));
      expectFailure(err, 'IncompleteSignature', 400, 'unsupported-authorization');
      expect(err.message).toMatch(/^Authorization header requires 'Credential' parameter\. /);
      expect(err.message.endsWith(`Authorization=${value}`)).toBe(true);
    }
    const v4a =
      'AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/s3/aws4_request, SignedHeaders=host, Signature=ab';
    expectFailure(
      failure(withHeader(base, 'authorization', v4a)),
      'IncompleteSignature',
      400,
      'unsupported-authorization',
      "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'.",
    );
  });

  it('rejects a credential that is not five slash-separated parts', async () => {
    const req = await stsPost();
    const bad = authorization(req).replace('/us-east-1/sts', '');
    expectFailure(
      failure(withHeader(req, 'authorization', bad)),
      'IncompleteSignature',
      400,
      'malformed-credential',
      "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got 'AKIDEXAMPLE/20150830/aws4_request'",
    );
  });

  it('requires host to be signed', async () => {
    const req = await stsPost();
    const bad = authorization(req).replace('host;', '');
    expectFailure(
      failure(withHeader(req, 'authorization', bad)),
      'SignatureDoesNotMatch',
      403,
      'host-not-signed',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  });
});

describe('request date', () => {
  it('missing X-Amz-Date (and no Date) → IncompleteSignature', async () => {
    const req = withHeader(await stsPost(), 'x-amz-date', undefined);
    const err = failure(req);
    expectFailure(
      err,
      'IncompleteSignature',
      400,
      'missing-date',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. " +
        `Authorization=${authorization(req)}`,
    );
  });

  it('malformed X-Amz-Date → IncompleteSignature', async () => {
    const req = withHeader(await stsPost(), 'x-amz-date', '2015/08/30T12/36/00Z');
    expectFailure(
      failure(req),
      'IncompleteSignature',
      400,
      'malformed-date',
      "Date must be in ISO-8601 'basic format'. Got '2015/08/30T12/36/00Z'. See http://en.wikipedia.org/wiki/ISO_8601",
    );
    expect(failure(withHeader(req, 'x-amz-date', '20150230T123600Z')).reason).toBe(
      'malformed-date',
    );
  });

  it('accepts the Date header when X-Amz-Date is absent', () => {
    // Signed by hand: the SDK always uses X-Amz-Date.
    const hmac = (k: string | Buffer, d: string): Buffer =>
      createHmac('sha256', k).update(d).digest();
    const key = hmac(
      hmac(hmac(hmac(`AWS4${SECRET}`, '20150830'), 'us-east-1'), 'iam'),
      'aws4_request',
    );
    const canonical = `GET\n/\nAction=ListUsers&Version=2010-05-08\ndate:Sun, 30 Aug 2015 12:36:00 GMT\nhost:iam.localhost\n\ndate;host\n${sha256Hex('')}`;
    const toSign = `AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/aws4_request\n${sha256Hex(canonical)}`;
    const signature = hmac(key, toSign).toString('hex');
    const req: SigV4Request = {
      method: 'GET',
      path: '/',
      query: 'Action=ListUsers&Version=2010-05-08',
      headers: {
        host: 'iam.localhost',
        date: 'Sun, 30 Aug 2015 12:36:00 GMT',
        authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=date;host, Signature=${signature}`,
      },
    };
    expect(parseSignatureV4(req)?.amzDate).toBe('20150830T123600Z');
    verifies(req, { ...STS_OPTIONS, payloadHash: sha256Hex('') });
  });
});

describe('time window', () => {
  it('IAM/STS: 5 minutes either way, with AWS’s messages', async () => {
    const req = await stsPost();
    verifies(req, { ...STS_OPTIONS, now: T + 300_000 });
    verifies(req, { ...STS_OPTIONS, now: T - 300_000 });
    expectFailure(
      failure(req, { ...STS_OPTIONS, now: T + 600_000 }),
      'SignatureDoesNotMatch',
      403,
      'skew-past',
      'Signature expired: 20150830T123600Z is now earlier than 20150830T124100Z (20150830T124600Z - 5 min.)',
    );
    expectFailure(
      failure(req, { ...STS_OPTIONS, now: T + 300_999 + 1 }),
      'SignatureDoesNotMatch',
      403,
      'skew-past',
    );
    const future = failure(req, { ...STS_OPTIONS, now: T - 301_000 });
    expectFailure(
      future,
      'SignatureDoesNotMatch',
      403,
      'skew-future',
      'Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z (20150830T123059Z + 5 min.)',
    );
    expect(future.details).toMatchObject({ requestTime: '20150830T123600Z', maxSkewMs: 300_000 });
  });

  it('S3: 15 minutes either way', async () => {
    const req = await sdkSign(
      { method: 'GET', path: '/bucket/key', query: {}, headers: { host: 's3.localhost' } },
      { service: 's3', region: 'us-east-1', credentials: CREDENTIALS, signingDate: new Date(T) },
    );
    const options = { ...S3_OPTIONS, payloadHash: sha256Hex('') };
    verifies(req, { ...options, now: T + 899_000 });
    verifies(req, { ...options, now: T - 899_000 });
    expectFailure(
      failure(req, { ...options, now: T + 901_000 }),
      'SignatureDoesNotMatch',
      403,
      'skew-past',
      'Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z (20150830T125101Z - 15 min.)',
    );
    expectFailure(
      failure(req, { ...options, now: T - 901_000 }),
      'SignatureDoesNotMatch',
      403,
      'skew-future',
    );
  });
});

describe('presigned requests', () => {
  it('valid until X-Amz-Date + X-Amz-Expires, then RequestExpired', async () => {
    const req = await s3Presigned(60);
    verifies(req, { ...S3_OPTIONS, now: T + 60_000 });
    const err = failure(req, { ...S3_OPTIONS, now: T + 61_000 });
    expectFailure(err, 'RequestExpired', 400, 'presign-expired', 'Request has expired.');
    expect(err.details).toMatchObject({
      expiresSeconds: 60,
      expiresAtMs: T + 60_000,
      serverTimeMs: T + 61_000,
    });
  });

  it('can be capped below X-Amz-Expires (STS behaviour)', async () => {
    const req = await s3Presigned(3600);
    verifies(req, { ...S3_OPTIONS, now: T + 1800_000 });
    const capped = { ...S3_OPTIONS, maxPresignedAgeSeconds: 900 };
    verifies(req, { ...capped, now: T + 900_000 });
    expectFailure(
      failure(req, { ...capped, now: T + 901_000 }),
      'RequestExpired',
      400,
      'presign-expired',
    );
  });

  it('not yet valid beyond the skew', async () => {
    const req = await s3Presigned(3600);
    verifies(req, { ...S3_OPTIONS, now: T - 900_000 });
    expectFailure(
      failure(req, { ...S3_OPTIONS, now: T - 901_000 }),
      'SignatureDoesNotMatch',
      403,
      'presign-not-yet-valid',
    );
  });

  it('X-Amz-Expires must be a number from 0 to 604800', async () => {
    const req = await s3Presigned(3600);
    const cases: [string, string][] = [
      [
        '604801',
        'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires must be less than 604800 seconds',
      ],
      ['-1', 'X-Amz-Expires must be non-negative'],
      ['1h', 'X-Amz-Expires should be a number'],
    ];
    for (const [value, message] of cases) {
      const bad = {
        ...req,
        query: req.query.replace('X-Amz-Expires=3600', `X-Amz-Expires=${value}`),
      };
      expectFailure(
        failure(bad, S3_OPTIONS),
        'IncompleteSignature',
        400,
        'invalid-expires',
        message,
      );
    }
    const week = { ...req, query: req.query.replace('X-Amz-Expires=3600', 'X-Amz-Expires=604800') };
    expect(parseSignatureV4(week)?.expiresSeconds).toBe(604_800);
  });

  it('requires every query parameter and one auth mechanism only', async () => {
    const req = await s3Presigned(60);
    const noDate = { ...req, query: req.query.replace(/X-Amz-Date=[^&]*&?/, '') };
    expectFailure(
      failure(noDate, S3_OPTIONS),
      'IncompleteSignature',
      400,
      'malformed-presign',
      'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.',
    );
    const v2 = { ...req, query: req.query.replace('AWS4-HMAC-SHA256', 'AWS4-HMAC-SHA1') };
    expectFailure(
      failure(v2, S3_OPTIONS),
      'IncompleteSignature',
      400,
      'malformed-presign',
      'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"',
    );
    const both = withHeader(req, 'authorization', 'AWS4-HMAC-SHA256 Credential=x');
    expectFailure(failure(both, S3_OPTIONS), 'IncompleteSignature', 400, 'multiple-auth');
  });

  it('carries the session token and payload marker', async () => {
    const req = await s3Presigned(60, { ...CREDENTIALS, sessionToken: 'FwoGZXIvYXdzE+/=' });
    const parsed = parseSignatureV4(req);
    expect(parsed).toMatchObject({
      kind: 'presigned',
      securityToken: 'FwoGZXIvYXdzE+/=',
      declaredPayloadHash: 'UNSIGNED-PAYLOAD',
      expiresSeconds: 60,
    });
    verifies(req, S3_OPTIONS);
  });
});

describe('credential scope', () => {
  it('wrong terminator', async () => {
    const req = await stsPost();
    const bad = withHeader(
      req,
      'authorization',
      authorization(req).replace('aws4_request', 'aws5_request'),
    );
    expectFailure(
      failure(bad),
      'SignatureDoesNotMatch',
      403,
      'scope-terminator',
      "Credential should be scoped with a valid terminator: 'aws4_request', not 'aws5_request'.",
    );
  });

  it('scope date differs from X-Amz-Date', async () => {
    const req = await stsPost();
    const bad = withHeader(
      req,
      'authorization',
      authorization(req).replace('/20150830/', '/20150831/'),
    );
    expectFailure(
      failure(bad),
      'SignatureDoesNotMatch',
      403,
      'scope-date',
      "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
    );
  });

  it('service and region checked when the caller names them', async () => {
    const req = await stsPost();
    verifies(req, { ...STS_OPTIONS, service: 'sts', region: 'us-east-1' });
    expectFailure(
      failure(req, { ...STS_OPTIONS, service: 'iam' }),
      'SignatureDoesNotMatch',
      403,
      'scope-service',
      "Credential should be scoped to correct service: 'iam'.",
    );
    expectFailure(
      failure(req, { ...STS_OPTIONS, service: 'iam', region: 'eu-west-3' }),
      'SignatureDoesNotMatch',
      403,
      'scope-region',
      "Credential should be scoped to a valid region, not 'us-east-1'. Credential should be scoped to correct service: 'iam'.",
    );
  });
});

describe('signature comparison', () => {
  it('wrong length, wrong last digit, upper case and wrong secret fail alike', async () => {
    const req = await stsPost();
    const sig = parseSignatureV4(req)!.signature;
    const last = sig.slice(0, -1) + (sig.endsWith('0') ? '1' : '0');
    const variants = [
      last,
      sig.slice(0, -1),
      sig + '0',
      'abc',
      sig.toUpperCase(),
      sig.replace(/./, 'é'),
    ];
    const messages = new Set<string>();
    for (const v of variants) {
      const err = failure(withHeader(req, 'authorization', authorization(req).replace(sig, v)));
      expectFailure(err, 'SignatureDoesNotMatch', 403, 'signature-mismatch');
      messages.add(err.message);
    }
    messages.add(failure(req, STS_OPTIONS, SECRET.replace('K', 'k')).message);
    // An empty signature is a missing one.
    const empty = failure(withHeader(req, 'authorization', authorization(req).replace(sig, '')));
    expectFailure(empty, 'IncompleteSignature', 400, 'malformed-authorization');
    expect([...messages]).toEqual([
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    ]);
  });

  it('a session token in the header is parsed and signed', async () => {
    const req = await stsPost({ ...CREDENTIALS, sessionToken: 'IQoJb3JpZ2luX2VjEH' });
    expect(parseSignatureV4(req)?.securityToken).toBe('IQoJb3JpZ2luX2VjEH');
    verifies(req);
    expect(failure(withHeader(req, 'x-amz-security-token', 'IQoJb3JpZ2luX2VjEX')).reason).toBe(
      'signature-mismatch',
    );
  });

  it("accepts a raw '+' in the query read either as a plus or as a space", async () => {
    const sign = (q: Record<string, string>): Promise<SigV4Request> =>
      sdkSign(
        { method: 'GET', path: '/', query: q, headers: { host: 'iam.localhost' } },
        { service: 'iam', region: 'us-east-1', credentials: CREDENTIALS, signingDate: new Date(T) },
      );
    const options = { ...STS_OPTIONS, payloadHash: sha256Hex('') };
    const space = await sign({ PathPrefix: '/a b/' });
    verifies({ ...space, query: space.query.replace('%20', '+') }, options);
    const plus = await sign({ PathPrefix: '/a+b/' });
    verifies({ ...plus, query: plus.query.replace('%2B', '+') }, options);
    expect(failure({ ...plus, query: plus.query.replace('%2B', '-') }, options).reason).toBe(
      'signature-mismatch',
    );
  });

  it('rejects a payloadHash that is neither a hash nor a marker (caller bug)', async () => {
    const req = await stsPost();
    const parsed = parseSignatureV4(req)!;
    expect(() =>
      verifySignatureV4(req, parsed, SECRET, { ...STS_OPTIONS, payloadHash: 'abc' }),
    ).toThrow(TypeError);
  });
});

describe('secret hygiene and the key cache', () => {
  it('keeps the signing key and the canonical request out of logs', async () => {
    const req = await stsPost({ ...CREDENTIALS, sessionToken: 'SECRET-SESSION-TOKEN' });
    const parsed = parseSignatureV4(req)!;
    const verified = verifySignatureV4(req, parsed, SECRET, STS_OPTIONS);
    expect(verified.signingKey).toHaveLength(32);
    expect(Object.keys(verified)).not.toContain('signingKey');
    expect(JSON.stringify(verified)).not.toContain('signingKey');
    expect(inspect(verified)).not.toContain('signingKey');

    const err = failure(req, STS_OPTIONS, 'another secret');
    expect(err.canonicalRequest).toContain('x-amz-security-token:SECRET-SESSION-TOKEN');
    expect(JSON.stringify(err)).not.toContain('SECRET-SESSION-TOKEN');
    expect(inspect(err)).not.toContain('SECRET-SESSION-TOKEN');
  });

  it('returns a copy of the cached key', async () => {
    const req = await stsPost();
    const parsed = parseSignatureV4(req)!;
    verifySignatureV4(req, parsed, SECRET, STS_OPTIONS).signingKey.fill(0);
    verifies(req);
  });

  it('caches signing keys, bounded', async () => {
    const req = await stsPost();
    const parsed = parseSignatureV4(req)!;
    verifySignatureV4(req, parsed, SECRET, STS_OPTIONS);
    const size = signingKeyCacheSize();
    verifySignatureV4(req, parsed, SECRET, STS_OPTIONS);
    expect(signingKeyCacheSize()).toBe(size);
    for (let i = 0; i < 1100; i++) {
      try {
        verifySignatureV4(req, parsed, `secret-${i}`, STS_OPTIONS);
      } catch {
        // wrong secret: only the cache matters here
      }
    }
    expect(signingKeyCacheSize()).toBe(1024);
  });
});
