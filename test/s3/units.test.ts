/**
 * The S3 service's pure parts: routing and the authorization table (pinned by a fixture),
 * condition keys, names, listing order and pagination, checksums, ranges and conditions, bucket
 * policy validation, multipart rules, and S3's error vocabulary.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AwsError } from '../../src/errors/index.js';
import { SigV4Error } from '../../src/sigv4/index.js';
import type { S3Caller } from '../../src/s3/authenticate.js';
import { permissionsFor, requestContext } from '../../src/s3/authorization.js';
import { isValidBucketName } from '../../src/s3/bucket-name.js';
import { validateBucketPolicy } from '../../src/s3/bucket-policy.js';
import { newChecksum, isValidChecksumValue } from '../../src/s3/checksums.js';
import { evaluateReadConditions, rangeOf } from '../../src/s3/conditions.js';
import { renderS3Error, S3Error, toS3Error, s3ErrorFromSigV4 } from '../../src/s3/errors.js';
import { compareKeys, listPage, prefixEnd, urlEncodeKey } from '../../src/s3/listing.js';
import type { KeyRange, ObjectSummary, S3Metadata } from '../../src/s3/metadata.js';
import { multipartEtag, selectParts, MIN_PART_SIZE } from '../../src/s3/multipart.js';
import { operationOf, targetOf } from '../../src/s3/route.js';

interface TableCase {
  method: string;
  path: string;
  query?: string;
  host?: string;
  headers?: Record<string, string>;
  operation: string;
  copySource?: { bucket: string; key: string };
  permissions: unknown[];
}
interface RefusedCase {
  method: string;
  path: string;
  query?: string;
  headers?: Record<string, string>;
  code: string;
}
const table = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures/authorization-table.json'), 'utf8'),
) as { cases: TableCase[]; refused: RefusedCase[] };
const DOMAIN = 's3.latchkey.test';

function route(c: {
  method: string;
  path: string;
  query?: string;
  host?: string;
  headers?: Record<string, string>;
}) {
  const url = c.query === undefined ? c.path : `${c.path}?${c.query}`;
  const target = targetOf(url, c.host ?? '127.0.0.1:4599', DOMAIN);
  const operation = operationOf(c.method, target, c.headers?.['x-amz-copy-source'] !== undefined);
  return { target, operation };
}

describe('authorization table (fixtures/authorization-table.json)', () => {
  for (const c of table.cases) {
    it(`${c.method} ${c.host ?? ''}${c.path}${c.query ? `?${c.query}` : ''} → ${c.operation}`, () => {
      const { target, operation } = route(c);
      expect(operation).toBe(c.operation);
      const permissions = permissionsFor(operation, {
        ...(target.bucket !== undefined ? { bucket: target.bucket } : {}),
        ...(target.key !== undefined ? { key: target.key } : {}),
        query: target.query,
        headers: c.headers ?? {},
        ...(c.copySource ? { copySource: c.copySource } : {}),
      });
      expect(permissions).toEqual(c.permissions);
    });
  }
  for (const c of table.refused) {
    it(`${c.method} ${c.path}${c.query ? `?${c.query}` : ''} is refused with ${c.code}`, () => {
      let code: string | undefined;
      try {
        route(c);
      } catch (err) {
        code = (err as S3Error).code;
      }
      expect(code).toBe(c.code);
    });
  }

  it('DeleteObjects checks s3:DeleteObject per key, as DeleteObject does', () => {
    expect(
      permissionsFor('DeleteObject', {
        bucket: 'b',
        key: 'k',
        query: new URLSearchParams(),
        headers: {},
      }),
    ).toEqual([
      { action: 's3:DeleteObject', resource: 'arn:aws:s3:::b/k', bucket: 'b', context: {} },
    ]);
  });
});

describe('condition keys of every request', () => {
  const now = new Date('2024-05-01T12:00:00.000Z');
  const facts = {
    sourceIp: '10.1.2.3',
    secureTransport: false,
    userAgent: 'aws-cli/1',
    referer: 'https://x.test/',
    now,
  };

  it('anonymous: global keys only', () => {
    const ctx = requestContext(facts, { kind: 'anonymous' }, {});
    expect(ctx).toEqual({
      'aws:SourceIp': '10.1.2.3',
      'aws:SecureTransport': 'false',
      'aws:CurrentTime': '2024-05-01T12:00:00Z',
      'aws:EpochTime': '1714564800',
      'aws:UserAgent': 'aws-cli/1',
      'aws:Referer': 'https://x.test/',
    });
  });

  it('signed: authType, signature version and age, x-amz-content-sha256', () => {
    const caller = {
      kind: 'signed',
      signature: { kind: 'presigned', amzDate: '20240501T115950Z' },
    } as unknown as S3Caller;
    const ctx = requestContext(facts, caller, { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    expect(ctx).toMatchObject({
      's3:authType': 'REST-QUERY-STRING',
      's3:signatureversion': 'AWS4-HMAC-SHA256',
      's3:signatureAge': '10000',
      's3:x-amz-content-sha256': 'UNSIGNED-PAYLOAD',
    });
  });
});

describe('names and keys', () => {
  it('bucket names follow S3 rules', () => {
    for (const good of ['abc', 'my-bucket', 'my.bucket.1', 'a'.repeat(63), '1bucket']) {
      expect(isValidBucketName(good), good).toBe(true);
    }
    for (const bad of [
      'ab',
      'a'.repeat(64),
      'My-Bucket',
      'my_bucket',
      '-bucket',
      'bucket-',
      'my..bucket',
      '192.168.1.1',
      'xn--bucket',
      'sthree-x',
      'bucket-s3alias',
      'bucket--ol-s3',
      '_latchkey',
    ]) {
      expect(isValidBucketName(bad), bad).toBe(false);
    }
  });

  it('keys over 1,024 UTF-8 bytes are KeyTooLongError; 1,024 is fine', () => {
    expect(targetOf(`/b/${'a'.repeat(1024)}`, 'h').key).toHaveLength(1024);
    expect(() => targetOf(`/b/${'a'.repeat(1025)}`, 'h')).toThrow(/too long/);
    // 342 three-byte characters: 1,026 bytes in 342 characters.
    expect(() => targetOf(`/b/${encodeURIComponent('€'.repeat(342))}`, 'h')).toThrow(/too long/);
  });

  it('a + in a path is a plus; in a query it is a space', () => {
    const t = targetOf('/b/a+b?prefix=c+d', 'h');
    expect(t.key).toBe('a+b');
    expect(t.query.get('prefix')).toBe('c d');
  });
});

describe('listing', () => {
  it('orders keys by UTF-8 bytes, not UTF-16 units', () => {
    const keys = ['\u{1F600}', '\uFF01', 'a', 'A', '\u00e9', 'a/b', 'a0'];
    const byBytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    expect([...keys].sort(compareKeys)).toEqual(byBytes);
  });

  it('prefixEnd bounds every key under a prefix', () => {
    expect(prefixEnd('photos/')).toBe('photos0');
    expect(prefixEnd('a\uD7FF')).toBe('a\uE000');
    expect(prefixEnd('\u{10FFFF}')).toBeUndefined();
    expect(compareKeys('a\u{10FFFF}zzz', prefixEnd('a')!)).toBeLessThan(0);
  });

  it('url encoding as AWS answers it', () => {
    expect(urlEncodeKey('a b.txt')).toBe('a+b.txt');
    expect(urlEncodeKey('a+b.txt')).toBe('a%2Bb.txt');
    expect(urlEncodeKey('100%.csv')).toBe('100%25.csv');
    expect(urlEncodeKey('한글/x.txt')).toBe('%ED%95%9C%EA%B8%80/x.txt');
    expect(urlEncodeKey('line\nbreak')).toBe('line%0Abreak');
  });

  /** An in-memory stand-in for the store's listing query. */
  function fakeMeta(keys: string[]): S3Metadata {
    const sorted = [...new Set(keys)].sort(compareKeys);
    const summary = (key: string): ObjectSummary => ({
      key,
      size: 1,
      etag: 'e',
      lastModified: '2024-01-01T00:00:00.000Z',
      ownerAccount: '000000000000',
      checksumAlgorithm: null,
      checksumType: null,
    });
    return {
      listObjects: async (_bucket: string, r: KeyRange) =>
        sorted
          .filter(
            (k) =>
              (r.after === undefined || compareKeys(k, r.after) > 0) &&
              (r.from === undefined || compareKeys(k, r.from) >= 0) &&
              (r.before === undefined || compareKeys(k, r.before) < 0),
          )
          .slice(0, r.limit)
          .map(summary),
    } as unknown as S3Metadata;
  }

  /** S3's listing, naively: every key, in order, rolled up. */
  function naive(keys: string[], prefix: string, delimiter: string): string[] {
    const out: string[] = [];
    for (const k of [...new Set(keys)].sort(compareKeys)) {
      if (!k.startsWith(prefix)) continue;
      const cut = delimiter === '' ? -1 : k.indexOf(delimiter, prefix.length);
      const entry = cut < 0 ? k : k.slice(0, cut + delimiter.length);
      if (out[out.length - 1] !== entry) out.push(entry);
    }
    return out;
  }

  it('pages of every size reproduce the naive listing (seeded random keys)', async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const alphabet = ['a', 'b', '/', '-', 'é', '\u{1F600}', '0'];
    const keys = Array.from({ length: 300 }, () =>
      Array.from(
        { length: 1 + Math.floor(rand() * 7) },
        () => alphabet[Math.floor(rand() * alphabet.length)],
      ).join(''),
    );
    const meta = fakeMeta(keys);
    for (const [prefix, delimiter] of [
      ['', ''],
      ['', '/'],
      ['a', '/'],
      ['a/', '/'],
      ['', 'b'],
      ['é', '-'],
    ] as const) {
      const expected = naive(keys, prefix, delimiter);
      for (const maxKeys of [1, 2, 7, 1000]) {
        const got: string[] = [];
        let after: string | undefined;
        for (let pages = 0; pages < 1000; pages++) {
          const page = await listPage(meta, {
            bucket: 'b',
            prefix,
            delimiter,
            maxKeys,
            ...(after !== undefined ? { after } : {}),
          });
          const entries = [...page.contents.map((c) => c.key), ...page.commonPrefixes].sort(
            compareKeys,
          );
          expect(entries.length).toBeLessThanOrEqual(maxKeys);
          got.push(...entries);
          if (!page.truncated) break;
          after = page.last;
        }
        expect(got, `prefix=${prefix} delimiter=${delimiter} max=${maxKeys}`).toEqual(expected);
      }
    }
  });
});

