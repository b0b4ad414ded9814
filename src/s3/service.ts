/**
 * The S3 service: one request in, one S3 answer out — authenticate (SigV4 or anonymous), route,
 * then the operation's handler (which authorizes before it acts), then the response or S3's
 * error document. Writes to the raw Node response; reads the raw request body as a stream.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { auditedCall, type AuditTrail } from '../audit/index.js';
import type { Authorizer, CredentialResolver } from '../auth/index.js';
import { bindBucketCache, type ClusterSync } from '../cluster-sync/index.js';
import { s3AuditRecord } from './audit.js';
import { authenticateS3 } from './authenticate.js';
import { edgeFactsOf, requestContext, S3Authorizer } from './authorization.js';
import type { S3Call, S3Env, S3Response } from './call.js';
import { hostIdOf, newRequestId, renderS3Error, toS3Error, type S3Error } from './errors.js';
import { S3Metadata } from './metadata.js';
import { ObjectStore } from './object-store.js';
import { HANDLERS } from './operations/index.js';
import { operationOf, targetOf } from './route.js';
import type { S3Tables } from './schema.js';

/** What the S3 service needs. */
export interface S3ServiceDeps<DB extends S3Tables = S3Tables> {
  /** The store (its schema includes the S3 tables, see `s3Migrations`). */
  db: Kysely<DB>;
  /** Data directory; object bytes live under `DIR/objects/`. */
  dataDir: string;
  resolver: CredentialResolver;
  authorizer: Authorizer;
  /** Every authenticated or anonymous call is recorded (object-level calls as data events). */
  trail: AuditTrail;
  region: string;
  logger: Logger;
  /** With `s3.example.test`, `bucket.s3.example.test` addresses `bucket` (virtual-hosted style). */
  virtualHostDomain?: string;
  /** Per-account request limit: throws (AwsError `Throttling`, answered as `SlowDown`) when over. */
  admit?: (accountId: string) => void;
  /**
   * The other replicas on the same PostgreSQL: a bucket created, deleted or given another policy
   * here is published on it (topic `buckets`), and their changes drop this replica's cached
   * bucket at once. Without it (one server) nothing is told or heard.
   */
  sync?: ClusterSync;
  /** How long a bucket (owner, policy) stays cached; 1 s by default. */
  bucketCacheMs?: number;
  /**
   * `false` skips authorization of signed callers (authentication still applies). For
   * benchmarks only: it measures what authorization costs.
   */
  authorize?: boolean;
}

