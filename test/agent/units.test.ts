/**
 * The agent's pure pieces, pinned by tables: Host parsing (Go's `net.SplitHostPort` rules), the
 * expiration format, EKS Auth error parsing, backoff, the token bucket, single flight, and the
 * exact-token check on cache hits.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../src/agent/cache.js';
import {
  credentialsBody,
  formatGoRfc3339Nano,
  type PodCredentials,
} from '../../src/agent/credentials.js';
import { parseCredentials, parseError } from '../../src/agent/eks-auth-client.js';
import { EksAuthError, EksAuthTransportError, failureResponse } from '../../src/agent/errors.js';
import { requestTargetHost } from '../../src/agent/host-guard.js';
import { parseListenAddress } from '../../src/agent/listen-address.js';
import { AgentMetrics } from '../../src/agent/metrics.js';
import { TokenBucket } from '../../src/agent/rate-limit.js';
import { backoffDelayMs, isRetryable, RetryQuota } from '../../src/agent/retry.js';
import { CredentialRetriever, renewalDelayMs } from '../../src/agent/retriever.js';
import { SingleFlight } from '../../src/agent/single-flight.js';
import { parsePodToken, tokenDigest, tokenIndex } from '../../src/agent/token.js';
import { b64 } from './helpers/pod-token.js';

describe('requestTargetHost (upstream validateRequestTargetHost)', () => {
  it.each([
    ['169.254.170.23', '169.254.170.23'],
    ['169.254.170.23:80', '169.254.170.23'],
    ['169.254.170.23:', '169.254.170.23'],
    ['169.254.170.23:abc', '169.254.170.23'],
    ['[fd00:ec2::23]:80', 'fd00:ec2::23'],
    ['[fd00:ec2::23]', 'fd00:ec2::23'],
    ['fd00:ec2::23', 'fd00:ec2::23'],
    ['[fd00:ec2::23]]', 'fd00:ec2::23]'],
    ['[[fd00:ec2::23]]:80', '[[fd00:ec2::23]]:80'],
    ['[fd00:ec2::23]:80:80', '[fd00:ec2::23]:80:80'],
    ['evil.com:80', 'evil.com'],
    ['[]', ''],
    ['[', '['],
  ])('%j → %j', (host, target) => {
    expect(requestTargetHost(host)).toBe(target);
  });
});

describe('Expiration and body', () => {
  it.each([
    [Date.UTC(2024, 4, 1, 12, 0, 0), '2024-05-01T12:00:00Z'],
    [Date.UTC(2024, 4, 1, 12, 0, 0, 500), '2024-05-01T12:00:00.5Z'],
    [Date.UTC(2024, 4, 1, 12, 0, 0, 50), '2024-05-01T12:00:00.05Z'],
    [Date.UTC(2024, 4, 1, 12, 0, 0, 123), '2024-05-01T12:00:00.123Z'],
  ])('%i → %s (Go RFC3339Nano)', (ms, text) => {
    expect(formatGoRfc3339Nano(ms)).toBe(text);
  });

  it('omits an empty AccountId and escapes like Go', () => {
    const creds: PodCredentials = {
      accessKeyId: 'ASIA1',
      secretAccessKey: 's<&>',
      sessionToken: 't',
      expiresAtMs: Date.UTC(2030, 0, 1),
      accountId: '',
      assumedRoleArn: 'arn:aws:sts::1:assumed-role/r/s',
      associationId: '',
    };
    expect(credentialsBody(creds).toString()).toBe(
      '{"AccessKeyId":"ASIA1","SecretAccessKey":"s\\u003c\\u0026\\u003e","Token":"t","Expiration":"2030-01-01T00:00:00Z"}',
    );
  });
});

describe('EKS Auth answers', () => {
  it('reads the code from x-amzn-ErrorType, else __type or code, cut at ":" and "#"', () => {
    expect(
      parseError(404, { 'x-amzn-errortype': 'ResourceNotFoundException:http://x/' }, '{}').code,
    ).toBe('ResourceNotFoundException');
    expect(
      parseError(400, {}, '{"__type":"com.amazonaws.eksauth#InvalidTokenException","message":"m"}'),
    ).toMatchObject({
      code: 'InvalidTokenException',
      message: 'm',
      fault: 'client',
    });
    expect(parseError(400, {}, '{"code":"AccessDeniedException","Message":"M"}')).toMatchObject({
      code: 'AccessDeniedException',
      message: 'M',
    });
    expect(parseError(502, {}, '<html>')).toMatchObject({
      code: 'UnknownError',
      message: 'UnknownError',
      status: 502,
    });
  });

  it('refuses a 200 without credentials or a parsable role ARN', () => {
    const ok = {
      assumedRoleUser: { arn: 'arn:aws:sts::123456789012:assumed-role/r/s', assumeRoleId: 'x' },
      credentials: {
        accessKeyId: 'A',
        secretAccessKey: 'S',
        sessionToken: 'T',
        expiration: 1_900_000_000.5,
      },
    };
    expect(parseCredentials(JSON.stringify(ok))).toMatchObject({
      accountId: '123456789012',
      expiresAtMs: 1_900_000_000_500,
    });
    for (const body of [
      '{}',
      'null',
      JSON.stringify({
        ...ok,
        credentials: { ...ok.credentials, expiration: '2030-01-01T00:00:00Z' },
      }),
      JSON.stringify({ ...ok, assumedRoleUser: { arn: 'role/r' } }),
      JSON.stringify({ ...ok, credentials: { ...ok.credentials, expiration: 1e15 } }),
    ]) {
      expect(() => parseCredentials(body)).toThrow(EksAuthTransportError);
    }
  });

  it('maps failures to the pod’s status and text as upstream', () => {
    expect(failureResponse(new EksAuthError('ThrottlingException', 'slow', 429, 'r-1'))).toEqual({
      status: 429,
      message: '[r-1]: (ThrottlingException): slow, fault: client',
      outcome: 'upstream_error',
    });
    expect(failureResponse(new Error('boom')).status).toBe(500);
  });

  it('retries like the Go SDK: throttling, 5xx, transport; never client errors', () => {
    expect(isRetryable(new EksAuthError('ThrottlingException', '', 429))).toBe(true);
    expect(isRetryable(new EksAuthError('InternalServerException', '', 500))).toBe(true);
    expect(isRetryable(new EksAuthError('Teapot', '', 504))).toBe(true);
    expect(isRetryable(new EksAuthError('AccessDeniedException', '', 400))).toBe(false);
    expect(isRetryable(new EksAuthTransportError('timeout', ''))).toBe(true);
    expect(isRetryable(new EksAuthTransportError('invalid-response', ''))).toBe(false);
    expect(backoffDelayMs(1, () => 0.5)).toBe(1000);
    expect(backoffDelayMs(2, () => 0.999)).toBeCloseTo(3996);
    expect(backoffDelayMs(9, () => 1)).toBe(20_000);
    const quota = new RetryQuota();
    let retries = 0;
    while (quota.acquire(new EksAuthTransportError('timeout', '')) > 0) retries++;
    expect(retries).toBe(50);
    quota.release(10);
    expect(quota.available).toBe(10);
  });
});

describe('tokens', () => {
  const token = (header: unknown, claims: unknown) =>
    `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}.x`;

  it('reads exp and nbf like golang-jwt: truncated seconds, numeric strings, any case, null ignored', () => {
    expect(
      parsePodToken(token({ alg: 'ES256' }, { exp: 1700000000.9, nbf: '1600000000' })),
    ).toEqual({
      expiresAtMs: 1_700_000_000_000,
      notBeforeMs: 1_600_000_000_000,
    });
    expect(parsePodToken(token({ alg: 'none' }, { EXP: 5 }))).toEqual({ expiresAtMs: 5000 });
    expect(parsePodToken(token({ alg: 'HS256' }, { exp: null, iat: 1 }))).toEqual({});
    expect(parsePodToken(token({ alg: 'EdDSA' }, null))).toEqual({});
    expect(() => parsePodToken(token({ alg: 'RS256' }, { iat: 'x' }))).toThrow(
      /invalid type for claim iat/,
    );
    expect(() => parsePodToken(token(null, {}))).toThrow(/signing method \(alg\) is unspecified/);
    expect(() => parsePodToken(`${b64('{"alg":"RS256"}')}=.${b64('{}')}.x`)).toThrow(
      /could not base64 decode header/,
    );
    expect(() => parsePodToken(`${b64('{"alg":"RS256"}')}.A.x`)).toThrow(
      /could not base64 decode claim/,
    );
  });

  it('the signature segment is not decoded (as ParseUnverified)', () => {
    expect(parsePodToken(`${b64('{"alg":"RS256"}')}.${b64('{}')}.!!not base64!!`)).toEqual({});
  });
});

describe('building blocks', () => {
  it('token bucket: starts full, refills at the rate, never above the burst', () => {
    let now = 0;
    const bucket = new TokenBucket(10, 3, () => now);
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    now += 100;
    expect([bucket.tryTake(), bucket.tryTake()]).toEqual([true, false]);
    now += 10_000;
    expect([bucket.tryTake(), bucket.tryTake(), bucket.tryTake(), bucket.tryTake()]).toEqual([
      true,
      true,
      true,
      false,
    ]);
    expect(new TokenBucket(10, 0, () => 0).tryTake()).toBe(false);
  });

  it('single flight shares one run per key, then forgets it', async () => {
    const flights = new SingleFlight<string, number>();
    let runs = 0;
    const fn = async () => {
      const n = ++runs;
      await new Promise((r) => setTimeout(r, 10));
      return n;
    };
    const results = await Promise.all([
      flights.run('a', fn),
      flights.run('a', fn),
      flights.run('b', fn),
    ]);
    expect(results).toEqual([1, 1, 2]);
    expect(flights.size).toBe(0);
    expect(await flights.run('a', fn)).toBe(3);
  });

  it('renewal: half the lifetime, at most the retention', () => {
    expect(renewalDelayMs(6 * 3600_000, 3 * 3600_000)).toBe(3 * 3600_000);
    expect(renewalDelayMs(3600_000, 3 * 3600_000)).toBe(1800_000);
  });

  it('listen addresses', () => {
    expect(parseListenAddress('[fd00:ec2::23]:80')).toEqual({ host: 'fd00:ec2::23', port: 80 });
    expect(parseListenAddress('0.0.0.0:2705')).toEqual({ host: '0.0.0.0', port: 2705 });
    for (const bad of ['fd00:ec2::23:80', '127.0.0.1', ':80', '127.0.0.1:65536', '[x]:1']) {
      expect(() => parseListenAddress(bad)).toThrow(/invalid listen address/);
    }
  });

  it('a cache hit needs the exact token, not only its key', () => {
    const metrics = new AgentMetrics(() => 0);
    const cache = new CredentialCache(10, () => undefined);
    const retriever = new CredentialRetriever({
      client: { assumeRoleForPodIdentity: () => Promise.reject(new Error('unused')) },
      cache,
      maxRetentionMs: 3600_000,
      clock: Date.now,
      metrics,
      logger: pino({ level: 'silent' }),
    });
    const creds: PodCredentials = {
      accessKeyId: 'ASIAB',
      secretAccessKey: 's',
      sessionToken: 't',
      expiresAtMs: Date.now() + 3600_000,
      accountId: '1',
      assumedRoleArn: 'arn:aws:sts::1:assumed-role/r/s',
      associationId: 'a',
    };
    // Two tokens ending alike: B's entry is filed where A's would be.
    const tail = 'S'.repeat(43);
    const a = `header-a.claims-a.${tail}`;
    const b = `header-b.claims-b.${tail}`;
    expect(tokenIndex(a)).toBe(tokenIndex(b));
    cache.set({
      key: tokenIndex(b),
      digest: tokenDigest(b),
      token: b,
      tokenTimes: {},
      credentials: creds,
      body: credentialsBody(creds),
      fetchedAtMs: Date.now(),
      refreshAtMs: Date.now() + 1000,
    });
    expect(retriever.cached(a)).toBeUndefined();
    expect(retriever.cached(b)?.token).toBe(b);
  });
});