describe('checksums', () => {
  it('match the algorithms’ check values', () => {
    const digest = (a: 'CRC32' | 'CRC32C' | 'CRC64NVME' | 'SHA1' | 'SHA256') => {
      const c = newChecksum(a);
      c.update(Buffer.from('1234'));
      c.update(Buffer.from('56789'));
      return Buffer.from(c.digest(), 'base64').toString('hex');
    };
    expect(digest('CRC32')).toBe('cbf43926');
    expect(digest('CRC32C')).toBe('e3069283');
    expect(digest('CRC64NVME')).toBe('ae8b14860a799888');
    expect(digest('SHA1')).toBe('f7c3bc1d808e04732adf679965ccc34ca7ae3441');
    expect(isValidChecksumValue('CRC32', 'y/Q5Jg==')).toBe(true);
    expect(isValidChecksumValue('CRC32', 'y/Q5JgAA')).toBe(false);
  });
});

describe('ranges and conditions', () => {
  it('ranges as S3 reads them', () => {
    expect(rangeOf('bytes=0-99', 1000)).toEqual({ start: 0, end: 99 });
    expect(rangeOf('bytes=900-', 1000)).toEqual({ start: 900, end: 999 });
    expect(rangeOf('bytes=-100', 1000)).toEqual({ start: 900, end: 999 });
    expect(rangeOf('bytes=-5000', 1000)).toEqual({ start: 0, end: 999 });
    expect(rangeOf('bytes=500-5000', 1000)).toEqual({ start: 500, end: 999 });
    expect(rangeOf('bytes=0-1,5-6', 1000)).toBeUndefined();
    expect(rangeOf('items=0-1', 1000)).toBeUndefined();
    expect(rangeOf('bytes=9-3', 1000)).toBeUndefined();
    expect(() => rangeOf('bytes=1000-', 1000)).toThrow(S3Error);
    expect(() => rangeOf('bytes=0-', 0)).toThrow(/not satisfiable/);
  });

  it('If-Match beats If-Unmodified-Since; If-None-Match beats If-Modified-Since', () => {
    const object = { etag: 'abc', lastModified: '2024-05-01T12:00:00.500Z' };
    const before = 'Wed, 01 May 2024 11:00:00 GMT';
    const after = 'Wed, 01 May 2024 13:00:00 GMT';
    const same = 'Wed, 01 May 2024 12:00:00 GMT';
    expect(
      evaluateReadConditions({ 'if-match': '"abc"', 'if-unmodified-since': before }, object),
    ).toBe('ok');
    expect(() => evaluateReadConditions({ 'if-match': '"xyz"' }, object)).toThrow(/pre-conditions/);
    expect(() => evaluateReadConditions({ 'if-unmodified-since': before }, object)).toThrow(
      S3Error,
    );
    expect(evaluateReadConditions({ 'if-none-match': '"abc"' }, object)).toBe('not-modified');
    expect(
      evaluateReadConditions({ 'if-none-match': '"xyz"', 'if-modified-since': after }, object),
    ).toBe('ok');
    expect(evaluateReadConditions({ 'if-modified-since': same }, object)).toBe('not-modified');
    expect(evaluateReadConditions({ 'if-modified-since': before }, object)).toBe('ok');
    expect(evaluateReadConditions({ 'if-modified-since': 'not a date' }, object)).toBe('ok');
  });
});

