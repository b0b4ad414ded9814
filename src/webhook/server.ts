/**
 * The webhook's HTTPS server (plain `node:https`, no framework on the hot path):
 * `POST /mutate` (AdmissionReview), `GET /healthz` (liveness), `GET /readyz` (service
 * accounts synced), `GET /metrics` (Prometheus), and with debugging handlers
 * `GET /debug/alpha/cache`. Never throws into Node: every failure becomes a logged 500.
 */
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Logger } from 'pino';
import { answerAdmissionReview } from './admission.js';
import { DEFAULT_MAX_REQUEST_BYTES } from './constants.js';
import { errorMessage, WebhookError } from './errors.js';
import type { WebhookMetrics } from './metrics.js';
import type { PodMutator } from './mutate-pod.js';
import type { TlsMaterial } from './tls.js';

/** Options of {@link createWebhookServer}. */
export interface WebhookServerOptions {
  tls: TlsMaterial;
  mutator: PodMutator;
  metrics: WebhookMetrics;
  logger: Logger;
  /** Largest AdmissionReview accepted, in bytes (default 3 MiB). */
  maxRequestBytes?: number;
  /** Readiness: true once service accounts are loaded. */
  ready?: () => boolean;
  /** Serves `/debug/alpha/cache` when given (`--enable-debugging-handlers`). */
  debugCache?: () => unknown;
  /** Lowest TLS version, e.g. `TLSv1.2` (`--tls-min-version`). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** OpenSSL cipher list (`--tls-cipher-suites`). */
  ciphers?: string;
}

// Bodies of refused requests are drained up to this multiple of the limit, then the socket is cut.
const DRAIN_FACTOR = 4;

type Route = 'mutate' | 'healthz' | 'readyz' | 'metrics' | 'debug' | 'other';

const ROUTES: Record<string, { route: Route; method: string }> = {
  '/mutate': { route: 'mutate', method: 'POST' },
  '/healthz': { route: 'healthz', method: 'GET' },
  '/readyz': { route: 'readyz', method: 'GET' },
  '/metrics': { route: 'metrics', method: 'GET' },
  '/debug/alpha/cache': { route: 'debug', method: 'GET' },
};

function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  close = false,
): void {
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': Buffer.byteLength(body),
  };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers).end(body);
}

/** Reads a request body up to `limit` bytes; resolves undefined (after draining) when larger. */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = Number.isFinite(declared) && declared > limit;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      if (tooLarge) {
        chunks.length = 0;
        if (size > limit * DRAIN_FACTOR) {
          req.destroy();
          resolve(undefined);
        }
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? undefined : Buffer.concat(chunks, size)));
    req.on('error', reject);
  });
}

/**
 * Creates (does not start) the HTTPS server.
 *
 * @example
 * const server = createWebhookServer({ tls, mutator, metrics, logger });
 * server.listen(8443, '0.0.0.0');
 */
export function createWebhookServer(options: WebhookServerOptions): Server {
  const { mutator, metrics, logger } = options;
  const limit = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;

  const handle = async (req: IncomingMessage, res: ServerResponse, route: Route): Promise<void> => {
    switch (route) {
      case 'healthz':
        send(res, 200, 'text/plain; charset=utf-8', 'ok');
        return;
      case 'readyz': {
        const ready = options.ready?.() ?? true;
        send(
          res,
          ready ? 200 : 503,
          'text/plain; charset=utf-8',
          ready ? 'ok' : 'service accounts not synced',
        );
        return;
      }
      case 'metrics':
        send(res, 200, metrics.registry.contentType, await metrics.registry.metrics());
        return;
      case 'debug':
        send(res, 200, 'application/json', JSON.stringify(options.debugCache?.() ?? {}));
        return;
      case 'mutate': {
        const body = await readBody(req, limit);
        if (body === undefined) {
          const err = new WebhookError(
            'ERR_WEBHOOK_BODY_TOO_LARGE',
            `AdmissionReview larger than ${limit} bytes`,
          );
          logger.warn({ limit, contentLength: req.headers['content-length'] }, err.message);
          if (!res.destroyed)
            send(res, err.status, 'text/plain; charset=utf-8', `${err.message}\n`, true);
          return;
        }
        const answer = await answerAdmissionReview(
          body.toString('utf8'),
          req.headers['content-type'],
          mutator,
          logger,
        );
        send(res, answer.status, answer.contentType, answer.body);
        return;
      }
      case 'other':
        send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
        return;
    }
  };

  const server = createServer(
    {
      cert: options.tls.cert,
      key: options.tls.key,
      ...(options.minVersion && { minVersion: options.minVersion }),
      ...(options.ciphers && { ciphers: options.ciphers }),
    },
    (req, res) => {
      const started = performance.now();
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const entry = ROUTES[q < 0 ? url : url.slice(0, q)];
      let route: Route = entry?.route ?? 'other';
      if (route === 'debug' && !options.debugCache) route = 'other';
      const method = req.method ?? 'GET';
      res.on('finish', () =>
        metrics.request(method, route, res.statusCode, (performance.now() - started) / 1000),
      );
      if (
        entry &&
        route !== 'other' &&
        method !== entry.method &&
        !(entry.method === 'GET' && method === 'HEAD')
      ) {
        res.setHeader('allow', entry.method);
        send(res, 405, 'text/plain; charset=utf-8', `use ${entry.method}\n`);
        return;
      }
      handle(req, res, route).catch((err: unknown) => {
        // A client that hangs up mid-request is routine; anything else is a bug worth an error.
        if (req.destroyed && !req.complete)
          logger.debug({ route, err: errorMessage(err) }, 'client went away');
        else logger.error({ route, err: errorMessage(err) }, 'request failed');
        if (!res.headersSent && !res.destroyed)
          send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
        else res.destroy();
      });
    },
  );
  trackSockets(server);
  // Slow or broken clients must not pin sockets.
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 65_000;
  server.on('clientError', (err, socket) => {
    logger.debug({ err: errorMessage(err) }, 'client error');
    socket.destroy();
  });
  server.on('tlsClientError', (err) =>
    logger.debug({ err: errorMessage(err) }, 'TLS handshake failed'),
  );
  return server;
}

/** The bound address of a listening server. */
export function boundPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}

const serverSockets = new WeakMap<Server, Set<Socket>>();

function trackSockets(server: Server): void {
  const sockets = new Set<Socket>();
  serverSockets.set(server, sockets);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
}

/**
 * Stops `server`: no new connections, and every open one (idle, busy or still in the TLS
 * handshake, which `closeAllConnections` does not see) destroyed at once.
 */
export function closeServer(server: Server): Promise<void> {
  const sockets = serverSockets.get(server);
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
    for (const socket of sockets ?? []) socket.destroy();
  });
}
