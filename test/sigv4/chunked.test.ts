/**
 * aws-chunked decoding: the AWS documentation's examples (with their published signatures),
 * tampering, truncation, length enforcement, the unsigned-trailer variant, and a 64 MiB body
 * streamed with flat memory.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  createChunkedPayloadDecoder,
  parseSignatureV4,
  SigV4Error,
  verifySignatureV4,
  type ChunkedPayloadDecoder,
  type SigV4FailureReason,
  type SigV4Request,
  type VerifiedSignatureV4,
} from '../../src/sigv4/index.js';
import { ChunkSigner, sdkSign } from './helpers.js';

// https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html (and -trailers.html)
const DOC_SECRET = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
const DOC_TIME = Date.UTC(2013, 4, 24);
const DOC_DATA = Buffer.alloc(66_560, 'a');
const DOC_BODY = Buffer.concat([
  Buffer.from(
    '10000;chunk-signature=ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648\r\n',
  ),
  DOC_DATA.subarray(0, 65_536),
  Buffer.from(
    '\r\n400;chunk-signature=0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497\r\n',
  ),
  DOC_DATA.subarray(65_536),
  Buffer.from(
    '\r\n0;chunk-signature=b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9\r\n\r\n',
  ),
]);
const DOC_TRAILER_BODY = Buffer.concat([
  Buffer.from(
    '10000;chunk-signature=b474d8862b1487a5145d686f57f013e54db672cee1c953b3010fb58501ef5aa2\r\n',
  ),
  DOC_DATA.subarray(0, 65_536),
  Buffer.from(
    '\r\n400;chunk-signature=1c1344b170168f8e65b41376b44b20fe354e373826ccbbe2c1d40a8cae51e5c7\r\n',
  ),
  DOC_DATA.subarray(65_536),
  Buffer.from(
    '\r\n0;chunk-signature=2ca2aba2005185cf7159c6277faf83795951dd77a3a99e6e65d5c9f85863f992\r\n' +
      'x-amz-checksum-crc32c:sOO8/Q==\r\n' +
      'x-amz-trailer-signature:d81f82fc3505edab99d459891051a732e8730629a2e4a59689829ca17fe2e435\r\n' +
      '\r\n',
  ),
]);

/** The documentation's request, verified with our verifier: its signature is the seed. */
function docVerified(
  payloadHash: string,
  seed: string,
  signedHeaders: string,
): VerifiedSignatureV4 {
  const headers: Record<string, string> = {
    host: 's3.amazonaws.com',
    'x-amz-date': '20130524T000000Z',
    'x-amz-storage-class': 'REDUCED_REDUNDANCY',
    'x-amz-content-sha256': payloadHash,
    'content-encoding': 'aws-chunked',
    'x-amz-decoded-content-length': '66560',
    'content-length': '66824',
    authorization:
      'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,' +
      `SignedHeaders=${signedHeaders},Signature=${seed}`,
  };
  if (payloadHash.endsWith('-TRAILER')) headers['x-amz-trailer'] = 'x-amz-checksum-crc32c';
  const req: SigV4Request = {
    method: 'PUT',
    path: '/examplebucket/chunkObject.txt',
    query: '',
    headers,
  };
  return verifySignatureV4(req, parseSignatureV4(req)!, DOC_SECRET, {
    now: DOC_TIME,
    maxSkewSeconds: 900,
    payloadHash,
    uriEscapePath: false,
  });
}

const signedDoc = (): VerifiedSignatureV4 =>
  docVerified(
    'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
    '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    'content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;x-amz-storage-class',
  );

/** The trailer example's seed as published (its request's exact headers are not, reliably). */
function trailerDoc(): VerifiedSignatureV4 {
  const verified = {
    seedSignature: '106e2a8a18243abcf37539882f36619c00e2dfc72633413f02d3b74544bfeb8e',
    scope: '20130524/us-east-1/s3/aws4_request',
    amzDate: '20130524T000000Z',
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  };
  // The key as verifySignatureV4 derives it, taken from the plain example.
  return { ...verified, signingKey: signedDoc().signingKey };
}

/** Feeds `body` in slices of `slice` bytes; resolves to the output or rejects. */
async function decode(
  decoder: ChunkedPayloadDecoder,
  body: Buffer,
  slice = body.length,
): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (let i = 0; i < body.length; i += slice) parts.push(body.subarray(i, i + slice));
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(parts),
    decoder,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        out.push(chunk);
        cb();
      },
    }),
  );
  return Buffer.concat(out);
}

async function decodeError(
  decoder: ChunkedPayloadDecoder,
  body: Buffer,
  slice?: number,
): Promise<SigV4Error> {
  try {
    await decode(decoder, body, slice);
  } catch (err) {
    if (err instanceof SigV4Error) return err;
    throw err;
  }
  throw new Error('expected the body to be refused');
}

function expectReason(err: SigV4Error, code: string, reason: SigV4FailureReason): void {
  expect({ code: err.code, reason: err.reason }).toEqual({ code, reason });
}

