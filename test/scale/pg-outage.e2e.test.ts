/**
 * PostgreSQL restarted under load. A private PostgreSQL cluster (its own `initdb`, port and
 * directory, `fsync` on) serves two `latchkey server` processes sharing one data directory;
 * four loops drive IAM writes (CreateRole, PutRolePolicy), STS (AssumeRole, GetCallerIdentity)
 * and S3 PutObject through AWS SDK v3 clients while PostgreSQL is restarted three ways: `pg_ctl
 * restart -m fast`, `pg_ctl restart -m immediate` (a crash: recovery from the WAL), and an
 * immediate stop held down for two seconds (connections refused meanwhile) before a start.
 *
 * Each time: every failed call is a clear `ServiceUnavailable` 503 — never a 500, a reset or a
 * hang; the same server processes answer again within a bounded time, their LISTEN connections
 * come back (a change through one replica reaches the other in milliseconds); and, cumulatively,
 * every write acknowledged before, during and after is there, with its audit record, while
 * nothing half-written is visible (every object listed reads back whole, no object row without
 * its blob, no blob without its row, no temporary file left).
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteUserPolicyCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  IAMClient,
  paginateListRoles,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../src/profiles/index.js';
import { openStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';
import { spawnServer, type ChildServer } from './helpers/child-server.js';
import {
  privatePostgresUnavailable,
  startPrivatePostgres,
  type PrivatePostgres,
} from './helpers/private-postgres.js';

/** Load runs this long before each restart and at least this long after PostgreSQL is back. */
const LOAD_BEFORE_MS = 800;
const LOAD_AFTER_MS = 1_200;
/** The crash case keeps PostgreSQL down this long. */
const HELD_DOWN_MS = 2_000;
const LOOPS = 4;
/** Bounds asserted: no call takes longer; the servers answer writes again within this. */
const MAX_CALL_MS = 6_000;
const MAX_RECOVERY_MS = 5_000;

const ACCOUNT = '000000000000';
const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` },
      Action: 'sts:AssumeRole',
    },
  ],
});

/** A role's inline policy, derived from its name so any one can be checked whole. */
function policyOf(role: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::load/${role}` }],
  });
}

/** An object's body, derived from its key, 1–32 KiB. */
function bodyOf(key: string): Buffer {
  const seed = createHash('sha256').update(key).digest();
  const size = 1024 + (seed.readUInt32BE(0) % (31 * 1024));
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  return out;
}

interface Outcome {
  call: string;
  /** `ok`, or the error's name and HTTP status. */
  result: string;
  /** Wall-clock milliseconds ({@link now}) at the call's start and end. */
  start: number;
  end: number;
}

/** One case's load: every call, and when `pg_ctl` was called and returned. */
interface Run {
  outcomes: Outcome[];
  downAt: number;
  backAt: number;
}

/** Calls that write to the store. */
const WRITES = new Set(['CreateRole', 'PutRolePolicy', 'PutObject', 'AssumeRole']);

/** What was acknowledged (2xx) over the whole file: checked after every restart. */
const acked = { roles: new Set<string>(), policies: new Set<string>(), objects: new Set<string>() };
/** Figures printed at the end. */
const figures: string[] = [];

const unavailable = privatePostgresUnavailable();
if (unavailable !== undefined) {
  console.warn(`SKIPPED PostgreSQL restart tests: ${unavailable}`);
}

