/**
 * The headers an object keeps: Content-Type, the other representation headers, and user
 * metadata (`x-amz-meta-*`); read from a write request (with the checks S3 makes on the headers
 * of features Latchkey does not offer) and written back on reads.
 */
import type { IncomingMessage } from 'node:http';
import { checksumHeader } from './checksums.js';
import { S3Error } from './errors.js';
import type { ObjectRecord } from './metadata.js';

/** S3's default Content-Type. */
export const DEFAULT_CONTENT_TYPE = 'binary/octet-stream';
/** User metadata may total 2 KB (names and values). */
const MAX_METADATA_BYTES = 2048;
/** Representation headers stored with an object and returned on GET/HEAD. */
const STORED_HEADERS = [
  'cache-control',
  'content-disposition',
  'content-encoding',
  'content-language',
  'expires',
];
/** Canned ACLs that grant nothing beyond the bucket owner (all a BucketOwnerEnforced bucket takes). */
const OWNER_ONLY_ACLS = new Set(['private', 'bucket-owner-full-control']);

/** What a write request says about the object it writes. */
export interface ObjectHeaders {
  contentType: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
}

function single(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Checks the headers of features a write would otherwise silently ignore: ACLs (S3's default
 * BucketOwnerEnforced ownership refuses any but the owner's: `AccessControlListNotSupported`),
 * server-side encryption, storage classes, tagging and object lock (`NotImplemented`).
 */
export function checkWriteFeatures(req: IncomingMessage): void {
  const acl = single(req, 'x-amz-acl');
  if (acl !== undefined && !OWNER_ONLY_ACLS.has(acl)) {
    throw new S3Error('AccessControlListNotSupported');
  }
  if (Object.keys(req.headers).some((h) => h.startsWith('x-amz-grant-'))) {
    throw new S3Error('AccessControlListNotSupported');
  }
  for (const name of [
    'x-amz-server-side-encryption',
    'x-amz-server-side-encryption-customer-algorithm',
    'x-amz-tagging',
    'x-amz-website-redirect-location',
  ]) {
    if (req.headers[name] !== undefined) {
      throw new S3Error('NotImplemented', undefined, { Header: name });
    }
  }
  const storageClass = single(req, 'x-amz-storage-class');
  if (storageClass !== undefined && storageClass !== 'STANDARD') {
    throw new S3Error('NotImplemented', undefined, { Header: 'x-amz-storage-class' });
  }
  if (Object.keys(req.headers).some((h) => h.startsWith('x-amz-object-lock-'))) {
    throw new S3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
  }
}

/**
 * The object headers a write request sets. `aws-chunked` is a transfer detail and is dropped
 * from Content-Encoding, as S3 does.
 *
 * @example
 * objectHeadersOf(req).metadata; // { owner: 'alice' } for `x-amz-meta-owner: alice`
 */
export function objectHeadersOf(req: IncomingMessage): ObjectHeaders {
  const headers: Record<string, string> = {};
  for (const name of STORED_HEADERS) {
    let value = single(req, name);
    if (name === 'content-encoding' && value !== undefined) {
      value = value
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '' && s.toLowerCase() !== 'aws-chunked')
        .join(',');
      if (value === '') value = undefined;
    }
    if (value !== undefined) headers[name] = value;
  }
  const metadata: Record<string, string> = {};
  let size = 0;
  for (const [name, value] of Object.entries(req.headers)) {
    if (!name.startsWith('x-amz-meta-') || value === undefined) continue;
    const short = name.slice('x-amz-meta-'.length);
    const text = Array.isArray(value) ? value.join(',') : value;
    metadata[short] = text;
    size += Buffer.byteLength(short) + Buffer.byteLength(text);
  }
  if (size > MAX_METADATA_BYTES) {
    throw new S3Error('MetadataTooLarge', undefined, {
      Size: String(size),
      MaxSizeAllowed: String(MAX_METADATA_BYTES),
    });
  }
  return { contentType: single(req, 'content-type') ?? DEFAULT_CONTENT_TYPE, headers, metadata };
}

/** The headers GET and HEAD answer for an object (without length and range). */
export function objectResponseHeaders(
  object: ObjectRecord,
  withChecksum: boolean,
): Record<string, string | number> {
  const out: Record<string, string | number> = {
    'content-type': object.contentType,
    etag: `"${object.etag}"`,
    'last-modified': new Date(object.lastModified).toUTCString(),
    'accept-ranges': 'bytes',
  };
  for (const [name, value] of Object.entries(object.headers)) out[name] = value;
  for (const [name, value] of Object.entries(object.metadata)) out[`x-amz-meta-${name}`] = value;
  if (object.partSizes !== undefined) out['x-amz-mp-parts-count'] = object.partSizes.length;
  if (withChecksum && object.checksum !== undefined) {
    out[checksumHeader(object.checksum.algorithm)] = object.checksum.value;
    out['x-amz-checksum-type'] = object.checksum.type;
  }
  return out;
}
