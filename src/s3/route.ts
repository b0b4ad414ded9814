/**
 * Which S3 operation a request is: from its method, its bucket and key (path-style, or
 * virtual-hosted under a configured domain) and its sub-resource query parameters.
 */
import { S3Error } from './errors.js';

/** The S3 operations Latchkey serves. */
export type S3Operation =
  | 'ListBuckets'
  | 'CreateBucket'
  | 'HeadBucket'
  | 'DeleteBucket'
  | 'GetBucketLocation'
  | 'ListObjects'
  | 'ListObjectsV2'
  | 'ListMultipartUploads'
  | 'GetBucketPolicy'
  | 'PutBucketPolicy'
  | 'DeleteBucketPolicy'
  | 'GetBucketAcl'
  | 'GetBucketVersioning'
  | 'DeleteObjects'
  | 'PutObject'
  | 'CopyObject'
  | 'GetObject'
  | 'HeadObject'
  | 'DeleteObject'
  | 'GetObjectAcl'
  | 'GetObjectTagging'
  | 'CreateMultipartUpload'
  | 'UploadPart'
  | 'CompleteMultipartUpload'
  | 'AbortMultipartUpload'
  | 'ListParts';

/** A request's target. */
export interface S3Target {
  /** The bucket, when the request names one. */
  bucket?: string;
  /** The object key, when the request names one (never empty). */
  key?: string;
  /** Query parameters, decoded (a `+` is a space, as S3 reads query strings). */
  query: URLSearchParams;
  /** `/bucket/key` (decoded), the `Resource` of error documents. */
  resource: string;
  /** The bucket came from the Host header. */
  virtualHosted: boolean;
}

/** A routed request: its target and operation. */
export interface S3Route extends S3Target {
  operation: S3Operation;
}

/** Longest key S3 accepts, in UTF-8 bytes. */
export const MAX_KEY_BYTES = 1024;

/** Bucket sub-resources Latchkey does not implement (a write must not be silently ignored). */
const BUCKET_UNSUPPORTED = [
  'accelerate',
  'analytics',
  'cors',
  'encryption',
  'intelligent-tiering',
  'inventory',
  'lifecycle',
  'logging',
  'metadataTable',
  'metrics',
  'notification',
  'object-lock',
  'ownershipControls',
  'policyStatus',
  'publicAccessBlock',
  'replication',
  'requestPayment',
  'tagging',
  'versions',
  'website',
  'acl',
  'versioning',
  'session',
];
const OBJECT_UNSUPPORTED = [
  'acl',
  'tagging',
  'retention',
  'legal-hold',
  'torrent',
  'restore',
  'select',
  'attributes',
  'renameObject',
];

/**
 * Finds a request's bucket and key. With `virtualHostDomain` (e.g. `s3.example.test`), a Host
 * of `bucket.s3.example.test` names the bucket and the whole path is the key; otherwise the
 * first path segment is the bucket. Throws `InvalidURI` for a path that does not decode and
 * `KeyTooLongError` for a key over 1,024 bytes.
 *
 * @example
 * targetOf('/photos/2024/cat.jpg?acl', 'localhost:4599').key; // '2024/cat.jpg'
 */
