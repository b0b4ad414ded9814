/**
 * The S3 store (issue 5), every server in a child process:
 * - GetObject (1 KiB) and HeadObject req/s at 32 connections, SigV4-signed by an IAM user whose
 *   inline policy grants the read, on a bucket with a bucket policy: against the same server
 *   with authorization switched off (`ServerOptions.s3Authorization: false`; SigV4 still
 *   verified) and against a bare node:http server answering the same body, alternating rounds,
 *   best of each (goal: authorization costs at most 15%);
 * - PutObject of 64 MiB (payload SHA-256 signed, as the SDKs sign over plain HTTP) in MB/s
 *   against writing the same bytes to a file with fsync, as the store does (goal ≥ 70%);
 * - the server process's peak RSS (Linux VmHWM, reset before each transfer) while uploading and
 *   while downloading a 1 GiB object (goal: under 150 MB each), on a freshly started server and
 *   again on the server that served the request-rate load (its heap has grown by then).
 */
import { createHash, randomBytes } from 'node:crypto';
import { open } from 'node:fs/promises';
import { request } from 'node:http';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  IAMClient,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { signRaw } from '../test/s3/helpers/raw.js';
import {
  alternate,
  CONNECTIONS,
  peakRssMb,
  resetPeakRss,
  ROUNDS,
  rssMb,
  startBare,
  startBareUpload,
  startLatchkey,
  tempDir,
  type ChildServer,
  type LatchkeyChild,
  type LoadSpec,
  type SideResult,
} from './harness.js';
import type { BenchLine } from './report.js';
import {
  DEFAULT_ACCOUNT_ID,
  PolicyAuthorizer,
  type PolicySetLoader,
  type PrincipalPolicySet,
} from '../src/iam/index.js';

const BUCKET = 'bench';
const SMALL_KEY = 'small/object-1k';
const SMALL = randomBytes(512).toString('hex'); // 1 KiB of text
const PUT_BYTES = 64 * 1024 * 1024;
const BIG_CHUNK = 1024 * 1024;
const BIG_CHUNKS = 1024; // 1 GiB
const MB = 1e6;

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

const BUCKET_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Sid: 'NoPlainTextSecrets',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:GetObject',
      Resource: `arn:aws:s3:::${BUCKET}/secret/*`,
    },
  ],
});

const READER_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${BUCKET}` },
    {
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:PutObject'],
      Resource: `arn:aws:s3:::${BUCKET}/*`,
    },
  ],
});

/**
 * The authorization decision of one GetObject of the benchmark, in process (µs): the reader's
 * policy and the bucket policy through the same authorizer the server uses, its policy-set
 * cache warm (the loader answers from memory, as the server's cache does between changes).
 */
async function decisionMicros(): Promise<number> {
  const set: PrincipalPolicySet = {
    identity: [{ id: 'user/reader/inline/read-bench', document: READER_POLICY }],
    session: [],
    tags: {},
  };
  const loader = { load: () => Promise.resolve(set) } as unknown as PolicySetLoader;
  const authorizer = new PolicyAuthorizer(loader);
  const principal = {
    type: 'IAMUser' as const,
    accountId: DEFAULT_ACCOUNT_ID,
    arn: `arn:aws:iam::${DEFAULT_ACCOUNT_ID}:user/reader`,
    principalId: 'AIDABENCHREADER000000',
    accessKeyId: 'AKIABENCHREADER00000',
    userName: 'reader',
  };
  const request = {
    action: 's3:GetObject',
    resource: `arn:aws:s3:::${BUCKET}/${SMALL_KEY}`,
    resourceAccount: DEFAULT_ACCOUNT_ID,
    resourcePolicy: BUCKET_POLICY,
    resourcePolicyOwner: `arn:aws:s3:::${BUCKET}`,
    context: { 'aws:SourceIp': '127.0.0.1', 'aws:SecureTransport': 'false' },
    quoteResource: true,
  };
  for (let i = 0; i < 20_000; i++) await authorizer.authorize(principal, request);
  const n = 100_000;
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await authorizer.authorize(principal, request);
  return Number(process.hrtime.bigint() - start) / n / 1000;
}

