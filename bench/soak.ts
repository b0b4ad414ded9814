/**
 * A bounded load and soak run against STS, S3 and the node agent, on loopback only. Not part of
 * the test suite.
 *
 *   npx tsx bench/soak.ts [--duration 600] [--concurrency 8] [--database-url postgres://…] [--out FILE]
 *
 * Starts `latchkey server` and `latchkey agent` as child processes (so their memory is measured
 * on its own), sets up a cluster, a Pod Identity association and a bucket, then runs
 * `concurrency` loops for `duration` seconds, each iteration:
 *
 * - the agent's `GET /v1/credentials` with the pod's token (the pod's view);
 * - STS `GetCallerIdentity` and `AssumeRole` with the admin key (a read and a credential issue,
 *   whose audit record is committed before it answers);
 * - S3 `PutObject` (4 KiB) and `GetObject` with the pod's credentials (authorized by the role's
 *   policy, audited as data events).
 *
 * Reports, per call: count, rate, p50, p99, max and errors; and the server's and the agent's RSS
 * (sampled every 5 s) with its least-squares slope over the run after a warm-up (the first
 * fifth), in MiB per minute; and the audit records the run left, with the store's bytes per
 * record (the audit table with its indexes, on either store).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  CreateClusterCommand,
  CreatePodIdentityAssociationCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { signedJsonRequest } from '../src/cli/signed-fetch.js';
import { runCli } from '../src/cli/index.js';
import { readProfile, type Profile } from '../src/profiles/index.js';

interface Child {
  process: ChildProcess;
  /** Lines printed to stdout so far. */
  stdout: () => string;
}

function startChild(args: string[]): Child {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', import.meta.filename, '--serve', ...args],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LATCHKEY_LOG_LEVEL: 'info' },
    },
  );
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => process.stderr.write(d));
  return { process: child, stdout: () => out };
}

async function waitFor(child: Child, pattern: RegExp, what: string): Promise<string> {
  const t0 = Date.now();
  while (Date.now() - t0 < 60_000) {
    const m = pattern.exec(child.stdout());
    if (m?.[1] !== undefined) return m[1];
    if (child.process.exitCode !== null) throw new Error(`${what} exited: ${child.stdout()}`);
    await sleep(50);
  }
  throw new Error(`${what} did not start`);
}