export function targetOf(
  rawUrl: string,
  host: string | undefined,
  virtualHostDomain?: string,
): S3Target {
  const q = rawUrl.indexOf('?');
  const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
  const query = new URLSearchParams(q < 0 ? '' : rawUrl.slice(q + 1));
  const hostBucket = bucketFromHost(host, virtualHostDomain);
  let bucket: string | undefined;
  let rawKey: string;
  if (hostBucket !== undefined) {
    bucket = hostBucket;
    rawKey = rawPath.replace(/^\//, '');
  } else {
    const rest = rawPath.replace(/^\//, '');
    const slash = rest.indexOf('/');
    const rawBucket = slash < 0 ? rest : rest.slice(0, slash);
    bucket = rawBucket === '' ? undefined : decode(rawBucket);
    rawKey = slash < 0 ? '' : rest.slice(slash + 1);
  }
  const key = rawKey === '' ? undefined : decode(rawKey);
  if (key !== undefined && Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new S3Error('KeyTooLongError', undefined, {
      Size: String(Buffer.byteLength(key, 'utf8')),
      MaxSizeAllowed: String(MAX_KEY_BYTES),
    });
  }
  // PostgreSQL text cannot hold NUL, and no S3 client sends one on purpose.
  if (key?.includes('\u0000')) throw new S3Error('InvalidURI');
  const resource =
    bucket === undefined ? '/' : key === undefined ? `/${bucket}` : `/${bucket}/${key}`;
  const target: S3Target = { query, resource, virtualHosted: hostBucket !== undefined };
  if (bucket !== undefined) target.bucket = bucket;
  if (key !== undefined) target.key = key;
  return target;
}

function bucketFromHost(host: string | undefined, domain: string | undefined): string | undefined {
  if (host === undefined || domain === undefined || domain === '') return undefined;
  const name = host.replace(/:\d+$/, '').toLowerCase();
  const suffix = `.${domain.toLowerCase()}`;
  return name.endsWith(suffix) && name.length > suffix.length
    ? name.slice(0, -suffix.length)
    : undefined;
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new S3Error('InvalidURI');
  }
}

/**
 * Picks the operation for a method and target. Unsupported sub-resources are `NotImplemented`
 * (never silently ignored); methods a resource does not take are `MethodNotAllowed`.
 *
 * `copySource` says whether the request has `x-amz-copy-source` (CopyObject).
 *
 * @example
 * operationOf('GET', targetOf('/photos?list-type=2', 'localhost'), false); // 'ListObjectsV2'
 */
export function operationOf(method: string, target: S3Target, copySource: boolean): S3Operation {
  const q = target.query;
  if (target.bucket === undefined) {
    if (method === 'GET') return 'ListBuckets';
    throw methodNotAllowed(method, 'SERVICE');
  }
  if (target.key === undefined) return bucketOperation(method, q);
  return objectOperation(method, q, copySource);
}

function bucketOperation(method: string, q: URLSearchParams): S3Operation {
  switch (method) {
    case 'GET':
      if (q.has('policy')) return 'GetBucketPolicy';
      if (q.has('location')) return 'GetBucketLocation';
      if (q.has('uploads')) return 'ListMultipartUploads';
      if (q.has('acl')) return 'GetBucketAcl';
      if (q.has('versioning')) return 'GetBucketVersioning';
      unsupported(q, BUCKET_UNSUPPORTED);
      return q.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    case 'HEAD':
      return 'HeadBucket';
    case 'PUT':
      if (q.has('policy')) return 'PutBucketPolicy';
      unsupported(q, BUCKET_UNSUPPORTED);
      return 'CreateBucket';
    case 'DELETE':
      if (q.has('policy')) return 'DeleteBucketPolicy';
      unsupported(q, BUCKET_UNSUPPORTED);
      return 'DeleteBucket';
    case 'POST':
      if (q.has('delete')) return 'DeleteObjects';
      // A browser-form upload (POST Object) or another POST sub-resource.
      throw new S3Error('NotImplemented', undefined, { Header: 'Content-Type' });
    default:
      throw methodNotAllowed(method, 'BUCKET');
  }
}

function objectOperation(method: string, q: URLSearchParams, copySource: boolean): S3Operation {
  switch (method) {
    case 'GET':
      if (q.has('uploadId')) return 'ListParts';
      if (q.has('acl')) return 'GetObjectAcl';
      if (q.has('tagging')) return 'GetObjectTagging';
      unsupported(q, OBJECT_UNSUPPORTED);
      return 'GetObject';
    case 'HEAD':
      return 'HeadObject';
    case 'PUT':
      unsupported(q, OBJECT_UNSUPPORTED);
      if (q.has('uploadId') || q.has('partNumber')) {
        if (copySource) {
          throw new S3Error('NotImplemented', undefined, { Header: 'x-amz-copy-source' });
        }
        return 'UploadPart';
      }
      return copySource ? 'CopyObject' : 'PutObject';
    case 'DELETE':
      if (q.has('uploadId')) return 'AbortMultipartUpload';
      unsupported(q, OBJECT_UNSUPPORTED);
      return 'DeleteObject';
    case 'POST':
      if (q.has('uploads')) return 'CreateMultipartUpload';
      if (q.has('uploadId')) return 'CompleteMultipartUpload';
      unsupported(q, OBJECT_UNSUPPORTED);
      throw methodNotAllowed(method, 'OBJECT');
    default:
      throw methodNotAllowed(method, 'OBJECT');
  }
}

function unsupported(q: URLSearchParams, names: readonly string[]): void {
  for (const name of names) {
    if (q.has(name)) {
      throw new S3Error(
        'NotImplemented',
        'A header or query parameter you provided implies functionality that is not implemented',
        { Header: name },
      );
    }
  }
}

function methodNotAllowed(method: string, resourceType: string): S3Error {
  return new S3Error('MethodNotAllowed', undefined, { Method: method, ResourceType: resourceType });
}