/** A bucket with a 1 KiB object and a bucket policy, and a user allowed to read it. */
async function setUp(server: LatchkeyChild): Promise<Credentials> {
  const config = {
    endpoint: server.url,
    region: 'us-east-1',
    credentials: server.admin,
    maxAttempts: 1,
  };
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  await s3.send(
    new PutObjectCommand({
      Bucket: BUCKET,
      Key: SMALL_KEY,
      Body: SMALL,
      ContentType: 'text/plain',
    }),
  );
  await s3.send(
    new PutBucketPolicyCommand({
      Bucket: BUCKET,
      Policy: BUCKET_POLICY,
    }),
  );
  s3.destroy();
  const iam = new IAMClient(config);
  await iam.send(new CreateUserCommand({ UserName: 'reader' }));
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'reader',
      PolicyName: 'read-bench',
      PolicyDocument: READER_POLICY,
    }),
  );
  const { AccessKey } = await iam.send(new CreateAccessKeyCommand({ UserName: 'reader' }));
  iam.destroy();
  if (AccessKey?.AccessKeyId === undefined || AccessKey.SecretAccessKey === undefined) {
    throw new Error('no access key');
  }
  return { accessKeyId: AccessKey.AccessKeyId, secretAccessKey: AccessKey.SecretAccessKey };
}

/** A signed request for autocannon to replay (valid for S3's 15-minute window). */
async function signedLoad(
  url: string,
  method: 'GET' | 'HEAD',
  path: string,
  credentials: Credentials,
): Promise<Omit<LoadSpec, 'refresh'>> {
  const { headers } = await signRaw(url, { method, path }, credentials);
  return { url: `${url}${path}`, method, headers };
}

