/** ListObjects (V1) and ListObjectsV2. */
import {
  authorizeCall,
  canonicalUserId,
  requireBucket,
  xmlResponse,
  type S3Call,
  type S3Response,
} from '../call.js';
import { invalidArgument } from '../errors.js';
import { listPage, urlEncodeKey, type ListPage } from '../listing.js';
import type { ObjectSummary } from '../metadata.js';
import { el, xmlDocument } from '../xml.js';

const MAX_KEYS = 1000;
const TOKEN_PREFIX = 'lk1:';

/** Parameters both versions share. */
interface ListParams {
  prefix: string;
  delimiter: string;
  maxKeys: number;
  encode: (text: string) => string;
  encoding: string | undefined;
}

function listParams(q: URLSearchParams): ListParams {
  const maxText = q.get('max-keys');
  let maxKeys = MAX_KEYS;
  if (maxText !== null) {
    if (!/^\d{1,10}$/.test(maxText) || Number(maxText) > 2_147_483_647) {
      throw invalidArgument(
        'Provided max-keys not an integer or within integer range',
        'max-keys',
        maxText,
      );
    }
    maxKeys = Math.min(Number(maxText), MAX_KEYS);
  }
  const encoding = q.get('encoding-type') ?? undefined;
  if (encoding !== undefined && encoding !== 'url') {
    throw invalidArgument(
      'Invalid Encoding Method specified in Request',
      'encoding-type',
      encoding,
    );
  }
  return {
    prefix: q.get('prefix') ?? '',
    delimiter: q.get('delimiter') ?? '',
    maxKeys,
    encode: encoding === 'url' ? urlEncodeKey : (t) => t,
    encoding,
  };
}

function contents(objects: ObjectSummary[], p: ListParams, withOwner: boolean): string {
  let out = '';
  for (const o of objects) {
    out +=
      '<Contents>' +
      el('Key', p.encode(o.key)) +
      el('LastModified', o.lastModified) +
      el('ETag', `"${o.etag}"`) +
      (o.checksumAlgorithm ? el('ChecksumAlgorithm', o.checksumAlgorithm) : '') +
      (o.checksumType ? el('ChecksumType', o.checksumType) : '') +
      el('Size', o.size) +
      (withOwner
        ? `<Owner>${el('ID', canonicalUserId(o.ownerAccount))}${el('DisplayName', o.ownerAccount)}</Owner>`
        : '') +
      el('StorageClass', 'STANDARD') +
      '</Contents>';
  }
  return out;
}

function commonPrefixes(page: ListPage, p: ListParams): string {
  return page.commonPrefixes
    .map((c) => `<CommonPrefixes>${el('Prefix', p.encode(c))}</CommonPrefixes>`)
    .join('');
}

/** ListObjects (V1): `marker`, and `NextMarker` when a delimiter is given. */
export async function listObjects(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  const q = call.route.query;
  const p = listParams(q);
  const marker = q.get('marker') ?? '';
  const page = await listPage(call.env.meta, {
    bucket: bucket.name,
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    ...(marker !== '' ? { after: marker } : {}),
  });
  let inner =
    el('Name', bucket.name) +
    el('Prefix', p.encode(p.prefix)) +
    el('Marker', p.encode(marker)) +
    el('MaxKeys', p.maxKeys) +
    (p.delimiter !== '' ? el('Delimiter', p.encode(p.delimiter)) : '') +
    el('IsTruncated', page.truncated);
  if (page.truncated && p.delimiter !== '' && page.last !== undefined) {
    inner += el('NextMarker', p.encode(page.last));
  }
  inner += contents(page.contents, p, true) + commonPrefixes(page, p);
  if (p.encoding !== undefined) inner += el('EncodingType', p.encoding);
  return xmlResponse(xmlDocument('ListBucketResult', inner));
}

/** ListObjectsV2: `continuation-token` (opaque), `start-after`, `fetch-owner`, `KeyCount`. */
export async function listObjectsV2(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  const q = call.route.query;
  const p = listParams(q);
  const token = q.get('continuation-token') ?? undefined;
  const startAfter = q.get('start-after') ?? undefined;
  let after = startAfter === '' ? undefined : startAfter;
  if (token !== undefined) after = decodeToken(token);
  const page = await listPage(call.env.meta, {
    bucket: bucket.name,
    prefix: p.prefix,
    delimiter: p.delimiter,
    maxKeys: p.maxKeys,
    ...(after !== undefined ? { after } : {}),
  });
  let inner =
    el('Name', bucket.name) +
    el('Prefix', p.encode(p.prefix)) +
    el('KeyCount', page.contents.length + page.commonPrefixes.length) +
    el('MaxKeys', p.maxKeys) +
    (p.delimiter !== '' ? el('Delimiter', p.encode(p.delimiter)) : '') +
    el('IsTruncated', page.truncated);
  if (token !== undefined) inner += el('ContinuationToken', token);
  if (page.truncated && page.last !== undefined) {
    inner += el('NextContinuationToken', encodeToken(page.last));
  }
  if (startAfter !== undefined) inner += el('StartAfter', p.encode(startAfter));
  inner += contents(page.contents, p, q.get('fetch-owner') === 'true') + commonPrefixes(page, p);
  if (p.encoding !== undefined) inner += el('EncodingType', p.encoding);
  return xmlResponse(xmlDocument('ListBucketResult', inner));
}

function encodeToken(last: string): string {
  return Buffer.from(TOKEN_PREFIX + last, 'utf8').toString('base64url');
}

function decodeToken(token: string): string {
  const text = /^[A-Za-z0-9_-]*$/.test(token)
    ? Buffer.from(token, 'base64url').toString('utf8')
    : '';
  if (!text.startsWith(TOKEN_PREFIX)) {
    throw invalidArgument(
      'The continuation token provided is incorrect',
      'continuation-token',
      token,
    );
  }
  return text.slice(TOKEN_PREFIX.length);
}
