/**
 * The S3 API through the AWS SDK for JavaScript v3 (client-s3, lib-storage, the presigner)
 * against the service on a real HTTP server and a real SQLite store.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketAclCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketPolicyCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
  type BucketLocationConstraint,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorOf, startS3TestBed, type S3TestBed } from './helpers/harness.js';

let bed: S3TestBed;
let s3: S3Client;
beforeAll(async () => {
  bed = await startS3TestBed();
  s3 = bed.s3Client();
});
afterAll(async () => {
  await bed?.stop();
});

const md5 = (data: Buffer | string) => createHash('md5').update(data).digest('hex');

/** A deterministic byte stream of `size` bytes (never held in memory whole). */
function patternStream(size: number, chunk = 1024 * 1024): Readable {
  let sent = 0;
  const block = Buffer.alloc(chunk);
  for (let i = 0; i < chunk; i++) block[i] = (i * 31 + 7) & 0xff;
  return new Readable({
    read() {
      if (sent >= size) return void this.push(null);
      const n = Math.min(chunk, size - sent);
      sent += n;
      this.push(block.subarray(0, n));
    },
  });
}

async function md5OfStream(stream: Readable): Promise<{ md5: string; size: number }> {
  const hash = createHash('md5');
  let size = 0;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { md5: hash.digest('hex'), size };
}

