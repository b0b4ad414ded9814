/** CopyObject: `s3:PutObject` on the destination and `s3:GetObject` on the source. */
import { permissionsFor } from '../authorization.js';
import {
  authorize,
  callerAccount,
  headerOf,
  mappingInput,
  noSuchKey,
  objectKey,
  requireBucket,
  xmlResponse,
  type S3Call,
  type S3Response,
} from '../call.js';
import { evaluateCopySourceConditions, writeConditionOf } from '../conditions.js';
import { invalidArgument, S3Error } from '../errors.js';
import type { ObjectRecord } from '../metadata.js';
import { checkWriteFeatures, objectHeadersOf } from '../object-headers.js';
import { MAX_KEY_BYTES } from '../route.js';
import { copyToBlob } from '../write-blob.js';
import { el, xmlDocument } from '../xml.js';
import { commitObject } from './commit.js';
import { MAX_PUT_SIZE } from './put-object.js';

const COPY_ATTEMPTS = 3;

/**
 * `x-amz-copy-source`: `bucket/key` or `/bucket/key`, URL-encoded, optionally with
 * `?versionId=` (only `null` exists here).
 */
export function parseCopySource(value: string): { bucket: string; key: string } {
  const [path = '', query] = value.split('?', 2);
  const bad = () =>
    invalidArgument(
      'Copy Source must mention the source bucket and key: sourcebucket/sourcekey',
      'x-amz-copy-source',
      value,
    );
  const rest = path.replace(/^\//, '');
  const slash = rest.indexOf('/');
  if (slash <= 0 || slash === rest.length - 1) throw bad();
  let bucket: string;
  let key: string;
  try {
    bucket = decodeURIComponent(rest.slice(0, slash));
    key = decodeURIComponent(rest.slice(slash + 1));
  } catch {
    throw bad();
  }
  if (Buffer.byteLength(key) > MAX_KEY_BYTES) throw new S3Error('KeyTooLongError');
  const versionId = query === undefined ? null : new URLSearchParams(query).get('versionId');
  if (versionId !== null && versionId !== 'null') {
    throw invalidArgument('Invalid version id specified', 'x-amz-copy-source', value);
  }
  return { bucket, key };
}

/**
 * CopyObject: the source's bytes into a new version of the destination, with the source's
 * metadata (`COPY`, the default) or the request's (`REPLACE`).
 */
export async function copyObject(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  const source = parseCopySource(headerOf(call, 'x-amz-copy-source') ?? '');
  const sourceBucket =
    source.bucket === bucket.name ? bucket : await requireBucket(call, source.bucket);
  const checks = permissionsFor('CopyObject', { ...mappingInput(call), copySource: source });
  await authorize(call, checks[0]!, bucket);
  await authorize(call, checks[1]!, sourceBucket);
  checkWriteFeatures(call.req);
  const directive = headerOf(call, 'x-amz-metadata-directive') ?? 'COPY';
  if (directive !== 'COPY' && directive !== 'REPLACE') {
    throw invalidArgument('Unknown metadata directive.', 'x-amz-metadata-directive', directive);
  }
  const condition = writeConditionOf(call.req.headers);

  for (let attempt = 1; ; attempt++) {
    const from = await call.env.meta.object(sourceBucket.name, source.key);
    if (from === undefined) return noSuchKey(call, sourceBucket, source.key);
    evaluateCopySourceConditions(call.req.headers, from);
    if (from.size > MAX_PUT_SIZE) {
      throw new S3Error(
        'InvalidRequest',
        `The specified copy source is larger than the maximum allowable size for a copy source: ${MAX_PUT_SIZE}`,
      );
    }
    if (sourceBucket.name === bucket.name && source.key === key && directive === 'COPY') {
      throw new S3Error(
        'InvalidRequest',
        "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
      );
    }
    let copied;
    try {
      copied = await copyToBlob(call, [from.blob]);
    } catch (err) {
      // The source was overwritten or deleted meanwhile: read it again.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && attempt < COPY_ATTEMPTS) continue;
      throw err;
    }
    const described =
      directive === 'COPY'
        ? { contentType: from.contentType, headers: from.headers, metadata: from.metadata }
        : objectHeadersOf(call.req);
    const record: ObjectRecord = {
      bucket: bucket.name,
      key,
      blob: copied.blob,
      size: copied.size,
      etag: copied.md5.toString('hex'),
      ...described,
      ownerAccount: callerAccount(call) ?? bucket.ownerAccount,
      lastModified: new Date().toISOString(),
    };
    // The bytes are the same, so a full-object checksum still holds; a composite one does not.
    if (from.checksum?.type === 'FULL_OBJECT') record.checksum = from.checksum;
    await commitObject(call, record, condition);
    return xmlResponse(
      xmlDocument(
        'CopyObjectResult',
        el('ETag', `"${record.etag}"`) +
          el('LastModified', record.lastModified) +
          (record.checksum
            ? el(`Checksum${record.checksum.algorithm}`, record.checksum.value)
            : ''),
      ),
    );
  }
}