/** Sends one request whose body is `chunks`; resolves with the status once the answer is read. */
function send(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string>,
  chunks: Iterable<Buffer>,
  onBody?: (chunk: Buffer) => void,
): Promise<number> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: target.hostname, port: target.port, method, path, headers },
      (res) => {
        res.on('data', (chunk: Buffer) => onBody?.(chunk));
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    const it = chunks[Symbol.iterator]();
    const pump = (): void => {
      for (;;) {
        const next = it.next();
        if (next.done === true) {
          req.end();
          return;
        }
        if (!req.write(next.value)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
  });
}

function* repeat(chunk: Buffer, times: number): Generator<Buffer> {
  for (let i = 0; i < times; i++) yield chunk;
}

/**
 * PutObject of `body` (its SHA-256 signed, or UNSIGNED-PAYLOAD); seconds from the first byte
 * sent to the answer (the client's signing is not counted).
 */
async function putSeconds(
  url: string,
  credentials: Credentials,
  key: string,
  body: Buffer,
  payloadHash: string,
): Promise<number> {
  const path = `/${BUCKET}/${key}`;
  const { headers } = await signRaw(
    url,
    { method: 'PUT', path, payloadHash, headers: { 'content-length': String(body.length) } },
    credentials,
  );
  const t0 = performance.now();
  const status = await send(url, 'PUT', path, headers, repeat(body, 1));
  if (status !== 200) throw new Error(`PutObject answered ${status}`);
  return (performance.now() - t0) / 1000;
}

/** Writing `body` to a new file with fsync, as the store commits a blob; seconds taken. */
async function fileWriteSeconds(dir: string, body: Buffer, n: number): Promise<number> {
  const t0 = performance.now();
  const file = await open(join(dir, `plain-${n}`), 'wx');
  try {
    await file.writeFile(body);
    await file.sync();
  } finally {
    await file.close();
  }
  return (performance.now() - t0) / 1000;
}

/** Peak RSS of the server while `transfer` runs, and the transfer's MB/s. */
async function peakDuring(
  pid: number,
  bytes: number,
  transfer: () => Promise<void>,
): Promise<{ peakMb: number; mbPerSec: number }> {
  let sampled = rssMb(pid) ?? 0;
  const reset = resetPeakRss(pid);
  // Sampling as well, in case the kernel does not allow resetting the peak.
  const timer = setInterval(() => {
    sampled = Math.max(sampled, rssMb(pid) ?? 0);
  }, 20);
  const t0 = performance.now();
  try {
    await transfer();
  } finally {
    clearInterval(timer);
  }
  const seconds = (performance.now() - t0) / 1000;
  const peak = reset ? (peakRssMb(pid) ?? sampled) : sampled;
  return { peakMb: Math.max(peak, sampled), mbPerSec: bytes / MB / seconds };
}

interface BigTransfers {
  idleMb: number;
  upload: { peakMb: number; mbPerSec: number };
  download: { peakMb: number; mbPerSec: number };
}

/** Uploads and downloads a 1 GiB object, measuring the server's peak RSS during each. */
async function bigTransfers(
  server: LatchkeyChild,
  credentials: Credentials,
  chunk: Buffer,
): Promise<BigTransfers> {
  const size = BIG_CHUNK * BIG_CHUNKS;
  const path = `/${BUCKET}/big/object-1g`;
  const idleMb = rssMb(server.pid) ?? Number.NaN;
  const upload = await peakDuring(server.pid, size, async () => {
    const { headers } = await signRaw(
      server.url,
      {
        method: 'PUT',
        path,
        payloadHash: 'UNSIGNED-PAYLOAD',
        headers: { 'content-length': String(size) },
      },
      credentials,
    );
    const status = await send(server.url, 'PUT', path, headers, repeat(chunk, BIG_CHUNKS));
    if (status !== 200) throw new Error(`1 GiB PutObject answered ${status}`);
  });
  let received = 0;
  const download = await peakDuring(server.pid, size, async () => {
    const { headers } = await signRaw(server.url, { method: 'GET', path }, credentials);
    const status = await send(server.url, 'GET', path, headers, [], (c) => {
      received += c.length;
    });
    if (status !== 200) throw new Error(`1 GiB GetObject answered ${status}`);
  });
  if (received !== size) throw new Error(`downloaded ${received} bytes`);
  return { idleMb, upload, download };
}

function rssLines(
  which: string,
  t: BigTransfers,
  bare: { name: string; value: number } | undefined,
): BenchLine[] {
  const before = `RSS before: ${Math.round(t.idleMb)} MB`;
  return [
    {
      name: `server peak RSS uploading 1 GiB, ${which} (UNSIGNED-PAYLOAD, ${Math.round(t.upload.mbPerSec)} MB/s; ${before})`,
      value: t.upload.peakMb,
      unit: 'MB',
      ...(bare ? { baseline: bare } : {}),
      goal: '< 150 MB',
      met: t.upload.peakMb < 150,
    },
    {
      name: `server peak RSS downloading 1 GiB, ${which} (${Math.round(t.download.mbPerSec)} MB/s; ${before})`,
      value: t.download.peakMb,
      unit: 'MB',
      goal: '< 150 MB',
      met: t.download.peakMb < 150,
    },
  ];
}

export default async function bench(): Promise<BenchLine[]> {
  const servers: (ChildServer | LatchkeyChild)[] = [];
  const scratch = tempDir('latchkey-bench-plain-');
  try {
    const on = await startLatchkey();
    servers.push(on);
    const off = await startLatchkey({ s3Authorization: false });
    servers.push(off);
    const bare = await startBare(SMALL, {
      'content-type': 'text/plain',
      etag: `"${createHash('md5').update(SMALL).digest('hex')}"`,
      'last-modified': new Date().toUTCString(),
      'accept-ranges': 'bytes',
      'x-amz-request-id': 'BENCH0000000000',
    });
    servers.push(bare);
    const onReader = await setUp(on);
    const offReader = await setUp(off);
    const smallPath = `/${BUCKET}/${SMALL_KEY}`;

    const load = (server: LatchkeyChild, credentials: Credentials, method: 'GET' | 'HEAD') => ({
      url: `${server.url}${smallPath}`,
      pid: server.pid,
      refresh: () => signedLoad(server.url, method, smallPath, credentials),
    });
    const get = await alternate({
      bare: { url: `${bare.url}${smallPath}`, pid: bare.pid },
      on: load(on, onReader, 'GET'),
      off: load(off, offReader, 'GET'),
    });
    const head = await alternate({
      bare: { url: `${bare.url}${smallPath}`, pid: bare.pid, method: 'HEAD' },
      on: load(on, onReader, 'HEAD'),
      off: load(off, offReader, 'HEAD'),
    });
    await bare.stop();
    await off.stop();

    // PutObject of 64 MiB against a plain file write, alternating, best of each.
    // The bare upload server stands for "node:http streaming into a file with MD5 and fsync".
    const bareUpload = await startBareUpload(scratch.path);
    servers.push(bareUpload);
    const body = randomBytes(PUT_BYTES);
    const sha256 = createHash('sha256').update(body).digest('hex');
    const best = { signed: Infinity, unsigned: Infinity, bare: Infinity, file: Infinity };
    for (let round = 0; round < ROUNDS; round++) {
      const key = `big/put-${round}`;
      best.signed = Math.min(best.signed, await putSeconds(on.url, onReader, key, body, sha256));
      best.file = Math.min(best.file, await fileWriteSeconds(scratch.path, body, round));
      const unsigned = await putSeconds(on.url, onReader, key, body, 'UNSIGNED-PAYLOAD');
      best.unsigned = Math.min(best.unsigned, unsigned);
      const bareSeconds = await putSeconds(bareUpload.url, onReader, key, body, sha256);
      best.bare = Math.min(best.bare, bareSeconds);
    }
    const rate = (seconds: number) => PUT_BYTES / MB / seconds;
    const putRate = rate(best.signed);
    const writeRate = rate(best.file);

    // 1 GiB up and down, unsigned payload (the SDKs' choice for big bodies over TLS): on a
    // freshly started server, and on the one that has just served the request-rate load.
    const chunk = randomBytes(BIG_CHUNK);
    const fresh = await startLatchkey();
    servers.push(fresh);
    const fresh1g = await bigTransfers(fresh, await setUp(fresh), chunk);
    await fresh.stop();
    const loaded1g = await bigTransfers(on, onReader, chunk);
    const bareIdleMb = rssMb(bareUpload.pid) ?? Number.NaN;
    const bareBig = await peakDuring(bareUpload.pid, BIG_CHUNK * BIG_CHUNKS, async () => {
      const headers = { 'content-length': String(BIG_CHUNK * BIG_CHUNKS) };
      const status = await send(bareUpload.url, 'PUT', '/big', headers, repeat(chunk, BIG_CHUNKS));
      if (status !== 200) throw new Error(`1 GiB bare upload answered ${status}`);
    });
    const bareName = `bare node:http streaming it into a file (${Math.round(bareBig.mbPerSec)} MB/s; RSS before: ${Math.round(bareIdleMb)} MB)`;

    const ratioLine = (name: string, r: Record<'bare' | 'on' | 'off', SideResult>): BenchLine[] => [
      {
        name: `${name}, SigV4 + policy check, ${CONNECTIONS} connections (best of ${ROUNDS})`,
        value: r.on.reqPerSec,
        unit: 'req/s',
        baseline: { name: 'same server, authorization off', value: r.off.reqPerSec },
        goal: 'authorization costs ≤ 15% (ratio ≥ 0.85)',
        met: r.on.reqPerSec / r.off.reqPerSec >= 0.85,
      },
      {
        name: `${name}, SigV4 + policy check, against bare node:http`,
        value: r.on.reqPerSec,
        unit: 'req/s',
        baseline: { name: 'bare node:http, same body', value: r.bare.reqPerSec },
      },
      {
        name: `${name}: server CPU per request (user + system), authorization on`,
        value: r.on.cpuUs,
        unit: 'µs',
        baseline: { name: 'authorization off', value: r.off.cpuUs },
      },
      {
        name: `${name}: server CPU per request, authorization off`,
        value: r.off.cpuUs,
        unit: 'µs',
        baseline: { name: 'bare node:http', value: r.bare.cpuUs },
      },
      {
        name: `${name} latency p99`,
        value: r.on.p99Ms,
        unit: 'ms',
        baseline: { name: 'authorization off p99', value: r.off.p99Ms },
      },
    ];
    const decision = await decisionMicros();
    return [
      ...ratioLine('GetObject 1 KiB', get),
      {
        name: 'GetObject 1 KiB: the authorization decision itself, in process',
        value: decision,
        unit: 'µs',
        baseline: { name: 'server CPU per GetObject, authorization off', value: get.off.cpuUs },
      },
      ...ratioLine('HeadObject', head),
      {
        name: `PutObject 64 MiB, payload SHA-256 signed (best of ${ROUNDS})`,
        value: putRate,
        unit: 'MB/s',
        baseline: { name: 'plain file write + fsync of the same bytes', value: writeRate },
        goal: '≥ 70% of the file write',
        met: putRate / writeRate >= 0.7,
      },
      {
        name: 'PutObject 64 MiB, UNSIGNED-PAYLOAD',
        value: rate(best.unsigned),
        unit: 'MB/s',
        baseline: { name: 'plain file write + fsync', value: writeRate },
      },
      {
        name: 'PutObject 64 MiB, payload SHA-256 signed',
        value: putRate,
        unit: 'MB/s',
        baseline: {
          name: 'bare node:http streaming the body into a file with MD5 + fsync',
          value: rate(best.bare),
        },
      },
      ...rssLines('fresh server', fresh1g, { name: bareName, value: bareBig.peakMb }),
      ...rssLines('after the request-rate load', loaded1g, undefined),
    ];
  } finally {
    for (const server of servers.reverse()) await server.stop();
    scratch.remove();
  }
}
