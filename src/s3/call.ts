/**
 * One S3 call as handlers see it: the request, who made it, what it targets, and the shared
 * parts of the service, with the steps every handler takes (find the bucket, authorize).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import type { S3Caller } from './authenticate.js';
import {
  permissionsFor,
  type ConditionContext,
  type MappingInput,
  type PermissionCheck,
  type S3Authorizer,
} from './authorization.js';
import type { PayloadMode } from './body.js';
import { S3Error } from './errors.js';
import type { BucketRecord, S3Metadata } from './metadata.js';
import type { ObjectStore } from './object-store.js';
import type { S3Operation, S3Route } from './route.js';

/** What every handler shares. */
export interface S3Env {
  meta: S3Metadata;
  objects: ObjectStore;
  authorizer: S3Authorizer;
  region: string;
  logger: Logger;
}

/** One call. */
export interface S3Call {
  req: IncomingMessage;
  requestId: string;
  operation: S3Operation;
  route: S3Route;
  caller: S3Caller;
  payload: PayloadMode;
  /** Global and authentication condition keys of this request. */
  context: ConditionContext;
  env: S3Env;
  /** What the call learnt on its way, for its audit record. */
  seen: { bucketOwner?: string };
}

/** What a handler answers; the service writes it. */
export interface S3Response {
  status: number;
  headers: Record<string, string | number>;
  /** A document, or an object's bytes (read at once, or a stream), or nothing. */
  body?: string | Buffer | Readable;
  /** Called once the response is finished or abandoned (e.g. to close a file). */
  cleanup?: () => void;
}

/** The bucket the call names (routing guarantees one for bucket and object operations). */
export function bucketName(call: S3Call): string {
  const name = call.route.bucket;
  if (name === undefined) throw new S3Error('InvalidRequest', 'A bucket name is required.');
  return name;
}

/** The key the call names. */
export function objectKey(call: S3Call): string {
  const key = call.route.key;
  if (key === undefined) throw new S3Error('InvalidRequest', 'An object key is required.');
  return key;
}

/** The call's bucket; `NoSuchBucket` when it does not exist. */
export async function requireBucket(call: S3Call, name = bucketName(call)): Promise<BucketRecord> {
  const bucket = await call.env.meta.bucket(name);
  if (bucket === undefined) throw new S3Error('NoSuchBucket', undefined, { BucketName: name });
  return bucket;
}

/** What the authorization mapping reads from a call. */
export function mappingInput(call: S3Call): MappingInput {
  const input: MappingInput = { query: call.route.query, headers: call.req.headers };
  if (call.route.bucket !== undefined) input.bucket = call.route.bucket;
  if (call.route.key !== undefined) input.key = call.route.key;
  return input;
}

/** Checks one permission against `bucket`'s owner and policy; throws `AccessDenied`. */
export async function authorize(
  call: S3Call,
  check: PermissionCheck,
  bucket: BucketRecord | undefined,
): Promise<void> {
  if (bucket !== undefined) call.seen.bucketOwner = bucket.ownerAccount;
  await call.env.authorizer.check(call.caller, check, bucket, call.context);
}

/**
 * Checks the call's own permission (its operation's first mapped check) against `bucket`.
 *
 * @example
 * const bucket = await requireBucket(call);
 * await authorizeCall(call, bucket); // s3:ListBucket on arn:aws:s3:::bucket for ListObjectsV2
 */
export async function authorizeCall(call: S3Call, bucket: BucketRecord | undefined): Promise<void> {
  const [check] = permissionsFor(call.operation, mappingInput(call));
  if (check !== undefined) await authorize(call, check, bucket);
}

/**
 * S3's rule for a missing key: `NoSuchKey` only for a caller who may list the bucket
 * (`s3:ListBucket`), else `AccessDenied` — so existence is not revealed.
 */
export async function noSuchKey(call: S3Call, bucket: BucketRecord, key: string): Promise<never> {
  await authorize(
    call,
    {
      action: 's3:ListBucket',
      resource: `arn:aws:s3:::${bucket.name}`,
      bucket: bucket.name,
      context: {},
    },
    bucket,
  );
  throw new S3Error('NoSuchKey', undefined, { Key: key });
}

/** The caller's account, or undefined for anonymous callers. */
export function callerAccount(call: S3Call): string | undefined {
  return call.caller.kind === 'signed' ? call.caller.principal.accountId : undefined;
}

/** A header's single value. */
export function headerOf(call: S3Call, name: string): string | undefined {
  const v = call.req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/** The 64-hex canonical user id S3 shows for an account. */
export function canonicalUserId(accountId: string): string {
  // Stable and opaque, as S3's are; derived so every replica agrees without storing it.
  return createHash('sha256').update(`latchkey:canonical-user:${accountId}`).digest('hex');
}

/** An empty success. */
export function noContent(status = 204, headers: Record<string, string | number> = {}): S3Response {
  return { status, headers };
}

/** An XML document answer. */
export function xmlResponse(body: string, status = 200): S3Response {
  return { status, headers: { 'content-type': 'application/xml' }, body };
}
