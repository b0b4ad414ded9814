/**
 * Multipart uploads: CreateMultipartUpload, UploadPart, CompleteMultipartUpload,
 * AbortMultipartUpload, ListParts, ListMultipartUploads. Each part is its own blob; completion
 * assembles them into one new blob and swaps it in, with the upload's rows, in one transaction.
 */
import { randomBytesPooled } from '../../secrets/index.js';
import { checksumRequestOf, parseContentMd5, readSmallBody } from '../body.js';
import {
  authorizeCall,
  callerAccount,
  canonicalUserId,
  headerOf,
  noContent,
  objectKey,
  requireBucket,
  xmlResponse,
  type S3Call,
  type S3Response,
} from '../call.js';
import {
  checksumAlgorithmOf,
  checksumHeader,
  CHECKSUM_ALGORITHMS,
  newChecksum,
  type ChecksumAlgorithm,
} from '../checksums.js';
import { writeConditionOf } from '../conditions.js';
import { invalidArgument, S3Error } from '../errors.js';
import { urlEncodeKey } from '../listing.js';
import {
  allParts,
  type BucketRecord,
  type ObjectRecord,
  type StoredChecksum,
  type UploadRecord,
} from '../metadata.js';
import {
  compositeChecksum,
  MAX_PART_NUMBER,
  multipartEtag,
  requestedParts,
  selectParts,
} from '../multipart.js';
import { checkWriteFeatures, objectHeadersOf } from '../object-headers.js';
import { copyToBlob, receiveToBlob } from '../write-blob.js';
import { el, xmlDocument } from '../xml.js';
import { parseXmlDocument } from '../xml-input.js';
import { removeQuietly } from './commit.js';
import { MAX_PUT_SIZE } from './put-object.js';

/** 10,000 parts with checksums fit. */
const MAX_COMPLETE_BODY_BYTES = 4 * 1024 * 1024;

/** The upload a call names; `NoSuchUpload` unless it exists for this bucket and key. */
async function requireUpload(call: S3Call, bucket: BucketRecord): Promise<UploadRecord> {
  const uploadId = call.route.query.get('uploadId') ?? '';
  const upload = uploadId === '' ? undefined : await call.env.meta.upload(uploadId);
  if (upload === undefined || upload.bucket !== bucket.name || upload.key !== call.route.key) {
    throw new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
  }
  return upload;
}

/** CreateMultipartUpload: `s3:PutObject` on the key; the object's headers are kept for completion. */
export async function createMultipartUpload(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  checkWriteFeatures(call.req);
  const described = objectHeadersOf(call.req);
  const algorithmText = headerOf(call, 'x-amz-checksum-algorithm');
  const algorithm = algorithmText === undefined ? null : checksumAlgorithmOf(algorithmText);
  if (algorithm === undefined) {
    throw invalidArgument(
      'Checksum algorithm provided is unsupported.',
      'x-amz-checksum-algorithm',
      algorithmText ?? '',
    );
  }
  const typeText = headerOf(call, 'x-amz-checksum-type');
  if (typeText !== undefined && typeText !== 'FULL_OBJECT' && typeText !== 'COMPOSITE') {
    throw invalidArgument(
      'Value for x-amz-checksum-type header is invalid.',
      'x-amz-checksum-type',
      typeText,
    );
  }
  if (typeText !== undefined && algorithm === null) {
    throw new S3Error(
      'InvalidRequest',
      'The x-amz-checksum-type header can only be used with the x-amz-checksum-algorithm header.',
    );
  }
  const upload: UploadRecord = {
    uploadId: randomBytesPooled(32).toString('base64url'),
    bucket: bucket.name,
    key,
    ownerAccount: callerAccount(call) ?? bucket.ownerAccount,
    initiatorArn: call.caller.kind === 'signed' ? call.caller.principal.arn : 'anonymous',
    ...described,
    checksumAlgorithm: algorithm,
    checksumType: algorithm === null ? null : checksumTypeFor(algorithm, typeText),
    createdAt: new Date().toISOString(),
  };
  await call.env.meta.createUpload(upload);
  const headers: Record<string, string> = { 'content-type': 'application/xml' };
  if (upload.checksumAlgorithm !== null && upload.checksumType !== null) {
    headers['x-amz-checksum-algorithm'] = upload.checksumAlgorithm;
    headers['x-amz-checksum-type'] = upload.checksumType;
  }
  const body = xmlDocument(
    'InitiateMultipartUploadResult',
    el('Bucket', bucket.name) + el('Key', key) + el('UploadId', upload.uploadId),
  );
  return { status: 200, headers, body };
}