describe('AWS documentation example: STREAMING-AWS4-HMAC-SHA256-PAYLOAD', () => {
  it('the documented request verifies and yields the documented seed', () => {
    expect(signedDoc().seedSignature).toBe(
      '4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9',
    );
  });

  it.each([1, 7, 777, 65_536, DOC_BODY.length])('decodes fed %i bytes at a time', async (slice) => {
    const decoder = createChunkedPayloadDecoder(signedDoc(), { decodedContentLength: 66_560 });
    expect((await decode(decoder, DOC_BODY, slice)).equals(DOC_DATA)).toBe(true);
    expect(decoder.decodedLength).toBe(66_560);
  });

  it('refuses a changed data byte', async () => {
    const body = Buffer.from(DOC_BODY);
    body[66_000] = 0x62; // inside the second chunk's data
    const err = await decodeError(createChunkedPayloadDecoder(signedDoc()), body, 4096);
    expectReason(err, 'SignatureDoesNotMatch', 'chunk-signature-mismatch');
    expect(err.status).toBe(403);
  });

  it('refuses a changed chunk signature, a dropped chunk and swapped chunks', async () => {
    const text = DOC_BODY.toString('latin1');
    const badSig = Buffer.from(text.replace('0055627c', '1055627c'), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), badSig),
      'SignatureDoesNotMatch',
      'chunk-signature-mismatch',
    );

    const second = text.indexOf('400;');
    const final = text.indexOf('0;chunk-signature=b6c6');
    const dropped = Buffer.from(text.slice(0, second) + text.slice(final), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), dropped),
      'SignatureDoesNotMatch',
      'chunk-signature-mismatch',
    );

    const swapped = Buffer.from(
      text.slice(second, final) + text.slice(0, second) + text.slice(final),
      'latin1',
    );
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), swapped),
      'SignatureDoesNotMatch',
      'chunk-signature-mismatch',
    );
  });

  it('refuses a truncated body wherever it is cut', async () => {
    const final = DOC_BODY.toString('latin1').indexOf('0;chunk-signature=b6c6');
    for (const cut of [0, 10, 100, 65_600, final - 2, final, final + 20]) {
      const err = await decodeError(
        createChunkedPayloadDecoder(signedDoc()),
        DOC_BODY.subarray(0, cut),
      );
      expectReason(err, 'IncompleteSignature', 'incomplete-body');
    }
  });

  it('enforces x-amz-decoded-content-length', async () => {
    const longer = await decodeError(
      createChunkedPayloadDecoder(signedDoc(), { decodedContentLength: 66_561 }),
      DOC_BODY,
    );
    expectReason(longer, 'IncompleteSignature', 'decoded-length-mismatch');
    const shorter = await decodeError(
      createChunkedPayloadDecoder(signedDoc(), { decodedContentLength: 1000 }),
      DOC_BODY,
    );
    expectReason(shorter, 'IncompleteSignature', 'decoded-length-mismatch');
  });

  it('refuses bad framing and data after the end', async () => {
    const text = DOC_BODY.toString('latin1');
    const noCrlf = Buffer.from(text.replace('a\r\n400;', 'aX\n400;'), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), noCrlf),
      'IncompleteSignature',
      'malformed-chunk',
    );
    const badSize = Buffer.from(text.replace('10000;', 'zz;'), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), badSize),
      'IncompleteSignature',
      'malformed-chunk',
    );
    const unsigned = Buffer.from(text.replace(/;chunk-signature=ad80[0-9a-f]+/, ''), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), unsigned),
      'IncompleteSignature',
      'malformed-chunk',
    );
    const extra = Buffer.concat([DOC_BODY, Buffer.from('more')]);
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), extra),
      'IncompleteSignature',
      'malformed-chunk',
    );
    const endless = Buffer.concat([DOC_BODY.subarray(0, 10), Buffer.alloc(10_000, '1')]);
    expectReason(
      await decodeError(createChunkedPayloadDecoder(signedDoc()), endless),
      'IncompleteSignature',
      'malformed-chunk',
    );
  });

  it('only decodes aws-chunked payload hashes', () => {
    expect(() =>
      createChunkedPayloadDecoder({ ...signedDoc(), payloadHash: 'UNSIGNED-PAYLOAD' }),
    ).toThrow(TypeError);
  });
});

