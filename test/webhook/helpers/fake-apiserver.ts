/**
 * A stand-in Kubernetes API server on 127.0.0.1 (HTTPS, bearer token) that answers with
 * recorded responses (test/webhook/fixtures/apiserver): the ServiceAccount list, watch
 * streams the test feeds event by event, single GETs, and the ConfigMap list, so the real
 * `@kubernetes/client-node` informer runs against it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { generateSelfSignedCertificate } from '../../../src/webhook/index.js';

const RECORDED = join(import.meta.dirname, '..', 'fixtures', 'apiserver');

/** A recorded response body. */
export function recorded(name: string): string {
  return readFileSync(join(RECORDED, name), 'utf8');
}

/** The recorded watch events, one parsed line each. */
export function recordedWatchEvents(): Record<string, unknown>[] {
  return recorded('watch-events.jsonl')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** One request the fake server saw. */
export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  authorization: string | undefined;
}

/** The fake API server and its controls. */
export interface FakeApiServer {
  url: string;
  /** A kubeconfig file pointing at the server (CA data and bearer token). */
  kubeconfigPath: string;
  requests: SeenRequest[];
  /** Overrides the ServiceAccount list answer (status and body). */
  listAnswer: { status: number; body: string };
  /** Single ServiceAccounts served by GET, keyed `namespace/name`. */
  singles: Map<string, string>;
  /** Sends a watch event to every open ServiceAccount watch. */
  push(event: Record<string, unknown>): void;
  /** Ends every open watch stream, as an API server does when a watch times out. */
  endWatches(): void;
  /** ServiceAccount watch streams open now. */
  openWatches(): number;
  /** Resolves once `n` ServiceAccount watches have been opened in total. */
  watchOpened(n: number): Promise<void>;
  close(): Promise<void>;
}

const TOKEN = 'recorded-test-token';

/** Starts the fake API server; writes its kubeconfig into `dir`. */
export async function startFakeApiServer(dir: string): Promise<FakeApiServer> {
  const tls = await generateSelfSignedCertificate({ dnsNames: ['localhost'] });
  const watches = new Set<ServerResponse>();
  const openedWaiters: { n: number; resolve: () => void }[] = [];
  let watchesOpened = 0;
  const api = {
    requests: [] as SeenRequest[],
    listAnswer: { status: 200, body: recorded('serviceaccounts-list.json') },
    singles: new Map<string, string>(),
  };

  const json = (res: ServerResponse, status: number, body: string) =>
    res.writeHead(status, { 'content-type': 'application/json', 'audit-id': 'f3b8c1d2' }).end(body);

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'https://localhost');
    api.requests.push({
      method: req.method ?? '',
      path: url.pathname,
      query: url.searchParams,
      authorization: req.headers.authorization,
    });
    if (req.headers.authorization !== `Bearer ${TOKEN}`) {
      json(
        res,
        401,
        '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}',
      );
      return;
    }
    const watch = url.searchParams.get('watch') === 'true' || url.searchParams.get('watch') === '1';
    if (url.pathname === '/api/v1/serviceaccounts') {
      if (!watch) return json(res, api.listAnswer.status, api.listAnswer.body);
      res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
      res.flushHeaders();
      watches.add(res);
      res.on('close', () => watches.delete(res));
      watchesOpened++;
      for (const w of openedWaiters.filter((w) => watchesOpened >= w.n)) w.resolve();
      return;
    }
    const single = /^\/api\/v1\/namespaces\/([^/]+)\/serviceaccounts\/([^/]+)$/.exec(url.pathname);
    if (single) {
      const body = api.singles.get(`${single[1]}/${single[2]}`);
      if (body) return json(res, 200, body);
      return json(res, 404, recorded('status-not-found.json').replace(/NAME/g, single[2] ?? ''));
    }
    if (/^\/api\/v1\/namespaces\/[^/]+\/configmaps$/.test(url.pathname)) {
      // Nothing changes: the watch stays open and silent.
      if (watch)
        return void res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      return json(res, 200, recorded('configmaps-list.json'));
    }
    json(
      res,
      404,
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}',
    );
  };

  const server: Server = createServer({ cert: tls.cert, key: tls.key }, handler);
  // Every TCP socket, including ones still in the TLS handshake, so close() never waits.
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(
    kubeconfigPath,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: recorded',
      '  cluster:',
      `    server: ${url}`,
      `    certificate-authority-data: ${tls.caBundle}`,
      'users:',
      '- name: webhook',
      '  user:',
      `    token: ${TOKEN}`,
      'contexts:',
      '- name: recorded',
      '  context: {cluster: recorded, user: webhook}',
      'current-context: recorded',
      '',
    ].join('\n'),
  );

  return {
    url,
    kubeconfigPath,
    get requests() {
      return api.requests;
    },
    get listAnswer() {
      return api.listAnswer;
    },
    set listAnswer(v) {
      api.listAnswer = v;
    },
    singles: api.singles,
    push(event) {
      for (const w of watches) if (!w.writableEnded) w.write(`${JSON.stringify(event)}\n`);
    },
    openWatches() {
      return [...watches].filter((w) => !w.writableEnded && !w.destroyed).length;
    },
    endWatches() {
      for (const w of watches) w.end();
      watches.clear();
    },
    watchOpened(n) {
      if (watchesOpened >= n) return Promise.resolve();
      return new Promise((resolve) => openedWaiters.push({ n, resolve }));
    },
    async close() {
      for (const w of watches) w.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
