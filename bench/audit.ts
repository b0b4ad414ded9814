/**
 * What the audit trail costs (issue 8): the same calls against two servers in child processes,
 * one with the trail and one whose trail records nothing (`ServerOptions.audit: false`; the
 * calls still build their records, which are dropped), alternating rounds, best of each, at 32
 * connections. Goal: auditing costs at most 20% of req/s.
 * - AssumeRoleWithWebIdentity: a credential-issuing call, whose record is committed (group
 *   commit, SQLite `synchronous=FULL`) before the credentials leave;
 * - GetObject of 1 KiB by the bucket's owner: an S3 data event, read-only, recorded within
 *   100 ms without waiting.
 * The cost of writing one GetObject record is also measured in process, on its own (no
 * sockets, no other load), which varies far less between runs than two servers' req/s.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import {
  AuditTrail,
  newRecord,
  SqliteRowWriter,
  type CloudTrailRecord,
} from '../src/audit/index.js';
import { openStore } from '../src/store/index.js';
import { signRaw } from '../test/s3/helpers/raw.js';
import {
  alternate,
  CONNECTIONS,
  FORM,
  postOnce,
  ROUNDS,
  setUpWebIdentity,
  startLatchkey,
  type ChildServer,
  type LatchkeyChild,
  type SideResult,
} from './harness.js';
import type { BenchLine } from './report.js';

const OBJECT_PATH = '/bench/object-1k';

async function putObject(server: LatchkeyChild): Promise<void> {
  const s3 = new S3Client({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: server.admin,
    forcePathStyle: true,
    maxAttempts: 1,
  });
  await s3.send(new CreateBucketCommand({ Bucket: 'bench' }));
  await s3.send(
    new PutObjectCommand({ Bucket: 'bench', Key: 'object-1k', Body: 'x'.repeat(1024) }),
  );
  s3.destroy();
}

function lines(name: string, r: Record<'on' | 'off', SideResult>): BenchLine[] {
  return [
    {
      name: `${name}, audit on, ${CONNECTIONS} connections (best of ${ROUNDS})`,
      value: r.on.reqPerSec,
      unit: 'req/s',
      baseline: { name: 'audit off', value: r.off.reqPerSec },
      goal: 'auditing costs ≤ 20% (ratio ≥ 0.8)',
      met: r.on.reqPerSec / r.off.reqPerSec >= 0.8,
    },
    {
      name: `${name}: server CPU per request (user + system), audit on`,
      value: r.on.cpuUs,
      unit: 'µs',
      baseline: { name: 'audit off', value: r.off.cpuUs },
    },
    {
      name: `${name} latency p99, audit on`,
      value: r.on.p99Ms,
      unit: 'ms',
      baseline: { name: 'audit off p99', value: r.off.p99Ms },
    },
  ];
}

/** A GetObject data event as S3 records it (see src/s3/audit.ts). */
function getObjectRecord(): CloudTrailRecord {
  const record = newRecord({
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    region: 'us-east-1',
    sourceIp: '127.0.0.1',
    userAgent: 'aws-sdk-js/3 ua/2.1 os/linux lang/js md/nodejs#20',
    requestId: '8A3C1F2B9D4E5F60',
    readOnly: true,
    identity: {
      type: 'IAMUser',
      principalId: 'AIDABENCHADMIN0000000',
      arn: 'arn:aws:iam::000000000000:user/admin',
      accountId: '000000000000',
      accessKeyId: 'AKIABENCHADMIN000000',
      userName: 'admin',
    },
    recipientAccountId: '000000000000',
    requestParameters: { bucketName: 'bench', key: 'object-1k', Host: '127.0.0.1:40000' },
    dataEvent: true,
  });
  record.additionalEventData = {
    SignatureVersion: 'SigV4',
    AuthenticationMethod: 'AuthHeader',
    bytesTransferredIn: 0,
  };
  record.resources = [
    { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::bench/object-1k' },
    { type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::bench' },
  ];
  return record;
}

/**
 * CPU (user + system, the fsync's thread included) to write one GetObject record through the
 * SQLite trail, in process: 400 records per 100 ms batch, as at 4,000 GetObject/s, into a
 * trail that already holds 100,000 records. What "audit off" skips, so the record's building
 * is not counted.
 */
async function recordWriteMicros(): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-audit-'));
  const store = await openStore({ dataDir });
  const trail = new AuditTrail(store.db, pino({ level: 'warn' }), {
    writer: new SqliteRowWriter(store.sqliteFile ?? ''),
  });
  try {
    const write = async (n: number) => {
      const records = Array.from({ length: n }, getObjectRecord);
      const before = process.cpuUsage();
      for (let i = 0; i < n; i += 400) {
        for (const record of records.slice(i, i + 400)) trail.writeLater(record);
        await trail.drain();
      }
      const used = process.cpuUsage(before);
      return (used.user + used.system) / n;
    };
    await write(100_000);
    return await write(40_000);
  } finally {
    await trail.close();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export default async function bench(): Promise<BenchLine[]> {
  const recordMicros = await recordWriteMicros();
  const servers: ChildServer[] = [];
  try {
    const on = await startLatchkey();
    servers.push(on);
    const off = await startLatchkey({ audit: false });
    servers.push(off);

    const onCall = await setUpWebIdentity(on);
    const offCall = await setUpWebIdentity(off);
    await postOnce(on.url, onCall.body);
    await postOnce(off.url, offCall.body);
    const sts = await alternate({
      on: { url: on.url, pid: on.pid, method: 'POST', headers: FORM, body: onCall.body },
      off: { url: off.url, pid: off.pid, method: 'POST', headers: FORM, body: offCall.body },
    });

    // One call at a time: what a durable record adds to a single issuance (mean = 1 / req/s).
    const single = await alternate(
      {
        on: { url: on.url, pid: on.pid, method: 'POST', headers: FORM, body: onCall.body },
        off: { url: off.url, pid: off.pid, method: 'POST', headers: FORM, body: offCall.body },
      },
      1,
    );

    await putObject(on);
    await putObject(off);
    const get = (server: LatchkeyChild) => ({
      url: `${server.url}${OBJECT_PATH}`,
      pid: server.pid,
      refresh: async () => ({
        url: `${server.url}${OBJECT_PATH}`,
        headers: (await signRaw(server.url, { method: 'GET', path: OBJECT_PATH }, server.admin))
          .headers,
      }),
    });
    const s3 = await alternate({ on: get(on), off: get(off) });
    return [
      ...lines('AssumeRoleWithWebIdentity', sts),
      {
        name: 'AssumeRoleWithWebIdentity latency (mean, one call at a time), audit on',
        value: 1000 / single.on.reqPerSec,
        unit: 'ms',
        baseline: { name: 'audit off', value: 1000 / single.off.reqPerSec },
      },
      ...lines('GetObject 1 KiB', s3),
      {
        name: 'GetObject 1 KiB: writing its record (SQLite, in process), per record',
        value: recordMicros,
        unit: 'µs',
        baseline: { name: 'server CPU per GetObject, audit off', value: s3.off.cpuUs },
      },
    ];
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}
