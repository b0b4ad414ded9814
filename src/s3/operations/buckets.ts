/** Bucket operations: ListBuckets, CreateBucket, HeadBucket, DeleteBucket, GetBucketLocation, and the trivial reads GetBucketAcl and GetBucketVersioning. */
import { readSmallBody } from '../body.js';
import { isValidBucketName } from '../bucket-name.js';
import {
  authorizeCall,
  bucketName,
  callerAccount,
  canonicalUserId,
  headerOf,
  noContent,
  requireBucket,
  xmlResponse,
  type S3Call,
  type S3Response,
} from '../call.js';
import { invalidArgument, S3Error } from '../errors.js';
import { el, xmlDocument } from '../xml.js';
import { childText, parseXmlDocument } from '../xml-input.js';

/** Largest CreateBucketConfiguration document read. */
const MAX_CONFIGURATION_BYTES = 64 * 1024;
/** The region whose buckets have an empty LocationConstraint (S3's legacy rule). */
const LEGACY_REGION = 'us-east-1';

function owner(accountId: string): string {
  return `<Owner>${el('ID', canonicalUserId(accountId))}${el('DisplayName', accountId)}</Owner>`;
}

/** ListBuckets: the caller's account's buckets (`s3:ListAllMyBuckets`). */
export async function listBuckets(call: S3Call): Promise<S3Response> {
  await authorizeCall(call, undefined);
  const account = callerAccount(call) ?? '';
  const q = call.route.query;
  const maxText = q.get('max-buckets');
  let limit = 10_000;
  if (maxText !== null) {
    limit = Number(maxText);
    if (!/^\d+$/.test(maxText) || limit < 1 || limit > 10_000) {
      throw invalidArgument('Invalid max-buckets value', 'max-buckets', maxText);
    }
  }
  const token = q.get('continuation-token');
  const prefix = q.get('prefix') ?? undefined;
  const after = token === null ? undefined : Buffer.from(token, 'base64url').toString('utf8');
  const page = await call.env.meta.listBuckets(account, {
    limit: limit + 1,
    ...(prefix !== undefined ? { prefix } : {}),
    ...(after !== undefined ? { after } : {}),
  });
  const truncated = page.length > limit;
  const buckets = page.slice(0, limit);
  let inner = owner(account) + '<Buckets>';
  for (const b of buckets) {
    inner += `<Bucket>${el('Name', b.name)}${el('CreationDate', b.createdAt)}${el('BucketRegion', b.region)}</Bucket>`;
  }
  inner += '</Buckets>';
  if (truncated) {
    inner += el(
      'ContinuationToken',
      Buffer.from(buckets[buckets.length - 1]!.name).toString('base64url'),
    );
  }
  if (prefix !== undefined) inner += el('Prefix', prefix);
  return xmlResponse(xmlDocument('ListAllMyBucketsResult', inner));
}

/**
 * CreateBucket: a valid name, `s3:CreateBucket`, a LocationConstraint matching this region, and
 * no ACL beyond the owner's (S3's default ownership). Names are global: a name held by another
 * account is `BucketAlreadyExists`, by the caller's `BucketAlreadyOwnedByYou`.
 */
