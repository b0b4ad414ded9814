/**
 * Hand-made S3 requests, for what the SDKs will not send: tampered chunks, truncated bodies,
 * wrong digests, odd hosts. Signed by the SDK's own signer (@smithy/signature-v4).
 */
import { request } from 'node:http';
import { connect } from 'node:net';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import type { Credentials } from './harness.js';

/** A response, body read whole. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** What to sign. */
export interface RawRequest {
  method: string;
  /** Wire path (percent-encoded). */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Body as sent (an aws-chunked body is already framed). */
  body?: Buffer | string;
  /** `x-amz-content-sha256`; default: the body's SHA-256. */
  payloadHash?: string;
  credentials?: Credentials;
  signingDate?: Date;
  /** Host header (default: the endpoint's). */
  host?: string;
}

export const sha256Hex = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');

/** Signs a request; returns its headers (with host) and the query string. */
export async function signRaw(
  endpoint: string,
  req: RawRequest,
  credentials: Credentials,
): Promise<{ headers: Record<string, string>; query: string; signature: string }> {
  const url = new URL(endpoint);
  const body = req.body ?? '';
  const signer = new SignatureV4({
    service: 's3',
    region: 'us-east-1',
    sha256: Sha256,
    credentials,
    uriEscapePath: false,
  });
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: url.hostname,
      port: Number(url.port),
      path: req.path,
      query: req.query ?? {},
      headers: {
        host: req.host ?? url.host,
        'x-amz-content-sha256': req.payloadHash ?? sha256Hex(body),
        ...req.headers,
      },
    },
    req.signingDate ? { signingDate: req.signingDate } : {},
  );
  const signature = /Signature=([0-9a-f]{64})/.exec(signed.headers.authorization ?? '')?.[1] ?? '';
  const query = new URLSearchParams(req.query ?? {}).toString().replace(/\+/g, '%20');
  return { headers: signed.headers, query, signature };
}

/** Sends a request with node:http and reads the answer. */
export function sendRaw(
  endpoint: string,
  method: string,
  pathAndQuery: string,
  headers: Record<string, string>,
  body?: Buffer | string,
): Promise<RawResponse> {
  const url = new URL(endpoint);
  return new Promise((resolve, reject) => {
    const r = request(
      { host: url.hostname, port: url.port, method, path: pathAndQuery, headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    r.on('error', reject);
    r.end(body);
  });
}

/** Signs and sends. */
export async function rawRequest(
  endpoint: string,
  req: RawRequest,
  credentials: Credentials,
): Promise<RawResponse> {
  const { headers, query } = await signRaw(endpoint, req, credentials);
  return sendRaw(
    endpoint,
    req.method,
    query === '' ? req.path : `${req.path}?${query}`,
    headers,
    req.body,
  );
}

/**
 * Sends request headers and only the first `sent` bytes of the body, then closes the
 * connection: a client that dies mid-upload. Resolves once the socket closed.
 */
export async function truncatedUpload(
  endpoint: string,
  path: string,
  headers: Record<string, string>,
  body: Buffer,
  sent: number,
): Promise<void> {
  const url = new URL(endpoint);
  const socket = connect(Number(url.port), url.hostname);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const head =
    `PUT ${path} HTTP/1.1\r\n` +
    Object.entries(headers)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('') +
    '\r\n';
  socket.write(head);
  socket.write(body.subarray(0, sent));
  await new Promise((r) => setTimeout(r, 50));
  socket.destroy();
  await new Promise((r) => setTimeout(r, 50));
}

/** `<Code>` of an S3 error document. */
export function codeOf(body: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(body)?.[1];
}
