/**
 * Per-account request limits: the token bucket itself, then a real server with a small limit,
 * called by AWS SDK v3 clients (no retries) — each protocol answers with AWS's throttling error.
 */
import { EKSClient, ListClustersCommand } from '@aws-sdk/client-eks';
import { IAMClient, ListUsersCommand } from '@aws-sdk/client-iam';
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { parseRequestLimit, RequestThrottle } from '../../src/throttle/index.js';
import { tempDir } from '../helpers/tmp.js';
import { runLatchkey } from './helpers/child-server.js';

describe('RequestThrottle', () => {
  it('allows a burst, then the refill rate, per account and service', () => {
    let now = 0;
    const t = new RequestThrottle({ ratePerSecond: 2, burst: 3 }, () => now);
    expect([1, 2, 3, 4].map(() => t.admit('a', 'sts'))).toEqual([true, true, true, false]);
    // Other accounts and other services have their own buckets.
    expect(t.admit('b', 'sts')).toBe(true);
    expect(t.admit('a', 'iam')).toBe(true);
    now += 499;
    expect(t.admit('a', 'sts')).toBe(false);
    now += 1; // 0.5 s at 2/s: one token
    expect(t.admit('a', 'sts')).toBe(true);
    expect(t.admit('a', 'sts')).toBe(false);
    // Never more than the burst, however long the account was idle.
    now += 3_600_000;
    expect([1, 2, 3, 4].map(() => t.admit('a', 'sts'))).toEqual([true, true, true, false]);
  });

  it('rejects nonsense limits, and parses the CLI form', () => {
    expect(() => new RequestThrottle({ ratePerSecond: 0 })).toThrow(RangeError);
    expect(() => new RequestThrottle({ ratePerSecond: Number.NaN })).toThrow(RangeError);
    expect(() => new RequestThrottle({ ratePerSecond: 1, burst: 0 })).toThrow(RangeError);
    expect(parseRequestLimit('50')).toEqual({ ratePerSecond: 50 });
    expect(parseRequestLimit('0.5:10')).toEqual({ ratePerSecond: 0.5, burst: 10 });
    for (const bad of ['', '0', '-1', 'x', '5:0', '5:', '5:2:1']) {
      expect(() => parseRequestLimit(bad)).toThrow(RangeError);
    }
  });

  it('`latchkey server --request-limit` refuses a bad value before starting', async () => {
    const r = await runLatchkey(['server', '--request-limit', '0', '--data-dir', '/nonexistent']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--request-limit takes RATE or RATE:BURST');
  });

  it('stays bounded with very many accounts', () => {
    let now = 0;
    const t = new RequestThrottle({ ratePerSecond: 1000, burst: 1 }, () => now);
    for (let i = 0; i < 250_000; i++) {
      t.admit(String(i), 's3');
      now += 0.01;
    }
    expect(t.size).toBeLessThanOrEqual(100_000);
  });
});

describe('a server with a request limit', () => {
  const dir = tempDir();
  let server: RunningServer;
  let admin: Profile;
  // 1 request per second, bursts of 3: each client's 4th call in a row is refused.
  const BURST = 3;

  beforeAll(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir.path,
      logger: pino({ level: 'silent' }),
      requestLimit: { ratePerSecond: 1, burst: BURST },
    });
    admin = readProfile(dir.path, 'latchkey') as Profile;
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  const config = () => ({
    endpoint: server.url,
    region: 'us-east-1',
    credentials: admin,
    maxAttempts: 1,
  });

  /** Sends `call` until it fails; how many succeeded and the error it failed with. */
  async function untilThrottled(call: () => Promise<unknown>) {
    let ok = 0;
    for (let i = 0; i < BURST + 2; i++) {
      try {
        await call();
        ok++;
      } catch (err) {
        const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
        return { ok, name: e.name, status: e.$metadata?.httpStatusCode };
      }
    }
    return { ok, name: 'none', status: 200 };
  }

  it('answers STS with Throttling (HTTP 400) past the burst, then refills', async () => {
    const sts = new STSClient(config());
    const call = () => sts.send(new GetCallerIdentityCommand({}));
    expect(await untilThrottled(call)).toEqual({ ok: BURST, name: 'Throttling', status: 400 });
    await new Promise((r) => setTimeout(r, 1_100));
    await expect(call()).resolves.toBeDefined();
    await expect(call()).rejects.toMatchObject({ name: 'Throttling' });
  });

  it('answers IAM with Throttling; each service has its own bucket', async () => {
    const iam = new IAMClient(config());
    expect(await untilThrottled(() => iam.send(new ListUsersCommand({})))).toEqual({
      ok: BURST,
      name: 'Throttling',
      status: 400,
    });
  });

  it('answers REST-JSON (EKS) with ThrottlingException (HTTP 429)', async () => {
    const eks = new EKSClient(config());
    expect(await untilThrottled(() => eks.send(new ListClustersCommand({})))).toEqual({
      ok: BURST,
      name: 'ThrottlingException',
      status: 429,
    });
  });

  it('answers EKS Auth with ThrottlingException (HTTP 429), before the token is even read', async () => {
    const statuses: number[] = [];
    let last: Record<string, unknown> = {};
    for (let i = 0; i <= BURST; i++) {
      const r = await signedJsonRequest(
        { ...admin, endpointUrl: server.url },
        'POST',
        '/clusters/none/assume-role-for-pod-identity',
        { token: 'not-a-token' },
        'eks-auth',
      );
      statuses.push(r.status);
      last = r.json;
    }
    expect(statuses.slice(0, BURST).every((s) => s !== 429)).toBe(true);
    expect(statuses[BURST]).toBe(429);
    expect(JSON.stringify(last)).toContain('ThrottlingException');
  });

  it('answers S3 with SlowDown (HTTP 503)', async () => {
    const s3 = new S3Client({ ...config(), forcePathStyle: true });
    expect(await untilThrottled(() => s3.send(new ListBucketsCommand({})))).toEqual({
      ok: BURST,
      name: 'SlowDown',
      status: 503,
    });
  });

  it('limits each account on its own: another account is not throttled', async () => {
    // The accounts API is the `latchkey` service: its own bucket for account 000000000000.
    const created = await signedJsonRequest(
      { ...admin, endpointUrl: server.url },
      'POST',
      '/_latchkey/api/accounts',
      { accountId: '222233334444' },
    );
    expect(created.status).toBe(200);
    const other = {
      accessKeyId: String(created.json.accessKeyId),
      secretAccessKey: String(created.json.secretAccessKey),
    };
    // Account 000000000000 is out of STS requests (above); 222233334444 has its own burst.
    const sts = new STSClient({ ...config(), credentials: other });
    expect(await untilThrottled(() => sts.send(new GetCallerIdentityCommand({})))).toEqual({
      ok: BURST,
      name: 'Throttling',
      status: 400,
    });
  });

  it('writes no audit record for a throttled call', async () => {
    const rows = await server.store.db.selectFrom('audit_events').select('record').execute();
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.record.includes('"Throttling'))).toEqual([]);
  });
});