export async function createBucket(call: S3Call): Promise<S3Response> {
  const name = bucketName(call);
  if (!isValidBucketName(name))
    throw new S3Error('InvalidBucketName', undefined, { BucketName: name });
  await authorizeCall(call, undefined);
  const account = callerAccount(call);
  if (account === undefined) throw new S3Error('AccessDenied');

  const acl = headerOf(call, 'x-amz-acl');
  if (acl !== undefined && acl !== 'private' && acl !== 'bucket-owner-full-control') {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  if (Object.keys(call.req.headers).some((h) => h.startsWith('x-amz-grant-'))) {
    throw new S3Error('InvalidBucketAclWithObjectOwnership');
  }
  const ownership = headerOf(call, 'x-amz-object-ownership');
  if (ownership !== undefined && ownership !== 'BucketOwnerEnforced') {
    throw new S3Error('NotImplemented', undefined, { Header: 'x-amz-object-ownership' });
  }
  if (headerOf(call, 'x-amz-bucket-object-lock-enabled')?.toLowerCase() === 'true') {
    throw new S3Error('NotImplemented', undefined, { Header: 'x-amz-bucket-object-lock-enabled' });
  }

  const body = await readSmallBody(call.req, call.payload, MAX_CONFIGURATION_BYTES);
  let constraint: string | undefined;
  if (body.length > 0 && body.toString('utf8').trim() !== '') {
    const config = parseXmlDocument(body, 'CreateBucketConfiguration');
    constraint = childText(config.LocationConstraint);
    if (constraint === '') constraint = undefined;
  }
  checkLocationConstraint(constraint, call.env.region);
  const result = await call.env.meta.createBucket({
    name,
    ownerAccount: account,
    region: call.env.region,
    createdAt: new Date().toISOString(),
  });
  if (!result.created) {
    throw new S3Error(
      result.ownerAccount === account ? 'BucketAlreadyOwnedByYou' : 'BucketAlreadyExists',
      undefined,
      { BucketName: name },
    );
  }
  return noContent(200, { location: `/${name}` });
}

/**
 * S3's rules for a LocationConstraint sent to a regional endpoint: none is right only in
 * us-east-1 (which must not be named), otherwise it must name the endpoint's region.
 */
function checkLocationConstraint(constraint: string | undefined, region: string): void {
  if (constraint === undefined) {
    if (region !== LEGACY_REGION) throw new S3Error('IllegalLocationConstraintException');
    return;
  }
  if (constraint === LEGACY_REGION || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(constraint)) {
    throw new S3Error('InvalidLocationConstraint', undefined, { LocationConstraint: constraint });
  }
  if (constraint !== region) {
    throw new S3Error(
      'IllegalLocationConstraintException',
      `The ${constraint} location constraint is incompatible for the region specific endpoint this request was sent to.`,
    );
  }
}

/** HeadBucket: `s3:ListBucket`; the region in `x-amz-bucket-region`. */
export async function headBucket(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  return noContent(200, {
    'x-amz-bucket-region': bucket.region,
    'x-amz-access-point-alias': 'false',
  });
}

/** DeleteBucket: only an empty bucket (`BucketNotEmpty`); its abandoned uploads go with it. */
export async function deleteBucket(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  const result = await call.env.meta.deleteBucket(bucket.name);
  if (result.result === 'not-empty') {
    throw new S3Error('BucketNotEmpty', undefined, { BucketName: bucket.name });
  }
  if (result.result !== 'deleted') {
    throw new S3Error('NoSuchBucket', undefined, { BucketName: bucket.name });
  }
  await Promise.all(result.partBlobs.map((b) => call.env.objects.remove(b)));
  return noContent();
}

/** GetBucketLocation: empty for us-east-1, as S3 answers. */
export async function getBucketLocation(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  const region = bucket.region === LEGACY_REGION ? '' : bucket.region;
  return xmlResponse(xmlDocument('LocationConstraint', region.replace(/[<&>]/g, '')));
}

/** The only ACL a bucket can have under S3's default ownership: the owner's full control. */
export function ownerOnlyAcl(accountId: string): string {
  const id = canonicalUserId(accountId);
  return xmlDocument(
    'AccessControlPolicy',
    owner(accountId) +
      '<AccessControlList><Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser">' +
      `${el('ID', id)}${el('DisplayName', accountId)}</Grantee><Permission>FULL_CONTROL</Permission></Grant></AccessControlList>`,
  );
}

/** GetBucketAcl: the owner's full control (ACLs are disabled, as on new AWS buckets). */
export async function getBucketAcl(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  return xmlResponse(ownerOnlyAcl(bucket.ownerAccount));
}

/** GetBucketVersioning: never enabled (an empty configuration, as S3 answers then). */
export async function getBucketVersioning(call: S3Call): Promise<S3Response> {
  const bucket = await requireBucket(call);
  await authorizeCall(call, bucket);
  return xmlResponse(xmlDocument('VersioningConfiguration', ''));
}
