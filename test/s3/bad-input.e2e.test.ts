/**
 * Bad input, by hand-made requests: AWS's error codes, nothing written, nothing lost, no
 * temporary files left behind — and the other protocol details (virtual-hosted style, HEAD
 * errors, request ids).
 */
import { createHash } from 'node:crypto';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChunkSigner } from '../sigv4/helpers.js';
import { startS3TestBed, type S3TestBed } from './helpers/harness.js';
import { codeOf, rawRequest, sendRaw, sha256Hex, signRaw, truncatedUpload } from './helpers/raw.js';

let bed: S3TestBed;
let s3: S3Client;
const BUCKET = 'bad-input';
const ORIGINAL = 'the previous version';

beforeAll(async () => {
  bed = await startS3TestBed();
  s3 = bed.s3Client();
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await bed?.stop();
});

async function current(key: string): Promise<string | undefined> {
  try {
    const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return await got.Body?.transformToString();
  } catch {
    return undefined;
  }
}

/** Waits until no temporary file is left (cleanup runs right after the failure). */
async function noTempFiles(): Promise<string[]> {
  for (let i = 0; i < 40 && bed.tempFiles().length > 0; i++)
    await new Promise((r) => setTimeout(r, 50));
  return bed.tempFiles();
}

async function seed(key: string): Promise<number> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: ORIGINAL }));
  return bed.blobCount();
}

/** A signed aws-chunked body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD`) of `chunks`. */
async function chunkedPut(key: string, chunks: Buffer[], tamper?: (framed: Buffer[]) => void) {
  const decoded = chunks.reduce((n, c) => n + c.length, 0);
  const signingDate = new Date();
  const head = {
    method: 'PUT',
    path: `/${BUCKET}/${key}`,
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    headers: {
      'content-encoding': 'aws-chunked',
      'x-amz-decoded-content-length': String(decoded),
    },
    signingDate,
  };
  // The framed length is known before the signatures are (they are all 64 hex digits): sign
  // with it, then frame the chunks from the seed signature.
  const amzDate = signingDate
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
  // The tampering applies to the sizing frames too, so a dropped chunk is a shorter body whose
  // Content-Length says so, not a client that stalls.
  const dummy = new ChunkSigner('x', amzDate, 'us-east-1', '0'.repeat(64));
  const sizing = [...chunks, Buffer.alloc(0)].map((c) => dummy.chunk(c));
  tamper?.(sizing);
  const length = sizing.reduce((n, c) => n + c.length, 0);
  const request = { ...head, headers: { ...head.headers, 'content-length': String(length) } };
  const signed = await signRaw(bed.s3Url, request, bed.t.admin);
  const signer = new ChunkSigner(
    bed.t.admin.secretAccessKey,
    amzDate,
    'us-east-1',
    signed.signature,
  );
  const framed = [...chunks.map((c) => signer.chunk(c)), signer.chunk(Buffer.alloc(0))];
  tamper?.(framed);
  const body = Buffer.concat(framed);
  return sendRaw(bed.s3Url, 'PUT', head.path, signed.headers, body);
}