describe('AWS documentation example: STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER', () => {
  it.each([1, 13, 65_536, DOC_TRAILER_BODY.length])(
    'decodes and checks the trailer signature (%i-byte slices)',
    async (slice) => {
      const decoder = createChunkedPayloadDecoder(trailerDoc(), { decodedContentLength: 66_560 });
      expect((await decode(decoder, DOC_TRAILER_BODY, slice)).equals(DOC_DATA)).toBe(true);
      expect([...decoder.trailers]).toEqual([['x-amz-checksum-crc32c', 'sOO8/Q==']]);
    },
  );

  it('accepts the variants seen in the wild: a blank line before trailers, no closing CRLF', async () => {
    const text = DOC_TRAILER_BODY.toString('latin1');
    const blank = Buffer.from(
      text.replace('\r\nx-amz-checksum', '\r\n\r\nx-amz-checksum'),
      'latin1',
    );
    expect((await decode(createChunkedPayloadDecoder(trailerDoc()), blank)).equals(DOC_DATA)).toBe(
      true,
    );
    const unclosed = Buffer.from(text.slice(0, -2), 'latin1');
    expect(
      (await decode(createChunkedPayloadDecoder(trailerDoc()), unclosed)).equals(DOC_DATA),
    ).toBe(true);
  });

  it('refuses a changed, dropped or unsigned trailer', async () => {
    const text = DOC_TRAILER_BODY.toString('latin1');
    const changed = Buffer.from(text.replace('sOO8/Q==', 'sOO8/A=='), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(trailerDoc()), changed),
      'SignatureDoesNotMatch',
      'chunk-signature-mismatch',
    );
    const dropped = Buffer.from(text.replace('x-amz-checksum-crc32c:sOO8/Q==\r\n', ''), 'latin1');
    expectReason(
      await decodeError(createChunkedPayloadDecoder(trailerDoc()), dropped),
      'SignatureDoesNotMatch',
      'chunk-signature-mismatch',
    );
    const unsigned = Buffer.from(
      text.replace(/x-amz-trailer-signature:[0-9a-f]+\r\n/, ''),
      'latin1',
    );
    expectReason(
      await decodeError(createChunkedPayloadDecoder(trailerDoc()), unsigned),
      'SignatureDoesNotMatch',
      'chunk-signature-mismatch',
    );
  });
});

describe('STREAMING-UNSIGNED-PAYLOAD-TRAILER', () => {
  const verified = { ...trailerDoc(), payloadHash: 'STREAMING-UNSIGNED-PAYLOAD-TRAILER' };

  it('decodes plain chunks and collects the trailer', async () => {
    const body = Buffer.from(
      '5\r\nhello\r\n6\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n',
    );
    const decoder = createChunkedPayloadDecoder(verified, { decodedContentLength: 11 });
    expect((await decode(decoder, body, 3)).toString()).toBe('hello world');
    expect(decoder.trailers.get('x-amz-checksum-crc32')).toBe('DUoRhQ==');
  });

  it('refuses truncation before the final chunk', async () => {
    const err = await decodeError(
      createChunkedPayloadDecoder(verified),
      Buffer.from('5\r\nhello\r\n'),
    );
    expectReason(err, 'IncompleteSignature', 'incomplete-body');
  });
});

describe('a large body', () => {
  it('streams 64 MiB of signed chunks through the decoder with flat memory', async () => {
    const size = 64 * 1024 * 1024;
    const chunkSize = 64 * 1024;
    const T = Date.UTC(2024, 0, 2, 3, 4, 5);
    const secret = 'Large/Body/Secret/0123456789abcdefghijklm';
    const req = await sdkSign(
      {
        method: 'PUT',
        path: '/bucket/big.bin',
        query: {},
        headers: {
          host: 's3.localhost',
          'content-encoding': 'aws-chunked',
          'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
          'x-amz-decoded-content-length': String(size),
        },
      },
      {
        service: 's3',
        region: 'eu-west-3',
        credentials: { accessKeyId: 'AKIALARGE', secretAccessKey: secret },
        signingDate: new Date(T),
      },
    );
    const parsed = parseSignatureV4(req)!;
    const verified = verifySignatureV4(req, parsed, secret, {
      now: T,
      maxSkewSeconds: 900,
      payloadHash: parsed.declaredPayloadHash!,
      uriEscapePath: false,
    });

    const signer = new ChunkSigner(secret, parsed.amzDate, 'eu-west-3', parsed.signature);
    const block = randomBytes(chunkSize);
    const sent = createHash('sha256');
    async function* body(): AsyncGenerator<Buffer> {
      for (let offset = 0; offset < size; offset += chunkSize) {
        const data = Buffer.from(block);
        data.writeUInt32BE(offset, 0); // every chunk differs
        sent.update(data);
        yield signer.chunk(data);
      }
      yield signer.chunk(Buffer.alloc(0));
    }

    const decoder = createChunkedPayloadDecoder(verified, { decodedContentLength: size });
    const received = createHash('sha256');
    let bytes = 0;
    let writes = 0;
    let buffered = 0;
    const baseline = retained();
    let peak = 0;
    await pipeline(
      Readable.from(body()),
      decoder,
      new Writable({
        write(chunk: Buffer, _enc, cb) {
          received.update(chunk);
          bytes += chunk.length;
          buffered = Math.max(buffered, decoder.readableLength + decoder.writableLength);
          if (++writes % 128 === 0) peak = Math.max(peak, retained() - baseline);
          cb();
        },
      }),
    );
    expect(bytes).toBe(size);
    expect(received.digest('hex')).toBe(sent.digest('hex'));
    expect(buffered).toBeLessThan(1024 * 1024); // the decoder holds at most a chunk or two
    expect(peak).toBeLessThan(32 * 1024 * 1024); // live memory after GC: half the body at most
  });
});

/** Live memory after a full GC (heap plus Buffers), in bytes. */
function retained(): number {
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

v8.setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;
