/** GetObject and HeadObject: conditions, ranges and part numbers, response overrides. */
import type { ReadStream } from 'node:fs';
import {
  authorizeCall,
  headerOf,
  noSuchKey,
  objectKey,
  requireBucket,
  type S3Call,
  type S3Response,
} from '../call.js';
import { evaluateReadConditions, rangeOf, type ByteRange } from '../conditions.js';
import { invalidArgument, S3Error } from '../errors.js';
import type { ObjectRecord } from '../metadata.js';
import { objectResponseHeaders } from '../object-headers.js';

/** `response-*` query parameters and the headers they override. */
const OVERRIDES: Readonly<Record<string, string>> = {
  'response-content-type': 'content-type',
  'response-content-language': 'content-language',
  'response-expires': 'expires',
  'response-cache-control': 'cache-control',
  'response-content-disposition': 'content-disposition',
  'response-content-encoding': 'content-encoding',
};
/** Reads up to this many bytes are answered from one buffer instead of a stream. */
const SMALL_READ = 64 * 1024;

/** A blob replaced between reading its row and opening it is retried this many times. */
const OPEN_ATTEMPTS = 3;

/** GetObject. */
export function getObject(call: S3Call): Promise<S3Response> {
  return readObject(call, false);
}

/** HeadObject (errors carry no body). */
export function headObject(call: S3Call): Promise<S3Response> {
  return readObject(call, true);
}

async function readObject(call: S3Call, head: boolean): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  const q = call.route.query;
  const versionId = q.get('versionId');
  if (versionId !== null && versionId !== 'null') {
    throw invalidArgument('Invalid version id specified', 'versionId', versionId);
  }
  const overrides = Object.keys(OVERRIDES).filter((name) => q.has(name));
  if (overrides.length > 0 && call.caller.kind === 'anonymous') {
    throw new S3Error(
      'InvalidRequest',
      'Request specific response headers cannot be used for anonymous GET requests.',
    );
  }
  const partText = q.get('partNumber');
  const rangeHeader = headerOf(call, 'range');
  if (partText !== null && rangeHeader !== undefined) {
    throw new S3Error(
      'InvalidRequest',
      'Cannot specify both Range header and partNumber query parameter',
    );
  }

  for (let attempt = 1; ; attempt++) {
    const object = await call.env.meta.object(bucket.name, key);
    if (object === undefined) return noSuchKey(call, bucket, key);
    const headers = objectResponseHeaders(
      object,
      headerOf(call, 'x-amz-checksum-mode') === 'ENABLED' &&
        partText === null &&
        rangeHeader === undefined,
    );
    if (evaluateReadConditions(call.req.headers, object) === 'not-modified') {
      return {
        status: 304,
        headers: { etag: headers.etag!, 'last-modified': headers['last-modified']! },
      };
    }
    const range =
      partText !== null ? partRange(object, partText) : rangeOf(rangeHeader, object.size);
    for (const name of overrides) headers[OVERRIDES[name]!] = q.get(name)!;
    const start = range?.start ?? 0;
    const end = range?.end ?? object.size - 1;
    headers['content-length'] = end - start + 1;
    const status = range === undefined ? 200 : 206;
    if (range !== undefined) headers['content-range'] = `bytes ${start}-${end}/${object.size}`;
    if (head || object.size === 0) return { status, headers };

    let body: Buffer | ReadStream;
    try {
      body =
        end - start < SMALL_READ
          ? await call.env.objects.readBlobRange(object.blob, start, end)
          : call.env.objects.readStream(await call.env.objects.openBlob(object.blob), start, end);
    } catch (err) {
      // Overwritten or deleted since the row was read: read the row again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < OPEN_ATTEMPTS) continue;
      throw err;
    }
    return { status, headers, body };
  }
}

/** The byte range of part `n` of a multipart object (a whole other object is part 1). */
function partRange(object: ObjectRecord, text: string): ByteRange {
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 10_000) {
    throw invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      text,
    );
  }
  const sizes = object.partSizes ?? [object.size];
  if (n > sizes.length) {
    throw new S3Error('InvalidPartNumber', undefined, {
      PartNumberRequested: text,
      ActualPartCount: String(sizes.length),
    });
  }
  let start = 0;
  for (let i = 0; i < n - 1; i++) start += sizes[i]!;
  return { start, end: start + sizes[n - 1]! - 1 };
}
