/**
 * Bucket policies are checked as resource-based policies before they are stored: the policy
 * engine's grammar (a Principal in every statement, S3 actions and S3 resources only), AWS's
 * 20 KB limit, resources inside this bucket, and actions that apply to the resources named.
 * Every failure is S3's `MalformedPolicy` with the message S3 gives.
 */
import { isAwsError } from '../errors/index.js';
import { parsePolicy, type PolicyStatement } from '../policy/index.js';
import { S3Error } from './errors.js';

/** S3's bucket policy size limit. */
export const MAX_BUCKET_POLICY_BYTES = 20 * 1024;

/** Actions whose resource is an object (`arn:aws:s3:::bucket/key`). */
const OBJECT_ACTIONS = new Set(
  [
    'GetObject',
    'GetObjectAcl',
    'GetObjectAttributes',
    'GetObjectTagging',
    'GetObjectVersion',
    'PutObject',
    'PutObjectAcl',
    'PutObjectTagging',
    'DeleteObject',
    'DeleteObjectVersion',
    'DeleteObjectTagging',
    'AbortMultipartUpload',
    'ListMultipartUploadParts',
    'RestoreObject',
  ].map((a) => `s3:${a.toLowerCase()}`),
);
/** Actions whose resource is a bucket (`arn:aws:s3:::bucket`). */
const BUCKET_ACTIONS = new Set(
  [
    'ListBucket',
    'ListBucketVersions',
    'ListBucketMultipartUploads',
    'GetBucketLocation',
    'GetBucketPolicy',
    'PutBucketPolicy',
    'DeleteBucketPolicy',
    'GetBucketAcl',
    'PutBucketAcl',
    'GetBucketVersioning',
    'PutBucketVersioning',
    'DeleteBucket',
    'GetBucketTagging',
    'PutBucketTagging',
  ].map((a) => `s3:${a.toLowerCase()}`),
);

function malformed(message: string): S3Error {
  return new S3Error('MalformedPolicy', message);
}

/**
 * Validates a bucket policy for `bucket`; throws `MalformedPolicy` with S3's message.
 *
 * @example
 * validateBucketPolicy('{"Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}', 'b');
 * // S3Error MalformedPolicy "Missing required field Principal"
 */
export function validateBucketPolicy(text: string, bucket: string): void {
  if (Buffer.byteLength(text, 'utf8') > MAX_BUCKET_POLICY_BYTES) {
    throw malformed('Policy exceeds the maximum allowed document size.');
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw malformed("Policies must be valid JSON and the first byte must be '{'");
  }
  let statements: PolicyStatement[];
  try {
    statements = parsePolicy(text, {
      kind: 'resource',
      service: 's3',
      maxLength: false,
    }).statements;
  } catch (err) {
    if (isAwsError(err)) throw malformed(err.message);
    throw err;
  }
  for (const statement of statements) {
    const resources = statement.resource ?? statement.notResource ?? [];
    for (const resource of resources) {
      if (!resourceInBucket(resource, bucket)) throw malformed('Policy has invalid resource');
    }
    if (statement.resource !== undefined && statement.action !== undefined) {
      checkActionsApply(statement.action, statement.resource);
    }
  }
}

/** `arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/…` or a pattern that can match them. */
function resourceInBucket(resource: string, bucket: string): boolean {
  if (resource === '*') return true;
  const prefix = 'arn:aws:s3:::';
  if (!resource.startsWith(prefix)) return false;
  const rest = resource.slice(prefix.length);
  const slash = rest.indexOf('/');
  const bucketPart = slash < 0 ? rest : rest.slice(0, slash);
  if (wildcardMatch(bucketPart, bucket)) return true;
  // `arn:aws:s3:::bu*` spans the slash: it can cover the bucket's objects.
  return bucketPart.includes('*') && wildcardMatch(rest, `${bucket}/x`);
}

/** AWS wildcards: `*` any run, `?` one character. */
function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
    's',
  );
  return re.test(value);
}

/**
 * S3 refuses a statement none of whose (literal) actions applies to any of its resources, e.g.
 * `s3:GetObject` on `arn:aws:s3:::bucket`. Wildcard actions and patterns are given the benefit
 * of the doubt.
 */
function checkActionsApply(actions: readonly string[], resources: readonly string[]): void {
  let hasBucket = false;
  let hasObject = false;
  for (const r of resources) {
    if (r === '*' || r.includes('*') || r.includes('?')) return;
    if (r.slice('arn:aws:s3:::'.length).includes('/')) hasObject = true;
    else hasBucket = true;
  }
  for (const raw of actions) {
    const a = raw.toLowerCase();
    if (a.includes('*') || a.includes('?')) return;
    if (OBJECT_ACTIONS.has(a) && hasObject) return;
    if (BUCKET_ACTIONS.has(a) && hasBucket) return;
    if (!OBJECT_ACTIONS.has(a) && !BUCKET_ACTIONS.has(a)) return;
  }
  throw malformed('Action does not apply to any resource(s) in statement');
}
