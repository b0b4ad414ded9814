/**
 * What the audit trail costs (issue 8): the same calls against two servers in child processes,
 * one with the trail and one whose trail records nothing (`ServerOptions.audit: false`; the
 * calls still build their records, which are dropped), alternating rounds, best of each, at 32
 * connections. Goal: auditing costs at most 20% of req/s.
 * - AssumeRoleWithWebIdentity: a credential-issuing call, whose record is committed (group
 *   commit, SQLite `synchronous=FULL`) before the credentials leave;
 * - GetObject of 1 KiB by the bucket's owner: an S3 data event, read-only, recorded within
 *   100 ms without waiting.
 */
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
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

export default async function bench(): Promise<BenchLine[]> {
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
    ];
  } finally {
    for (const server of servers.reverse()) await server.stop();
  }
}