describe('buckets', () => {
  it('create, list, head, locate, delete', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'lifecycle-1' }));
    const list = await s3.send(new ListBucketsCommand({}));
    expect(list.Buckets?.map((b) => b.Name)).toContain('lifecycle-1');
    expect(list.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    const head = await s3.send(new HeadBucketCommand({ Bucket: 'lifecycle-1' }));
    expect(head.BucketRegion).toBe('us-east-1');
    const location = await s3.send(new GetBucketLocationCommand({ Bucket: 'lifecycle-1' }));
    expect(location.LocationConstraint).toBeUndefined();
    const versioning = await s3.send(new GetBucketVersioningCommand({ Bucket: 'lifecycle-1' }));
    expect(versioning.Status).toBeUndefined();
    const acl = await s3.send(new GetBucketAclCommand({ Bucket: 'lifecycle-1' }));
    expect(acl.Grants?.[0]?.Permission).toBe('FULL_CONTROL');
    await s3.send(new DeleteBucketCommand({ Bucket: 'lifecycle-1' }));
    expect(await errorOf(s3.send(new HeadBucketCommand({ Bucket: 'lifecycle-1' })))).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
    expect(
      await errorOf(s3.send(new DeleteBucketCommand({ Bucket: 'lifecycle-1' }))),
    ).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
  });

  it('names are global: yours again is BucketAlreadyOwnedByYou, another account’s BucketAlreadyExists', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'taken-name' }));
    expect(await errorOf(s3.send(new CreateBucketCommand({ Bucket: 'taken-name' })))).toMatchObject(
      {
        name: 'BucketAlreadyOwnedByYou',
        status: 409,
      },
    );
    const other = bed.s3Client(await bed.createAccount('111111111111'));
    expect(
      await errorOf(other.send(new CreateBucketCommand({ Bucket: 'taken-name' }))),
    ).toMatchObject({
      name: 'BucketAlreadyExists',
      status: 409,
    });
    // Each account lists only its own buckets.
    expect((await other.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
  });

  it('invalid names and location constraints are refused and create nothing', async () => {
    for (const Bucket of ['ab', 'Upper-Case', 'under_score', '192.168.0.1', 'a..b']) {
      expect(await errorOf(s3.send(new CreateBucketCommand({ Bucket })))).toMatchObject({
        name: 'InvalidBucketName',
        status: 400,
      });
    }
    expect(
      await errorOf(
        s3.send(
          new CreateBucketCommand({
            Bucket: 'wrong-region',
            CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'IllegalLocationConstraintException', status: 400 });
    expect(
      await errorOf(
        s3.send(
          new CreateBucketCommand({
            Bucket: 'wrong-region',
            // S3 refuses the default region named explicitly (the SDK's type omits it).
            CreateBucketConfiguration: {
              LocationConstraint: 'us-east-1' as BucketLocationConstraint,
            },
          }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidLocationConstraint', status: 400 });
    const names = (await s3.send(new ListBucketsCommand({}))).Buckets?.map((b) => b.Name) ?? [];
    expect(names).not.toContain('wrong-region');
    expect(
      await errorOf(
        s3.send(
          new PutBucketVersioningCommand({
            Bucket: 'taken-name',
            VersioningConfiguration: { Status: 'Enabled' },
          }),
        ),
      ),
    ).toMatchObject({ name: 'NotImplemented', status: 501 });
  });

  it('a bucket with objects is BucketNotEmpty', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'not-empty' }));
    await s3.send(new PutObjectCommand({ Bucket: 'not-empty', Key: 'k', Body: 'x' }));
    expect(await errorOf(s3.send(new DeleteBucketCommand({ Bucket: 'not-empty' })))).toMatchObject({
      name: 'BucketNotEmpty',
      status: 409,
    });
    await s3.send(new DeleteObjectCommand({ Bucket: 'not-empty', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'not-empty' }));
  });
});

describe('objects', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'objects' }));
  });

  it('put and get keep bytes, type, encoding and user metadata; ETag is the MD5', async () => {
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'docs/a b+c €.txt',
        Body: 'hello world',
        ContentType: 'text/plain; charset=utf-8',
        ContentDisposition: 'attachment',
        CacheControl: 'max-age=60',
        Metadata: { owner: 'alice', 'team-name': 'blue' },
      }),
    );
    expect(put.ETag).toBe(`"${md5('hello world')}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'docs/a b+c €.txt' }));
    expect(await got.Body?.transformToString()).toBe('hello world');
    expect(got).toMatchObject({
      ContentType: 'text/plain; charset=utf-8',
      ContentDisposition: 'attachment',
      CacheControl: 'max-age=60',
      ContentLength: 11,
      ETag: put.ETag,
      Metadata: { owner: 'alice', 'team-name': 'blue' },
      AcceptRanges: 'bytes',
    });
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'objects', Key: 'docs/a b+c €.txt' }),
    );
    expect(head.ContentLength).toBe(11);
    expect(head.LastModified).toBeInstanceOf(Date);
  });

  it('an overwrite replaces the object; the old blob is removed', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'over', Body: 'one' }));
    const blobs = bed.blobCount();
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'over', Body: 'two!' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'over' }));
    expect(await got.Body?.transformToString()).toBe('two!');
    expect(bed.blobCount()).toBe(blobs);
    expect(bed.tempFiles()).toEqual([]);
  });

  it.each([
    ['small (read at once)', 1000],
    ['large (streamed)', 100 * 1024],
  ])('a %s object read while it is overwritten is always one whole version', async (_, size) => {
    const key = `racing-${size}`;
    const versions = 'abcdefghijklmnop'.split('').map((c) => c.repeat(size));
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: key, Body: versions[0] }));
    let writing = true;
    const writes = (async () => {
      for (const body of versions.slice(1)) {
        await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: key, Body: body }));
      }
    })().finally(() => (writing = false));
    const bodies: string[] = [];
    const readers = Array.from({ length: 8 }, async () => {
      while (writing) {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: key }));
        bodies.push(await got.Body!.transformToString());
      }
    });
    await Promise.all([writes, ...readers]);
    expect(bodies.length).toBeGreaterThan(versions.length);
    for (const body of bodies) expect(versions).toContain(body);
    expect(bed.tempFiles()).toEqual([]);
  });

  it('ranges: 206 with Content-Range, suffix ranges, 416 InvalidRange', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'digits', Body: '0123456789' }));
    const part = await s3.send(
      new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=2-5' }),
    );
    expect(part.$metadata.httpStatusCode).toBe(206);
    expect(part.ContentRange).toBe('bytes 2-5/10');
    expect(await part.Body?.transformToString()).toBe('2345');
    const tail = await s3.send(
      new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=-3' }),
    );
    expect(await tail.Body?.transformToString()).toBe('789');
    expect(
      await errorOf(
        s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'digits', Range: 'bytes=10-' })),
      ),
    ).toMatchObject({ name: 'InvalidRange', status: 416 });
  });

  it('conditions: If-None-Match → 304, If-Match mismatch → 412, If-Modified-Since', async () => {
    const put = await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'cond', Body: 'c' }));
    expect(
      await errorOf(
        s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'cond', IfNoneMatch: put.ETag })),
      ),
    ).toMatchObject({ status: 304 });
    expect(
      await errorOf(
        s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'cond', IfMatch: '"0000"' })),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
    const ok = await s3.send(
      new GetObjectCommand({ Bucket: 'objects', Key: 'cond', IfMatch: put.ETag }),
    );
    expect(await ok.Body?.transformToString()).toBe('c');
    expect(
      await errorOf(
        s3.send(
          new GetObjectCommand({
            Bucket: 'objects',
            Key: 'cond',
            IfModifiedSince: new Date(Date.now() + 60_000),
          }),
        ),
      ),
    ).toMatchObject({ status: 304 });
    // Conditional writes: create-only.
    expect(
      await errorOf(
        s3.send(
          new PutObjectCommand({ Bucket: 'objects', Key: 'cond', Body: 'd', IfNoneMatch: '*' }),
        ),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  });

  it('response-* overrides on GET', async () => {
    await s3.send(new PutObjectCommand({ Bucket: 'objects', Key: 'override', Body: 'o' }));
    const got = await s3.send(
      new GetObjectCommand({
        Bucket: 'objects',
        Key: 'override',
        ResponseContentType: 'application/x-custom',
        ResponseContentDisposition: 'inline; filename="o.txt"',
      }),
    );
    expect(got.ContentType).toBe('application/x-custom');
    expect(got.ContentDisposition).toBe('inline; filename="o.txt"');
  });

  it('missing keys and buckets', async () => {
    expect(
      await errorOf(s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'nope' }))),
    ).toMatchObject({
      name: 'NoSuchKey',
      status: 404,
    });
    expect(
      await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'nope' }))),
    ).toMatchObject({
      name: 'NotFound',
      status: 404,
    });
    expect(
      await errorOf(s3.send(new GetObjectCommand({ Bucket: 'no-such-bucket-x', Key: 'k' }))),
    ).toMatchObject({
      name: 'NoSuchBucket',
      status: 404,
    });
    // Deleting a missing key succeeds, as in S3.
    await s3.send(new DeleteObjectCommand({ Bucket: 'objects', Key: 'nope' }));
  });

  it('checksums: sent ones are verified and returned; a wrong one is BadDigest and writes nothing', async () => {
    const body = 'checksummed';
    const sha256 = createHash('sha256').update(body).digest('base64');
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'objects', Key: 'sum', Body: body, ChecksumSHA256: sha256 }),
    );
    expect(put.ChecksumSHA256).toBe(sha256);
    const got = await s3.send(
      new GetObjectCommand({ Bucket: 'objects', Key: 'sum', ChecksumMode: 'ENABLED' }),
    );
    expect(got.ChecksumSHA256).toBe(sha256);
    expect(await got.Body?.transformToString()).toBe(body);
    for (const algorithm of ['CRC32', 'CRC32C', 'SHA1', 'CRC64NVME'] as const) {
      const r = await s3.send(
        new PutObjectCommand({
          Bucket: 'objects',
          Key: `sum-${algorithm}`,
          Body: body,
          ChecksumAlgorithm: algorithm,
        }),
      );
      expect(r.ETag).toBe(`"${md5(body)}"`);
    }
    const wrong = createHash('sha256').update('something else').digest('base64');
    expect(
      await errorOf(
        s3.send(
          new PutObjectCommand({
            Bucket: 'objects',
            Key: 'sum',
            Body: 'changed',
            ChecksumSHA256: wrong,
          }),
        ),
      ),
    ).toMatchObject({
      name: 'BadDigest',
      status: 400,
      message: 'The SHA256 you specified did not match the calculated checksum.',
    });
    const still = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'sum' }));
    expect(await still.Body?.transformToString()).toBe(body);
    expect(bed.tempFiles()).toEqual([]);
  });

  it('a streamed body (aws-chunked with a checksum trailer) of 64 MiB, memory-flat both ways', async () => {
    const size = 64 * 1024 * 1024;
    const expected = await md5OfStream(patternStream(size));
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'big/64mib',
        Body: patternStream(size),
        ContentLength: size,
      }),
    );
    expect(put.ETag).toBe(`"${expected.md5}"`);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'objects', Key: 'big/64mib' }));
    expect(got.ContentLength).toBe(size);
    expect(await md5OfStream(got.Body as Readable)).toEqual(expected);
  });

  it('copy: COPY keeps metadata, REPLACE takes the request’s; to itself unchanged is refused', async () => {
    await s3.send(
      new PutObjectCommand({
        Bucket: 'objects',
        Key: 'src',
        Body: 'source',
        ContentType: 'text/x-src',
        Metadata: { a: '1' },
      }),
    );
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: 'objects', Key: 'dst', CopySource: 'objects/src' }),
    );
    expect(copied.CopyObjectResult?.ETag).toBe(`"${md5('source')}"`);
    const dst = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dst' }));
    expect(dst).toMatchObject({ ContentType: 'text/x-src', Metadata: { a: '1' } });
    await s3.send(
      new CopyObjectCommand({
        Bucket: 'objects',
        Key: 'dst2',
        CopySource: '/objects/src',
        MetadataDirective: 'REPLACE',
        ContentType: 'text/plain',
        Metadata: { b: '2' },
      }),
    );
    const dst2 = await s3.send(new HeadObjectCommand({ Bucket: 'objects', Key: 'dst2' }));
    expect(dst2).toMatchObject({ ContentType: 'text/plain', Metadata: { b: '2' } });
    expect(
      await errorOf(
        s3.send(
          new CopyObjectCommand({ Bucket: 'objects', Key: 'src', CopySource: 'objects/src' }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidRequest', status: 400 });
    expect(
      await errorOf(
        s3.send(
          new CopyObjectCommand({ Bucket: 'objects', Key: 'x', CopySource: 'objects/missing' }),
        ),
      ),
    ).toMatchObject({ name: 'NoSuchKey', status: 404 });
    expect(
      await errorOf(
        s3.send(
          new CopyObjectCommand({
            Bucket: 'objects',
            Key: 'x',
            CopySource: 'objects/src',
            CopySourceIfMatch: '"0"',
          }),
        ),
      ),
    ).toMatchObject({ name: 'PreconditionFailed', status: 412 });
  });

  it('DeleteObjects: quiet and verbose, missing keys count as deleted', async () => {
    for (const Key of ['del/1', 'del/2', 'del/3']) {
      await s3.send(new PutObjectCommand({ Bucket: 'objects', Key, Body: Key }));
    }
    const verbose = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'objects',
        Delete: { Objects: [{ Key: 'del/1' }, { Key: 'del/missing' }] },
      }),
    );
    expect(verbose.Deleted?.map((d) => d.Key).sort()).toEqual(['del/1', 'del/missing']);
    const quiet = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'objects',
        Delete: { Quiet: true, Objects: [{ Key: 'del/2' }, { Key: 'del/3' }] },
      }),
    );
    expect(quiet.Deleted ?? []).toEqual([]);
    expect(quiet.Errors ?? []).toEqual([]);
    const left = await s3.send(new ListObjectsV2Command({ Bucket: 'objects', Prefix: 'del/' }));
    expect(left.KeyCount).toBe(0);
  });
});

describe('listing', () => {
  const keys = [
    'photos/2023/a.jpg',
    'photos/2023/b.jpg',
    'photos/2024/c.jpg',
    'photos/index.html',
    'readme.txt',
    'run books/x.txt',
    'a+b.txt',
    'ü.txt',
    '\u{1F600}.txt',
    '\uFF01.txt',
  ];
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'listing' }));
    for (const Key of keys)
      await s3.send(new PutObjectCommand({ Bucket: 'listing', Key, Body: Key }));
  });

  it('V2: everything in UTF-8 byte order', async () => {
    const all = await s3.send(new ListObjectsV2Command({ Bucket: 'listing' }));
    const byBytes = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(all.Contents?.map((c) => c.Key)).toEqual(byBytes);
    expect(all.KeyCount).toBe(keys.length);
    expect(all.Contents?.[0]).toMatchObject({ Size: expect.any(Number), StorageClass: 'STANDARD' });
    expect(all.Contents?.[0]?.Owner).toBeUndefined();
  });

  it('V2: prefix, delimiter and common prefixes; pages by continuation token; start-after', async () => {
    const top = await s3.send(
      new ListObjectsV2Command({ Bucket: 'listing', Prefix: 'photos/', Delimiter: '/' }),
    );
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['photos/2023/', 'photos/2024/']);
    expect(top.Contents?.map((c) => c.Key)).toEqual(['photos/index.html']);
    expect(top.KeyCount).toBe(3);

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: 'listing',
          Delimiter: '/',
          MaxKeys: 2,
          ContinuationToken: token,
        }),
      );
      pages++;
      seen.push(
        ...(page.Contents ?? []).map((c) => c.Key!),
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix!),
      );
      token = page.NextContinuationToken;
      expect(page.IsTruncated).toBe(token !== undefined);
    } while (token !== undefined);
    expect(pages).toBe(4);
    expect(seen.sort()).toEqual(
      [
        'a+b.txt',
        'photos/',
        'readme.txt',
        'run books/',
        'ü.txt',
        '\u{1F600}.txt',
        '\uFF01.txt',
      ].sort(),
    );

    const after = await s3.send(
      new ListObjectsV2Command({ Bucket: 'listing', StartAfter: 'readme.txt' }),
    );
    expect(after.Contents?.[0]?.Key).toBe('run books/x.txt');
    expect(after.StartAfter).toBe('readme.txt');
  });

  it('V1: marker and NextMarker, owner', async () => {
    const first = await s3.send(
      new ListObjectsCommand({ Bucket: 'listing', Delimiter: '/', MaxKeys: 2 }),
    );
    expect(first.IsTruncated).toBe(true);
    expect(first.NextMarker).toBe('photos/');
    expect(first.Contents?.[0]?.Owner?.ID).toMatch(/^[0-9a-f]{64}$/);
    const second = await s3.send(
      new ListObjectsCommand({
        Bucket: 'listing',
        Delimiter: '/',
        MaxKeys: 2,
        Marker: first.NextMarker,
      }),
    );
    expect([
      ...(second.Contents ?? []).map((c) => c.Key),
      ...(second.CommonPrefixes ?? []).map((p) => p.Prefix),
    ]).toEqual(['readme.txt', 'run books/']);
  });

  it('encoding-type=url encodes keys and prefixes as AWS does', async () => {
    const page = await s3.send(
      new ListObjectsV2Command({
        Bucket: 'listing',
        EncodingType: 'url',
        Delimiter: '/',
        Prefix: 'run books/',
      }),
    );
    expect(page.EncodingType).toBe('url');
    expect(page.Prefix).toBe('run+books/');
    expect(page.Contents?.map((c) => c.Key)).toEqual(['run+books/x.txt']);
    const plus = await s3.send(
      new ListObjectsV2Command({ Bucket: 'listing', EncodingType: 'url', Prefix: 'a' }),
    );
    expect(plus.Contents?.map((c) => c.Key)).toEqual(['a%2Bb.txt']);
  });

  it('bad parameters are InvalidArgument', async () => {
    expect(
      await errorOf(
        s3.send(new ListObjectsV2Command({ Bucket: 'listing', ContinuationToken: 'garbage!' })),
      ),
    ).toMatchObject({ name: 'InvalidArgument', status: 400 });
  });
});

describe('multipart uploads', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'multipart' }));
  });

  it('lib-storage Upload: parts, ETag md5-of-md5s-N, composite checksum, same bytes back', async () => {
    const size = 12 * 1024 * 1024 + 123;
    const expected = await md5OfStream(patternStream(size));
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: 'multipart',
        Key: 'big.bin',
        Body: patternStream(size),
        ContentType: 'application/x-big',
      },
      partSize: 5 * 1024 * 1024,
      queueSize: 2,
    });
    const done = await upload.done();
    expect(done.ETag).toMatch(/^"[0-9a-f]{32}-3"$/);
    const head = await s3.send(
      new HeadObjectCommand({ Bucket: 'multipart', Key: 'big.bin', ChecksumMode: 'ENABLED' }),
    );
    expect(head).toMatchObject({
      ContentLength: size,
      ContentType: 'application/x-big',
      ETag: done.ETag,
    });
    expect(head.ChecksumCRC32).toMatch(/-3$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'multipart', Key: 'big.bin' }));
    expect(await md5OfStream(got.Body as Readable)).toEqual(expected);
    const part2 = await s3.send(
      new GetObjectCommand({ Bucket: 'multipart', Key: 'big.bin', PartNumber: 2 }),
    );
    expect(part2.ContentLength).toBe(5 * 1024 * 1024);
    expect(part2.PartsCount).toBe(3);
    expect(bed.tempFiles()).toEqual([]);
  });

  it('the low-level calls, ListParts, and the refusals: EntityTooSmall, InvalidPartOrder, InvalidPart, NoSuchUpload', async () => {
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'multipart', Key: 'manual' }),
    );
    const small = await s3.send(
      new UploadPartCommand({
        Bucket: 'multipart',
        Key: 'manual',
        UploadId,
        PartNumber: 1,
        Body: 'tiny',
      }),
    );
    const last = await s3.send(
      new UploadPartCommand({
        Bucket: 'multipart',
        Key: 'manual',
        UploadId,
        PartNumber: 2,
        Body: 'end',
      }),
    );
    const parts = await s3.send(
      new ListPartsCommand({ Bucket: 'multipart', Key: 'manual', UploadId }),
    );
    expect(parts.Parts?.map((p) => [p.PartNumber, p.Size, p.ETag])).toEqual([
      [1, 4, small.ETag],
      [2, 3, last.ETag],
    ]);
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'multipart' }));
    expect(uploads.Uploads?.map((u) => u.Key)).toContain('manual');
    const complete = (Parts: { PartNumber: number; ETag?: string }[]) =>
      errorOf(
        s3.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'multipart',
            Key: 'manual',
            UploadId,
            MultipartUpload: { Parts },
          }),
        ),
      );
    expect(
      await complete([
        { PartNumber: 1, ETag: small.ETag },
        { PartNumber: 2, ETag: last.ETag },
      ]),
    ).toMatchObject({
      name: 'EntityTooSmall',
      status: 400,
    });
    expect(
      await complete([
        { PartNumber: 2, ETag: last.ETag },
        { PartNumber: 1, ETag: small.ETag },
      ]),
    ).toMatchObject({
      name: 'InvalidPartOrder',
      status: 400,
    });
    expect(
      await complete([{ PartNumber: 1, ETag: '"00000000000000000000000000000000"' }]),
    ).toMatchObject({
      name: 'InvalidPart',
      status: 400,
    });
    // A single last part of any size is fine.
    const one = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'multipart',
        Key: 'manual',
        UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 2, ETag: last.ETag }] },
      }),
    );
    expect(one.ETag).toMatch(/-1"$/);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'multipart', Key: 'manual' }));
    expect(await got.Body?.transformToString()).toBe('end');
    // Completed: the upload is gone, and its unused part with it.
    expect(
      await errorOf(
        s3.send(new ListPartsCommand({ Bucket: 'multipart', Key: 'manual', UploadId })),
      ),
    ).toMatchObject({
      name: 'NoSuchUpload',
      status: 404,
    });
    expect(bed.tempFiles()).toEqual([]);
  });

  it('abort removes the upload and its parts', async () => {
    const blobs = bed.blobCount();
    const { UploadId } = await s3.send(
      new CreateMultipartUploadCommand({ Bucket: 'multipart', Key: 'aborted' }),
    );
    await s3.send(
      new UploadPartCommand({
        Bucket: 'multipart',
        Key: 'aborted',
        UploadId,
        PartNumber: 1,
        Body: 'p',
      }),
    );
    expect(bed.blobCount()).toBe(blobs + 1);
    await s3.send(
      new AbortMultipartUploadCommand({ Bucket: 'multipart', Key: 'aborted', UploadId }),
    );
    expect(bed.blobCount()).toBe(blobs);
    expect(
      await errorOf(
        s3.send(
          new UploadPartCommand({
            Bucket: 'multipart',
            Key: 'aborted',
            UploadId,
            PartNumber: 2,
            Body: 'q',
          }),
        ),
      ),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
    expect(
      await errorOf(
        s3.send(new AbortMultipartUploadCommand({ Bucket: 'multipart', Key: 'aborted', UploadId })),
      ),
    ).toMatchObject({ name: 'NoSuchUpload', status: 404 });
    expect(bed.blobCount()).toBe(blobs);
  });
});

describe('presigned URLs', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'presigned' }));
  });

  it('PUT then GET through presigned URLs; an expired one is AccessDenied', async () => {
    const putUrl = await getSignedUrl(
      s3,
      new PutObjectCommand({ Bucket: 'presigned', Key: 'p/q.txt' }),
      {
        expiresIn: 60,
      },
    );
    const put = await fetch(putUrl, { method: 'PUT', body: 'via presigned put' });
    expect(put.status).toBe(200);
    expect(put.headers.get('x-amz-request-id')).toMatch(/^[0-9A-F]{16}$/);
    const getUrl = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: 'presigned', Key: 'p/q.txt' }),
      {
        expiresIn: 60,
      },
    );
    const got = await fetch(getUrl);
    expect(got.status).toBe(200);
    expect(await got.text()).toBe('via presigned put');

    const old = await getSignedUrl(
      s3,
      new GetObjectCommand({ Bucket: 'presigned', Key: 'p/q.txt' }),
      {
        expiresIn: 1,
        signingDate: new Date(Date.now() - 120_000),
      },
    );
    const expired = await fetch(old);
    expect(expired.status).toBe(403);
    const body = await expired.text();
    expect(body).toContain('<Code>AccessDenied</Code>');
    expect(body).toContain('<Message>Request has expired</Message>');
    // A tampered URL does not verify.
    const tampered = await fetch(getUrl.replace('p/q.txt', 'p/r.txt'));
    expect(tampered.status).toBe(403);
    expect(await tampered.text()).toContain('<Code>SignatureDoesNotMatch</Code>');
  });
});

describe('bucket policies', () => {
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'with-policy' }));
  });
  const policy = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'Public',
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::with-policy/public/*',
      },
    ],
  });

  it('put, get, delete; NoSuchBucketPolicy when there is none', async () => {
    expect(
      await errorOf(s3.send(new GetBucketPolicyCommand({ Bucket: 'with-policy' }))),
    ).toMatchObject({
      name: 'NoSuchBucketPolicy',
      status: 404,
    });
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'with-policy', Policy: policy }));
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: 'with-policy' }))).Policy).toBe(
      policy,
    );
    await s3.send(new DeleteBucketPolicyCommand({ Bucket: 'with-policy' }));
    expect(
      await errorOf(s3.send(new GetBucketPolicyCommand({ Bucket: 'with-policy' }))),
    ).toMatchObject({
      name: 'NoSuchBucketPolicy',
    });
  });

  it('a malformed policy is MalformedPolicy and the stored one stays', async () => {
    await s3.send(new PutBucketPolicyCommand({ Bucket: 'with-policy', Policy: policy }));
    for (const bad of [
      '{not json',
      JSON.stringify({
        Statement: [
          { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::with-policy/*' },
        ],
      }),
      JSON.stringify({
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::elsewhere/*',
          },
        ],
      }),
      JSON.stringify({
        Statement: [
          {
            Effect: 'Maybe',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::with-policy/*',
          },
        ],
      }),
    ]) {
      expect(
        await errorOf(s3.send(new PutBucketPolicyCommand({ Bucket: 'with-policy', Policy: bad }))),
      ).toMatchObject({
        name: 'MalformedPolicy',
        status: 400,
      });
    }
    expect((await s3.send(new GetBucketPolicyCommand({ Bucket: 'with-policy' }))).Policy).toBe(
      policy,
    );
  });
});