/** S3's defaults: CRC-64/NVME is full-object only; the others are composite unless asked. */
function checksumTypeFor(
  algorithm: ChecksumAlgorithm,
  requested: string | undefined,
): 'FULL_OBJECT' | 'COMPOSITE' {
  if (algorithm === 'CRC64NVME') return 'FULL_OBJECT';
  if (requested === 'FULL_OBJECT' && (algorithm === 'SHA1' || algorithm === 'SHA256')) {
    throw new S3Error(
      'InvalidRequest',
      `The FULL_OBJECT checksum type cannot be used with the ${algorithm.toLowerCase()} checksum algorithm.`,
    );
  }
  return requested === 'FULL_OBJECT' ? 'FULL_OBJECT' : 'COMPOSITE';
}

/** UploadPart: one part, streamed and verified like a PutObject body; replaces a part with its number. */
export async function uploadPart(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  objectKey(call);
  await authorizeCall(call, bucket);
  const partText = call.route.query.get('partNumber') ?? '';
  const partNumber = Number(partText);
  if (!/^\d{1,5}$/.test(partText) || partNumber < 1 || partNumber > MAX_PART_NUMBER) {
    throw invalidArgument(
      'Part number must be an integer between 1 and 10000, inclusive',
      'partNumber',
      partText,
    );
  }
  const upload = await requireUpload(call, bucket);
  const contentMd5 = parseContentMd5(headerOf(call, 'content-md5'));
  let checksum = checksumRequestOf(call.req.headers, CHECKSUM_ALGORITHMS);
  if (upload.checksumAlgorithm !== null) {
    if (checksum !== undefined && checksum.algorithm !== upload.checksumAlgorithm) {
      throw new S3Error(
        'InvalidRequest',
        `Checksum Type mismatch occurred, expected checksum Type: ${upload.checksumAlgorithm.toLowerCase()}, actual checksum Type: ${checksum.algorithm.toLowerCase()}`,
      );
    }
    // Parts of an upload with an algorithm always get that checksum (computed if not sent).
    checksum ??= { algorithm: upload.checksumAlgorithm, trailer: false };
  }
  const { blob, body } = await receiveToBlob(call, {
    maxSize: MAX_PUT_SIZE,
    ...(contentMd5 !== undefined ? { contentMd5 } : {}),
    ...(checksum !== undefined ? { checksum } : {}),
  });
  const etag = body.md5.toString('hex');
  let replaced: string | undefined;
  try {
    replaced = await call.env.meta.putPart(upload.uploadId, {
      partNumber,
      blob,
      size: body.size,
      etag,
      checksumValue: body.checksum?.value ?? null,
      lastModified: new Date().toISOString(),
    });
  } catch (err) {
    await call.env.objects.remove(blob).catch(() => {});
    throw err;
  }
  if (replaced !== undefined) await removeQuietly(call, [replaced]);
  const headers: Record<string, string> = { etag: `"${etag}"` };
  if (body.checksum !== undefined)
    headers[checksumHeader(body.checksum.algorithm)] = body.checksum.value;
  return { status: 200, headers };
}

/**
 * CompleteMultipartUpload: the listed parts (ascending, matching ETags, all but the last at
 * least 5 MiB) assembled into the object; ETag `md5-of-md5s-N`.
 */