/** The S3 REST API over raw Node requests. */
export interface S3Service {
  /** Answers one S3 request (never throws; every failure becomes S3's error document). */
  handle(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Resolves once the object directory is ready (the first request waits for it anyway). */
  ready(): Promise<void>;
}

/** Bytes of an unread request body drained after an early answer before the socket is closed. */
const MAX_DRAIN_BYTES = 64 * 1024 * 1024;

/**
 * Builds the S3 service.
 *
 * @example
 * const s3 = createS3Service({ db: store.db, dataDir, resolver, authorizer, region: 'us-east-1', logger });
 * http.createServer((req, res) => void s3.handle(req, res));
 */
export function createS3Service<DB extends S3Tables>(deps: S3ServiceDeps<DB>): S3Service {
  // The service reads only its own tables; the store's type is wider.
  const db = deps.db as unknown as Kysely<S3Tables>;
  const objects = new ObjectStore(deps.dataDir);
  const sync = deps.sync;
  const meta = new S3Metadata(db, {
    ...(deps.bucketCacheMs !== undefined && { bucketTtlMs: deps.bucketCacheMs }),
    ...(sync && { onBucketChanged: (name: string) => void sync.publish('buckets', name) }),
  });
  if (sync) bindBucketCache(sync, meta);
  const env: S3Env = {
    meta,
    objects,
    authorizer: new S3Authorizer(deps.authorizer, deps.authorize !== false),
    region: deps.region,
    logger: deps.logger,
  };
  const ready = objects.init();
  ready.catch((err: unknown) => deps.logger.error({ err }, 'S3 object directory unavailable'));

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = newRequestId();
    const head = req.method === 'HEAD';
    res.setHeader('x-amz-request-id', requestId);
    res.setHeader('x-amz-id-2', hostIdOf(requestId));
    res.setHeader('server', 'Latchkey');
    let resource = (req.url ?? '/').split('?', 1)[0] ?? '/';
    try {
      await ready;
      const facts = edgeFactsOf(req);
      const { caller, payload } = await authenticateS3(req, deps.resolver, deps.region);
      if (caller.kind === 'signed') deps.admit?.(caller.principal.accountId);
      const route = targetOf(req.url ?? '/', req.headers.host, deps.virtualHostDomain);
      resource = route.resource;
      const operation = operationOf(
        req.method ?? 'GET',
        route,
        req.headers['x-amz-copy-source'] !== undefined,
      );
      const call: S3Call = {
        req,
        requestId,
        operation,
        route: { ...route, operation },
        caller,
        payload,
        context: requestContext(facts, caller, req.headers),
        env,
        seen: {},
      };
      const { record, notes } = await s3AuditRecord(call, facts.sourceIp);
      const response = await auditedCall(
        deps.trail,
        record,
        notes,
        async () => {
          try {
            return await HANDLERS[operation](call);
          } finally {
            // The bucket's owner receives the record too when it is another account.
            const owner = call.seen.bucketOwner;
            if (owner !== undefined) {
              if (caller.kind === 'anonymous') notes.recipientAccountId = owner;
              else notes.sharedWith = owner;
            }
          }
        },
        () => null,
      );
      await send(res, response, head);
    } catch (err) {
      const error = toS3Error(err);
      if (error.code === 'InternalError')
        deps.logger.error({ err, requestId }, 'S3 request failed');
      sendError(res, error, resource, requestId, head);
    } finally {
      drainAfterAnswer(req, res);
    }
  }

  return { handle, ready: () => ready };
}

async function send(res: ServerResponse, response: S3Response, head: boolean): Promise<void> {
  const { body } = response;
  try {
    if (body === undefined || typeof body === 'string' || Buffer.isBuffer(body)) {
      const headers: Record<string, string | number> = { ...response.headers };
      if (typeof body === 'string') headers['content-length'] = Buffer.byteLength(body);
      else if (headers['content-length'] === undefined && response.status !== 304) {
        headers['content-length'] = 0;
      }
      res.writeHead(response.status, headers);
      res.end(head ? undefined : body);
      return;
    }
    res.writeHead(response.status, response.headers);
    if (head) {
      body.destroy();
      res.end();
      return;
    }
    await pipeline(body, res).catch(() => {
      // The client went away or the file failed mid-stream: the connection is already cut.
      res.destroy();
    });
  } finally {
    response.cleanup?.();
  }
}

function sendError(
  res: ServerResponse,
  error: S3Error,
  resource: string,
  requestId: string,
  head: boolean,
): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (error.code === 'NotModified') {
    res.writeHead(304);
    res.end();
    return;
  }
  const body = renderS3Error(error, resource, requestId);
  res.writeHead(error.status, {
    'content-type': 'application/xml',
    // HEAD answers carry no body, but say how long the GET's would be.
    'content-length': head ? 0 : Buffer.byteLength(body),
  });
  res.end(head ? undefined : body);
}

/**
 * After an early answer (an error before or while reading the body), what the client still
 * sends is read and dropped so the connection stays usable; past a limit the connection is
 * closed instead.
 */
function drainAfterAnswer(req: IncomingMessage, res: ServerResponse): void {
  if (req.complete || req.destroyed) return;
  let drained = 0;
  const onData = (chunk: Buffer): void => {
    drained += chunk.length;
    if (drained > MAX_DRAIN_BYTES) {
      req.off('data', onData);
      res.once('finish', () => req.socket.destroy());
      if (res.writableFinished) req.socket.destroy();
    }
  };
  req.on('data', onData);
  req.resume();
}