describe('uploads that must not change anything', () => {
  it('a valid signed aws-chunked upload is accepted (the control case)', async () => {
    const chunks = [Buffer.alloc(65536, 1), Buffer.alloc(65536, 2), Buffer.from('tail')];
    const res = await chunkedPut('chunked-ok', chunks);
    expect(res.status).toBe(200);
    const md5 = createHash('md5').update(Buffer.concat(chunks)).digest('hex');
    expect(res.headers.etag).toBe(`"${md5}"`);
  });

  it('a tampered chunk is SignatureDoesNotMatch; the previous version stays', async () => {
    const blobs = await seed('chunked');
    const res = await chunkedPut(
      'chunked',
      [Buffer.alloc(65536, 1), Buffer.alloc(65536, 2)],
      (framed) => {
        const second = framed[1]!;
        const at = second.length - 10;
        second.writeUInt8(second.readUInt8(at) ^ 0xff, at); // one byte of data flipped
      },
    );
    expect(res.status).toBe(403);
    expect(codeOf(res.body)).toBe('SignatureDoesNotMatch');
    expect(await current('chunked')).toBe(ORIGINAL);
    expect(await noTempFiles()).toEqual([]);
    expect(bed.blobCount()).toBe(blobs);
  });

  it('a dropped final chunk (truncated aws-chunked body) is IncompleteBody', async () => {
    await seed('chunked-cut');
    const res = await chunkedPut('chunked-cut', [Buffer.alloc(1000, 3)], (framed) => {
      framed.pop();
    });
    expect(res.status).toBe(400);
    expect(codeOf(res.body)).toBe('IncompleteBody');
    expect(await current('chunked-cut')).toBe(ORIGINAL);
    expect(await noTempFiles()).toEqual([]);
  });

  it('a client that dies mid-upload leaves the previous version and no partial object', async () => {
    const blobs = await seed('truncated');
    const body = Buffer.alloc(256 * 1024, 7);
    const { headers } = await signRaw(
      bed.s3Url,
      {
        method: 'PUT',
        path: `/${BUCKET}/truncated`,
        body,
        headers: { 'content-length': String(body.length) },
      },
      bed.t.admin,
    );
    await truncatedUpload(bed.s3Url, `/${BUCKET}/truncated`, headers, body, 100_000);
    expect(await noTempFiles()).toEqual([]);
    expect(await current('truncated')).toBe(ORIGINAL);
    expect(bed.blobCount()).toBe(blobs);
    // A new key half-sent does not appear at all.
    await truncatedUpload(bed.s3Url, `/${BUCKET}/never`, { ...headers }, body, 10);
    expect(await current('never')).toBeUndefined();
    expect(await noTempFiles()).toEqual([]);
  });

  it('a wrong Content-MD5 is BadDigest; a malformed one InvalidDigest', async () => {
    const blobs = await seed('md5');
    const wrong = createHash('md5').update('other').digest('base64');
    const bad = await rawRequest(
      bed.s3Url,
      {
        method: 'PUT',
        path: `/${BUCKET}/md5`,
        body: 'new bytes',
        headers: { 'content-md5': wrong },
      },
      bed.t.admin,
    );
    expect([bad.status, codeOf(bad.body)]).toEqual([400, 'BadDigest']);
    const malformed = await rawRequest(
      bed.s3Url,
      {
        method: 'PUT',
        path: `/${BUCKET}/md5`,
        body: 'new bytes',
        headers: { 'content-md5': 'nope' },
      },
      bed.t.admin,
    );
    expect([malformed.status, codeOf(malformed.body)]).toEqual([400, 'InvalidDigest']);
    expect(await current('md5')).toBe(ORIGINAL);
    expect(await noTempFiles()).toEqual([]);
    expect(bed.blobCount()).toBe(blobs);
  });

  it('a body that does not match the signed x-amz-content-sha256 is XAmzContentSHA256Mismatch', async () => {
    await seed('sha');
    const { headers } = await signRaw(
      bed.s3Url,
      {
        method: 'PUT',
        path: `/${BUCKET}/sha`,
        body: 'signed body',
        payloadHash: sha256Hex('signed body'),
      },
      bed.t.admin,
    );
    const res = await sendRaw(bed.s3Url, 'PUT', `/${BUCKET}/sha`, headers, 'sent body!!');
    expect([res.status, codeOf(res.body)]).toEqual([400, 'XAmzContentSHA256Mismatch']);
    expect(res.body).toContain(
      `<S3ComputedContentSHA256>${sha256Hex('sent body!!')}</S3ComputedContentSHA256>`,
    );
    expect(await current('sha')).toBe(ORIGINAL);
    expect(await noTempFiles()).toEqual([]);
  });

  it('a declared size over 5 GiB is EntityTooLarge before any byte is read', async () => {
    const { headers } = await signRaw(
      bed.s3Url,
      {
        method: 'PUT',
        path: `/${BUCKET}/huge`,
        payloadHash: 'UNSIGNED-PAYLOAD',
        headers: { 'content-length': String(5 * 1024 ** 3 + 1) },
      },
      bed.t.admin,
    );
    const res = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      // Headers only: the answer must come without the body.
      void import('node:http').then(({ request }) => {
        const url = new URL(bed.s3Url);
        const r = request(
          { host: url.hostname, port: url.port, method: 'PUT', path: `/${BUCKET}/huge`, headers },
          (res) => {
            let body = '';
            res.on('data', (c: Buffer) => (body += c.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          },
        );
        r.on('error', reject);
        r.write('x');
      });
    });
    expect([res.status, codeOf(res.body)]).toEqual([400, 'EntityTooLarge']);
    expect(await noTempFiles()).toEqual([]);
  });

  it('keys over 1,024 bytes are KeyTooLongError', async () => {
    const key = 'k'.repeat(1025);
    const res = await rawRequest(
      bed.s3Url,
      { method: 'PUT', path: `/${BUCKET}/${key}`, body: 'x' },
      bed.t.admin,
    );
    expect([res.status, codeOf(res.body)]).toEqual([400, 'KeyTooLongError']);
    const ok = await rawRequest(
      bed.s3Url,
      { method: 'PUT', path: `/${BUCKET}/${'k'.repeat(1024)}`, body: 'x' },
      bed.t.admin,
    );
    expect(ok.status).toBe(200);
  });

  it('a malformed bucket policy is MalformedPolicy and stores nothing', async () => {
    const res = await rawRequest(
      bed.s3Url,
      {
        method: 'PUT',
        path: `/${BUCKET}`,
        query: { policy: '' },
        body: '{"Version":"2012-10-17","Statement":[',
      },
      bed.t.admin,
    );
    expect([res.status, codeOf(res.body)]).toEqual([400, 'MalformedPolicy']);
    const get = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: `/${BUCKET}`, query: { policy: '' } },
      bed.t.admin,
    );
    expect([get.status, codeOf(get.body)]).toEqual([404, 'NoSuchBucketPolicy']);
  });
});

