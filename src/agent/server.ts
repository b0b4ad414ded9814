/**
 * The credentials endpoint, `GET /v1/credentials` (any method, as upstream's mux pattern), in
 * upstream's order (`pkg/server/server.go`, `pkg/handlers/eks_credential_handler.go`): rate
 * limit → Host check → token → cache or EKS Auth. Failures are answered like Go's `http.Error`:
 * `text/plain; charset=utf-8`, `X-Content-Type-Options: nosniff`, the message and a newline.
 */
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { AgentRequestError, failureResponse } from './errors.js';
import type { HostGuard } from './host-guard.js';
import type { AgentMetrics } from './metrics.js';
import type { TokenBucket } from './rate-limit.js';
import type { CredentialRetriever } from './retriever.js';
import { checkTokenTimes, parsePodToken, tokenDigest, tokenId } from './token.js';

/** The path the SDKs are pointed at (`AWS_CONTAINER_CREDENTIALS_FULL_URI`). */
export const CREDENTIALS_PATH = '/v1/credentials';

/** What the credentials endpoint works with. */
export interface CredentialsHandlerDeps {
  limiter: TokenBucket;
  hostGuard: HostGuard;
  retriever: CredentialRetriever;
  clock: () => number;
  metrics: AgentMetrics;
  logger: Logger;
}

/** Builds the request listener of a credentials listener. */
export function createCredentialsHandler(deps: CredentialsHandlerDeps): RequestListener {
  const { limiter, hostGuard, retriever, clock, metrics, logger } = deps;
  return (req, res) => {
    const target = requestTarget(req);
    if (target.path !== CREDENTIALS_PATH) {
      sendText(res, 404, '404 page not found');
      return;
    }
    if (!limiter.tryTake()) {
      metrics.failed(429, 'rate_limited');
      sendText(res, 429, 'Too Many Requests');
      return;
    }
    if (target.host === undefined) {
      sendText(res, 400, 'Bad Request: too many Host headers');
      return;
    }
    try {
      hostGuard.check(target.host);
    } catch (err) {
      fail(res, err);
      return;
    }
    const token = target.authorization;
    const hit = retriever.cached(token);
    if (hit !== undefined) {
      metrics.hit();
      metrics.served();
      sendJson(res, hit.body);
      return;
    }
    let times;
    try {
      times = parsePodToken(token);
      checkTokenTimes(times, clock());
    } catch (err) {
      fail(res, err);
      return;
    }
    metrics.miss();
    retriever.fetch(token, times).then(
      (entry) => {
        metrics.served();
        sendJson(res, entry.body);
      },
      (err: unknown) => fail(res, err, token),
    );
  };

  function fail(res: ServerResponse, err: unknown, token?: string): void {
    const { status, message, outcome } = failureResponse(err);
    metrics.failed(status, outcome);
    const level = err instanceof AgentRequestError ? 'debug' : 'warn';
    logger[level](
      {
        status,
        ...(token === undefined ? {} : { token: tokenId(tokenDigest(token)) }),
        err: message,
      },
      'credentials request failed',
    );
    sendText(res, status, message);
  }
}

/** What the handler reads from a request. */
export interface RequestTarget {
  /** Path without the query string. */
  path: string;
  /** The Host Go's server would see; undefined when the Host header is repeated (Go: 400). */
  host: string | undefined;
  /** The first `Authorization` value, as Go's `Header.Get` ('' when absent). */
  authorization: string;
}

/**
 * Reads path, Host and Authorization in one pass over the raw headers (node:http has already
 * trimmed the values; building `req.headers` would cost more). An absolute-form target
 * (`GET http://host/path`) supplies the host, as in Go.
 */
export function requestTarget(req: IncomingMessage): RequestTarget {
  const raw = req.rawHeaders;
  let host: string | undefined;
  let hosts = 0;
  let authorization: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] ?? '';
    if (name.length === 4 && name.toLowerCase() === 'host') {
      hosts++;
      host ??= raw[i + 1];
    } else if (
      authorization === undefined &&
      name.length === 13 &&
      name.toLowerCase() === 'authorization'
    ) {
      authorization = raw[i + 1];
    }
  }
  const url = req.url ?? '/';
  const headerHost = hosts > 1 ? undefined : (host ?? '');
  if (url.startsWith('/')) {
    const q = url.indexOf('?');
    return {
      path: q < 0 ? url : url.slice(0, q),
      host: headerHost,
      authorization: authorization ?? '',
    };
  }
  try {
    const parsed = new URL(url);
    if (parsed.protocol === 'http:' || parsed.protocol === 'https:') {
      return { path: parsed.pathname, host: parsed.host, authorization: authorization ?? '' };
    }
  } catch {
    // Falls through: not a target the agent serves.
  }
  return { path: '', host: undefined, authorization: '' };
}

function sendJson(res: ServerResponse, body: Buffer): void {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}

/** Go's `http.Error`. */
export function sendText(res: ServerResponse, status: number, message: string): void {
  const body = `${message}\n`;
  res.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'x-content-type-options': 'nosniff',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
