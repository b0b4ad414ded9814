/**
 * The CloudTrail record of an S3 call: object-level operations are data events, bucket-level
 * ones management events, as in CloudTrail. The record goes to the caller's account; when the
 * bucket belongs to another account, the bucket owner receives a copy with the same
 * `sharedEventID` (see `AuditNotes.sharedWith`). Anonymous calls are recorded for the bucket's
 * owner only.
 */
import {
  callKind,
  newRecord,
  principalIdentity,
  type AuditNotes,
  type CloudTrailRecord,
} from '../audit/index.js';
import { headerOf, type S3Call } from './call.js';
import type { S3Operation } from './route.js';

/** Bucket-level operations: CloudTrail records them as management events. */
const MANAGEMENT_OPERATIONS = new Set<S3Operation>([
  'ListBuckets',
  'CreateBucket',
  'DeleteBucket',
  'HeadBucket',
  'GetBucketLocation',
  'GetBucketPolicy',
  'PutBucketPolicy',
  'DeleteBucketPolicy',
]);

/**
 * Builds the record of `call` before it runs, with the notes its outcome completes.
 *
 * @example
 * const { record, notes } = await s3AuditRecord(call, '10.0.0.7');
 * await auditedCall(trail, record, notes, () => handler(call), () => null);
 */
export async function s3AuditRecord(
  call: S3Call,
  sourceIp: string,
): Promise<{ record: CloudTrailRecord; notes: AuditNotes }> {
  const { caller, route, operation } = call;
  const bucket = route.bucket;
  let recipientAccountId = '';
  if (caller.kind === 'signed') recipientAccountId = caller.principal.accountId;
  else if (bucket !== undefined) {
    recipientAccountId = (await call.env.meta.bucket(bucket))?.ownerAccount ?? '';
  }
  const record = newRecord({
    eventSource: 's3.amazonaws.com',
    eventName: operation,
    region: call.env.region,
    sourceIp,
    userAgent: headerOf(call, 'user-agent') ?? '',
    requestId: call.requestId,
    readOnly: callKind(operation) === 'read',
    identity:
      caller.kind === 'signed'
        ? principalIdentity(caller.principal)
        : { type: 'AWSAccount', principalId: '', accountId: 'anonymous' },
    recipientAccountId,
    requestParameters: requestParameters(call),
    dataEvent: !MANAGEMENT_OPERATIONS.has(operation),
  });
  const notes: AuditNotes = {
    data: {
      ...(caller.kind === 'signed'
        ? {
            SignatureVersion: 'SigV4',
            AuthenticationMethod:
              caller.signature.kind === 'presigned' ? 'QueryString' : 'AuthHeader',
          }
        : {}),
      bytesTransferredIn: Number(
        headerOf(call, 'x-amz-decoded-content-length') ?? headerOf(call, 'content-length') ?? 0,
      ),
    },
  };
  const resources = resourcesOf(route.bucket, route.key);
  if (resources !== undefined) notes.resources = resources;
  return { record, notes };
}

/**
 * CloudTrail's `requestParameters` of an S3 call: the bucket, key and Host, and the query's
 * parameters except the signature's own (`X-Amz-*`, which carry credentials).
 */
function requestParameters(call: S3Call): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const [name, value] of call.route.query) {
    if (!name.toLowerCase().startsWith('x-amz-')) params[name] = value;
  }
  if (call.route.bucket !== undefined) params.bucketName = call.route.bucket;
  if (call.route.key !== undefined) params.key = call.route.key;
  params.Host = headerOf(call, 'host') ?? '';
  return params;
}

function resourcesOf(
  bucket: string | undefined,
  key: string | undefined,
): { ARN: string; type: string }[] | undefined {
  if (bucket === undefined) return undefined;
  const list = [{ type: 'AWS::S3::Bucket', ARN: `arn:aws:s3:::${bucket}` }];
  if (key !== undefined)
    list.unshift({ type: 'AWS::S3::Object', ARN: `arn:aws:s3:::${bucket}/${key}` });
  return list;
}
