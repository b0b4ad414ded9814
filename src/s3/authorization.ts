/**
 * The S3 side of authorization: each operation's IAM action, resource ARN and condition keys
 * (per AWS's Service Authorization Reference for Amazon S3), the global keys known at the edge,
 * and the decision — the caller's policies, the bucket's policy as the resource policy and the
 * bucket owner as the resource account; anonymous callers by the bucket policy alone.
 */
import type { IncomingMessage } from 'node:http';
import type { Authorizer } from '../auth/index.js';
import { isAwsError } from '../errors/index.js';
import {
  compilePolicyText,
  evaluatePolicies,
  formatAwsTime,
  type CompiledPolicy,
} from '../policy/index.js';
import type { S3Caller } from './authenticate.js';
import { bucketArn, objectArn } from './bucket-name.js';
import { S3Error } from './errors.js';
import type { BucketRecord } from './metadata.js';
import type { S3Operation } from './route.js';

/** Condition keys of a request: name → value(s). */
export type ConditionContext = Record<string, string | string[]>;

/** One permission an operation needs. */
export interface PermissionCheck {
  /** `s3:GetObject`, … */
  action: string;
  /** `arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/key`, or `*`. */
  resource: string;
  /** The bucket whose owner and policy decide (absent for ListAllMyBuckets and CreateBucket). */
  bucket?: string;
  /** Operation-specific condition keys (the edge's global keys are added when checking). */
  context: ConditionContext;
}

/** What the mapping reads from a request. */
export interface MappingInput {
  bucket?: string;
  key?: string;
  query: URLSearchParams;
  /** Lower-cased header names. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** CopyObject's source. */
  copySource?: { bucket: string; key: string };
}

/** Operation → action, for the operations with one resource of their own kind. */
const ACTIONS: Readonly<Record<S3Operation, string>> = {
  ListBuckets: 's3:ListAllMyBuckets',
  CreateBucket: 's3:CreateBucket',
  HeadBucket: 's3:ListBucket',
  DeleteBucket: 's3:DeleteBucket',
  GetBucketLocation: 's3:GetBucketLocation',
  ListObjects: 's3:ListBucket',
  ListObjectsV2: 's3:ListBucket',
  ListMultipartUploads: 's3:ListBucketMultipartUploads',
  GetBucketPolicy: 's3:GetBucketPolicy',
  PutBucketPolicy: 's3:PutBucketPolicy',
  DeleteBucketPolicy: 's3:DeleteBucketPolicy',
  GetBucketAcl: 's3:GetBucketAcl',
  GetBucketVersioning: 's3:GetBucketVersioning',
  DeleteObjects: 's3:DeleteObject',
  PutObject: 's3:PutObject',
  CopyObject: 's3:PutObject',
  GetObject: 's3:GetObject',
  HeadObject: 's3:GetObject',
  DeleteObject: 's3:DeleteObject',
  GetObjectAcl: 's3:GetObjectAcl',
  GetObjectTagging: 's3:GetObjectTagging',
  CreateMultipartUpload: 's3:PutObject',
  UploadPart: 's3:PutObject',
  CompleteMultipartUpload: 's3:PutObject',
  AbortMultipartUpload: 's3:AbortMultipartUpload',
  ListParts: 's3:ListMultipartUploadParts',
};

/** Headers that are S3 condition keys of object writes, under the same name. */
const OBJECT_WRITE_KEYS = [
  'x-amz-acl',
  'x-amz-storage-class',
  'x-amz-server-side-encryption',
  'x-amz-server-side-encryption-aws-kms-key-id',
  'x-amz-website-redirect-location',
  'x-amz-grant-read',
  'x-amz-grant-write',
  'x-amz-grant-read-acp',
  'x-amz-grant-write-acp',
  'x-amz-grant-full-control',
];

