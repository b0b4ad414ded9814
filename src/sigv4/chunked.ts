/**
 * Decoding of S3 `aws-chunked` bodies (`Content-Encoding: aws-chunked`):
 *
 * ```
 * <hex size>;chunk-signature=<sig>\r\n<data>\r\n   … repeated …
 * 0;chunk-signature=<sig>\r\n                      final, empty chunk
 * <name>:<value>\r\n …                              trailer variants only
 * x-amz-trailer-signature:<sig>\r\n                 signed trailer only
 * \r\n
 * ```
 *
 * Each chunk signature signs
 * `AWS4-HMAC-SHA256-PAYLOAD\n<date>\n<scope>\n<previous signature>\n<sha256("")>\n<sha256(data)>`,
 * chained from the request's (seed) signature, so chunks cannot be dropped, reordered or
 * altered. The trailer signature signs
 * `AWS4-HMAC-SHA256-TRAILER\n<date>\n<scope>\n<previous>\n<sha256("name:value\n"…)>`.
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` has the same framing without any signature.
 *
 * Data is passed on as it arrives (memory stays flat whatever the chunk size) and its chunk's
 * signature is checked when the chunk ends: a consumer must treat output as provisional and
 * commit only once the stream ends without error (which it must do anyway, for truncation).
 */