describe('bucket policies are validated as resource policies', () => {
  const ok = (statement: object) =>
    JSON.stringify({ Version: '2012-10-17', Statement: [statement] });
  const code = (text: string, bucket = 'b') => {
    try {
      validateBucketPolicy(text, bucket);
      return 'valid';
    } catch (err) {
      return `${(err as S3Error).code}: ${(err as S3Error).message}`;
    }
  };

  it('accepts a well-formed public-read policy', () => {
    expect(
      code(
        ok({
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b/*',
        }),
      ),
    ).toBe('valid');
  });

  it('refuses what S3 refuses, with its messages', () => {
    expect(code('not json')).toBe(
      "MalformedPolicy: Policies must be valid JSON and the first byte must be '{'",
    );
    expect(code('[]')).toBe(
      "MalformedPolicy: Policies must be valid JSON and the first byte must be '{'",
    );
    expect(
      code(ok({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b/*' })),
    ).toBe('MalformedPolicy: Missing required field Principal');
    expect(
      code(
        ok({
          Effect: 'Allow',
          Principal: '*',
          Action: 'iam:GetUser',
          Resource: 'arn:aws:s3:::b/*',
        }),
      ),
    ).toBe('MalformedPolicy: Policy has invalid action');
    expect(
      code(
        ok({
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::other/*',
        }),
      ),
    ).toBe('MalformedPolicy: Policy has invalid resource');
    expect(
      code(
        ok({ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::b' }),
      ),
    ).toBe('MalformedPolicy: Action does not apply to any resource(s) in statement');
    expect(
      code(
        ok({
          Effect: 'Allow',
          Principal: { AWS: 'not-an-arn' },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::b/*',
        }),
      ),
    ).toMatch(/^MalformedPolicy: Invalid principal/);
    expect(
      code(
        `{"Statement":[${'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"},'.repeat(300)}{}]}`,
      ),
    ).toMatch(/^MalformedPolicy: Policy exceeds/);
  });
});

describe('multipart rules', () => {
  const part = (n: number, size: number) => ({
    partNumber: n,
    blob: `${n}`.padStart(32, '0'),
    size,
    etag: `${n}`.padStart(32, 'a'),
    checksumValue: null,
    lastModified: '',
  });

  it('ascending, matching, at least 5 MiB but the last', () => {
    const uploaded = [part(1, MIN_PART_SIZE), part(2, MIN_PART_SIZE), part(3, 10)];
    const ask = (ns: number[]) => ns.map((n) => ({ partNumber: n, etag: part(n, 0).etag }));
    expect(selectParts(ask([1, 2, 3]), uploaded)).toHaveLength(3);
    expect(selectParts(ask([1, 3]), uploaded)).toHaveLength(2);
    expect(() => selectParts(ask([2, 1]), uploaded)).toThrow(/ascending/);
    expect(() => selectParts(ask([1, 1]), uploaded)).toThrow(/ascending/);
    expect(() => selectParts(ask([1, 4]), uploaded)).toThrow(/could not be found/);
    expect(() => selectParts([{ partNumber: 1, etag: 'wrong' }], uploaded)).toThrow(
      /could not be found/,
    );
    expect(() => selectParts(ask([3, 4]), [...uploaded, part(4, 1)])).toThrow(
      /smaller than the minimum/,
    );
  });

  it('the ETag is the MD5 of the parts’ MD5s, then -N', () => {
    // md5(md5("a") ‖ md5("b")) (computed with Python's hashlib), as S3 computes it.
    expect(
      multipartEtag(['0cc175b9c0f1b6a831c399e269772661', '92eb5ffee6ae2fec3ad71c777531578f']),
    ).toBe('96e024ba2074fe77e8e965ba43a704be-2');
  });
});

describe('S3 errors', () => {
  it('render as S3’s Error document', () => {
    const xml = renderS3Error(
      new S3Error('NoSuchKey', undefined, { Key: 'a&b' }),
      '/bkt/a&b',
      'REQ1',
    );
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message>' +
        '<Key>a&amp;b</Key><Resource>/bkt/a&amp;b</Resource><RequestId>REQ1</RequestId>' +
        `<HostId>${Buffer.from('latchkey/REQ1').toString('base64')}</HostId></Error>`,
    );
  });

  it('the shared codes map to S3’s in one place', () => {
    const map = (err: unknown) => {
      const e = toS3Error(err);
      return [e.code, e.status, e.message];
    };
    expect(map(new AwsError('InvalidClientTokenId', 'x'))).toEqual([
      'InvalidAccessKeyId',
      403,
      'The AWS Access Key Id you provided does not exist in our records.',
    ]);
    expect(map(new AwsError('ExpiredToken', 'x'))).toEqual([
      'ExpiredToken',
      400,
      'The provided token has expired.',
    ]);
    expect(map(new AwsError('MissingAuthenticationToken', 'x'))).toEqual([
      'AccessDenied',
      403,
      'Access Denied',
    ]);
    expect(map(new AwsError('AccessDenied', 'User: u is not authorized'))).toEqual([
      'AccessDenied',
      403,
      'User: u is not authorized',
    ]);
    expect(map(new Error('boom'))).toEqual([
      'InternalError',
      500,
      'We encountered an internal error. Please try again.',
    ]);
  });

  it('SigV4 failures map by reason', () => {
    const skew = s3ErrorFromSigV4(
      new SigV4Error('SignatureDoesNotMatch', 'Signature expired', 'skew-past', {
        requestTime: '20240501T120000Z',
        serverTimeMs: Date.parse('2024-05-01T12:20:00Z'),
        maxSkewMs: 900_000,
      }),
      false,
    );
    expect([skew.code, skew.status, skew.fields]).toEqual([
      'RequestTimeTooSkewed',
      403,
      {
        RequestTime: '2024-05-01T12:00:00Z',
        ServerTime: '2024-05-01T12:20:00Z',
        MaxAllowedSkewMilliseconds: '900000',
      },
    ]);
    const expired = s3ErrorFromSigV4(
      new SigV4Error('RequestExpired', 'Request has expired.', 'presign-expired', {
        expiresSeconds: 60,
        expiresAtMs: Date.parse('2024-05-01T12:01:00Z'),
        serverTimeMs: Date.parse('2024-05-01T12:05:00Z'),
      }),
      true,
    );
    expect([expired.code, expired.status, expired.message]).toEqual([
      'AccessDenied',
      403,
      'Request has expired',
    ]);
    const chunk = s3ErrorFromSigV4(
      new SigV4Error('SignatureDoesNotMatch', 'x', 'chunk-signature-mismatch'),
      false,
    );
    expect(chunk.code).toBe('SignatureDoesNotMatch');
    const truncated = s3ErrorFromSigV4(
      new SigV4Error('IncompleteSignature', 'x', 'incomplete-body'),
      false,
    );
    expect([truncated.code, truncated.status]).toEqual(['IncompleteBody', 400]);
  });
});
