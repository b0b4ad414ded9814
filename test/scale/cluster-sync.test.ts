/**
 * The cluster sync on its own, on a real PostgreSQL: messages reach the other replicas (not the
 * sender), junk on the channel is ignored, a bound bucket cache drops the bucket named, and a
 * listener whose connection is killed comes back by itself and asks for a resync (which drops
 * every cached bucket).
 */
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bindBucketCache,
  LocalClusterSync,
  openClusterSync,
  SYNC_CHANNEL,
  type ClusterSync,
  type SyncTopic,
} from '../../src/cluster-sync/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { ADMIN_URL, createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

let db: Awaited<ReturnType<typeof createTestDatabase>>;
let store: Store;
let a: ClusterSync;
let b: ClusterSync;
const dir = tempDir();
const logger = pino({ level: 'silent' });
const heard: { who: string; topic: SyncTopic; key: string | undefined }[] = [];
const resyncs: string[] = [];
/** What each replica's bucket cache was told to drop (`*` for everything). */
const forgotten: { who: string; bucket: string }[] = [];

function listen(who: string, sync: ClusterSync): void {
  for (const topic of ['iam', 'revocations', 'sealing-keys', 'buckets'] as const) {
    sync.on(topic, (key) => heard.push({ who, topic, key }));
  }
  sync.onResync(() => resyncs.push(who));
  bindBucketCache(sync, {
    forgetBucket: (name) => forgotten.push({ who, bucket: name ?? '*' }),
  });
}

async function until(probe: () => boolean, limitMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!probe()) {
    if (Date.now() - t0 > limitMs) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  store = await openStore({ dataDir: dir.path, databaseUrl: db.url });
  a = await openClusterSync({ databaseUrl: db.url, db: store.db, logger });
  b = await openClusterSync({ databaseUrl: db.url, db: store.db, logger });
  listen('a', a);
  listen('b', b);
});
afterAll(async () => {
  await a?.close();
  await b?.close();
  await store?.close();
  await db?.drop();
  dir.remove();
});

describe('cluster sync', () => {
  it('is LISTEN/NOTIFY on PostgreSQL and nothing on SQLite', async () => {
    expect(a.mode).toBe('postgres');
    expect(a.listening && b.listening).toBe(true);
    const local = await openClusterSync({ db: store.db, logger });
    expect(local).toBeInstanceOf(LocalClusterSync);
    expect(local.listening).toBe(false);
    await local.publish('iam');
  });

  it('delivers a message to the other replicas, not to its sender', async () => {
    heard.length = 0;
    await a.publish('revocations', 'role:arn:aws:iam::000000000000:role/x');
    await until(() => heard.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(heard).toEqual([
      { who: 'b', topic: 'revocations', key: 'role:arn:aws:iam::000000000000:role/x' },
    ]);
  });

  it("drops the bucket named in another replica's message from a bound bucket cache", async () => {
    forgotten.length = 0;
    await a.publish('buckets', 'photos');
    await until(() => forgotten.length > 0);
    await new Promise((r) => setTimeout(r, 100));
    expect(forgotten).toEqual([{ who: 'b', bucket: 'photos' }]);
  });

  it('ignores junk and unknown topics on the channel', async () => {
    heard.length = 0;
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      for (const payload of ['not json', '42', '{"s":"x","t":"drop-tables"}', '{"t":1}']) {
        await client.query('select pg_notify($1, $2)', [SYNC_CHANNEL, payload]);
      }
      await client.query('select pg_notify($1, $2)', [
        SYNC_CHANNEL,
        JSON.stringify({ s: 'someone', t: 'iam' }),
      ]);
    } finally {
      await client.end();
    }
    await until(() => heard.length >= 2);
    expect(heard.map((h) => `${h.who}:${h.topic}`).sort()).toEqual(['a:iam', 'b:iam']);
  });

  it('reconnects a killed listener by itself, resyncs, and hears again', async () => {
    resyncs.length = 0;
    forgotten.length = 0;
    const admin = new pg.Client({ connectionString: ADMIN_URL });
    await admin.connect();
    try {
      const killed = await admin.query(
        `select pg_terminate_backend(pid) from pg_stat_activity
         where datname = $1 and query = $2`,
        [new URL(db.url).pathname.slice(1), `LISTEN ${SYNC_CHANNEL}`],
      );
      expect(killed.rowCount).toBe(2);
    } finally {
      await admin.end();
    }
    await until(() => resyncs.length === 2 && a.listening && b.listening);
    // Messages may have been missed meanwhile: every cached bucket goes.
    expect(forgotten.map((f) => `${f.who}:${f.bucket}`).sort()).toEqual(['a:*', 'b:*']);
    heard.length = 0;
    await b.publish('sealing-keys');
    await until(() => heard.length > 0);
    expect(heard).toEqual([{ who: 'a', topic: 'sealing-keys', key: undefined }]);
  });
});