export async function completeMultipartUpload(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  const key = objectKey(call);
  await authorizeCall(call, bucket);
  const upload = await requireUpload(call, bucket);
  const body = await readSmallBody(call.req, call.payload, MAX_COMPLETE_BODY_BYTES);
  const requested = requestedParts(parseXmlDocument(body, 'CompleteMultipartUpload'));
  const condition = writeConditionOf(call.req.headers);
  const parts = selectParts(requested, await allParts(call.env.meta, upload.uploadId));

  const algorithm = upload.checksumAlgorithm;
  const full =
    algorithm !== null && upload.checksumType === 'FULL_OBJECT'
      ? newChecksum(algorithm)
      : undefined;
  let assembled;
  try {
    assembled = await copyToBlob(
      call,
      parts.map((p) => p.blob),
      full === undefined ? undefined : (chunk) => full.update(chunk),
    );
  } catch (err) {
    // A part was replaced or the upload finished meanwhile.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new S3Error('NoSuchUpload', undefined, { UploadId: upload.uploadId });
    }
    throw err;
  }
  let checksum: StoredChecksum | undefined;
  if (algorithm !== null && full !== undefined) {
    checksum = { algorithm, value: full.digest(), type: 'FULL_OBJECT' };
    const expected = headerOf(call, checksumHeader(algorithm));
    if (expected !== undefined && expected !== checksum.value) {
      await call.env.objects.remove(assembled.blob);
      throw new S3Error(
        'BadDigest',
        `The ${algorithm} you specified did not match the calculated checksum.`,
      );
    }
  } else if (algorithm !== null && parts.every((p) => p.checksumValue !== null)) {
    checksum = {
      algorithm,
      value: compositeChecksum(
        algorithm,
        parts.map((p) => p.checksumValue!),
      ),
      type: 'COMPOSITE',
    };
  }
  const record: ObjectRecord = {
    bucket: bucket.name,
    key,
    blob: assembled.blob,
    size: assembled.size,
    etag: multipartEtag(parts.map((p) => p.etag)),
    contentType: upload.contentType,
    headers: upload.headers,
    metadata: upload.metadata,
    partSizes: parts.map((p) => p.size),
    ownerAccount: upload.ownerAccount,
    lastModified: new Date().toISOString(),
  };
  if (checksum !== undefined) record.checksum = checksum;
  let done;
  try {
    done = await call.env.meta.completeUpload(
      upload.uploadId,
      record,
      new Map(parts.map((p) => [p.partNumber, p.blob])),
      condition,
    );
  } catch (err) {
    await call.env.objects.remove(assembled.blob).catch(() => {});
    throw err;
  }
  await removeQuietly(call, [...(done.replaced ? [done.replaced] : []), ...done.partBlobs]);

  const host = headerOf(call, 'host') ?? 'localhost';
  const location = call.route.virtualHosted
    ? `http://${host}/${urlEncodeKey(key)}`
    : `http://${host}/${bucket.name}/${urlEncodeKey(key)}`;
  let inner =
    el('Location', location) +
    el('Bucket', bucket.name) +
    el('Key', key) +
    el('ETag', `"${record.etag}"`);
  if (checksum !== undefined) {
    inner +=
      el(`Checksum${checksum.algorithm}`, checksum.value) + el('ChecksumType', checksum.type);
  }
  return xmlResponse(xmlDocument('CompleteMultipartUploadResult', inner));
}

/** AbortMultipartUpload: the upload and its parts are gone (`s3:AbortMultipartUpload`). */
export async function abortMultipartUpload(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  objectKey(call);
  await authorizeCall(call, bucket);
  const upload = await requireUpload(call, bucket);
  const blobs = await call.env.meta.abortUpload(upload.uploadId);
  if (blobs === undefined)
    throw new S3Error('NoSuchUpload', undefined, { UploadId: upload.uploadId });
  await removeQuietly(call, blobs);
  return noContent();
}

function initiatorAndOwner(upload: UploadRecord): string {
  return (
    `<Initiator>${el('ID', upload.initiatorArn)}${el('DisplayName', upload.initiatorArn)}</Initiator>` +
    `<Owner>${el('ID', canonicalUserId(upload.ownerAccount))}${el('DisplayName', upload.ownerAccount)}</Owner>`
  );
}

function limitOf(call: S3Call, name: string): number {
  const text = call.route.query.get(name);
  if (text === null) return 1000;
  if (!/^\d{1,10}$/.test(text)) {
    throw invalidArgument(`Provided ${name} not an integer or within integer range`, name, text);
  }
  return Math.min(Number(text), 1000);
}

