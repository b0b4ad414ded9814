/** A small HTTPS client for the webhook tests (Node's fetch cannot take a private CA). */
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

/** An HTTPS response. */
export interface HttpsResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** SHA-256 fingerprint of the server's certificate. */
  fingerprint: string;
}

/** Sends one request over a fresh TLS connection, trusting only `ca`. */
export function httpsRequest(
  url: string,
  options: {
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    ca: string;
  },
): Promise<HttpsResponse> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? 'GET',
        headers: options.headers,
        ca: options.ca,
        agent: false,
        servername: 'localhost',
      },
      (res) => {
        const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256 ?? '';
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
            fingerprint,
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Applies the `add` operations of a JSON Patch (all the webhook emits) to a copy of `doc`. */
export function applyAddPatch<T>(doc: T, patch: { op: string; path: string; value: unknown }[]): T {
  const out = structuredClone(doc) as Record<string, unknown>;
  for (const op of patch) {
    if (op.op !== 'add') throw new Error(`unexpected op ${op.op}`);
    const parts = op.path
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop() as string;
    let parent: unknown = out;
    for (const p of parts) parent = (parent as Record<string, unknown>)[p];
    if (Array.isArray(parent))
      parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
    else (parent as Record<string, unknown>)[last] = op.value;
  }
  return out as T;
}