describe.skipIf(unavailable !== undefined)('PostgreSQL restarted under load', () => {
  let pg: PrivatePostgres | undefined;
  let a: ChildServer | undefined;
  let b: ChildServer | undefined;
  let admin: Profile;
  // One data directory for both replicas: object bytes must be shared (docs/operations.md).
  const dir = tempDir();
  const masterKey = randomBytes(32).toString('base64');

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    const options = { dataDir: dir.path, databaseUrl: pg.url, masterKey };
    [a, b] = await Promise.all([spawnServer(options), spawnServer(options)]);
    admin = a.admin();
    const s3 = new S3Client({ ...config(a.url), forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'load' }));
    await new IAMClient(config(a.url)).send(
      new CreateRoleCommand({ RoleName: 'worker', AssumeRolePolicyDocument: TRUST }),
    );
  });

  afterAll(async () => {
    console.info(`PostgreSQL restarts under load:\n  ${figures.join('\n  ')}`);
    // Whatever beforeAll got to; the private cluster goes even when a test failed.
    await Promise.all([stopQuietly(a), stopQuietly(b)]);
    await pg?.destroy();
    dir.remove();
  });

  function config(endpoint: string) {
    return { endpoint, region: 'us-east-1', credentials: admin, maxAttempts: 1 };
  }

  /**
   * Runs the load against both replicas, calls `outage` (which returns once PostgreSQL accepts
   * connections again), keeps the load going until writes have succeeded again and for
   * {@link LOAD_AFTER_MS} more, and returns every call's outcome.
   */
  async function underLoad(label: string, outage: () => Promise<void>): Promise<Run> {
    const outcomes: Outcome[] = [];
    let stop = false;
    const attempt = async (call: string, work: () => Promise<unknown>): Promise<boolean> => {
      const start = now();
      try {
        await work();
        outcomes.push({ call, result: 'ok', start, end: now() });
        return true;
      } catch (err) {
        const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
        const result = `${e.name ?? String(err)} ${e.$metadata?.httpStatusCode ?? 'no status'}`;
        outcomes.push({ call, result, start, end: now() });
        return false;
      }
    };
    const loop = async (w: number) => {
      const server = w % 2 === 0 ? a! : b!;
      const iam = new IAMClient(config(server.url));
      const sts = new STSClient(config(server.url));
      const s3 = new S3Client({ ...config(server.url), forcePathStyle: true });
      for (let i = 0; !stop; i++) {
        const name = `${label}-${w}-${i}`;
        let ok = await attempt('CreateRole', () =>
          iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST })),
        );
        if (ok) {
          acked.roles.add(name);
          ok = await attempt('PutRolePolicy', () =>
            iam.send(
              new PutRolePolicyCommand({
                RoleName: name,
                PolicyName: 'p',
                PolicyDocument: policyOf(name),
              }),
            ),
          );
          if (ok) acked.policies.add(name);
        }
        ok =
          (await attempt('AssumeRole', () =>
            sts.send(
              new AssumeRoleCommand({
                RoleArn: `arn:aws:iam::${ACCOUNT}:role/worker`,
                RoleSessionName: name,
              }),
            ),
          )) && ok;
        const put = await attempt('PutObject', () =>
          s3.send(new PutObjectCommand({ Bucket: 'load', Key: name, Body: bodyOf(name) })),
        );
        if (put) acked.objects.add(name);
        ok =
          (await attempt('GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})))) &&
          ok &&
          put;
        // A store that answers at once with 503 would otherwise be hammered.
        if (!ok) await sleep(10);
      }
    };
    const loops = Array.from({ length: LOOPS }, (_, w) => loop(w));
    await sleep(LOAD_BEFORE_MS);
    const downAt = now();
    let backAt = Infinity;
    try {
      await outage();
      backAt = now();
      // Until a write started after PostgreSQL was back has succeeded (bounded), then a while.
      while (
        now() - backAt < MAX_RECOVERY_MS &&
        !outcomes.some((o) => o.call === 'CreateRole' && o.result === 'ok' && o.start >= backAt)
      ) {
        await sleep(10);
      }
      await sleep(LOAD_AFTER_MS);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    return { outcomes, downAt, backAt };
  }

  /** The checks every case shares, and its figures. */
  async function checkAndReport(
    label: string,
    run: Run,
    options: { minFailures: number },
  ): Promise<void> {
    const { outcomes, downAt } = run;
    // When PostgreSQL itself says it went down and was ready again (its log, millisecond stamps).
    const { shutdownAt, readyAt } = outageInLog(pg!.log(), downAt);
    const failures = outcomes.filter((o) => o.result !== 'ok');
    // Every failure was a clear, retryable 503 (S3's ServiceUnavailable too) — no 500, no reset.
    expect(
      failures
        .map((f) => `${f.call}: ${f.result}`)
        .filter((r) => !/: ServiceUnavailable 503$/.test(r)),
    ).toEqual([]);
    expect(failures.length).toBeGreaterThanOrEqual(options.minFailures);
    // Nothing failed that ended before the restart began.
    expect(failures.filter((f) => f.end < downAt)).toEqual([]);
    // No call hung on the dead database.
    const slowest = Math.max(...outcomes.map((o) => o.end - o.start));
    expect(slowest).toBeLessThan(MAX_CALL_MS);
    // The same processes answer writes again, by themselves, within the bound …
    const firstWrite = outcomes
      .filter((o) => WRITES.has(o.call) && o.result === 'ok' && o.start >= readyAt)
      .reduce((min, o) => Math.min(min, o.end), Infinity);
    const recoveredMs = firstWrite - readyAt;
    expect(recoveredMs).toBeLessThan(MAX_RECOVERY_MS);
    // … and nothing fails once they have: every call started after that write succeeded.
    expect(failures.filter((f) => f.start > firstWrite)).toEqual([]);
    for (const s of [a!, b!]) expect(s.child.exitCode, 'the server kept running').toBeNull();
    const afterReady = failures.filter((f) => f.end > readyAt);
    const lastFailure = afterReady.reduce((max, f) => Math.max(max, f.end), readyAt);

    const reconnectMs = (await listenerReconnected(shutdownAt)) - readyAt;
    const propagation = await changeReachesOtherReplica(label.replace(/[^\w]+/g, '-'));
    await checkNothingLost();

    figures.push(
      `${label}: ${outcomes.length} calls, ${failures.length} × 503 ` +
        `(${countBy(failures.map((f) => f.call))}), every other call ok; PostgreSQL down ` +
        `${ms(readyAt - shutdownAt)} (its log: shutdown request → ready); ${afterReady.length} ` +
        `× 503 ended after it was ready, the last ${ms(lastFailure - readyAt)} after; first write ` +
        `ok ${ms(recoveredMs)} after ready; slowest call ${ms(slowest)}; LISTEN back ` +
        `${ms(reconnectMs)} after ready; a change via B honoured by A ${ms(propagation)} after ` +
        `B's answer; acknowledged so far ${acked.roles.size} roles, ${acked.policies.size} role ` +
        `policies, ${acked.objects.size} objects: all present and whole`,
    );
  }

  /**
   * Both replicas' LISTEN connections came back by themselves (each logs its reconnection):
   * when the later of the two did, after `since`.
   */
  async function listenerReconnected(since: number): Promise<number> {
    const reconnectedAt = (s: ChildServer) =>
      s
        .stdout()
        .split('\n')
        .filter((line) => line.includes('cache sync listener (re)connected'))
        .map((line) => (JSON.parse(line) as { time: number }).time)
        .filter((t) => t >= since)
        .reduce((min, t) => Math.min(min, t), Infinity);
    const t0 = now();
    while (now() - t0 < 8_000 && ![a!, b!].every((s) => reconnectedAt(s) < Infinity)) {
      await sleep(20);
    }
    const latest = Math.max(...[a!, b!].map(reconnectedAt));
    expect(latest, 'both LISTEN connections came back').toBeLessThan(Infinity);
    return latest;
  }

  /**
   * A policy removed through B is honoured by A well inside A's 1 s policy cache: only B's
   * message can make that happen, so A's LISTEN connection works again.
   */
  async function changeReachesOtherReplica(label: string): Promise<number> {
    const viaB = new IAMClient(config(b!.url));
    const user = `probe-${label}`;
    await viaB.send(new CreateUserCommand({ UserName: user }));
    await viaB.send(
      new PutUserPolicyCommand({
        UserName: user,
        PolicyName: 'p',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }],
        }),
      }),
    );
    const { AccessKey } = await viaB.send(new CreateAccessKeyCommand({ UserName: user }));
    const asUser = new IAMClient({
      ...config(a!.url),
      credentials: {
        accessKeyId: AccessKey?.AccessKeyId ?? '',
        secretAccessKey: AccessKey?.SecretAccessKey ?? '',
      },
    });
    const warmed = performance.now();
    await asUser.send(new GetUserCommand({}));
    await viaB.send(new DeleteUserPolicyCommand({ UserName: user, PolicyName: 'p' }));
    const acknowledged = performance.now();
    let denied = Infinity;
    while (performance.now() - acknowledged < 3_000) {
      const refused = await asUser.send(new GetUserCommand({})).then(
        () => false,
        () => true,
      );
      if (refused) {
        denied = performance.now();
        break;
      }
      await sleep(5);
    }
    expect(denied - warmed, 'before A’s own cache could expire').toBeLessThan(1_000);
    return denied - acknowledged;
  }

  /** Every acknowledged write is there, whole; nothing half-written is visible or left behind. */
  async function checkNothingLost(): Promise<void> {
    const iam = new IAMClient(config(a!.url));
    const s3 = new S3Client({ ...config(a!.url), forcePathStyle: true });
    const roles = new Set<string>();
    for await (const page of paginateListRoles({ client: iam }, {})) {
      for (const r of page.Roles ?? []) {
        roles.add(r.RoleName ?? '');
        // Every role present (acknowledged or not) is whole.
        expect(decodeURIComponent(r.AssumeRolePolicyDocument ?? ''), `role ${r.RoleName}`).toBe(
          TRUST,
        );
      }
    }
    for (const name of acked.roles) expect(roles.has(name), `role ${name}`).toBe(true);
    await inParallel([...acked.policies], async (name) => {
      const got = await iam.send(new GetRolePolicyCommand({ RoleName: name, PolicyName: 'p' }));
      expect(decodeURIComponent(got.PolicyDocument ?? ''), `policy of ${name}`).toBe(
        policyOf(name),
      );
    });
    const listed = new Map<string, number>();
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: 'load' })) {
      for (const o of page.Contents ?? []) listed.set(o.Key ?? '', o.Size ?? -1);
    }
    for (const key of acked.objects) expect(listed.has(key), `object ${key}`).toBe(true);
    // Every object listed (acknowledged or not) reads back whole.
    const unreadable: string[] = [];
    await inParallel([...listed.keys()], async (key) => {
      try {
        const got = await s3.send(new GetObjectCommand({ Bucket: 'load', Key: key }));
        const bytes = Buffer.from(await got.Body!.transformToByteArray());
        if (!bytes.equals(bodyOf(key)) || listed.get(key) !== bytes.length) {
          unreadable.push(`${key}: not whole`);
        }
      } catch (err) {
        unreadable.push(`${key}${acked.objects.has(key) ? ' (acknowledged)' : ''}: ${String(err)}`);
      }
    });

    // The store and the blob directory agree: no row without its blob, no blob without its row,
    // and every acknowledged CreateRole has its complete audit record.
    const store = await openStore({ dataDir: dir.path, databaseUrl: pg!.url });
    try {
      const rows = await store.db.selectFrom('s3_objects').select('blob').execute();
      const parts = await store.db.selectFrom('s3_parts').select('blob').execute();
      const referenced = new Set([...rows, ...parts].map((r) => r.blob));
      const onDisk = new Set(filesUnder(join(dir.path, 'objects', 'blobs')));
      expect(
        [...referenced].filter((blob) => !onDisk.has(blob)),
        'rows without blobs',
      ).toEqual([]);
      expect(
        [...onDisk].filter((blob) => !referenced.has(blob)),
        'blobs without rows',
      ).toEqual([]);
      expect(filesUnder(join(dir.path, 'objects', 'tmp')), 'temporary files').toEqual([]);
      expect(unreadable, 'objects listed that do not read back whole').toEqual([]);

      const audit = await store.db
        .selectFrom('audit_events')
        .select(['status', 'error_code', 'record'])
        .where('event_name', '=', 'CreateRole')
        .execute();
      const complete = new Set<string>();
      for (const row of audit) {
        const record = JSON.parse(row.record) as { requestParameters?: { roleName?: string } };
        if (row.status === 'complete' && row.error_code === null) {
          complete.add(record.requestParameters?.roleName ?? '');
        }
      }
      for (const name of acked.roles) expect(complete.has(name), `audit of ${name}`).toBe(true);
    } finally {
      await store.close();
    }
  }

  it('pg_ctl restart -m fast: 503s, then the same servers recover; nothing acknowledged lost', async () => {
    const run = await underLoad('fast', () => pg!.restart('fast'));
    await checkAndReport('restart -m fast', run, { minFailures: 1 });
  });

  it('pg_ctl restart -m immediate (crash recovery): the same', async () => {
    const run = await underLoad('immediate', () => pg!.restart('immediate'));
    await checkAndReport('restart -m immediate', run, { minFailures: 1 });
  });

  it(`crashed and held down ${HELD_DOWN_MS / 1000} s: 503s throughout, recovery, nothing lost`, async () => {
    const run = await underLoad('down', async () => {
      await pg!.stop('immediate');
      await sleep(HELD_DOWN_MS);
      await pg!.start();
    });
    await checkAndReport(`stop -m immediate, ${HELD_DOWN_MS / 1000} s down, start`, run, {
      minFailures: 10,
    });
  });
});

