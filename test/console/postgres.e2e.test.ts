/**
 * The console and the access queries on PostgreSQL with two replicas: a session cookie made by
 * one replica opens on the other (sealed under the shared master key), a one-time link made by
 * one is redeemed (once) on the other, a sign-out on one ends the session on the other, and
 * both answer the same graph, lint and "why?".
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { setUpAccess, waitForDenials } from '../access/fixture.js';
import { consoleSignIn } from '../helpers/console.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let t: TestServer;
let second: RunningServer;
const secondDir = tempDir();

beforeAll(async () => {
  db = await createTestDatabase();
  t = await startTestServer({ databaseUrl: db.url });
  process.env.LATCHKEY_MASTER_KEY = readFileSync(`${t.dataDir}/master.key`, 'utf8').trim();
  try {
    second = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: secondDir.path,
      databaseUrl: db.url,
      logger: pino({ level: 'silent' }),
    });
  } finally {
    delete process.env.LATCHKEY_MASTER_KEY;
  }
  await setUpAccess(t.server.url, t.admin);
  await waitForDenials(t.admin, 3);
});

afterAll(async () => {
  await second?.close();
  await t.stop();
  secondDir.remove();
  await db.drop();
});

describe('on PostgreSQL, across replicas', () => {
  it('a session made by one replica opens on the other', async () => {
    const res = await consoleSignIn(t.server.url, t.admin.accessKeyId, t.admin.secretAccessKey);
    expect(res.status).toBe(303);
    const cookie = res.cookie ?? '';
    const get = async (path: string) => {
      const r = await fetch(`${second.url}/_latchkey/console/api/${path}`, { headers: { cookie } });
      return { status: r.status, json: (await r.json()) as Record<string, unknown> };
    };
    const me = await get('me');
    expect(me.json.arn).toBe('arn:aws:iam::000000000000:user/admin');
    const denials = (await get('decisions?denied=1')).json.decisions as { eventId: string }[];
    expect(denials.length).toBeGreaterThanOrEqual(3);
    const why = await get(`why?eventId=${denials[0]?.eventId ?? ''}`);
    expect(why.status).toBe(200);
    expect(why.json.explanation).toBeDefined();
  });

  it('a one-time link made by one replica signs in once, on the other', async () => {
    const link = (await t.server.consoleSignInUrl()) ?? '';
    const onSecond = link.replace(t.server.url, second.url);
    expect(onSecond.startsWith(second.url)).toBe(true);
    const first = await fetch(onSecond, { redirect: 'manual' });
    expect(first.status).toBe(303);
    const cookie = (first.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const me = await fetch(`${t.server.url}/_latchkey/console/api/me`, { headers: { cookie } });
    expect(me.status).toBe(200);
    // Used up everywhere: on the replica that made it too.
    expect((await fetch(link, { redirect: 'manual' })).status).toBe(401);
    expect((await fetch(onSecond, { redirect: 'manual' })).status).toBe(401);
  });

  it('a sign-out on one replica ends the session on the other', async () => {
    const res = await consoleSignIn(t.server.url, t.admin.accessKeyId, t.admin.secretAccessKey);
    const cookie = res.cookie ?? '';
    const me = () => fetch(`${second.url}/_latchkey/console/api/me`, { headers: { cookie } });
    expect((await me()).status).toBe(200);
    const out = await fetch(`${t.server.url}/_latchkey/console/sign-out`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie, origin: t.server.url },
    });
    expect(out.status).toBe(303);
    expect((await me()).status).toBe(401);
  });

  it('both replicas answer lint and who-can the same', async () => {
    const onFirst = await signedJsonRequest(t.admin, 'GET', '/_latchkey/api/access/lint');
    const onSecond = await signedJsonRequest(
      { ...t.admin, endpointUrl: second.url },
      'GET',
      '/_latchkey/api/access/lint',
    );
    expect(onFirst.status).toBe(200);
    expect(onSecond.json.findings).toEqual(onFirst.json.findings);
    const who = await signedJsonRequest(
      { ...t.admin, endpointUrl: second.url },
      'POST',
      '/_latchkey/api/access/who-can',
      { action: 's3:PutObject', resource: 'arn:aws:s3:::uploads/a' },
    );
    const principals = who.json.principals as { serviceAccount?: string }[];
    expect(principals.some((p) => p.serviceAccount === 'frontend')).toBe(true);
  });
});
