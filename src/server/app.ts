import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import { authenticateRequest, type CredentialResolver } from '../auth/index.js';
import { AwsError, toAwsError } from '../errors/index.js';
import { renderJsonError, type QueryService } from '../protocol/index.js';
import type { SigV4Request } from '../sigv4/index.js';
import { readBody } from './body.js';
import { QueryDispatcher, type HttpAnswer } from './query-dispatch.js';

/** Largest Query-protocol body accepted (IAM policy documents and web identity tokens fit). */
export const QUERY_BODY_LIMIT = 1024 * 1024;

/** Latchkey's own JSON API operations, served under `/_latchkey/api/`. */
export interface LatchkeyApi {
  /** `POST /_latchkey/api/accounts` {accountId}: creates an account (instance admins only). */
  createAccount(
    caller: { accountId: string; arn: string; userName?: string | undefined },
    accountId: string,
  ): Promise<{ accountId: string; accessKeyId: string; secretAccessKey: string }>;
}

/** Everything the edge routes to. */
export interface AppDeps {
  logger: Logger;
  resolver: CredentialResolver;
  queryServices: QueryService[];
  api: LatchkeyApi;
}

/**
 * Builds the one HTTP endpoint: Latchkey's own paths under `/_latchkey/`, Query-protocol
 * calls (IAM, STS) by their form body or `Action` parameter; everything else is S3's.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    // Request logging is ours (below): the default would log presigned URLs, which carry
    // signatures and session tokens.
    logger: false,
    disableRequestLogging: true,
    genReqId: () => randomUUID(),
  });
  const log = deps.logger;
  const query = new QueryDispatcher(deps.queryServices, deps.resolver, (err) =>
    log.error({ err }, 'internal error'),
  );

  // Bodies are read by each protocol as it needs them (buffered for Query, streamed for S3).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  // Per-request lines are debug: the audit trail is the record of calls.
  app.addHook('onResponse', async (request, reply) => {
    log.debug(
      {
        method: request.method,
        path: request.url.split('?', 1)[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  app.get('/_latchkey/healthz', async () => ({ status: 'ok' }));

  app.post('/_latchkey/api/accounts', async (request, reply) => {
    const requestId = request.id;
    try {
      const body = await readBody(request.raw, 64 * 1024);
      const authenticated = await authenticateRequest(toSigV4Request(request.raw), deps.resolver, {
        maxSkewSeconds: 300,
        payloadHash: createHash('sha256').update(body).digest('hex'),
      });
      if (authenticated === null) {
        throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
      }
      const input = parseJsonObject(body);
      const accountId = typeof input.accountId === 'string' ? input.accountId : '';
      const created = await deps.api.createAccount(authenticated.principal, accountId);
      return reply.code(201).header('x-amzn-requestid', requestId).send(created);
    } catch (err) {
      const error = toAwsError(err);
      if (error !== err) log.error({ err }, 'internal error');
      return send(reply, renderJsonError(error, requestId));
    }
  });

  app.all('/*', async (request, reply) => {
    const raw = request.raw;
    if (isQueryRequest(raw)) {
      const sigv4Request = toSigV4Request(raw);
      let body: Buffer;
      try {
        body = await readBody(raw, QUERY_BODY_LIMIT);
      } catch (err) {
        return send(reply, query.reject(sigv4Request, toAwsError(err)));
      }
      return send(reply, await query.dispatch(sigv4Request, body, request.ip));
    }
    // S3 lands here once the object store is built.
    return send(reply, {
      status: 501,
      headers: { 'content-type': 'application/xml' },
      body:
        '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>NotImplemented</Code>' +
        '<Message>A header or operation you provided implies functionality that is not implemented.</Message></Error>',
    });
  });

  return app;
}

/** A Query call: a form-encoded POST, or any request to `/` with an `Action` parameter. */
function isQueryRequest(req: IncomingMessage): boolean {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== '/') return false;
  const type = req.headers['content-type'] ?? '';
  if (req.method === 'POST' && type.startsWith('application/x-www-form-urlencoded')) return true;
  return q >= 0 && new URLSearchParams(url.slice(q + 1)).has('Action');
}

/** The parts of a request SigV4 signs, exactly as they came on the wire. */
export function toSigV4Request(req: IncomingMessage): SigV4Request {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    headers: req.headers,
  };
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through to the error below
  }
  throw new AwsError('ValidationError', 'The request body must be a JSON object.');
}

function send(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
