/**
 * PostgreSQL unavailable under load. The shared PostgreSQL cannot be restarted (other tests use
 * it), so the outage is a TCP proxy between this server and PostgreSQL, cut and restored: every
 * connection drops and new ones are refused, as when PostgreSQL restarts. While it is down,
 * calls fail with clear 503s (never a 500, never a hang); acknowledged writes are never lost;
 * once it is back the same server recovers by itself, including its LISTEN connection.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateUserCommand,
  GetUserCommand,
  IAMClient,
  paginateListUsers,
  PutUserPolicyCommand,
  DeleteUserPolicyCommand,
  CreateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

const OUTAGE_MS = 2_500;

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let proxy: TcpProxy;
let viaProxy: RunningServer;
let direct: RunningServer;
let admin: Profile;
const dirs = [tempDir(), tempDir()];
const masterKey = randomBytes(32).toString('base64');

async function replica(dir: string, databaseUrl: string): Promise<RunningServer> {
  process.env.LATCHKEY_MASTER_KEY = masterKey;
  try {
    return await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      databaseUrl,
      logger: pino({ level: 'silent' }),
    });
  } finally {
    delete process.env.LATCHKEY_MASTER_KEY;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  const target = new URL(db.url);
  proxy = await startTcpProxy(target.hostname, Number(target.port || 5432));
  const proxied = new URL(db.url);
  proxied.port = String(proxy.port);
  viaProxy = await replica(dirs[0]!.path, proxied.toString());
  // A second replica with its own, uninterrupted connection: it shows the first one's LISTEN
  // connection came back.
  direct = await replica(dirs[1]!.path, db.url);
  admin = readProfile(dirs[0]!.path, 'latchkey') as Profile;
});
afterAll(async () => {
  await Promise.all([viaProxy?.close(), direct?.close()]);
  await proxy?.close();
  for (const d of dirs) d.remove();
  await db?.drop();
});

interface Outcome {
  phase: 'before' | 'outage' | 'after';
  call: string;
  result: string;
  status: number | undefined;
  ms: number;
  /** Answered before the outage began. */
  endedBefore: boolean;
}

describe('PostgreSQL unavailable under load', () => {
  it('answers 503 while it is down, loses nothing acknowledged, and recovers by itself', async () => {
    const config = {
      endpoint: viaProxy.url,
      region: 'us-east-1',
      credentials: admin,
      maxAttempts: 1,
    };
    const iam = new IAMClient(config);
    const sts = new STSClient(config);
    const s3 = new S3Client({ ...config, forcePathStyle: true });
    await s3.send(new CreateBucketCommand({ Bucket: 'outage' }));

    let phase: Outcome['phase'] = 'before';
    let stop = false;
    const outcomes: Outcome[] = [];
    const ackedUsers: string[] = [];
    const attempt = async (call: string, work: () => Promise<unknown>) => {
      const t0 = performance.now();
      const at = phase;
      try {
        await work();
        outcomes.push({
          phase: at,
          call,
          result: 'ok',
          status: 200,
          ms: performance.now() - t0,
          endedBefore: phase === 'before',
        });
        return true;
      } catch (err) {
        const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
        outcomes.push({
          phase: at,
          call,
          result: e.name,
          status: e.$metadata?.httpStatusCode,
          ms: performance.now() - t0,
          endedBefore: phase === 'before',
        });
        return false;
      }
    };
    const loop = async (w: number) => {
      for (let i = 0; !stop; i++) {
        const name = `u-${w}-${i}`;
        if (
          await attempt('CreateUser', () => iam.send(new CreateUserCommand({ UserName: name })))
        ) {
          ackedUsers.push(name);
        }
        await attempt('GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
        await attempt('PutObject', () =>
          s3.send(new PutObjectCommand({ Bucket: 'outage', Key: name, Body: name })),
        );
        if (phase === 'outage') await new Promise((r) => setTimeout(r, 20));
      }
    };
    const loops = [0, 1, 2].map(loop);
    await new Promise((r) => setTimeout(r, 800));
    phase = 'outage';
    await proxy.cut();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await proxy.restore();
    phase = 'after';
    const restoredAt = performance.now();
    // Recovery: the first write that succeeds after PostgreSQL is back.
    let recoveredMs = Infinity;
    while (performance.now() - restoredAt < 15_000) {
      if (
        outcomes.some((o) => o.phase === 'after' && o.call === 'CreateUser' && o.result === 'ok')
      ) {
        recoveredMs = performance.now() - restoredAt;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(loops);

    const during = outcomes.filter((o) => o.phase === 'outage');
    const failures = outcomes.filter((o) => o.result !== 'ok');
    // It really was down, and every failure was a clear, retryable 503 — no 500, no reset.
    expect(during.filter((o) => o.result !== 'ok').length).toBeGreaterThan(10);
    for (const f of failures) {
      expect(`${f.call}: ${f.result} ${f.status}`).toMatch(/: ServiceUnavailable 503$/);
    }
    // No call hung on the dead database.
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(6_000);
    // Writes work again within seconds, without restarting Latchkey.
    expect(recoveredMs).toBeLessThan(10_000);
    // Calls made and answered before the cut all succeeded.
    expect(
      outcomes.filter((o) => o.phase === 'before' && o.result !== 'ok' && o.endedBefore),
    ).toEqual([]);

    // Nothing acknowledged was lost: read through the replica that was never cut off.
    const directIam = new IAMClient({ ...config, endpoint: direct.url });
    const users = new Set<string>();
    for await (const page of paginateListUsers({ client: directIam }, {})) {
      for (const u of page.Users ?? []) users.add(u.UserName ?? '');
    }
    for (const name of ackedUsers) expect(users.has(name), name).toBe(true);
    expect(ackedUsers.length).toBeGreaterThan(5);

    // The cut replica's LISTEN connection is back: a change made through the other replica
    // reaches it well inside its 1 s policy cache bound.
    await directIam.send(new CreateUserCommand({ UserName: 'after-outage' }));
    await directIam.send(
      new PutUserPolicyCommand({
        UserName: 'after-outage',
        PolicyName: 'p',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 'iam:GetUser', Resource: '*' }],
        }),
      }),
    );
    const { AccessKey } = await directIam.send(
      new CreateAccessKeyCommand({ UserName: 'after-outage' }),
    );
    const user = new IAMClient({
      ...config,
      credentials: {
        accessKeyId: AccessKey?.AccessKeyId ?? '',
        secretAccessKey: AccessKey?.SecretAccessKey ?? '',
      },
    });
    await user.send(new GetUserCommand({}));
    await directIam.send(
      new DeleteUserPolicyCommand({ UserName: 'after-outage', PolicyName: 'p' }),
    );
    const t0 = performance.now();
    let deniedMs = Infinity;
    while (performance.now() - t0 < 3_000) {
      const denied = await user.send(new GetUserCommand({})).then(
        () => false,
        () => true,
      );
      if (denied) {
        deniedMs = performance.now() - t0;
        break;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    expect(deniedMs).toBeLessThan(400);
    const counts = (p: Outcome['phase']) => {
      const of = outcomes.filter((o) => o.phase === p);
      return `${of.filter((o) => o.result === 'ok').length}/${of.length} ok`;
    };
    console.info(
      `PostgreSQL outage: before ${counts('before')}, during ${counts('outage')}, after ` +
        `${counts('after')}; writes recovered ${Math.round(recoveredMs)} ms after restore; ` +
        `slowest call ${Math.round(Math.max(...outcomes.map((o) => o.ms)))} ms; ` +
        `${ackedUsers.length} acknowledged users all present`,
    );
  });
});