function rssMiB(pid: number | undefined): number {
  if (pid === undefined) return 0;
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return kb / 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class Stats {
  readonly samples: number[] = [];
  readonly errors = new Map<string, number>();

  async time<T>(work: () => Promise<T>): Promise<T | undefined> {
    const t0 = performance.now();
    try {
      const result = await work();
      this.samples.push(performance.now() - t0);
      return result;
    } catch (err) {
      const name = err instanceof Error ? err.name : String(err);
      this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
      return undefined;
    }
  }

  summary(seconds: number) {
    const sorted = [...this.samples].sort((a, b) => a - b);
    const q = (p: number) =>
      sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? 0;
    const errors = [...this.errors.values()].reduce((a, b) => a + b, 0);
    return {
      count: sorted.length + errors,
      perSecond: round((sorted.length + errors) / seconds),
      p50: round(q(0.5)),
      p99: round(q(0.99)),
      max: round(sorted.at(-1) ?? 0),
      errors,
      errorNames: Object.fromEntries(this.errors),
    };
  }
}

const round = (n: number) => Math.round(n * 100) / 100;

/** Least-squares slope of (minutes, MiB) samples. */
function slopePerMinute(points: { t: number; mib: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p.t, 0) / n;
  const my = points.reduce((a, p) => a + p.mib, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mx) * (p.mib - my);
    den += (p.t - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string', default: '600' },
      concurrency: { type: 'string', default: '8' },
      'database-url': { type: 'string' },
      out: { type: 'string' },
    },
  });
  const durationS = Number(values.duration);
  const concurrency = Number(values.concurrency);
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-soak-'));
  const serverArgs = ['server', '--host', '127.0.0.1', '--port', '0', '--data-dir', dataDir];
  if (values['database-url']) serverArgs.push('--database-url', values['database-url']);
  if (values['database-url'] && !process.env.LATCHKEY_MASTER_KEY) {
    process.env.LATCHKEY_MASTER_KEY = randomBytes(32).toString('base64');
  }
  const server = startChild(serverArgs);
  let agent: Child | undefined;
  try {
    const url = await waitFor(server, /"url":"(http:[^"]+)".*Latchkey is serving/, 'server');
    const admin: Profile = { ...(readProfile(dataDir, 'latchkey') as Profile), endpointUrl: url };
    const config = { endpoint: url, region: 'us-east-1', credentials: admin, maxAttempts: 1 };
    const { podToken, roleArn } = await setUp(config, admin);

    agent = startChild([
      'agent',
      '--server',
      url,
      '--cluster',
      'soak',
      '--listen',
      '127.0.0.1:0',
      '--probe-listen',
      '127.0.0.1:0',
      '--metrics-listen',
      '127.0.0.1:0',
      '--local',
      '--data-dir',
      dataDir,
      '--rate-limit',
      '100000',
    ]);
    const credentialsUrl = await waitFor(agent, /credentials: (http:\S+)/, 'agent');

    const stats = {
      agentCredentials: new Stats(),
      stsGetCallerIdentity: new Stats(),
      stsAssumeRole: new Stats(),
      s3PutObject: new Stats(),
      s3GetObject: new Stats(),
    };
    const sts = new STSClient(config);
    const podCredentials = async () => {
      const r = await fetch(credentialsUrl, { headers: { authorization: podToken } });
      if (r.status !== 200)
        throw Object.assign(new Error(await r.text()), { name: `HTTP${r.status}` });
      const c = (await r.json()) as { AccessKeyId: string; SecretAccessKey: string; Token: string };
      return {
        accessKeyId: c.AccessKeyId,
        secretAccessKey: c.SecretAccessKey,
        sessionToken: c.Token,
      };
    };

    const rss: { t: number; server: number; agent: number }[] = [];
    const started = performance.now();
    const sampler = setInterval(() => {
      rss.push({
        t: (performance.now() - started) / 60_000,
        server: rssMiB(server.process.pid),
        agent: rssMiB(agent?.process.pid),
      });
    }, 5_000);
    const deadline = started + durationS * 1000;
    const body = randomBytes(4096);
    const loop = async (w: number) => {
      let s3: S3Client | undefined;
      for (let i = 0; performance.now() < deadline; i++) {
        const creds = await stats.agentCredentials.time(podCredentials);
        if (creds !== undefined) {
          // The SDK would reuse credentials until they near expiry; a fresh client every 50
          // iterations still exercises the agent on every one.
          if (s3 === undefined || i % 50 === 0) {
            s3 = new S3Client({ ...config, credentials: creds, forcePathStyle: true });
          }
        }
        await stats.stsGetCallerIdentity.time(() => sts.send(new GetCallerIdentityCommand({})));
        await stats.stsAssumeRole.time(() =>
          sts.send(new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: `soak-${w}` })),
        );
        if (s3 !== undefined) {
          const client = s3;
          const key = `w${w}/k${i % 100}`;
          await stats.s3PutObject.time(() =>
            client.send(new PutObjectCommand({ Bucket: 'soak', Key: key, Body: body })),
          );
          await stats.s3GetObject.time(async () => {
            const got = await client.send(new GetObjectCommand({ Bucket: 'soak', Key: key }));
            await got.Body?.transformToByteArray();
          });
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, (_, w) => loop(w)));
    clearInterval(sampler);
    const seconds = (performance.now() - started) / 1000;
    await new Promise((r) => setTimeout(r, 300)); // the last read-only records are written
    const storeSize = await storeFigures(dataDir, values['database-url']);
    const warm = rss.filter((s) => s.t >= (seconds / 60) * 0.2);
    const report = {
      durationSeconds: round(seconds),
      concurrency,
      store: values['database-url'] ? 'postgres' : 'sqlite',
      calls: Object.fromEntries(Object.entries(stats).map(([k, s]) => [k, s.summary(seconds)])),
      rssMiB: {
        server: {
          first: round(rss[0]?.server ?? 0),
          last: round(rss.at(-1)?.server ?? 0),
          max: round(Math.max(...rss.map((s) => s.server))),
          slopePerMinute: round(slopePerMinute(warm.map((s) => ({ t: s.t, mib: s.server })))),
        },
        agent: {
          first: round(rss[0]?.agent ?? 0),
          last: round(rss.at(-1)?.agent ?? 0),
          max: round(Math.max(...rss.map((s) => s.agent))),
          slopePerMinute: round(slopePerMinute(warm.map((s) => ({ t: s.t, mib: s.agent })))),
        },
        samples: rss.length,
      },
      storeSize,
    };
    console.log(JSON.stringify(report, null, 2));
    if (values.out) writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  } finally {
    for (const child of [agent, server]) {
      if (child && child.process.exitCode === null) {
        child.process.kill('SIGTERM');
        await new Promise((r) => child.process.once('exit', r));
      }
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** How many audit records the run left, and what they take in the store (indexes included). */
async function storeFigures(
  dataDir: string,
  databaseUrl: string | undefined,
): Promise<{ auditRecords: number; storeBytes: number; bytesPerAuditRecord: number }> {
  let auditRecords: number;
  let storeBytes: number;
  if (databaseUrl === undefined) {
    // Read-only, beside the running server (WAL readers do not block it): the pages of the
    // audit table and its indexes.
    const db = new SqliteDatabase(join(dataDir, 'latchkey.db'), { readonly: true });
    try {
      auditRecords = (db.prepare('select count(*) as n from audit_events').get() as { n: number })
        .n;
      storeBytes = (
        db
          .prepare(
            `select sum(pgsize) as bytes from dbstat where name in
               (select name from sqlite_master where tbl_name = 'audit_events')`,
          )
          .get() as { bytes: number }
      ).bytes;
    } finally {
      db.close();
    }
  } else {
    const client = new pg.Client({ connectionString: databaseUrl });
    await client.connect();
    try {
      const { rows } = await client.query<{ n: string; bytes: string }>(
        "select count(*) as n, pg_total_relation_size('audit_events') as bytes from audit_events",
      );
      auditRecords = Number(rows[0]?.n ?? 0);
      storeBytes = Number(rows[0]?.bytes ?? 0);
    } finally {
      await client.end();
    }
  }
  return {
    auditRecords,
    storeBytes,
    bytesPerAuditRecord: auditRecords === 0 ? 0 : Math.round(storeBytes / auditRecords),
  };
}

/** The cluster, role, association, bucket and pod token the run uses. */
async function setUp(
  config: { endpoint: string; region: string; credentials: Profile; maxAttempts: number },
  admin: Profile,
): Promise<{ podToken: string; roleArn: string }> {
  const iam = new IAMClient(config);
  const eks = new EKSClient(config);
  await eks.send(
    new CreateClusterCommand({
      name: 'soak',
      roleArn: 'arn:aws:iam::000000000000:role/eks',
      resourcesVpcConfig: {},
    }),
  );
  const { Role } = await iam.send(
    new CreateRoleCommand({
      RoleName: 'soak-app',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:root' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'soak-app',
      PolicyName: 'bucket',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['s3:PutObject', 's3:GetObject'],
            Resource: 'arn:aws:s3:::soak/*',
          },
        ],
      }),
    }),
  );
  await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'soak',
      namespace: 'soak',
      serviceAccount: 'app',
      roleArn: Role?.Arn ?? '',
    }),
  );
  await new S3Client({ ...config, forcePathStyle: true }).send(
    new CreateBucketCommand({ Bucket: 'soak' }),
  );
  const minted = await signedJsonRequest(
    admin,
    'POST',
    '/_latchkey/api/clusters/soak/service-account-token',
    {
      namespace: 'soak',
      serviceAccount: 'app',
      audience: 'pods.eks.amazonaws.com',
      expirationSeconds: 86_400,
    },
  );
  if (minted.status !== 200) throw new Error(`token: ${JSON.stringify(minted.json)}`);
  return { podToken: String(minted.json.token), roleArn: Role?.Arn ?? '' };
}

// As a child: `soak.ts --serve <latchkey arguments>` runs the CLI (server or agent).
if (process.argv[2] === '--serve') {
  process.exitCode = await runCli([
    process.argv[0] ?? 'node',
    'latchkey',
    ...process.argv.slice(3),
  ]);
} else {
  await main();
}
