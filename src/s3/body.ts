/**
 * Request bodies, streamed: raw, or aws-chunked (each chunk's signature checked by the SigV4
 * decoder), through one pass that counts bytes and computes MD5 (the ETag), the declared
 * SHA-256 and any `x-amz-checksum-*`, into a sink. Nothing is buffered beyond a chunk, whatever
 * the size. The caller commits what the sink received only if this resolves.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Transform, Writable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  createChunkedPayloadDecoder,
  SigV4Error,
  type VerifiedSignatureV4,
} from '../sigv4/index.js';
import {
  checksumHeader,
  isValidChecksumValue,
  newChecksum,
  type Checksum,
  type ChecksumAlgorithm,
} from './checksums.js';
import { S3Error, s3ErrorFromSigV4 } from './errors.js';

/** How a request's payload is framed and what its signature says about it. */
export type PayloadMode =
  /** Bytes as sent, not covered by the signature (anonymous, `UNSIGNED-PAYLOAD`). */
  | { kind: 'raw' }
  /** Bytes as sent, whose hex SHA-256 the signature covers (checked at the end). */
  | { kind: 'sha256'; expected: string }
  /** aws-chunked framing (signed chunks, or unsigned with a trailer). */
  | { kind: 'chunked'; verified: VerifiedSignatureV4; decodedLength: number };

/** The checksum a request declares, in a header or as a trailer. */
export interface ChecksumRequest {
  algorithm: ChecksumAlgorithm;
  /** The value from the header; undefined when it comes as a trailer or not at all. */
  expected?: string;
  /** `x-amz-trailer` named this checksum. */
  trailer: boolean;
}

/** What a received body turned out to be. */
export interface ReceivedBody {
  size: number;
  md5: Buffer;
  /** The checksum computed (base64), when one was requested. */
  checksum?: { algorithm: ChecksumAlgorithm; value: string };
}

/** Options of {@link receiveBody}. */
export interface ReceiveOptions {
  mode: PayloadMode;
  /** The most bytes accepted (decoded); more is `EntityTooLarge` (or `MaxMessageLengthExceeded`). */
  maxSize: number;
  tooLarge?: 'EntityTooLarge' | 'MaxMessageLengthExceeded';
  /** The `Content-MD5` header as sent. */
  contentMd5?: string;
  checksum?: ChecksumRequest;
}

/** Reads the declared decoded size of a request body (before reading it). */
export function declaredSize(req: IncomingMessage, mode: PayloadMode): number | undefined {
  if (mode.kind === 'chunked') return mode.decodedLength;
  const header = req.headers['content-length'];
  if (header === undefined) return undefined;
  if (!/^\d+$/.test(header)) throw new S3Error('InvalidArgument', 'Invalid Content-Length');
  return Number(header);
}

/** Parses and checks `Content-MD5`: base64 of 16 bytes, else `InvalidDigest`. */
export function parseContentMd5(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]{22}==$/.test(value)) throw new S3Error('InvalidDigest');
  return value;
}

/**
 * Finds the checksum a request declares: an `x-amz-checksum-*` header, or the one `x-amz-trailer`
 * announces, or the algorithm `x-amz-sdk-checksum-algorithm` names. More than one is refused,
 * as S3 does; a malformed value is `InvalidRequest`.
 */
export function checksumRequestOf(
  headers: IncomingMessage['headers'],
  algorithms: readonly ChecksumAlgorithm[],
): ChecksumRequest | undefined {
  let found: ChecksumRequest | undefined;
  for (const algorithm of algorithms) {
    const value = headers[checksumHeader(algorithm)];
    if (typeof value !== 'string') continue;
    if (found !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    }
    if (!isValidChecksumValue(algorithm, value)) {
      throw new S3Error(
        'InvalidRequest',
        `Value for ${checksumHeader(algorithm)} header is invalid.`,
      );
    }
    found = { algorithm, expected: value, trailer: false };
  }
  const trailer = headers['x-amz-trailer'];
  if (typeof trailer === 'string' && trailer !== '') {
    const algorithm = algorithms.find((a) => checksumHeader(a) === trailer.trim().toLowerCase());
    if (algorithm === undefined) {
      throw new S3Error(
        'InvalidRequest',
        'The value specified in the x-amz-trailer header is not supported',
      );
    }
    if (found !== undefined) {
      throw new S3Error(
        'InvalidRequest',
        'Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed.',
      );
    }
    found = { algorithm, trailer: true };
  }
  if (found === undefined) {
    const sdk = headers['x-amz-sdk-checksum-algorithm'];
    if (typeof sdk === 'string' && sdk !== '') {
      const algorithm = algorithms.find((a) => a === sdk.toUpperCase());
      if (algorithm === undefined) {
        throw new S3Error('InvalidRequest', 'Checksum algorithm provided is unsupported.');
      }
      found = { algorithm, trailer: false };
    }
  }
  return found;
}

/** Hashes and counts what passes through; stops at `maxSize`. */
class Meter extends Transform {
  size = 0;
  readonly md5: Hash = createHash('md5');
  readonly sha256: Hash | undefined;
  readonly checksum: Checksum | undefined;

  constructor(
    private readonly maxSize: number,
    private readonly tooLarge: S3Error,
    sha256: boolean,
    algorithm: ChecksumAlgorithm | undefined,
  ) {
    super();
    this.sha256 = sha256 ? createHash('sha256') : undefined;
    this.checksum = algorithm === undefined ? undefined : newChecksum(algorithm);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, callback: TransformCallback): void {
    this.size += chunk.length;
    if (this.size > this.maxSize) {
      callback(this.tooLarge);
      return;
    }
    this.md5.update(chunk);
    this.sha256?.update(chunk);
    this.checksum?.update(chunk);
    callback(null, chunk);
  }
}

