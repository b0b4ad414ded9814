/** Get/Put/DeleteBucketPolicy. Only the bucket owner's account may use them, as in AWS. */
import { checksumRequestOf, parseContentMd5, readSmallBody } from '../body.js';
import { MAX_BUCKET_POLICY_BYTES, validateBucketPolicy } from '../bucket-policy.js';
import {
  authorizeCall,
  callerAccount,
  headerOf,
  noContent,
  requireBucket,
  type S3Call,
  type S3Response,
} from '../call.js';
import { CHECKSUM_ALGORITHMS } from '../checksums.js';
import { S3Error } from '../errors.js';
import type { BucketRecord } from '../metadata.js';

/**
 * AWS: permission without being in the owner's account is `MethodNotAllowed`, not AccessDenied
 * (a bucket policy cannot hand its own management to another account).
 */
async function authorizeOwner(call: S3Call): Promise<BucketRecord> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  if (callerAccount(call) !== bucket.ownerAccount) {
    throw new S3Error('MethodNotAllowed', undefined, {
      Method: call.req.method ?? '',
      ResourceType: 'BUCKETPOLICY',
    });
  }
  return bucket;
}

/** GetBucketPolicy: the document as stored; `NoSuchBucketPolicy` when there is none. */
export async function getBucketPolicy(call: S3Call): Promise<S3Response> {
  const bucket = await authorizeOwner(call);
  if (bucket.policy === null) {
    throw new S3Error('NoSuchBucketPolicy', undefined, { BucketName: bucket.name });
  }
  return { status: 200, headers: { 'content-type': 'application/json' }, body: bucket.policy };
}

/** PutBucketPolicy: validated as a resource policy first; a bad one changes nothing. */
export async function putBucketPolicy(call: S3Call): Promise<S3Response> {
  const bucket = await authorizeOwner(call);
  const body = await readSmallBody(
    call.req,
    call.payload,
    MAX_BUCKET_POLICY_BYTES * 2,
    parseContentMd5(headerOf(call, 'content-md5')),
    checksumRequestOf(call.req.headers, CHECKSUM_ALGORITHMS),
  );
  if (body.length === 0) throw new S3Error('MissingRequestBodyError');
  const text = body.toString('utf8');
  validateBucketPolicy(text, bucket.name);
  await call.env.meta.setBucketPolicy(bucket.name, text);
  return noContent();
}

/** DeleteBucketPolicy: succeeds whether or not there was one. */
export async function deleteBucketPolicy(call: S3Call): Promise<S3Response> {
  const bucket = await authorizeOwner(call);
  await call.env.meta.setBucketPolicy(bucket.name, null);
  return noContent();
}
