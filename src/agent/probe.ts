/**
 * Health probes and metrics, on their own listeners as upstream (`pkg/handlers/probe_handler.go`,
 * `pkg/server/server.go`): `/healthz` and `/readyz` ask every credentials listener for `/` and
 * expect its 404 — 200 when all answer, 408 when the 10 s probe time runs out, 500 otherwise.
 * The metrics listener serves `/metrics` and the same probes.
 */
import http, { type RequestListener } from 'node:http';
import type { Registry } from 'prom-client';
import { sendText } from './server.js';

/** Upstream's `defaultProbeTimeout`. */
const PROBE_TIMEOUT_MS = 10_000;

/** Builds the probe listener; `targets` returns the `http://host:port` of each credentials listener. */
export function createProbeHandler(
  targets: () => string[],
  registry?: Registry,
  timeoutMs = PROBE_TIMEOUT_MS,
): RequestListener {
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (path === '/healthz' || path === '/readyz') {
      probeAll(targets(), timeoutMs).then(
        () => {
          res.writeHead(200, { 'content-length': 0 });
          res.end();
        },
        (err: unknown) => {
          if (err instanceof ProbeTimeout) {
            res.writeHead(408, { 'content-length': 0 });
            res.end();
            return;
          }
          const body = 'Internal Server Error occurred';
          res.writeHead(500, {
            'content-type': 'text/plain; charset=utf-8',
            'content-length': body.length,
          });
          res.end(body);
        },
      );
      return;
    }
    if (path === '/metrics' && registry !== undefined) {
      registry.metrics().then(
        (text) => {
          res.writeHead(200, { 'content-type': registry.contentType });
          res.end(text);
        },
        () => sendText(res, 500, 'metrics unavailable'),
      );
      return;
    }
    sendText(res, 404, '404 page not found');
  };
}

class ProbeTimeout extends Error {
  override readonly name = 'ProbeTimeout';
}

async function probeAll(targets: string[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (const target of targets) await probeOne(target, Math.max(1, deadline - Date.now()));
}

function probeOne(target: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${target}/`, { agent: false }, (res) => {
      res.resume();
      clearTimeout(timer);
      if (res.statusCode === 404) resolve();
      else reject(new Error(`expected 404 from ${target}, got ${res.statusCode}`));
    });
    const timer = setTimeout(() => req.destroy(new ProbeTimeout('probe timed out')), timeoutMs);
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