/**
 * Streams a request body into `sink`, verifying everything the request declared about it:
 * its length (`IncompleteBody`), chunk signatures (`SignatureDoesNotMatch`), the signed
 * SHA-256 (`XAmzContentSHA256Mismatch`), `Content-MD5` and `x-amz-checksum-*` (`BadDigest`).
 *
 * @example
 * const temp = await store.createTemp();
 * const body = await receiveBody(req, temp.stream, { mode, maxSize: MAX_OBJECT_SIZE });
 * const blob = await store.commit(temp); // only now: the body was complete and verified
 */
export async function receiveBody(
  req: IncomingMessage,
  sink: Writable,
  options: ReceiveOptions,
): Promise<ReceivedBody> {
  const { mode } = options;
  const tooLarge = new S3Error(options.tooLarge ?? 'EntityTooLarge', undefined, {
    MaxSizeAllowed: String(options.maxSize),
  });
  const declared = declaredSize(req, mode);
  if (declared === undefined && req.headers['transfer-encoding'] === undefined) {
    throw new S3Error('MissingContentLength');
  }
  if (declared !== undefined && declared > options.maxSize) {
    throw new S3Error(tooLarge.code, undefined, {
      ProposedSize: String(declared),
      MaxSizeAllowed: String(options.maxSize),
    });
  }
  const meter = new Meter(
    options.maxSize,
    tooLarge,
    mode.kind === 'sha256',
    options.checksum?.algorithm,
  );
  const decoder =
    mode.kind === 'chunked'
      ? createChunkedPayloadDecoder(mode.verified, { decodedContentLength: mode.decodedLength })
      : undefined;
  try {
    await pipeFrom(req, decoder ? [decoder, meter] : [meter], sink);
  } catch (err) {
    throw bodyError(err);
  }
  if (declared !== undefined && meter.size !== declared) throw new S3Error('IncompleteBody');

  if (mode.kind === 'sha256') {
    const computed = meter.sha256!.digest('hex');
    if (computed !== mode.expected.toLowerCase()) {
      throw new S3Error('XAmzContentSHA256Mismatch', undefined, {
        ClientComputedContentSHA256: mode.expected,
        S3ComputedContentSHA256: computed,
      });
    }
  }
  const md5 = meter.md5.digest();
  if (options.contentMd5 !== undefined && md5.toString('base64') !== options.contentMd5) {
    throw new S3Error('BadDigest', undefined, {
      ExpectedDigest: Buffer.from(options.contentMd5, 'base64').toString('hex'),
      CalculatedDigest: md5.toString('base64'),
    });
  }
  const result: ReceivedBody = { size: meter.size, md5 };
  const request = options.checksum;
  if (request !== undefined && meter.checksum !== undefined) {
    const value = meter.checksum.digest();
    let expected = request.expected;
    if (request.trailer) {
      expected = decoder?.trailers.get(checksumHeader(request.algorithm));
      if (expected === undefined || !isValidChecksumValue(request.algorithm, expected)) {
        throw new S3Error('MalformedTrailerError');
      }
    }
    if (expected !== undefined && expected !== value) {
      throw new S3Error(
        'BadDigest',
        `The ${request.algorithm} you specified did not match the calculated checksum.`,
      );
    }
    result.checksum = { algorithm: request.algorithm, value };
  }
  return result;
}

/**
 * Pipes the request through `stages` into `sink`. Unlike `pipeline(req, …)`, a failure does not
 * destroy the request (that would close the connection before S3's error answer could go out);
 * the service drains what is left of it after answering.
 */
async function pipeFrom(req: IncomingMessage, stages: Transform[], sink: Writable): Promise<void> {
  const first = stages[0]!;
  const abort = (): void => {
    if (!req.complete) first.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' }));
  };
  req.on('error', abort);
  req.on('close', abort);
  req.pipe(first);
  try {
    await pipeline([...stages, sink] as [Transform, ...Transform[], Writable]);
  } finally {
    req.unpipe(first);
    req.off('error', abort);
    req.off('close', abort);
  }
}

/** S3's name for what went wrong while streaming a body in. */
function bodyError(err: unknown): unknown {
  if (err instanceof S3Error) return err;
  if (err instanceof SigV4Error) return s3ErrorFromSigV4(err, false);
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  // The client went away or the connection broke before the declared bytes arrived.
  if (code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNABORTED') {
    return new S3Error('IncompleteBody');
  }
  return err;
}

/** A sink that keeps the bytes (for small documents: policies, XML requests). */
export class MemorySink extends Writable {
  readonly #chunks: Buffer[] = [];
  override _write(
    chunk: Buffer,
    _enc: BufferEncoding,
    callback: (err?: Error | null) => void,
  ): void {
    this.#chunks.push(chunk);
    callback();
  }
  /** What was written. */
  get data(): Buffer {
    return Buffer.concat(this.#chunks);
  }
}

/**
 * Reads a small request body (an XML or JSON document) whole, with the same verification as
 * objects. Bodies over `limit` are `MaxMessageLengthExceeded`.
 */
export async function readSmallBody(
  req: IncomingMessage,
  mode: PayloadMode,
  limit: number,
  contentMd5?: string,
  checksum?: ChecksumRequest,
): Promise<Buffer> {
  const sink = new MemorySink();
  const options: ReceiveOptions = { mode, maxSize: limit, tooLarge: 'MaxMessageLengthExceeded' };
  if (contentMd5 !== undefined) options.contentMd5 = contentMd5;
  if (checksum !== undefined) options.checksum = checksum;
  if (declaredSize(req, mode) === undefined && req.headers['transfer-encoding'] === undefined) {
    return Buffer.alloc(0); // no body at all
  }
  await receiveBody(req, sink, options);
  return sink.data;
}