describe('authentication failures, in S3’s words', () => {
  it('unknown key, wrong secret, skewed clock, anonymous on a private bucket', async () => {
    const unknown = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: `/${BUCKET}` },
      { accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'x'.repeat(40) },
    );
    expect([unknown.status, codeOf(unknown.body)]).toEqual([403, 'InvalidAccessKeyId']);
    expect(unknown.body).toContain(
      '<Message>The AWS Access Key Id you provided does not exist in our records.</Message>',
    );

    const wrong = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: `/${BUCKET}` },
      { accessKeyId: bed.t.admin.accessKeyId, secretAccessKey: 'x'.repeat(40) },
    );
    expect([wrong.status, codeOf(wrong.body)]).toEqual([403, 'SignatureDoesNotMatch']);
    expect(wrong.body).toContain('<StringToSign>AWS4-HMAC-SHA256');

    const skewed = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: `/${BUCKET}`, signingDate: new Date(Date.now() - 20 * 60_000) },
      bed.t.admin,
    );
    expect([skewed.status, codeOf(skewed.body)]).toEqual([403, 'RequestTimeTooSkewed']);
    expect(skewed.body).toContain(
      '<MaxAllowedSkewMilliseconds>900000</MaxAllowedSkewMilliseconds>',
    );
    // 10 minutes is within S3's 15.
    const tolerated = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: `/${BUCKET}`, signingDate: new Date(Date.now() - 10 * 60_000) },
      bed.t.admin,
    );
    expect(tolerated.status).toBe(200);

    const anonymous = await sendRaw(bed.s3Url, 'GET', `/${BUCKET}/chunked-ok`, {});
    expect([anonymous.status, codeOf(anonymous.body)]).toEqual([403, 'AccessDenied']);
    const anonymousPut = await sendRaw(
      bed.s3Url,
      'PUT',
      `/${BUCKET}/anon`,
      { 'content-length': '1' },
      'x',
    );
    expect([anonymousPut.status, codeOf(anonymousPut.body)]).toEqual([403, 'AccessDenied']);
    const bearer = await sendRaw(bed.s3Url, 'GET', `/${BUCKET}`, { authorization: 'Bearer abc' });
    expect([bearer.status, codeOf(bearer.body)]).toEqual([400, 'InvalidArgument']);
  });

  it('a credential for another region is AuthorizationHeaderMalformed naming the region', async () => {
    const url = new URL(bed.s3Url);
    const signer = new (await import('@smithy/signature-v4')).SignatureV4({
      service: 's3',
      region: 'eu-west-1',
      sha256: (await import('@aws-crypto/sha256-js')).Sha256,
      credentials: bed.t.admin,
      uriEscapePath: false,
    });
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      path: `/${BUCKET}`,
      headers: { host: url.host, 'x-amz-content-sha256': sha256Hex('') },
    });
    const res = await sendRaw(bed.s3Url, 'GET', `/${BUCKET}`, signed.headers);
    expect([res.status, codeOf(res.body)]).toEqual([400, 'AuthorizationHeaderMalformed']);
    expect(res.body).toContain("the region 'eu-west-1' is wrong; expecting 'us-east-1'");
    expect(res.body).toContain('<Region>us-east-1</Region>');
  });

  it('a signed request without x-amz-content-sha256 is refused', async () => {
    const url = new URL(bed.s3Url);
    const signer = new (await import('@smithy/signature-v4')).SignatureV4({
      service: 's3',
      region: 'us-east-1',
      sha256: (await import('@aws-crypto/sha256-js')).Sha256,
      credentials: bed.t.admin,
      uriEscapePath: false,
      applyChecksum: false,
    });
    const signed = await signer.sign({
      method: 'GET',
      protocol: 'http:',
      hostname: url.hostname,
      path: `/${BUCKET}`,
      headers: { host: url.host },
    });
    delete signed.headers['x-amz-content-sha256'];
    const res = await sendRaw(bed.s3Url, 'GET', `/${BUCKET}`, signed.headers);
    expect([res.status, codeOf(res.body)]).toEqual([400, 'InvalidRequest']);
  });
});