/** ListParts (`s3:ListMultipartUploadParts`). */
export async function listParts(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  objectKey(call);
  await authorizeCall(call, bucket);
  const upload = await requireUpload(call, bucket);
  const maxParts = limitOf(call, 'max-parts');
  const markerText = call.route.query.get('part-number-marker') ?? '0';
  if (!/^\d{1,5}$/.test(markerText)) {
    throw invalidArgument('Invalid part-number-marker', 'part-number-marker', markerText);
  }
  const page = await call.env.meta.listParts(upload.uploadId, Number(markerText), maxParts + 1);
  const truncated = page.length > maxParts;
  const parts = page.slice(0, maxParts);
  let inner =
    el('Bucket', bucket.name) +
    el('Key', upload.key) +
    el('UploadId', upload.uploadId) +
    el('PartNumberMarker', Number(markerText)) +
    el('NextPartNumberMarker', parts.length > 0 ? parts[parts.length - 1]!.partNumber : 0) +
    el('MaxParts', maxParts) +
    el('IsTruncated', truncated) +
    initiatorAndOwner(upload) +
    el('StorageClass', 'STANDARD');
  if (upload.checksumAlgorithm !== null) {
    inner += el('ChecksumAlgorithm', upload.checksumAlgorithm);
    if (upload.checksumType !== null) inner += el('ChecksumType', upload.checksumType);
  }
  for (const p of parts) {
    inner +=
      '<Part>' +
      el('PartNumber', p.partNumber) +
      el('LastModified', p.lastModified) +
      el('ETag', `"${p.etag}"`) +
      el('Size', p.size) +
      (p.checksumValue !== null && upload.checksumAlgorithm !== null
        ? el(`Checksum${upload.checksumAlgorithm}`, p.checksumValue)
        : '') +
      '</Part>';
  }
  return xmlResponse(xmlDocument('ListPartsResult', inner));
}

/** ListMultipartUploads (`s3:ListBucketMultipartUploads`): prefix, markers, delimiter. */
export async function listMultipartUploads(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  const q = call.route.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const keyMarker = q.get('key-marker') ?? '';
  const uploadIdMarker = q.get('upload-id-marker') ?? '';
  const maxUploads = limitOf(call, 'max-uploads');
  const encoding = q.get('encoding-type');
  if (encoding !== null && encoding !== 'url') {
    throw invalidArgument(
      'Invalid Encoding Method specified in Request',
      'encoding-type',
      encoding,
    );
  }
  const encode = encoding === 'url' ? urlEncodeKey : (t: string) => t;
  const rows = await call.env.meta.listUploads(bucket.name, {
    prefix,
    keyMarker,
    uploadIdMarker,
    limit: maxUploads + 1,
  });
  const uploads: UploadRecord[] = [];
  const prefixes: string[] = [];
  let truncated = false;
  for (const u of rows) {
    if (!u.key.startsWith(prefix)) continue;
    const cut = delimiter === '' ? -1 : u.key.indexOf(delimiter, prefix.length);
    const common = cut < 0 ? undefined : u.key.slice(0, cut + delimiter.length);
    if (common !== undefined && prefixes.includes(common)) continue;
    if (uploads.length + prefixes.length === maxUploads) {
      truncated = true;
      break;
    }
    if (common !== undefined) prefixes.push(common);
    else uploads.push(u);
  }
  const last = uploads[uploads.length - 1];
  let inner =
    el('Bucket', bucket.name) +
    el('KeyMarker', encode(keyMarker)) +
    el('UploadIdMarker', uploadIdMarker) +
    el('NextKeyMarker', last ? encode(last.key) : '') +
    el('NextUploadIdMarker', last ? last.uploadId : '') +
    (delimiter !== '' ? el('Delimiter', encode(delimiter)) : '') +
    el('Prefix', encode(prefix)) +
    el('MaxUploads', maxUploads) +
    el('IsTruncated', truncated);
  for (const u of uploads) {
    inner +=
      '<Upload>' +
      el('Key', encode(u.key)) +
      el('UploadId', u.uploadId) +
      initiatorAndOwner(u) +
      el('StorageClass', 'STANDARD') +
      el('Initiated', u.createdAt) +
      (u.checksumAlgorithm !== null ? el('ChecksumAlgorithm', u.checksumAlgorithm) : '') +
      '</Upload>';
  }
  for (const p of prefixes) inner += `<CommonPrefixes>${el('Prefix', encode(p))}</CommonPrefixes>`;
  if (encoding !== null) inner += el('EncodingType', encoding);
  return xmlResponse(xmlDocument('ListMultipartUploadsResult', inner));
}