import { createHash, createHmac, timingSafeEqual, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { SigV4Error, type SigV4FailureReason } from './errors.js';
import type { VerifiedSignatureV4 } from './types.js';

const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
const MAX_LINE_BYTES = 4096;
const MAX_TRAILERS = 16;
const SIGNED_CHUNK_HEADER = /^([0-9a-fA-F]{1,13});chunk-signature=([^;\s]*)$/;
const UNSIGNED_CHUNK_HEADER = /^([0-9a-fA-F]{1,13})(?:;.*)?$/;
const MODES: Readonly<Record<string, { signed: boolean; trailer: boolean }>> = {
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD': { signed: true, trailer: false },
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER': { signed: true, trailer: true },
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER': { signed: false, trailer: true },
};

/** Options of {@link createChunkedPayloadDecoder}. */
export interface ChunkedPayloadOptions {
  /** `x-amz-decoded-content-length`: the decoded body must have exactly this many bytes. */
  decodedContentLength?: number;
}

type State = 'header' | 'data' | 'data-crlf' | 'after-final' | 'trailer' | 'done';

/** A Transform from an aws-chunked body to the object's bytes; see {@link createChunkedPayloadDecoder}. */
export class ChunkedPayloadDecoder extends Transform {
  readonly #signed: boolean;
  readonly #trailer: boolean;
  readonly #key: Buffer;
  readonly #prefix: string;
  readonly #expectedLength: number | undefined;
  #previous: string;
  #state: State = 'header';
  #line: Buffer[] = [];
  #lineBytes = 0;
  #remaining = 0;
  #crlf = 0;
  #hash: Hash | undefined;
  #chunkSignature = '';
  #decoded = 0;
  #blankBeforeTrailers = false;
  #trailerSignature: string | undefined;
  readonly #trailers = new Map<string, string>();

  constructor(verified: VerifiedSignatureV4, options: ChunkedPayloadOptions = {}) {
    super();
    const mode = MODES[verified.payloadHash];
    if (mode === undefined) {
      throw new TypeError(`not an aws-chunked payload: ${verified.payloadHash}`);
    }
    const key: unknown = verified.signingKey;
    if (mode.signed && !Buffer.isBuffer(key)) {
      // e.g. `{ ...verified }`: the key is a getter and does not survive a spread.
      throw new TypeError('verified.signingKey is missing');
    }
    this.#signed = mode.signed;
    this.#trailer = mode.trailer;
    this.#key = key as Buffer;
    this.#prefix = `${verified.amzDate}\n${verified.scope}\n`;
    this.#previous = verified.seedSignature;
    this.#expectedLength = options.decodedContentLength;
  }

  /** Trailing headers received (lower-cased name → value); complete once the stream ends. */
  get trailers(): ReadonlyMap<string, string> {
    return this.#trailers;
  }

  /** Decoded bytes so far. */
  get decodedLength(): number {
    return this.#decoded;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    try {
      this.#consume(chunk);
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  override _flush(callback: TransformCallback): void {
    try {
      this.#finish();
      callback();
    } catch (err) {
      callback(err as Error);
    }
  }

  #consume(buf: Buffer): void {
    let pos = 0;
    while (pos < buf.length) {
      switch (this.#state) {
        case 'data': {
          const n = Math.min(this.#remaining, buf.length - pos);
          const slice = buf.subarray(pos, pos + n);
          this.#hash?.update(slice);
          this.push(slice);
          pos += n;
          this.#remaining -= n;
          if (this.#remaining === 0) {
            this.#endChunk(this.#hash?.digest('hex') ?? EMPTY_SHA256);
            this.#state = 'data-crlf';
          }
          break;
        }
        case 'data-crlf': {
          if (buf[pos] !== (this.#crlf === 0 ? 0x0d : 0x0a)) {
            throw fail('malformed-chunk', 'Chunk data must be followed by CRLF.');
          }
          pos++;
          if (++this.#crlf === 2) {
            this.#crlf = 0;
            this.#state = 'header';
          }
          break;
        }
        case 'done': {
          if (buf[pos] !== 0x0d && buf[pos] !== 0x0a) {
            throw fail('malformed-chunk', 'Unexpected data after the final chunk.');
          }
          pos++;
          break;
        }
        default: {
          const end = buf.indexOf(0x0a, pos);
          const piece = buf.subarray(pos, end < 0 ? buf.length : end);
          this.#lineBytes += piece.length;
          if (this.#lineBytes > MAX_LINE_BYTES) {
            throw fail('malformed-chunk', 'Chunk header too long.');
          }
          this.#line.push(piece);
          if (end < 0) return;
          pos = end + 1;
          this.#onLine(this.#takeLine());
        }
      }
    }
  }

  #takeLine(): string {
    let line = Buffer.concat(this.#line).toString('latin1');
    if (line.endsWith('\r')) line = line.slice(0, -1);
    this.#line = [];
    this.#lineBytes = 0;
    return line;
  }

  #onLine(line: string): void {
    if (this.#state === 'header') return this.#onChunkHeader(line);
    if (this.#state === 'after-final') {
      if (line !== '') throw fail('malformed-chunk', 'The final chunk must end with CRLF.');
      this.#state = 'done';
      return;
    }
    this.#onTrailerLine(line);
  }

  #onChunkHeader(line: string): void {
    const m = (this.#signed ? SIGNED_CHUNK_HEADER : UNSIGNED_CHUNK_HEADER).exec(line);
    if (m === null) throw fail('malformed-chunk', 'Invalid chunk header.');
    const size = parseInt(m[1]!, 16);
    this.#chunkSignature = m[2] ?? '';
    if (this.#expectedLength !== undefined && this.#decoded + size > this.#expectedLength) {
      throw lengthMismatch();
    }
    this.#decoded += size;
    if (size > 0) {
      this.#remaining = size;
      this.#hash = this.#signed ? createHash('sha256') : undefined;
      this.#state = 'data';
      return;
    }
    this.#endChunk(EMPTY_SHA256);
    this.#state = this.#trailer ? 'trailer' : 'after-final';
  }

  #endChunk(dataHash: string): void {
    if (!this.#signed) return;
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${this.#prefix}${this.#previous}\n${EMPTY_SHA256}\n${dataHash}`;
    this.#previous = this.#check(toSign, this.#chunkSignature);
  }

  #onTrailerLine(line: string): void {
    if (line === '') {
      // Some clients put a blank line between the final chunk and the trailers.
      if (
        this.#trailers.size === 0 &&
        this.#trailerSignature === undefined &&
        !this.#blankBeforeTrailers
      ) {
        this.#blankBeforeTrailers = true;
        return;
      }
      this.#endTrailers();
      return;
    }
    const colon = line.indexOf(':');
    if (colon <= 0) throw fail('malformed-chunk', 'Invalid trailing header.');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (name === 'x-amz-trailer-signature' && this.#signed) {
      this.#trailerSignature = value;
    } else {
      if (this.#trailers.size >= MAX_TRAILERS) {
        throw fail('malformed-chunk', 'Too many trailing headers.');
      }
      this.#trailers.set(name, value);
    }
  }

  #endTrailers(): void {
    this.#state = 'done';
    if (!this.#signed) return;
    if (this.#trailerSignature === undefined) {
      throw fail('chunk-signature-mismatch', 'The trailing headers are not signed.');
    }
    let canonical = '';
    for (const name of [...this.#trailers.keys()].sort()) {
      canonical += `${name}:${this.#trailers.get(name)!}\n`;
    }
    const hash = createHash('sha256').update(canonical, 'latin1').digest('hex');
    this.#check(
      `AWS4-HMAC-SHA256-TRAILER\n${this.#prefix}${this.#previous}\n${hash}`,
      this.#trailerSignature,
    );
  }

  /** Returns the expected signature; throws unless `provided` equals it (constant time). */
  #check(toSign: string, provided: string): string {
    const expected = createHmac('sha256', this.#key).update(toSign, 'utf8').digest('hex');
    const a = Buffer.from(provided, 'utf8');
    const b = Buffer.from(expected, 'utf8');
    const equal = a.length === b.length ? timingSafeEqual(a, b) : !timingSafeEqual(b, b);
    if (!equal) {
      throw new SigV4Error(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        'chunk-signature-mismatch',
        { signatureProvided: provided },
      );
    }
    return expected;
  }

  #finish(): void {
    // An unterminated last line (no CRLF at the very end) still counts.
    if (this.#lineBytes > 0 && (this.#state === 'trailer' || this.#state === 'after-final')) {
      this.#onLine(this.#takeLine());
    }
    if (this.#state === 'trailer') this.#endTrailers();
    // The final chunk is signed, so a missing closing CRLF after it loses nothing.
    if (this.#state === 'after-final') this.#state = 'done';
    if (this.#state !== 'done') {
      throw fail(
        'incomplete-body',
        'You did not provide the number of bytes specified by the Content-Length HTTP header.',
      );
    }
    if (this.#expectedLength !== undefined && this.#decoded !== this.#expectedLength) {
      throw lengthMismatch();
    }
  }
}

/**
 * For S3 `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (and its `-TRAILER` and
 * `STREAMING-UNSIGNED-PAYLOAD-TRAILER` siblings, chosen by `verified.payloadHash`): a Transform
 * that decodes aws-chunked framing, verifies each chunk signature (chained from the seed
 * signature) and the trailer signature, enforces `x-amz-decoded-content-length`, and emits the
 * decoded bytes. Errors with {@link SigV4Error}: `SignatureDoesNotMatch`
 * (`chunk-signature-mismatch`), or `IncompleteSignature` for framing (`malformed-chunk`),
 * truncation (`incomplete-body`) and length (`decoded-length-mismatch`) — S3 calls the last
 * two `IncompleteBody`. Trailing headers (e.g. `x-amz-checksum-crc32`) are on `.trailers`
 * afterwards, for the caller to check against the data.
 *
 * @example
 * ```ts
 * const decoder = createChunkedPayloadDecoder(verified, { decodedContentLength: 66560 });
 * await pipeline(req, decoder, fs.createWriteStream(tmpPath)); // rename only on success
 * ```
 */
export function createChunkedPayloadDecoder(
  verified: VerifiedSignatureV4,
  options: ChunkedPayloadOptions = {},
): ChunkedPayloadDecoder {
  return new ChunkedPayloadDecoder(verified, options);
}

function fail(reason: SigV4FailureReason, message: string): SigV4Error {
  const code =
    reason === 'chunk-signature-mismatch' ? 'SignatureDoesNotMatch' : 'IncompleteSignature';
  return new SigV4Error(code, message, reason);
}

function lengthMismatch(): SigV4Error {
  return fail(
    'decoded-length-mismatch',
    'The decoded body length does not match the x-amz-decoded-content-length header.',
  );
}
