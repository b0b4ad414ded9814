/**
 * SigV4 verification throughput: a typical STS-like POST (Authorization header; host,
 * content-type and x-amz-date signed; ~100-byte body whose hash is computed per request;
 * signing-key cache warm), against the AWS SDK's own signer signing the same request in the
 * same run. Also aws-chunked decoding throughput.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Sha256 as Sha256Js } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import {
  createChunkedPayloadDecoder,
  parseSignatureV4,
  verifySignatureV4,
  type SigV4Request,
} from '../src/sigv4/index.js';
import { opsPerSecond, percentileMicros, type BenchLine } from './report.js';

const CREDENTIALS = {
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};
const BODY =
  'Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A000000000000%3Arole%2Fapp&RoleSessionName=bench&Version=2011-06-15';
const SIGNING_DATE = new Date(Date.UTC(2026, 0, 15, 10, 0, 0));

/** SHA-256 / HMAC on node:crypto, shaped like the SDK's own Node hash (`@smithy/core`'s Sha256Node). */
class NodeSha256 {
  readonly #secret: Buffer | undefined;
  #hash: Hash | Hmac;

  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined
        ? undefined
        : typeof secret === 'string'
          ? Buffer.from(secret)
          : ArrayBuffer.isView(secret)
            ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength)
            : Buffer.from(secret);
    this.#hash = this.#fresh();
  }

  update(data: Uint8Array): void {
    this.#hash.update(data);
  }

  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#hash.digest()));
  }

  reset(): void {
    this.#hash = this.#fresh();
  }

  #fresh(): Hash | Hmac {
    return this.#secret ? createHmac('sha256', this.#secret) : createHash('sha256');
  }
}

function sdkRequest() {
  return {
    method: 'POST',
    protocol: 'https:',
    hostname: 'sts.localhost',
    path: '/',
    query: {},
    headers: {
      host: 'sts.localhost',
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'user-agent': 'aws-sdk-js/3.0.0 ua/2.1 os/linux lang/js md/nodejs#20',
      'amz-sdk-invocation-id': '2d1f8e0a-4c6b-4d84-9e2f-0b7f6c0d3a11',
    },
    body: BODY,
  };
}

function signer(sha256: typeof Sha256Js | typeof NodeSha256): SignatureV4 {
  // applyChecksum false: STS requests from the SDK carry no x-amz-content-sha256.
  return new SignatureV4({
    service: 'sts',
    region: 'us-east-1',
    sha256,
    credentials: CREDENTIALS,
    applyChecksum: false,
  });
}

/** Like opsPerSecond, for an async function (the SDK signer is async). */
async function asyncOpsPerSecond(fn: () => Promise<unknown>, ms = 1000): Promise<number> {
  for (let i = 0; i < 500; i++) await fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

async function chunkedMegabytesPerSecond(): Promise<number> {
  const size = 64 * 1024 * 1024;
  const chunkSize = 64 * 1024;
  const amzDate = '20260115T100000Z';
  const scope = '20260115/us-east-1/s3/aws4_request';
  const hmac = (k: string | Buffer, d: string): Buffer =>
    createHmac('sha256', k).update(d).digest();
  const key = hmac(
    hmac(hmac(hmac(`AWS4${CREDENTIALS.secretAccessKey}`, '20260115'), 'us-east-1'), 's3'),
    'aws4_request',
  );
  const emptyHash = createHash('sha256').digest('hex');
  // Encode once, outside the timing: the figure is the decoder's.
  const frames: Buffer[] = [];
  let previous = 'f'.repeat(64);
  const data = Buffer.alloc(chunkSize, 7);
  const dataHash = createHash('sha256').update(data).digest('hex');
  for (let offset = 0; offset <= size; offset += chunkSize) {
    const last = offset === size;
    const payloadHash = last ? emptyHash : dataHash;
    const toSign = `AWS4-HMAC-SHA256-PAYLOAD\n${amzDate}\n${scope}\n${previous}\n${emptyHash}\n${payloadHash}`;
    previous = hmac(key, toSign).toString('hex');
    const head = `${last ? 0 : chunkSize.toString(16)};chunk-signature=${previous}\r\n`;
    frames.push(Buffer.from(head), last ? Buffer.from('\r\n') : data, Buffer.from('\r\n'));
  }
  const verified = {
    signingKey: key,
    seedSignature: 'f'.repeat(64),
    scope,
    amzDate,
    payloadHash: 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  };
  const start = process.hrtime.bigint();
  await pipeline(
    Readable.from(frames),
    createChunkedPayloadDecoder(verified, { decodedContentLength: size }),
    new Writable({ write: (_chunk, _enc, cb) => cb() }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return size / 1024 / 1024 / seconds;
}

export default async function (): Promise<BenchLine[]> {
  const nodeSigner = signer(NodeSha256);
  const jsSigner = signer(Sha256Js);
  const signed = await nodeSigner.sign(sdkRequest(), { signingDate: SIGNING_DATE });
  const req: SigV4Request = {
    method: 'POST',
    path: '/',
    query: '',
    headers: Object.fromEntries(
      Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]),
    ),
  };
  const now = SIGNING_DATE.getTime() + 1000;
  const body = Buffer.from(BODY);
  const verify = (): void => {
    const parsed = parseSignatureV4(req);
    if (parsed === null) throw new Error('unsigned');
    verifySignatureV4(req, parsed, CREDENTIALS.secretAccessKey, {
      now,
      maxSkewSeconds: 300,
      payloadHash: createHash('sha256').update(body).digest('hex'),
    });
  };
  verify(); // fails loudly if the request does not verify; also warms the key cache

  const verifyOps = opsPerSecond(verify, 2000);
  const p99 = percentileMicros(verify);
  const nodeSignOps = await asyncOpsPerSecond(
    () => nodeSigner.sign(sdkRequest(), { signingDate: SIGNING_DATE }),
    2000,
  );
  const jsSignOps = await asyncOpsPerSecond(
    () => jsSigner.sign(sdkRequest(), { signingDate: SIGNING_DATE }),
    2000,
  );
  const chunked = await chunkedMegabytesPerSecond();

  const name =
    'SigV4 verify, STS POST (header; 3 signed headers; 100-byte body hashed; key cache warm)';
  return [
    {
      name,
      value: verifyOps,
      unit: 'ops/s',
      baseline: {
        name: '@smithy/signature-v4 sign, node:crypto SHA-256 (as the SDK on Node)',
        value: nodeSignOps,
      },
      goal: '≥ 2× SDK signing',
      met: verifyOps >= 2 * nodeSignOps,
    },
    {
      name,
      value: verifyOps,
      unit: 'ops/s',
      baseline: { name: '@smithy/signature-v4 sign, @aws-crypto/sha256-js', value: jsSignOps },
      goal: '≥ 2× SDK signing',
      met: verifyOps >= 2 * jsSignOps,
    },
    { name: 'SigV4 verify, same request, latency', value: p99, unit: 'µs p99' },
    { name: 'aws-chunked decode + verify (64 KiB chunks, 64 MiB)', value: chunked, unit: 'MB/s' },
  ];
}
