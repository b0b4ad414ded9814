/** DeleteObject and DeleteObjects. */
import { checksumRequestOf, parseContentMd5, readSmallBody } from '../body.js';
import { permissionsFor } from '../authorization.js';
import {
  authorize,
  authorizeCall,
  headerOf,
  noContent,
  objectKey,
  requireBucket,
  xmlResponse,
  type S3Call,
  type S3Response,
} from '../call.js';
import { CHECKSUM_ALGORITHMS } from '../checksums.js';
import { S3Error, toS3Error } from '../errors.js';
import { MAX_KEY_BYTES } from '../route.js';
import { el, xmlDocument } from '../xml.js';
import { childText, children, parseXmlDocument } from '../xml-input.js';
import { removeQuietly } from './commit.js';

/** DeleteObjects takes at most 1,000 keys. */
const MAX_DELETE_KEYS = 1000;
/** 1,000 keys of 1,024 bytes, escaped, fit. */
const MAX_DELETE_BODY_BYTES = 8 * 1024 * 1024;

/** DeleteObject: succeeds whether or not the key exists (S3 reveals nothing either way). */
export async function deleteObject(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  if (headerOf(call, 'if-match') !== undefined) {
    throw new S3Error('NotImplemented', undefined, { Header: 'If-Match' });
  }
  const versionId = call.route.query.get('versionId');
  if (versionId !== null && versionId !== 'null') {
    throw new S3Error('InvalidArgument', 'Invalid version id specified', {
      ArgumentName: 'versionId',
      ArgumentValue: versionId,
    });
  }
  const blob = await call.env.meta.deleteObject(bucket.name, key);
  if (blob !== undefined) await removeQuietly(call, [blob]);
  return noContent();
}

/**
 * DeleteObjects: each key is authorized (`s3:DeleteObject`) and deleted on its own; failures
 * are reported per key in the result, as S3 does. `Quiet` leaves out the successes.
 */
export async function deleteObjects(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const contentMd5 = parseContentMd5(headerOf(call, 'content-md5'));
  const checksum = checksumRequestOf(call.req.headers, CHECKSUM_ALGORITHMS);
  if (contentMd5 === undefined && checksum === undefined) {
    throw new S3Error('InvalidRequest', 'Missing required header for this request: Content-MD5');
  }
  const body = await readSmallBody(
    call.req,
    call.payload,
    MAX_DELETE_BODY_BYTES,
    contentMd5,
    checksum,
  );
  const doc = parseXmlDocument(body, 'Delete');
  const objects = children(doc, 'Object');
  if (objects.length === 0 || objects.length > MAX_DELETE_KEYS) throw new S3Error('MalformedXML');
  const quiet = childText(doc.Quiet)?.trim().toLowerCase() === 'true';
  const requests = objects.map((o) => {
    if (typeof o === 'string') throw new S3Error('MalformedXML');
    const key = childText(o.Key);
    if (key === undefined) throw new S3Error('MalformedXML');
    return { key, versionId: childText(o.VersionId) };
  });

  let inner = '';
  for (const { key, versionId } of requests) {
    try {
      if (key === '' || Buffer.byteLength(key) > MAX_KEY_BYTES) {
        throw new S3Error(key === '' ? 'InvalidArgument' : 'KeyTooLongError');
      }
      if (versionId !== undefined && versionId !== 'null') {
        throw new S3Error('InvalidArgument', 'Invalid version id specified');
      }
      const [check] = permissionsFor('DeleteObject', {
        bucket: bucket.name,
        key,
        query: new URLSearchParams(),
        headers: call.req.headers,
      });
      await authorize(call, check!, bucket);
      const blob = await call.env.meta.deleteObject(bucket.name, key);
      if (blob !== undefined) await removeQuietly(call, [blob]);
      if (!quiet) inner += `<Deleted>${el('Key', key)}</Deleted>`;
    } catch (err) {
      const e = toS3Error(err);
      if (e.code === 'InternalError') call.env.logger.error({ err }, 'DeleteObjects: a key failed');
      inner += `<Error>${el('Key', key)}${el('Code', e.code)}${el('Message', e.message)}</Error>`;
    }
  }
  return xmlResponse(xmlDocument('DeleteResult', inner));
}
