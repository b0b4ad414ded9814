/**
 * The `/v1/credentials` contract through real HTTP: the body the SDKs read, the Host guard,
 * token checks before any EKS Auth call, EKS Auth errors passed through as upstream does, and
 * the 404/429 answers — each failure with upstream's status and text.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { b64 } from './helpers/pod-token.js';
import { EKS_AUTH_STATUS } from './helpers/eks-auth-stand-in.js';
import { rawExchange, request, startHarness, type Harness } from './helpers/harness.js';

let h: Harness;
let strict: Harness;
const pod = { namespace: 'default', serviceAccount: 'app' };
const AGENT_ADDRESSES = '[169.254.170.23 fd00:ec2::23 127.0.0.1 localhost ::1]';

beforeAll(async () => {
  h = await startHarness({ eksAuthMaxAttempts: 1 });
  strict = await startHarness({ local: false });
});
afterAll(async () => {
  await h.close();
  await strict.close();
});

describe('credentials answer', () => {
  it('returns the SDK body: keys, account, Go RFC 3339 expiration, JSON content type', async () => {
    const token = h.standIn.podToken(pod);
    const answer = await request(h.origin, { token });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/json');
    const body = answer.json ?? {};
    expect(Object.keys(body)).toEqual([
      'AccessKeyId',
      'SecretAccessKey',
      'Token',
      'AccountId',
      'Expiration',
    ]);
    const issued = h.standIn.ownerOf(body.AccessKeyId ?? '');
    expect(issued).toMatchObject({ namespace: 'default', serviceAccount: 'app' });
    expect(body.SecretAccessKey).toBe(issued?.secretAccessKey);
    expect(body.Token).toBe(issued?.sessionToken);
    expect(body.AccountId).toBe('111122223333');
    // Whole seconds: no fraction, as Go's RFC3339Nano prints them.
    expect(body.Expiration).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(body.Expiration ?? '')).toBe((issued?.expiration ?? 0) * 1000);
  });

  it('any method and a query string reach the handler; other paths get Go’s 404', async () => {
    const token = h.standIn.podToken(pod);
    expect((await request(h.origin, { token, method: 'POST' })).status).toBe(200);
    expect((await request(h.origin, { token, path: '/v1/credentials?x=1' })).status).toBe(200);
    for (const path of ['/', '/v1/credentials/', '/v1/credential', '/latest/meta-data/iam/']) {
      const answer = await request(h.origin, { token, path });
      expect(answer.status).toBe(404);
      expect(answer.text).toBe('404 page not found\n');
    }
  });
});

describe('Host guard (DNS rebinding)', () => {
  const accepted = [
    '169.254.170.23',
    '169.254.170.23:80',
    '169.254.170.23:2702',
    '[fd00:ec2::23]',
    '[fd00:ec2::23]:80',
    'fd00:ec2::23',
    // Upstream drops one pair of brackets whatever is inside.
    '[169.254.170.23]',
  ];
  const refused: Array<[string, string]> = [
    ['evil.com', 'evil.com'],
    ['evil.com:80', 'evil.com'],
    ['169.254.169.254', '169.254.169.254'],
    ['169.254.170.2', '169.254.170.2'],
    ['169.254.170.23.nip.io', '169.254.170.23.nip.io'],
    ['[fd00:ec2::23]x', '[fd00:ec2::23]x'],
    ['fd00:ec2::24', 'fd00:ec2::24'],
  ];

  it.each(accepted)('answers for Host %j', async (host) => {
    const answer = await request(strict.origin, { host, token: strict.standIn.podToken(pod) });
    expect(answer.status).toBe(200);
  });

  it.each(refused)('refuses Host %j with 403 before looking at the token', async (host, shown) => {
    const before = strict.standIn.calls;
    const answer = await request(strict.origin, { host, token: strict.standIn.podToken(pod) });
    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(answer.headers['x-content-type-options']).toBe('nosniff');
    expect(answer.text).toBe(
      `Access Denied. Called agent through invalid address, please use either [169.254.170.23 fd00:ec2::23] address not ${shown}\n`,
    );
    expect(strict.standIn.calls).toBe(before);
  });

  it('loopback names only with --local; case and trailing dots are not folded', async () => {
    const token = strict.standIn.podToken(pod);
    for (const host of [
      '127.0.0.1',
      'localhost',
      '[::1]',
      `127.0.0.1:${new URL(strict.origin).port}`,
    ]) {
      expect((await request(strict.origin, { host, token })).status).toBe(403);
      expect((await request(h.origin, { host, token: h.standIn.podToken(pod) })).status).toBe(200);
    }
    for (const host of ['LOCALHOST', 'localhost.', '127.0.0.2', '0.0.0.0']) {
      const answer = await request(h.origin, { host, token: h.standIn.podToken(pod) });
      expect(answer.status).toBe(403);
      expect(answer.text).toContain(`please use either ${AGENT_ADDRESSES} address not`);
    }
  });

  it('an absolute-form request target supplies the host, as in Go', async () => {
    const token = strict.standIn.podToken(pod);
    const text = await rawExchange(
      strict.origin,
      `GET http://evil.com/v1/credentials HTTP/1.1\r\nHost: 169.254.170.23\r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(text).toMatch(/^HTTP\/1\.1 403 /);
    expect(text).toContain('address not evil.com');
  });

  it('two Host headers are refused (400), a request without Host too', async () => {
    const token = strict.standIn.podToken(pod);
    const two = await rawExchange(
      strict.origin,
      `GET /v1/credentials HTTP/1.1\r\nHost: 169.254.170.23\r\nHost: evil.com\r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(two).toMatch(/^HTTP\/1\.1 400 /);
    const none = await rawExchange(
      strict.origin,
      `GET /v1/credentials HTTP/1.1\r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(none).toMatch(/^HTTP\/1\.1 400 /);
    const empty = await rawExchange(
      strict.origin,
      `GET /v1/credentials HTTP/1.1\r\nHost: \r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`,
    );
    expect(empty).toMatch(/^HTTP\/1\.1 403 /);
    expect(empty).toContain('address not \n');
  });
});

describe('token checks before EKS Auth', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'system:serviceaccount:default:app',
    aud: ['pods.eks.amazonaws.com'],
    exp: now() + 3600,
    ...extra,
  });
  const header = { alg: 'RS256', kid: 'k' };
  const cases: Array<[string, string | undefined, string]> = [
    ['no Authorization header', undefined, 'Service account token cannot be empty'],
    ['an empty token', '', 'Service account token cannot be empty'],
    [
      'one segment',
      'garbage',
      'Service account token cannot be parsed: token is malformed: token contains an invalid number of segments',
    ],
    [
      'four segments',
      'a.b.c.d',
      'Service account token cannot be parsed: token is malformed: token contains an invalid number of segments',
    ],
    [
      'a Bearer prefix',
      `Bearer ${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims()))}.sig`,
      'Service account token cannot be parsed: token is malformed: could not base64 decode header: illegal base64 data at input byte 6',
    ],
    [
      'a header that is not JSON',
      `${b64('not json')}.${b64(JSON.stringify(claims()))}.sig`,
      'Service account token cannot be parsed: token is malformed: could not JSON decode header: invalid JSON',
    ],
    [
      'claims that are an array',
      `${b64(JSON.stringify(header))}.${b64('[1]')}.sig`,
      'Service account token cannot be parsed: token is malformed: could not JSON decode claim: not an object',
    ],
    [
      'exp as a word',
      `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims({ exp: 'tomorrow' })))}.sig`,
      'Service account token cannot be parsed: token is malformed: could not JSON decode claim: invalid type for claim exp',
    ],
    [
      'aud as a number',
      `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims({ aud: 7 })))}.sig`,
      'Service account token cannot be parsed: token is malformed: could not JSON decode claim: invalid type for claim aud',
    ],
    [
      'no alg',
      `${b64(JSON.stringify({ kid: 'k' }))}.${b64(JSON.stringify(claims()))}.sig`,
      'Service account token cannot be parsed: token is unverifiable: signing method (alg) is unspecified',
    ],
    [
      'an unknown alg',
      `${b64(JSON.stringify({ alg: 'RS1' }))}.${b64(JSON.stringify(claims()))}.sig`,
      'Service account token cannot be parsed: token is unverifiable: signing method (alg) is unavailable',
    ],
    [
      'an expired token',
      `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims({ exp: now() - 1 })))}.sig`,
      'Service account token failed basic claim validations: token is expired',
    ],
    [
      'a token not valid yet',
      `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims({ nbf: now() + 600 })))}.sig`,
      'Service account token failed basic claim validations: token is not valid yet',
    ],
    [
      'a token both expired and not yet valid',
      `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims({ exp: now() - 5, nbf: now() + 600 })))}.sig`,
      'Service account token failed basic claim validations: token is expired, token is not valid yet',
    ],
  ];

  it.each(cases)(
    'refuses %s with 400 and makes no EKS Auth call',
    async (_name, token, message) => {
      const before = h.standIn.calls;
      const answer = await request(h.origin, { token });
      expect(answer.status).toBe(400);
      expect(answer.text).toBe(`${message}\n`);
      expect(h.standIn.calls).toBe(before);
    },
  );

  it('an expired token is refused even while its credentials are cached', async () => {
    const token = h.standIn.podToken(pod, { lifetimeSeconds: 3600 });
    expect((await request(h.origin, { token })).status).toBe(200);
    h.clock.advance(3600_000);
    try {
      const answer = await request(h.origin, { token });
      expect(answer.status).toBe(400);
      expect(answer.text).toBe(
        'Service account token failed basic claim validations: token is expired\n',
      );
    } finally {
      h.clock.advance(-3600_000);
    }
  });

  it('passes a well-formed token with another audience on: EKS Auth rejects it (400)', async () => {
    const token = h.standIn.podToken(pod, { audience: 'sts.amazonaws.com' });
    const answer = await request(h.origin, { token });
    expect(answer.status).toBe(400);
    expect(answer.text).toMatch(
      /^\[[0-9a-f-]{36}\]: \(InvalidTokenException\): Incorrect token audience\., fault: client\n$/,
    );
  });
});

describe('EKS Auth errors reach the pod as upstream passes them', () => {
  it.each(Object.entries(EKS_AUTH_STATUS))('%s → HTTP %i', async (code, status) => {
    const token = h.standIn.podToken({ namespace: 'errors', serviceAccount: code.toLowerCase() });
    h.standIn.outcomes.set(token, { kind: 'error', code, message: `no (${code})` });
    const answer = await request(h.origin, { token });
    expect(answer.status).toBe(status);
    const fault = status >= 500 ? 'server' : 'client';
    expect(answer.text).toMatch(
      new RegExp(`^\\[[0-9a-f-]{36}\\]: \\(${code}\\): no \\(${code}\\), fault: ${fault}\\n$`),
    );
  });

  it('a code suffixed with a URI and an unmodelled code', async () => {
    const token = h.standIn.podToken({ namespace: 'errors', serviceAccount: 'odd' });
    h.standIn.outcomes.set(token, {
      kind: 'raw',
      status: 418,
      body: '{"message":"teapot"}',
      headers: { 'x-amzn-errortype': 'TeapotException:http://internal.amazon.com/coral/' },
    });
    const answer = await request(h.origin, { token });
    expect(answer.status).toBe(418);
    expect(answer.text).toBe('[]: (TeapotException): teapot, fault: unknown\n');
  });

  it('an unusable 200 answer is a 500', async () => {
    const token = h.standIn.podToken({ namespace: 'errors', serviceAccount: 'empty' });
    h.standIn.outcomes.set(token, { kind: 'raw', status: 200, body: '{"subject":{}}' });
    const answer = await request(h.origin, { token });
    expect(answer.status).toBe(500);
    expect(answer.text).toBe(
      'error getting credentials to cache: unable to fetch credentials from EKS Auth: invalid response from server: credentials or assumed role empty\n',
    );
  });

  it('credentials with 15 s or less left are refused with 500 and not cached', async () => {
    const token = h.standIn.podToken({ namespace: 'errors', serviceAccount: 'short' });
    h.standIn.outcomes.set(token, { kind: 'ok', expiresInSeconds: 15 });
    const answer = await request(h.origin, { token });
    expect(answer.status).toBe(500);
    expect(answer.text).toMatch(
      /fetched credentials are expired or will expire within the next 1[45]\.\d\d seconds/,
    );
    h.standIn.outcomes.delete(token);
    expect((await request(h.origin, { token })).status).toBe(200);
    expect(h.standIn.callsFor(token)).toBe(2);
  });

  it('a timeout (1 s per attempt) and a dropped connection are 500s', async () => {
    const slow = h.standIn.podToken({ namespace: 'errors', serviceAccount: 'slow' });
    h.standIn.outcomes.set(slow, { kind: 'hang' });
    const started = Date.now();
    const answer = await request(h.origin, { token: slow });
    expect(answer.status).toBe(500);
    expect(answer.text).toContain('request to EKS Auth timed out after 1000 ms');
    expect(Date.now() - started).toBeLessThan(3000);
    const dropped = h.standIn.podToken({ namespace: 'errors', serviceAccount: 'dropped' });
    h.standIn.outcomes.set(dropped, { kind: 'drop' });
    const second = await request(h.origin, { token: dropped });
    expect(second.status).toBe(500);
    expect(second.text).toMatch(
      /^error getting credentials to cache: unable to fetch credentials from EKS Auth: /,
    );
  });

  it('the node’s keys sign every call: a wrong secret is refused by EKS Auth', async () => {
    const wrong = await startHarness({
      credentials: { accessKeyId: 'AKIANODEKEY000000001', secretAccessKey: 'x'.repeat(40) },
      eksAuthMaxAttempts: 1,
    });
    try {
      const answer = await request(wrong.origin, { token: wrong.standIn.podToken(pod) });
      expect(answer.status).toBe(403);
      expect(answer.text).toContain('(InvalidSignatureException)');
      expect(wrong.standIn.signatureFailures).toBe(1);
      expect(h.standIn.signatureFailures).toBe(0);
    } finally {
      await wrong.close();
    }
  });
});

describe('retries as the Go SDK makes them', () => {
  it('retries 503 and throttling, then succeeds (3 attempts)', async () => {
    const r = await startHarness({ eksAuthMaxAttempts: 3 });
    try {
      const token = r.standIn.podToken(pod);
      r.standIn.outcomes.set(token, {
        kind: 'sequence',
        steps: [
          { kind: 'error', code: 'ServiceUnavailableException' },
          { kind: 'error', code: 'ThrottlingException' },
        ],
      });
      expect((await request(r.origin, { token })).status).toBe(200);
      expect(r.standIn.callsFor(token)).toBe(3);
    } finally {
      await r.close();
    }
  });

  it('gives up after 3 attempts and passes the last status through', async () => {
    const r = await startHarness({ eksAuthMaxAttempts: 3 });
    try {
      const token = r.standIn.podToken(pod);
      r.standIn.outcomes.set(token, { kind: 'error', code: 'InternalServerException' });
      expect((await request(r.origin, { token })).status).toBe(500);
      expect(r.standIn.callsFor(token)).toBe(3);
    } finally {
      await r.close();
    }
  });

  it('does not retry client errors', async () => {
    const r = await startHarness({ eksAuthMaxAttempts: 3 });
    try {
      const token = r.standIn.podToken(pod);
      r.standIn.outcomes.set(token, { kind: 'error', code: 'AccessDeniedException' });
      expect((await request(r.origin, { token })).status).toBe(400);
      expect(r.standIn.callsFor(token)).toBe(1);
    } finally {
      await r.close();
    }
  });
});

describe('incoming rate limit', () => {
  it('answers 429 "Too Many Requests" beyond the burst, before any other check', async () => {
    // A refill rate too slow to matter during the test: exactly the burst gets through.
    const r = await startHarness({ rateLimit: 0.001, burst: 5 });
    try {
      const token = r.standIn.podToken(pod);
      const answers = [];
      for (let i = 0; i < 20; i++)
        answers.push(await request(r.origin, { token, host: 'evil.com' }));
      const statuses = answers.map((a) => a.status);
      expect(statuses.slice(0, 5)).toEqual([403, 403, 403, 403, 403]);
      expect(statuses.slice(5)).toEqual(Array(15).fill(429));
      const limited = answers.find((a) => a.status === 429);
      expect(limited?.text).toBe('Too Many Requests\n');
      // 404s are not counted (upstream limits only the credentials handler).
      expect((await request(r.origin, { token, path: '/other' })).status).toBe(404);
    } finally {
      await r.close();
    }
  });
});
