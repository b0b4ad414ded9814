import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { Logger } from 'pino';
import type { AuditTrail } from '../audit/index.js';
import type { CredentialResolver } from '../auth/index.js';
import { toAwsError } from '../errors/index.js';
import { renderJsonError, type QueryService, type RestService } from '../protocol/index.js';
import { sigV4RequestOf } from '../sigv4/index.js';
import type { RequestThrottle } from '../throttle/index.js';
import { readBody } from './body.js';
import { QueryDispatcher, type HttpAnswer } from './query-dispatch.js';
import type { EdgeContext } from './edge-context.js';
import { RestDispatcher } from './rest-dispatch.js';
import { parseSignature } from './signature.js';

/** Largest Query or REST-JSON body accepted (policy documents and web identity tokens fit). */
export const API_BODY_LIMIT = 1024 * 1024;

/** The documents of one of Latchkey's OIDC issuers. */
export interface IssuerDocuments {
  discovery: Record<string, unknown>;
  jwks: { keys: unknown[] };
}

/** Everything the edge routes to. */
export interface AppDeps {
  logger: Logger;
  resolver: CredentialResolver;
  trail: AuditTrail;
  region: string;
  queryServices: QueryService[];
  restServices: RestService[];
  /** The documents of the issuer with this id, or undefined when there is none. */
  issuer(issuerId: string): Promise<IssuerDocuments | undefined>;
  /** The S3 API: every request that is not an API call or one of Latchkey's own paths. */
  s3: { handle(req: IncomingMessage, res: ServerResponse): Promise<void> };
  /** With `s3.example.test`, any request to `<bucket>.s3.example.test` is S3's. */
  virtualHostDomain?: string | undefined;
  /** Per-account request limits of the Query and REST-JSON APIs (S3 applies its own hook). */
  throttle?: RequestThrottle | undefined;
  /** The web console, mounted under `/_latchkey/console/` (see src/console). */
  console?: { register(app: FastifyInstance): void } | undefined;
}

/**
 * Builds the one HTTP endpoint: Latchkey's own paths under `/_latchkey/` (health, OIDC
 * issuers), Query calls (IAM, STS) by their form body or `Action` parameter, REST-JSON calls
 * (EKS, Latchkey's API) by their signing name; everything else is S3's.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  const app = Fastify({
    // Request logging is ours (below): fastify's would log presigned URLs, which carry
    // signatures and session tokens.
    logger: false,
    genReqId: () => randomUUID(),
  });
  const log = deps.logger;
  const edge: EdgeContext = {
    resolver: deps.resolver,
    trail: deps.trail,
    region: deps.region,
    onInternalError: (err: unknown) => log.error({ err }, 'internal error'),
    throttle: deps.throttle,
  };
  const query = new QueryDispatcher(deps.queryServices, edge);
  const rest = new RestDispatcher(deps.restServices, edge);

  // Bodies are read by each protocol as it needs them (buffered for APIs, streamed for S3).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));

  // Per-request lines are debug (the audit trail is the record of calls); the hook costs
  // time on every request, so it is only added when they are wanted.
  if (log.isLevelEnabled('debug')) {
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
  }

  app.get('/_latchkey/healthz', async () => ({ status: 'ok' }));
  deps.console?.register(app);

  // OIDC discovery and JWKS of each cluster's issuer: public, cacheable, as EKS serves them.
  const issuerRoute = async (
    id: string,
    reply: FastifyReply,
    pick: (d: IssuerDocuments) => unknown,
  ) => {
    const docs = /^[0-9A-F]{32}$/.test(id) ? await deps.issuer(id) : undefined;
    if (docs === undefined) return reply.code(404).send({ message: 'Not Found' });
    return reply.header('cache-control', 'public, max-age=300').send(pick(docs));
  };
  app.get<{ Params: { id: string } }>(
    '/_latchkey/oidc/id/:id/.well-known/openid-configuration',
    (request, reply) => issuerRoute(request.params.id, reply, (d) => d.discovery),
  );
  app.get<{ Params: { id: string } }>('/_latchkey/oidc/id/:id/keys', (request, reply) =>
    issuerRoute(request.params.id, reply, (d) => d.jwks),
  );

  app.all('/*', async (request, reply) => {
    const raw = request.raw;
    const sigv4Request = sigV4RequestOf(raw);
    const parsed = parseSignature(sigv4Request);
    const restService = rest.serviceFor(parsed.signature?.service);
    const s3 = parsed.signature?.service === 's3' || isVirtualHosted(raw, deps.virtualHostDomain);
    if (!s3 && (isQueryRequest(raw) || restService !== undefined)) {
      let body: Buffer;
      try {
        body = await readBody(raw, API_BODY_LIMIT);
      } catch (err) {
        const error = toAwsError(err);
        return send(
          reply,
          restService === undefined
            ? query.reject(parsed, error)
            : renderJsonError(error, request.id),
        );
      }
      return send(
        reply,
        restService === undefined
          ? await query.dispatch(sigv4Request, parsed, body, request.ip)
          : await rest.dispatch(restService, sigv4Request, parsed, body, request.ip),
      );
    }
    // S3 streams its bodies both ways on the raw request and response.
    reply.hijack();
    await deps.s3.handle(raw, reply.raw);
  });

  return app;
}

/** A request whose Host is `<bucket>.<domain>` (S3's virtual-hosted style). */
function isVirtualHosted(req: IncomingMessage, domain: string | undefined): boolean {
  if (domain === undefined) return false;
  const host = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
  return host.endsWith(`.${domain}`);
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

function send(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}