describe('protocol details', () => {
  it('every answer has x-amz-request-id; errors say the resource; HEAD errors have no body', async () => {
    const missing = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: `/${BUCKET}/no/such%20key` },
      bed.t.admin,
    );
    expect(missing.status).toBe(404);
    expect(missing.headers['x-amz-request-id']).toMatch(/^[0-9A-F]{16}$/);
    expect(missing.body).toContain('<Key>no/such key</Key>');
    expect(missing.body).toContain(`<Resource>/${BUCKET}/no/such key</Resource>`);
    expect(missing.body).toContain(
      `<RequestId>${String(missing.headers['x-amz-request-id'])}</RequestId>`,
    );
    const head = await rawRequest(
      bed.s3Url,
      { method: 'HEAD', path: `/${BUCKET}/no/such%20key` },
      bed.t.admin,
    );
    expect(head.status).toBe(404);
    expect(head.body).toBe('');
    expect(head.headers['x-amz-request-id']).toMatch(/^[0-9A-F]{16}$/);
    const noBucket = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: '/no-such-bucket-here' },
      bed.t.admin,
    );
    expect([noBucket.status, codeOf(noBucket.body)]).toEqual([404, 'NoSuchBucket']);
    expect(noBucket.body).toContain('<BucketName>no-such-bucket-here</BucketName>');
    const badName = await rawRequest(bed.s3Url, { method: 'PUT', path: '/Bad_Name' }, bed.t.admin);
    expect([badName.status, codeOf(badName.body)]).toEqual([400, 'InvalidBucketName']);
  });

  it('unsupported sub-resources are NotImplemented, never silently ignored; wrong methods MethodNotAllowed', async () => {
    for (const [method, query] of [
      ['PUT', 'versioning'],
      ['PUT', 'lifecycle'],
      ['PUT', 'cors'],
      ['GET', 'versions'],
    ] as const) {
      const res = await rawRequest(
        bed.s3Url,
        {
          method,
          path: `/${BUCKET}`,
          query: { [query]: '' },
          body: method === 'PUT' ? '<x/>' : '',
        },
        bed.t.admin,
      );
      expect([res.status, codeOf(res.body)], `${method} ?${query}`).toEqual([
        501,
        'NotImplemented',
      ]);
    }
    const acl = await rawRequest(
      bed.s3Url,
      { method: 'PUT', path: `/${BUCKET}/k`, body: 'x', headers: { 'x-amz-acl': 'public-read' } },
      bed.t.admin,
    );
    expect([acl.status, codeOf(acl.body)]).toEqual([400, 'AccessControlListNotSupported']);
    const patch = await rawRequest(
      bed.s3Url,
      { method: 'PATCH', path: `/${BUCKET}/k` },
      bed.t.admin,
    );
    expect([patch.status, codeOf(patch.body)]).toEqual([405, 'MethodNotAllowed']);
  });

  it('virtual-hosted style: the bucket in the Host header', async () => {
    const host = `${BUCKET}.${bed.virtualHostDomain}:${new URL(bed.s3Url).port}`;
    const put = await rawRequest(
      bed.s3Url,
      { method: 'PUT', path: '/vhost/key.txt', body: 'vhost', host },
      bed.t.admin,
    );
    expect(put.status).toBe(200);
    const get = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: '/vhost/key.txt', host },
      bed.t.admin,
    );
    expect([get.status, get.body]).toEqual([200, 'vhost']);
    const list = await rawRequest(
      bed.s3Url,
      { method: 'GET', path: '/', query: { 'list-type': '2', prefix: 'vhost/' }, host },
      bed.t.admin,
    );
    expect(list.body).toContain('<Key>vhost/key.txt</Key>');
    expect(await current('vhost/key.txt')).toBe('vhost');
  });
});
