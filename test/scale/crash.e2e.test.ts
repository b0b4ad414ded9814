/**
 * `kill -9` of a server process while it writes roles, S3 objects and audit records, on SQLite
 * and on PostgreSQL. After a restart: every write that was acknowledged is there, with its audit
 * record; nothing half-written is visible (every role and object present is whole, and every
 * change has its audit record); the SQLite file passes its integrity check.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  paginateListRoles,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../src/profiles/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { spawnServer, type ChildServer } from './helpers/child-server.js';

/** The writers run at least this long, and until this many objects are acknowledged, before the kill. */
const MIN_WRITE_MS = 1_500;
const MIN_ACKED = 15;
const MAX_WRITE_MS = 15_000;
const WRITERS = 4;

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

/** The body of object `key`: derived from the key, 1–192 KiB, so any object can be checked whole. */
function bodyOf(key: string): Buffer {
  const seed = createHash('sha256').update(key).digest();
  const size = 1024 + (seed.readUInt32BE(0) % (191 * 1024));
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i += seed.length) seed.copy(out, i);
  return out;
}

const clients = (server: ChildServer, admin: Profile) => {
  const config = {
    endpoint: server.url,
    region: 'us-east-1',
    credentials: admin,
    maxAttempts: 1,
  };
  return { iam: new IAMClient(config), s3: new S3Client({ ...config, forcePathStyle: true }) };
};

interface Acked {
  roles: Set<string>;
  objects: Set<string>;
}

/** Writes roles and objects from several loops until the server dies; what was acknowledged. */
async function writeUntilKilled(server: ChildServer, admin: Profile): Promise<Acked> {
  const { iam, s3 } = clients(server, admin);
  const acked: Acked = { roles: new Set(), objects: new Set() };
  const run = randomBytes(3).toString('hex');
  const loop = async (w: number) => {
    for (let i = 0; ; i++) {
      const name = `r-${run}-${w}-${i}`;
      try {
        await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: TRUST }));
        acked.roles.add(name);
        await s3.send(new PutObjectCommand({ Bucket: 'crash', Key: name, Body: bodyOf(name) }));
        acked.objects.add(name);
      } catch {
        return; // the server is gone
      }
    }
  };
  const loops = Array.from({ length: WRITERS }, (_, w) => loop(w));
  // Kill mid-stream, once enough has been acknowledged to mean something (a loaded machine
  // writes slower), within a bounded time.
  const t0 = performance.now();
  while (
    performance.now() - t0 < MAX_WRITE_MS &&
    (performance.now() - t0 < MIN_WRITE_MS || acked.objects.size < MIN_ACKED)
  ) {
    await new Promise((r) => setTimeout(r, 20));
  }
  await server.kill9();
  await Promise.all(loops);
  return acked;
}

async function checkAfterRestart(server: ChildServer, admin: Profile, acked: Acked) {
  const { iam, s3 } = clients(server, admin);
  const roles = new Set<string>();
  for await (const page of paginateListRoles({ client: iam }, {})) {
    for (const r of page.Roles ?? []) roles.add(r.RoleName ?? '');
  }
  // Nothing acknowledged is lost.
  for (const name of acked.roles) expect(roles.has(name), `role ${name}`).toBe(true);
  // Every role present is whole (a write that was not acknowledged may or may not be there).
  for (const name of roles) {
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: name }));
    expect(decodeURIComponent(Role?.AssumeRolePolicyDocument ?? '')).toBe(TRUST);
  }
  const objects = new Set<string>();
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: 'crash' })) {
    for (const o of page.Contents ?? []) objects.add(o.Key ?? '');
  }
  for (const key of acked.objects) expect(objects.has(key), `object ${key}`).toBe(true);
  for (const key of objects) {
    const got = await s3.send(new GetObjectCommand({ Bucket: 'crash', Key: key }));
    const bytes = Buffer.from(await got.Body!.transformToByteArray());
    expect(bytes.equals(bodyOf(key)), `object ${key} is whole`).toBe(true);
  }
  return roles;
}

/** Every acknowledged CreateRole has its complete audit record; every role present has one. */
async function checkAudit(store: Store, acked: Acked, present: Set<string>) {
  const rows = await store.db
    .selectFrom('audit_events')
    .select(['status', 'error_code', 'record'])
    .where('event_name', '=', 'CreateRole')
    .execute();
  const byRole = new Map<string, { status: string; error: string | null }[]>();
  for (const row of rows) {
    const record = JSON.parse(row.record) as { requestParameters?: { roleName?: string } };
    const name = record.requestParameters?.roleName ?? '';
    byRole.set(name, [...(byRole.get(name) ?? []), { status: row.status, error: row.error_code }]);
  }
  for (const name of acked.roles) {
    expect(byRole.get(name), `audit record of ${name}`).toEqual([
      { status: 'complete', error: null },
    ]);
  }
  // No change without its record: a role whose call was cut short has at least its pending one.
  for (const name of present) expect(byRole.has(name), `audit record of ${name}`).toBe(true);
}

const engines = [
  {
    name: 'SQLite',
    async setup() {
      return { databaseUrl: undefined, masterKey: undefined, drop: async () => {} };
    },
  },
  {
    name: 'PostgreSQL',
    async setup() {
      const db = await createTestDatabase();
      return { databaseUrl: db.url, masterKey: randomBytes(32).toString('base64'), drop: db.drop };
    },
  },
];

for (const engine of engines) {
  describe(`kill -9 on ${engine.name}`, () => {
    const dir = tempDir();
    let drop: () => Promise<void> = async () => {};
    afterAll(async () => {
      await drop();
      dir.remove();
    });

    it('loses nothing acknowledged and shows nothing half-written', async () => {
      const env = await engine.setup();
      drop = env.drop;
      const options = {
        dataDir: dir.path,
        ...(env.databaseUrl ? { databaseUrl: env.databaseUrl } : {}),
        ...(env.masterKey ? { masterKey: env.masterKey } : {}),
      };
      const first = await spawnServer(options);
      const admin = first.admin();
      await clients(first, admin).s3.send(new CreateBucketCommand({ Bucket: 'crash' }));
      const acked = await writeUntilKilled(first, admin);
      // The writers got somewhere before the kill.
      expect(acked.roles.size).toBeGreaterThanOrEqual(MIN_ACKED);
      expect(acked.objects.size).toBeGreaterThanOrEqual(MIN_ACKED);

      const second = await spawnServer(options);
      let present = new Set<string>();
      try {
        present = await checkAfterRestart(second, second.admin(), acked);
        expect(present.size).toBeGreaterThanOrEqual(acked.roles.size);
      } finally {
        await second.stop();
      }
      console.info(
        `kill -9 on ${engine.name}: ${acked.roles.size} roles and ${acked.objects.size} objects ` +
          `acknowledged before the kill, all present after restart; ${present.size} roles present`,
      );
      const store = await openStore(options);
      try {
        await checkAudit(store, acked, present);
        if (store.engine === 'sqlite') {
          const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(
            store.db,
          );
          expect(check.rows).toEqual([{ integrity_check: 'ok' }]);
        }
      } finally {
        await store.close();
      }
    });
  });
}
