/**
 * The data directory's disk fills up (a small tmpfs; mounting one needs root, so the test is
 * skipped elsewhere). Writes fail with clear 503s — S3 objects and IAM changes alike — reads keep
 * working, nothing is corrupted, and once there is room again the same server writes again.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  paginateListObjectsV2,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { openStore } from '../../src/store/index.js';

const mountPoint = mkdtempSync(join(tmpdir(), 'latchkey-full-'));
const mounted = tryMount(mountPoint, '6m');
const dataDir = join(mountPoint, 'data');

function tryMount(path: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path], {
      stdio: 'ignore',
    });
    return true;
  } catch {
    return false;
  }
}

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
  ],
});

function objectBody(key: string, size: number): Buffer {
  return Buffer.alloc(size, key);
}

async function outcome(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}: ${e.message}`;
  }
}

describe.skipIf(!mounted)('the data directory runs out of space', () => {
  let server: RunningServer;
  let admin: Profile;
  let iam: IAMClient;
  let s3: S3Client;

  beforeAll(async () => {
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logger: pino({ level: 'silent' }),
    });
    admin = readProfile(dataDir, 'latchkey') as Profile;
    const config = {
      endpoint: server.url,
      region: 'us-east-1',
      credentials: admin,
      maxAttempts: 1,
    };
    iam = new IAMClient(config);
    s3 = new S3Client({ ...config, forcePathStyle: true });
  });
  afterAll(async () => {
    await server?.close();
    execFileSync('umount', [mountPoint]);
    rmSync(mountPoint, { recursive: true, force: true });
  });

  it('fails writes with clear 503s, keeps reads, corrupts nothing, and recovers', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'full' }));
    const ackedObjects = new Map<string, number>();
    const ackedRoles: string[] = [];
    for (let i = 0; i < 5; i++) {
      await iam.send(
        new CreateRoleCommand({ RoleName: `before-${i}`, AssumeRolePolicyDocument: TRUST }),
      );
      ackedRoles.push(`before-${i}`);
    }
    // Fill the disk with objects until S3 refuses one.
    let s3Error = '';
    for (let i = 0; i < 100 && s3Error === ''; i++) {
      const key = `o${i}`;
      const size = 256 * 1024;
      const r = await outcome(
        s3.send(new PutObjectCommand({ Bucket: 'full', Key: key, Body: objectBody(key, size) })),
      );
      if (r === 'ok') ackedObjects.set(key, size);
      else s3Error = r;
    }
    expect(s3Error).toMatch(/^ServiceUnavailable 503: .*full/);
    // The object that did not fit left nothing behind.
    expect(readdirSync(join(dataDir, 'objects', 'tmp'))).toEqual([]);
    expect(ackedObjects.size).toBeGreaterThan(3);

    // Small writes until the store itself is out of room too.
    let iamError = '';
    for (let i = 0; i < 2_000 && iamError === ''; i++) {
      const name = `role-${i}-${'x'.repeat(40)}`;
      const r = await outcome(
        iam.send(
          new CreateRoleCommand({ RoleName: name.slice(0, 64), AssumeRolePolicyDocument: TRUST }),
        ),
      );
      if (r === 'ok') ackedRoles.push(name.slice(0, 64));
      else iamError = r;
    }
    expect(iamError).toMatch(/^ServiceUnavailable 503: /);
    const rolesWhenFull = ackedRoles.length;
    // Reads still work.
    const sts = new STSClient({
      endpoint: server.url,
      region: 'us-east-1',
      credentials: admin,
      maxAttempts: 1,
    });
    expect(await outcome(sts.send(new GetCallerIdentityCommand({})))).toBe('ok');
    const first = ackedRoles[0];
    if (first !== undefined) {
      expect(await outcome(iam.send(new GetRoleCommand({ RoleName: first })))).toBe('ok');
    }

    // The operator grows the volume: the same server writes again.
    execFileSync('mount', ['-o', 'remount,size=32m', mountPoint]);
    const t0 = performance.now();
    let again = '';
    while (performance.now() - t0 < 5_000) {
      again = await outcome(
        iam.send(
          new CreateRoleCommand({ RoleName: 'after-full', AssumeRolePolicyDocument: TRUST }),
        ),
      );
      if (again === 'ok') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(again).toBe('ok');
    expect(
      await outcome(s3.send(new PutObjectCommand({ Bucket: 'full', Key: 'after', Body: 'x' }))),
    ).toBe('ok');

    // Nothing acknowledged is lost, every object present is whole.
    for (const name of ackedRoles) {
      expect(await outcome(iam.send(new GetRoleCommand({ RoleName: name }))), name).toBe('ok');
    }
    const listed = new Set<string>();
    for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: 'full' })) {
      for (const o of page.Contents ?? []) listed.add(o.Key ?? '');
    }
    for (const key of ackedObjects.keys()) expect(listed.has(key), key).toBe(true);
    for (const key of listed) {
      if (key === 'after') continue;
      const got = await s3.send(new GetObjectCommand({ Bucket: 'full', Key: key }));
      const bytes = Buffer.from(await got.Body!.transformToByteArray());
      expect(bytes.equals(objectBody(key, 256 * 1024)), key).toBe(true);
    }
    console.info(
      `disk full: ${ackedObjects.size} objects and ${rolesWhenFull} roles acknowledged before ` +
        `the disk filled; S3 answered "${s3Error}", IAM "${iamError}"`,
    );

    // And the SQLite file is sound.
    await server.close();
    const store = await openStore({ dataDir });
    try {
      const check = await sql<{ integrity_check: string }>`pragma integrity_check`.execute(
        store.db,
      );
      expect(check.rows).toEqual([{ integrity_check: 'ok' }]);
    } finally {
      await store.close();
    }
    server = await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir,
      logger: pino({ level: 'silent' }),
    });
  });
});
