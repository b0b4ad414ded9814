/**
 * The console's HTTP routes under `/_latchkey/console/`: sign-in (access key form or one-time
 * link), the application page and its script, the JSON API. Nothing but the sign-in page, its
 * stylesheet and the sign-in endpoints answers without a session.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import type { AccessSources } from '../access/index.js';
import { newRecord, principalIdentity, type AuditTrail } from '../audit/index.js';
import type { Authorizer, CredentialResolver, Principal } from '../auth/index.js';
import type { AccessKeyDirectory } from '../iam/index.js';
import type { Database } from '../store/index.js';
import { consoleApi } from './api.js';
import { CONSOLE_CSS } from './assets/console-css.js';
import { CONSOLE_JS } from './assets/console-js.js';
import { ConsoleError, toConsoleError } from './errors.js';
import { appPage, CONSOLE_PREFIX, messagePage, signInPage } from './pages.js';
import { StoredSessionRevocations } from './revoked-sessions.js';
import { ConsoleSessions, SESSION_COOKIE } from './session.js';
import { SignInLinks } from './sign-in-links.js';
import { SignInThrottle } from './throttle.js';

/** The header every console API POST must carry (a cross-site form or image cannot). */
export const CSRF_HEADER = 'x-latchkey-console';

/** Largest console request body. */
const BODY_LIMIT = 16 * 1024;

/** What the console is built from. */
export interface ConsoleDeps {
  masterKey: Buffer;
  resolver: CredentialResolver;
  authorizer: Authorizer;
  trail: AuditTrail;
  db: Kysely<Database>;
  access: AccessSources;
  /** To find the key a one-time link for an account's admin signs in with. */
  accessKeys: Pick<AccessKeyDirectory, 'list'>;
  region: string;
  logger?: Logger | undefined;
}

/** The console, ready to be mounted on the edge server. */
export interface LatchkeyConsole {
  /** Adds the console's routes to the edge app (before it listens). */
  register(app: FastifyInstance): void;
  /**
   * A one-time sign-in URL (good once, for ten minutes) for the admin user of `accountId`,
   * below `baseUrl`; undefined when that user has no active access key.
   */
  signInLink(baseUrl: string, accountId: string): Promise<string | undefined>;
}

const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cache-control': 'no-store',
};

/**
 * Builds the console.
 *
 * @example
 * const console = createConsole({ masterKey, resolver, authorizer, trail, db, access, accessKeys, region });
 * const app = buildApp({ ...deps, console });
 * await app.listen({ port: 4599 });
 * await console.signInLink('http://127.0.0.1:4599', '000000000000');
 */