function header(input: MappingInput, name: string): string | undefined {
  const v = input.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

function copyHeaders(input: MappingInput, names: readonly string[], into: ConditionContext): void {
  for (const name of names) {
    const v = header(input, name);
    if (v !== undefined) into[`s3:${name}`] = v;
  }
}

/**
 * The permissions an operation needs, in the order they are checked. DeleteObjects needs
 * `s3:DeleteObject` on each key it names: its handler asks for `DeleteObject` once per key.
 * CopyObject needs `s3:PutObject` on the destination and `s3:GetObject` on the source.
 *
 * @example
 * permissionsFor('ListObjectsV2', { bucket: 'b', query: new URLSearchParams('prefix=home/'), headers: {} });
 * // [{ action: 's3:ListBucket', resource: 'arn:aws:s3:::b', bucket: 'b', context: { 's3:prefix': 'home/' } }]
 */
export function permissionsFor(operation: S3Operation, input: MappingInput): PermissionCheck[] {
  const action = ACTIONS[operation];
  const bucket = input.bucket ?? '';
  const context: ConditionContext = {};
  switch (operation) {
    case 'ListBuckets':
      return [{ action, resource: '*', context }];
    case 'CreateBucket': {
      copyHeaders(input, ['x-amz-acl', 'x-amz-object-ownership'], context);
      return [{ action, resource: bucketArn(bucket), context }];
    }
    case 'ListObjects':
    case 'ListObjectsV2': {
      for (const name of ['prefix', 'delimiter', 'max-keys']) {
        const v = input.query.get(name);
        if (v !== null) context[`s3:${name}`] = v;
      }
      return [{ action, resource: bucketArn(bucket), bucket, context }];
    }
    case 'HeadBucket':
    case 'DeleteBucket':
    case 'GetBucketLocation':
    case 'ListMultipartUploads':
    case 'GetBucketPolicy':
    case 'PutBucketPolicy':
    case 'DeleteBucketPolicy':
    case 'GetBucketAcl':
    case 'GetBucketVersioning':
      return [{ action, resource: bucketArn(bucket), bucket, context }];
    case 'DeleteObjects':
      // Decided per key by the handler.
      return [];
    case 'PutObject':
    case 'CreateMultipartUpload':
      copyHeaders(input, OBJECT_WRITE_KEYS, context);
      return [{ action, resource: objectArn(bucket, input.key ?? ''), bucket, context }];
    case 'CopyObject': {
      copyHeaders(input, OBJECT_WRITE_KEYS, context);
      copyHeaders(input, ['x-amz-copy-source', 'x-amz-metadata-directive'], context);
      const checks: PermissionCheck[] = [
        { action, resource: objectArn(bucket, input.key ?? ''), bucket, context },
      ];
      if (input.copySource !== undefined) {
        const src = input.copySource;
        checks.push({
          action: 's3:GetObject',
          resource: objectArn(src.bucket, src.key),
          bucket: src.bucket,
          context: {},
        });
      }
      return checks;
    }
    default:
      return [{ action, resource: objectArn(bucket, input.key ?? ''), bucket, context }];
  }
}

/** The edge's view of a request, for global condition keys. */
export interface EdgeFacts {
  sourceIp: string;
  secureTransport: boolean;
  userAgent?: string;
  referer?: string;
  now: Date;
}

/** The edge facts of a Node request. */
export function edgeFactsOf(req: IncomingMessage, now = new Date()): EdgeFacts {
  const ip = req.socket.remoteAddress ?? '';
  const facts: EdgeFacts = {
    sourceIp: ip.startsWith('::ffff:') ? ip.slice(7) : ip,
    secureTransport: 'encrypted' in req.socket && req.socket.encrypted === true,
    now,
  };
  const ua = req.headers['user-agent'];
  if (ua !== undefined) facts.userAgent = ua;
  const referer = req.headers.referer;
  if (referer !== undefined) facts.referer = referer;
  return facts;
}

/**
 * The condition keys every S3 request carries: AWS's global keys known at the edge and S3's
 * authentication keys (`s3:authType`, `s3:signatureversion`, `s3:signatureAge`,
 * `s3:x-amz-content-sha256`).
 */
export function requestContext(
  facts: EdgeFacts,
  caller: S3Caller,
  headers: IncomingMessage['headers'],
): ConditionContext {
  const context: ConditionContext = {
    'aws:SourceIp': facts.sourceIp,
    'aws:SecureTransport': facts.secureTransport ? 'true' : 'false',
    'aws:CurrentTime': formatAwsTime(facts.now),
    'aws:EpochTime': String(Math.floor(facts.now.getTime() / 1000)),
  };
  if (facts.userAgent !== undefined) context['aws:UserAgent'] = facts.userAgent;
  if (facts.referer !== undefined) context['aws:Referer'] = facts.referer;
  const sha = headers['x-amz-content-sha256'];
  if (typeof sha === 'string') context['s3:x-amz-content-sha256'] = sha;
  if (caller.kind === 'signed') {
    const sig = caller.signature;
    context['s3:authType'] = sig.kind === 'presigned' ? 'REST-QUERY-STRING' : 'REST-HEADER';
    context['s3:signatureversion'] = 'AWS4-HMAC-SHA256';
    const signedAt = Date.UTC(
      Number(sig.amzDate.slice(0, 4)),
      Number(sig.amzDate.slice(4, 6)) - 1,
      Number(sig.amzDate.slice(6, 8)),
      Number(sig.amzDate.slice(9, 11)),
      Number(sig.amzDate.slice(11, 13)),
      Number(sig.amzDate.slice(13, 15)),
    );
    context['s3:signatureAge'] = String(Math.max(0, facts.now.getTime() - signedAt));
  }
  return context;
}

const MAX_COMPILED = 1_000;

/**
 * Decides permission checks. Signed callers go to the {@link Authorizer} (their identity
 * policies, the bucket policy, the owner account); anonymous callers are allowed only by a
 * bucket policy statement for `Principal: "*"`. With `enabled: false` signed callers are not
 * checked at all — for benchmarks only.
 */
export class S3Authorizer {
  readonly #compiled = new Map<string, CompiledPolicy>();

  constructor(
    private readonly authorizer: Authorizer,
    private readonly enabled = true,
  ) {}

  /**
   * Throws `AccessDenied` (AWS's message for signed callers, `Access Denied` for anonymous ones)
   * unless `caller` may perform `check` on a resource of `bucket` (undefined: no bucket yet).
   */
  async check(
    caller: S3Caller,
    check: PermissionCheck,
    bucket: BucketRecord | undefined,
    base: ConditionContext,
  ): Promise<void> {
    const context = { ...base, ...check.context };
    if (caller.kind === 'signed') {
      if (!this.enabled) return;
      try {
        await this.authorizer.authorize(caller.principal, {
          action: check.action,
          resource: check.resource,
          ...(bucket ? { resourceAccount: bucket.ownerAccount } : {}),
          ...(bucket?.policy
            ? { resourcePolicy: bucket.policy, resourcePolicyOwner: bucketArn(bucket.name) }
            : {}),
          context,
          quoteResource: true,
        });
      } catch (err) {
        if (!isAwsError(err) || err.code !== 'AccessDenied') throw err;
        // S3 explains denials within the bucket owner's account; a caller from another account
        // learns only "Access Denied".
        const sameAccount =
          bucket === undefined || bucket.ownerAccount === caller.principal.accountId;
        throw new S3Error(
          'AccessDenied',
          sameAccount ? err.message : undefined,
          {},
          err.explanation,
        );
      }
      return;
    }
    const policy = bucket?.policy ? this.#compile(bucket.name, bucket.policy) : undefined;
    if (policy === undefined) throw new S3Error('AccessDenied');
    const decision = evaluatePolicies({
      principal: { type: 'Anonymous', arn: '*', accountId: '' },
      action: check.action,
      resource: check.resource,
      resourceAccount: bucket!.ownerAccount,
      context,
      identityPolicies: [],
      resourcePolicy: policy,
    });
    if (decision.decision !== 'allowed') {
      throw new S3Error(
        'AccessDenied',
        undefined,
        {},
        {
          decision: decision.decision,
          denial: decision.denial,
          matched: decision.matched,
        },
      );
    }
  }

  #compile(bucket: string, policy: string): CompiledPolicy {
    const key = `${bucket}\u0000${policy}`;
    let compiled = this.#compiled.get(key);
    if (compiled === undefined) {
      compiled = compilePolicyText(policy, {
        kind: 'resource',
        maxLength: false,
        id: `arn:aws:s3:::${bucket}#policy`,
      });
      if (this.#compiled.size >= MAX_COMPILED) this.#compiled.clear();
      this.#compiled.set(key, compiled);
    }
    return compiled;
  }
}