async function stopQuietly(server: ChildServer | undefined): Promise<void> {
  if (server === undefined || server.child.exitCode !== null) return;
  const timer = setTimeout(() => server.child.kill('SIGKILL'), 5_000);
  await server.stop();
  clearTimeout(timer);
}

/** Wall-clock milliseconds with sub-millisecond resolution (comparable with log stamps). */
function now(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * When PostgreSQL received its last shutdown request after `after` (less a second of clock
 * slack) and when it was last ready to accept connections, from its log's millisecond stamps.
 */
function outageInLog(log: string, after: number): { shutdownAt: number; readyAt: number } {
  const at = (pattern: RegExp) =>
    log
      .split('\n')
      .filter((line) => pattern.test(line))
      .map((line) => {
        const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) UTC/.exec(line);
        return m ? Date.parse(`${m[1]}T${m[2]}Z`) : NaN;
      })
      .filter((t) => t >= after - 1_000);
  const shutdownAt = Math.min(...at(/received (fast|immediate) shutdown request/));
  const readyAt = Math.max(...at(/database system is ready to accept connections/));
  expect(Number.isFinite(shutdownAt) && readyAt > shutdownAt, 'the restart is in the log').toBe(
    true,
  );
  return { shutdownAt, readyAt };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function ms(value: number): string {
  return Number.isFinite(value) ? `${Math.round(value)} ms` : 'never';
}

function countBy(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
}

/** Runs `work` over `items`, eight at a time. */
async function inParallel<T>(items: T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** File names (not paths) anywhere under `root`. */
function filesUnder(root: string): string[] {
  if (!existsSync(root)) return [];
  return readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}
