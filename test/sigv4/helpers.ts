/**
 * Test helpers: sign requests with the AWS SDK's own signer (@smithy/signature-v4) and turn
 * them into what node:http would hand the verifier.
 */
import { createHash, createHmac } from 'node:crypto';
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SigV4Request } from '../../src/sigv4/index.js';

/** A request as the SDK sees it, before signing. Header values are Unicode strings. */
export interface SdkRequest {
  method: string;
  /** Path as it goes on the wire (already percent-encoded), as in the SDK's HttpRequest. */
  path: string;
  /** Decoded query parameters; arrays for repeated names. */
  query: Record<string, string | string[]>;
  headers: Record<string, string>;
  body?: string | Buffer;
}

export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface SignOptions {
  service: string;
  region: string;
  credentials: Credentials;
  signingDate: Date;
  /** Presign instead of signing the Authorization header. */
  presign?: { expiresIn: number; unhoistableHeaders?: Set<string> };
  /**
   * Wire order of query parameters (names in the order to emit); default: the SDK's order.
   * Repeated headers: names whose value (joined with ',') goes on the wire as separate lines.
   */
  repeatedHeaders?: ReadonlySet<string>;
}

/** Signs with the SDK and returns the wire request the verifier will see. */
export async function sdkSign(request: SdkRequest, options: SignOptions): Promise<SigV4Request> {
  const signer = new SignatureV4({
    service: options.service,
    region: options.region,
    sha256: Sha256,
    credentials: options.credentials,
    uriEscapePath: options.service !== 's3',
  });
  const input = {
    method: request.method,
    protocol: 'https:',
    hostname: request.headers.host ?? 'localhost',
    path: request.path,
    query: request.query,
    headers: request.headers,
    ...(request.body === undefined ? {} : { body: request.body }),
  };
  const signed = options.presign
    ? await signer.presign(input, {
        signingDate: options.signingDate,
        expiresIn: options.presign.expiresIn,
        ...(options.presign.unhoistableHeaders
          ? { unhoistableHeaders: options.presign.unhoistableHeaders }
          : {}),
      })
    : await signer.sign(input, { signingDate: options.signingDate });
  return toWire(
    signed.method,
    signed.path,
    signed.query as Record<string, string | string[] | null>,
    signed.headers,
    options.repeatedHeaders,
  );
}

/** What node:http gives: lower-case names, latin1 view of UTF-8 bytes, repeated headers apart. */
export function toWire(
  method: string,
  path: string,
  query: Record<string, string | string[] | null>,
  headers: Record<string, string>,
  repeatedHeaders: ReadonlySet<string> = new Set(),
): SigV4Request {
  const wireHeaders: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    const bytes = Buffer.from(value, 'utf8').toString('latin1');
    wireHeaders[lower] = repeatedHeaders.has(lower) ? bytes.split(',') : bytes;
  }
  return { method, path, query: encodeQuery(query), headers: wireHeaders };
}

/** Query string as an SDK puts it on the wire (RFC 3986 encoding, `%20` for spaces). */
export function encodeQuery(query: Record<string, string | string[] | null>): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(query)) {
    for (const v of Array.isArray(value) ? value : [value]) {
      parts.push(v === null ? escapeUri(name) : `${escapeUri(name)}=${escapeUri(v)}`);
    }
  }
  return parts.join('&');
}

/** The SDK's escapeUri: encodeURIComponent plus `!'()*`. */
export function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A small, seedable PRNG (mulberry32), so failures reproduce. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Independent aws-chunked encoder (signed chunks), for decoder tests. */
export class ChunkSigner {
  #previous: string;
  readonly #key: Buffer;
  readonly #prefix: string;

  constructor(secret: string, amzDate: string, region: string, seedSignature: string) {
    const date = amzDate.slice(0, 8);
    const hmac = (k: string | Buffer, d: string): Buffer =>
      createHmac('sha256', k).update(d).digest();
    this.#key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
    this.#prefix = `${amzDate}\n${date}/${region}/s3/aws4_request\n`;
    this.#previous = seedSignature;
  }

  /** One framed chunk (`data` may be empty: the final chunk). */
  chunk(data: Buffer): Buffer {
    const toSign =
      `AWS4-HMAC-SHA256-PAYLOAD\n${this.#prefix}${this.#previous}\n` +
      `${sha256Hex('')}\n${sha256Hex(data)}`;
    this.#previous = createHmac('sha256', this.#key).update(toSign).digest('hex');
    const head = Buffer.from(`${data.length.toString(16)};chunk-signature=${this.#previous}\r\n`);
    return Buffer.concat([head, data, Buffer.from('\r\n')]);
  }

  /** Signed trailer block (after the final chunk). */
  trailer(headers: Record<string, string>): Buffer {
    const names = Object.keys(headers).sort();
    const canonical = names.map((n) => `${n}:${headers[n]}\n`).join('');
    const toSign = `AWS4-HMAC-SHA256-TRAILER\n${this.#prefix}${this.#previous}\n${sha256Hex(canonical)}`;
    const signature = createHmac('sha256', this.#key).update(toSign).digest('hex');
    const lines = names.map((n) => `${n}:${headers[n]}\r\n`).join('');
    return Buffer.from(`${lines}x-amz-trailer-signature:${signature}\r\n\r\n`);
  }
}
