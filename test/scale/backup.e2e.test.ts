/**
 * The backup and restore procedures of docs/operations.md, as written there, while the server
 * keeps running: SQLite with the `sqlite3` shell's online `.backup`, PostgreSQL with `pg_dump` and
 * `pg_restore`; the master key and the objects directory copied beside. A server started on the
 * restored copy serves what was there: users and their keys, roles, objects.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import type { Profile } from '../../src/profiles/index.js';
import { ADMIN_URL, createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { spawnServer, type ChildServer } from './helpers/child-server.js';

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

const clients = (server: ChildServer, admin: Profile) => {
  const config = { endpoint: server.url, region: 'us-east-1', credentials: admin, maxAttempts: 1 };
  return {
    iam: new IAMClient(config),
    sts: new STSClient(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
  };
};

async function populate(server: ChildServer, admin: Profile): Promise<void> {
  const { iam, s3 } = clients(server, admin);
  await iam.send(new CreateRoleCommand({ RoleName: 'kept', AssumeRolePolicyDocument: TRUST }));
  await s3.send(new CreateBucketCommand({ Bucket: 'kept' }));
  await s3.send(new PutObjectCommand({ Bucket: 'kept', Key: 'a.txt', Body: 'backed up' }));
}

/** Writes that keep going while the backup is taken (the server is not paused). */
function keepWriting(server: ChildServer, admin: Profile): () => Promise<void> {
  const { iam } = clients(server, admin);
  let stop = false;
  const loop = (async () => {
    for (let i = 0; !stop; i++) {
      await iam
        .send(new CreateRoleCommand({ RoleName: `during-${i}`, AssumeRolePolicyDocument: TRUST }))
        .catch(() => {});
    }
  })();
  return async () => {
    stop = true;
    await loop;
  };
}

async function checkRestored(server: ChildServer, admin: Profile): Promise<void> {
  const { iam, sts, s3 } = clients(server, admin);
  expect((await sts.send(new GetCallerIdentityCommand({}))).Arn).toBe(
    'arn:aws:iam::000000000000:user/admin',
  );
  expect((await iam.send(new GetRoleCommand({ RoleName: 'kept' }))).Role?.RoleName).toBe('kept');
  const got = await s3.send(new GetObjectCommand({ Bucket: 'kept', Key: 'a.txt' }));
  expect(await got.Body?.transformToString()).toBe('backed up');
}

describe('backup and restore, online', () => {
  const dirs: { remove: () => void }[] = [];
  const drops: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const drop of drops) await drop();
    for (const d of dirs) d.remove();
  });

  it('SQLite: sqlite3 .backup, the master key and the objects directory', async () => {
    const live = tempDir();
    const backup = tempDir();
    dirs.push(live, backup);
    const server = await spawnServer({ dataDir: live.path });
    const admin = server.admin();
    try {
      await populate(server, admin);
      const stopWriting = keepWriting(server, admin);
      try {
        // 1. the objects (blobs are immutable files), 2. the database, online, 3. the objects
        // again (blobs written meanwhile), 4. the master key and the profile files.
        cpSync(join(live.path, 'objects'), join(backup.path, 'objects'), { recursive: true });
        execFileSync('sqlite3', [
          join(live.path, 'latchkey.db'),
          `.backup '${join(backup.path, 'latchkey.db')}'`,
        ]);
        cpSync(join(live.path, 'objects'), join(backup.path, 'objects'), { recursive: true });
        cpSync(join(live.path, 'master.key'), join(backup.path, 'master.key'));
        cpSync(join(live.path, 'aws'), join(backup.path, 'aws'), { recursive: true });
      } finally {
        await stopWriting();
      }
    } finally {
      await server.stop();
    }
    const restored = await spawnServer({ dataDir: backup.path });
    try {
      await checkRestored(restored, restored.admin());
    } finally {
      await restored.stop();
    }
  });

  it('PostgreSQL: pg_dump and pg_restore, the same master key, the objects directory', async () => {
    const source = await createTestDatabase();
    drops.push(source.drop);
    const live = tempDir();
    const backup = tempDir();
    dirs.push(live, backup);
    const masterKey = randomBytes(32).toString('base64');
    const dump = join(backup.path, 'latchkey.dump');
    const server = await spawnServer({ dataDir: live.path, databaseUrl: source.url, masterKey });
    const admin = server.admin();
    try {
      await populate(server, admin);
      const stopWriting = keepWriting(server, admin);
      try {
        cpSync(join(live.path, 'objects'), join(backup.path, 'objects'), { recursive: true });
        execFileSync('pg_dump', ['--format=custom', '--file', dump, source.url]);
        cpSync(join(live.path, 'objects'), join(backup.path, 'objects'), { recursive: true });
      } finally {
        await stopWriting();
      }
    } finally {
      await server.stop();
    }
    // Restore into a new, empty database.
    const name = `latchkey_restore_${randomBytes(4).toString('hex')}`;
    const adminClient = new pg.Client({ connectionString: ADMIN_URL });
    await adminClient.connect();
    await adminClient.query(`CREATE DATABASE ${name}`);
    await adminClient.end();
    const target = new URL(ADMIN_URL);
    target.pathname = `/${name}`;
    drops.push(async () => {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    });
    execFileSync('pg_restore', ['--no-owner', '--dbname', target.toString(), dump]);
    cpSync(join(live.path, 'aws'), join(backup.path, 'aws'), { recursive: true });
    const restored = await spawnServer({
      dataDir: backup.path,
      databaseUrl: target.toString(),
      masterKey,
    });
    try {
      await checkRestored(restored, restored.admin());
    } finally {
      await restored.stop();
    }
  });
});