export function createConsole(deps: ConsoleDeps): LatchkeyConsole {
  const sessions = new ConsoleSessions(
    deps.masterKey,
    deps.resolver,
    new StoredSessionRevocations(deps.db),
  );
  const links = new SignInLinks(deps.db);
  const throttle = new SignInThrottle();
  const api = consoleApi(deps);

  const audit = (
    request: FastifyRequest,
    principal: Principal,
    method: 'AccessKey' | 'OneTimeLink',
    ok: boolean,
  ) => {
    const record = newRecord({
      eventSource: 'signin.amazonaws.com',
      eventName: 'ConsoleLogin',
      region: deps.region,
      sourceIp: request.ip,
      userAgent: String(request.headers['user-agent'] ?? ''),
      requestId: randomUUID(),
      readOnly: false,
      identity: principalIdentity(principal),
      recipientAccountId: principal.accountId,
      requestParameters: null,
    });
    record.responseElements = { ConsoleLogin: ok ? 'Success' : 'Failure' };
    record.additionalEventData = { LoginTo: `${CONSOLE_PREFIX}/`, MFAUsed: 'No', method };
    if (!ok) record.errorMessage = 'Failed authentication';
    deps.trail.writeLater(record);
  };

  const startSession = (request: FastifyRequest, reply: FastifyReply, principal: Principal) => {
    const { value, maxAgeSeconds } = sessions.seal(principal);
    const secure = request.protocol === 'https' ? '; Secure' : '';
    return reply
      .header(
        'set-cookie',
        `${SESSION_COOKIE}=${value}; Path=${CONSOLE_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`,
      )
      .redirect(`${CONSOLE_PREFIX}/`, 303);
  };

  const principalOf = (request: FastifyRequest) =>
    sessions.open(readCookie(request.headers.cookie, SESSION_COOKIE));

  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).header('content-type', 'text/html; charset=utf-8').send(body);

  const jsonError = (reply: FastifyReply, err: unknown) => {
    const error = toConsoleError(err);
    if (error.code === 'InternalError') deps.logger?.error({ err }, 'console error');
    return reply.code(error.status).send({ error: error.code, message: error.message });
  };

  return {
    register(app) {
      void app.register(async (scope) => {
        scope.addHook('onSend', async (_request, reply, payload) => {
          reply.headers(SECURITY_HEADERS);
          return payload;
        });
        // A route that fails outside its own handling (e.g. the store cannot say whether a
        // session was signed out) answers with the console's error, never a session.
        scope.setErrorHandler((err, _request, reply) => jsonError(reply, err));

        scope.get(CONSOLE_PREFIX, (_request, reply) => reply.redirect(`${CONSOLE_PREFIX}/`, 302));

        scope.get(`${CONSOLE_PREFIX}/`, async (request, reply) => {
          const principal = await principalOf(request);
          if (principal === undefined) return reply.redirect(`${CONSOLE_PREFIX}/sign-in`, 303);
          return html(reply, 200, appPage(principal.arn));
        });

        scope.get(`${CONSOLE_PREFIX}/sign-in`, async (request, reply) => {
          // Already signed in: straight to the console.
          if ((await principalOf(request)) !== undefined) {
            return reply.redirect(`${CONSOLE_PREFIX}/`, 303);
          }
          return html(reply, 200, signInPage());
        });

        scope.post(`${CONSOLE_PREFIX}/sign-in`, async (request, reply) => {
          if (!sameOrigin(request)) {
            return html(reply, 403, messagePage('Refused', 'Sign in from the console’s own page.'));
          }
          if (throttle.blocked(request.ip)) {
            return html(
              reply,
              429,
              signInPage('Too many failed sign-ins from your address. Wait a few minutes.'),
            );
          }
          let form: URLSearchParams;
          try {
            form = new URLSearchParams((await readBody(request.raw, BODY_LIMIT)).toString('utf8'));
          } catch {
            return html(reply, 413, signInPage('The form was too large.'));
          }
          const accessKeyId = (form.get('accessKeyId') ?? '').trim();
          const secret = form.get('secretAccessKey') ?? '';
          const principal = await sessions.verifyAccessKey(accessKeyId, secret);
          if (principal === undefined) {
            throttle.fail(request.ip);
            const known = await sessions.principalOf(accessKeyId).catch(() => undefined);
            if (known !== undefined && /^AKIA/.test(accessKeyId))
              audit(request, known, 'AccessKey', false);
            return html(
              reply,
              401,
              signInPage('Those credentials are not valid: check the access key ID and secret.'),
            );
          }
          throttle.succeed(request.ip);
          audit(request, principal, 'AccessKey', true);
          return startSession(request, reply, principal);
        });

        scope.get<{ Querystring: { token?: string } }>(
          `${CONSOLE_PREFIX}/sign-in/link`,
          async (request, reply) => {
            const token = typeof request.query.token === 'string' ? request.query.token : '';
            const accessKeyId = await links.consume(token);
            const principal =
              accessKeyId === undefined ? undefined : await sessions.principalOf(accessKeyId);
            if (principal === undefined) {
              return html(
                reply,
                401,
                signInPage(
                  'This sign-in link is not valid: links work once and for ten minutes. Run latchkey up again, or sign in with an access key.',
                ),
              );
            }
            audit(request, principal, 'OneTimeLink', true);
            return startSession(request, reply, principal);
          },
        );

        scope.post(`${CONSOLE_PREFIX}/sign-out`, async (request, reply) => {
          if (!sameOrigin(request)) {
            return html(
              reply,
              403,
              messagePage('Refused', 'Sign out from the console’s own page.'),
            );
          }
          // Revoked in the store first: if that fails, the sign-out fails instead of leaving
          // copies of the cookie working.
          await sessions.revoke(readCookie(request.headers.cookie, SESSION_COOKIE));
          return reply
            .header(
              'set-cookie',
              `${SESSION_COOKIE}=; Path=${CONSOLE_PREFIX}; HttpOnly; SameSite=Strict; Max-Age=0`,
            )
            .redirect(`${CONSOLE_PREFIX}/sign-in`, 303);
        });

        scope.get(`${CONSOLE_PREFIX}/assets/console.css`, (_request, reply) =>
          reply.header('content-type', 'text/css; charset=utf-8').send(CONSOLE_CSS),
        );

        scope.get(`${CONSOLE_PREFIX}/assets/console.js`, async (request, reply) => {
          if ((await principalOf(request)) === undefined) {
            return jsonError(reply, unauthenticated());
          }
          return reply.header('content-type', 'text/javascript; charset=utf-8').send(CONSOLE_JS);
        });

        scope.get<{ Params: { name: string } }>(
          `${CONSOLE_PREFIX}/api/:name`,
          async (request, reply) => {
            try {
              const principal = await principalOf(request);
              if (principal === undefined) throw unauthenticated();
              const reader = Object.hasOwn(api.get, request.params.name)
                ? api.get[request.params.name]
                : undefined;
              if (reader === undefined) throw notFound(request);
              const url = request.raw.url ?? '';
              const q = url.indexOf('?');
              return reply.send(
                await reader(principal, new URLSearchParams(q < 0 ? '' : url.slice(q + 1))),
              );
            } catch (err) {
              return jsonError(reply, err);
            }
          },
        );

        scope.post<{ Params: { name: string } }>(
          `${CONSOLE_PREFIX}/api/:name`,
          async (request, reply) => {
            try {
              const principal = await principalOf(request);
              if (principal === undefined) throw unauthenticated();
              if (request.headers[CSRF_HEADER] !== '1' || !sameOrigin(request)) {
                throw new ConsoleError(
                  'CrossSiteRequest',
                  `POSTs to the console API need the ${CSRF_HEADER} header, from the console's own origin.`,
                );
              }
              const handler = Object.hasOwn(api.post, request.params.name)
                ? api.post[request.params.name]
                : undefined;
              if (handler === undefined) throw notFound(request);
              const body = await readJson(request.raw);
              return reply.send(await handler(principal, body));
            } catch (err) {
              return jsonError(reply, err);
            }
          },
        );

        // Anything else under the console: 401 without a session, 404 or 405 with one.
        scope.all(`${CONSOLE_PREFIX}/*`, async (request, reply) => {
          const principal = await principalOf(request);
          if (principal === undefined) return jsonError(reply, unauthenticated());
          return jsonError(
            reply,
            request.method === 'GET' || request.method === 'HEAD'
              ? notFound(request)
              : new ConsoleError('MethodNotAllowed', `${request.method} is not allowed here.`),
          );
        });
      });
    },

    async signInLink(baseUrl, accountId) {
      const keys = await deps.accessKeys.list(accountId, 'admin');
      const key = keys.find((k) => k.status === 'Active');
      if (key === undefined) return undefined;
      const token = await links.issue(key.accessKeyId);
      return `${baseUrl.replace(/\/+$/, '')}${CONSOLE_PREFIX}/sign-in/link?token=${token}`;
    },
  };
}

function unauthenticated(): ConsoleError {
  return new ConsoleError('Unauthenticated', 'Sign in first: no valid console session.');
}

function notFound(request: FastifyRequest): ConsoleError {
  return new ConsoleError('NotFound', `Nothing at ${request.url.split('?', 1)[0] ?? ''}.`);
}

/** A POST from this origin: by Fetch Metadata when the browser sends it, else by Origin. */
function sameOrigin(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return false;
  const origin = request.headers.origin;
  // A privacy-minded browser may send `Origin: null`; Fetch Metadata then decides alone.
  if (origin === undefined || origin === 'null') return site === 'same-origin';
  const host = request.headers.host ?? '';
  return origin === `http://${host}` || origin === `https://${host}`;
}

/** One cookie's value from a Cookie header. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw new ConsoleError('PayloadTooLarge', 'The request body is too large.');
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new ConsoleError('PayloadTooLarge', 'The request body is too large.');
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = (await readBody(req, BODY_LIMIT)).toString('utf8');
  let value: unknown;
  try {
    value = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ConsoleError('BadRequest', 'The body must be a JSON object.');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConsoleError('BadRequest', 'The body must be a JSON object.');
  }
  return value as Record<string, unknown>;
}
