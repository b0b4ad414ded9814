/** The trivial object reads: GetObjectAcl (owner's full control) and GetObjectTagging (no tags). */
import {
  authorizeCall,
  noSuchKey,
  objectKey,
  requireBucket,
  xmlResponse,
  type S3Call,
  type S3Response,
} from '../call.js';
import { xmlDocument } from '../xml.js';
import { ownerOnlyAcl } from './buckets.js';

/** GetObjectAcl: ACLs are disabled (S3's default ownership), so the bucket owner has full control. */
export async function getObjectAcl(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  if ((await call.env.meta.object(bucket.name, key)) === undefined)
    await noSuchKey(call, bucket, key);
  return xmlResponse(ownerOnlyAcl(bucket.ownerAccount));
}

/** GetObjectTagging: objects carry no tags here (PutObjectTagging is not implemented). */
export async function getObjectTagging(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  if ((await call.env.meta.object(bucket.name, key)) === undefined)
    await noSuchKey(call, bucket, key);
  return xmlResponse(xmlDocument('Tagging', '<TagSet></TagSet>'));
}
