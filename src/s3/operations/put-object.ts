/** PutObject: one streamed body, verified, committed atomically over the previous version. */
import { checksumRequestOf, parseContentMd5 } from '../body.js';
import {
  authorizeCall,
  callerAccount,
  headerOf,
  objectKey,
  requireBucket,
  type S3Call,
  type S3Response,
} from '../call.js';
import { checksumHeader, CHECKSUM_ALGORITHMS } from '../checksums.js';
import { writeConditionOf } from '../conditions.js';
import { checkWriteCondition, type ObjectRecord } from '../metadata.js';
import { checkWriteFeatures, objectHeadersOf } from '../object-headers.js';
import { receiveToBlob } from '../write-blob.js';
import { commitObject } from './commit.js';

/** The largest object a single PUT may write (5 GiB). */
export const MAX_PUT_SIZE = 5 * 1024 ** 3;

/**
 * PutObject: authorize, check the headers, stream the body to a temporary file (verifying
 * length, signatures, SHA-256, Content-MD5 and checksums), then swap the new version in.
 * A failure at any step leaves the previous version as it was.
 */
export async function putObject(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  checkWriteFeatures(call.req);
  const described = objectHeadersOf(call.req);
  const contentMd5 = parseContentMd5(headerOf(call, 'content-md5'));
  const checksum = checksumRequestOf(call.req.headers, CHECKSUM_ALGORITHMS);
  const condition = writeConditionOf(call.req.headers);
  if (condition !== undefined) {
    // Fail before the upload when the answer is already known; checked again at commit.
    checkWriteCondition(condition, (await call.env.meta.object(bucket.name, key))?.etag, key);
  }

  const { blob, body } = await receiveToBlob(call, {
    maxSize: MAX_PUT_SIZE,
    ...(contentMd5 !== undefined ? { contentMd5 } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
  });
  const record: ObjectRecord = {
    bucket: bucket.name,
    key,
    blob,
    size: body.size,
    etag: body.md5.toString('hex'),
    ...described,
    ownerAccount: callerAccount(call) ?? bucket.ownerAccount,
    lastModified: new Date().toISOString(),
  };
  if (body.checksum !== undefined) record.checksum = { ...body.checksum, type: 'FULL_OBJECT' };
  await commitObject(call, record, condition);

  const headers: Record<string, string> = { etag: `"${record.etag}"` };
  if (record.checksum !== undefined) {
    headers[checksumHeader(record.checksum.algorithm)] = record.checksum.value;
    headers['x-amz-checksum-type'] = 'FULL_OBJECT';
  }
  return { status: 200, headers };
}
