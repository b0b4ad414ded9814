/**
 * Several servers on one PostgreSQL: each is a full `startServer` with its own connection pool,
 * data directory and caches (as separate processes would be), sharing only the database and the
 * master key. Credentials minted by one are accepted by the others; a change made through one
 * is honoured by the others well inside the caches' time bounds (LISTEN/NOTIFY) — IAM policies,
 * access keys, revocations, S3 bucket policies and bucket deletions; sealing key rotation is
 * picked up at once.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  DeleteAccessKeyCommand,
  DeleteUserPolicyCommand,
  GetUserCommand,
  IAMClient,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { startServer, type RunningServer } from '../../src/server/index.js';
import { sealedKeyId } from '../../src/sessions/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';
import { runLatchkey } from './helpers/child-server.js';

/**
 * The caches' own time bounds (src/iam, src/sessions). Each test loads B's cache just before A's
 * change and requires B to honour it before that bound could have expired it: only A's message
 * can make that happen.
 */
const POLICY_CACHE_MS = 1_000;
const KEY_CACHE_MS = 5_000;
const REVOCATIONS_REREAD_MS = 2_000;
/** S3's bucket cache (owner, policy): src/s3/metadata.ts. */
const BUCKET_CACHE_MS = 1_000;
/** And the time from A's answer to B honouring the change, generous for a loaded machine. */
const PROPAGATION_BOUND_MS = 750;
/** The same for buckets, held to a tighter bound: a fifth of the cache's. */
const BUCKET_PROPAGATION_MS = 200;

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

let db: Awaited<ReturnType<typeof createTestDatabase>>;
const dirs = [tempDir(), tempDir(), tempDir()];
let a: RunningServer;
let b: RunningServer;
let admin: Profile;
let profileDir = '';
const masterKey = randomBytes(32).toString('base64');

async function replica(dir: string): Promise<RunningServer> {
  process.env.LATCHKEY_MASTER_KEY = masterKey;
  try {
    return await startServer({
      host: '127.0.0.1',
      port: 0,
      dataDir: dir,
      databaseUrl: db.url,
      logger: pino({ level: 'silent' }),
    });
  } finally {
    delete process.env.LATCHKEY_MASTER_KEY;
  }
}

const iam = (s: RunningServer, credentials: Creds) =>
  new IAMClient({ endpoint: s.url, region: 'us-east-1', credentials, maxAttempts: 1 });
const sts = (s: RunningServer, credentials: Creds) =>
  new STSClient({ endpoint: s.url, region: 'us-east-1', credentials, maxAttempts: 1 });
const s3 = (s: RunningServer, credentials: Creds) =>
  new S3Client({
    endpoint: s.url,
    region: 'us-east-1',
    credentials,
    maxAttempts: 1,
    forcePathStyle: true,
  });

/** Propagation times measured, printed at the end. */
const measured: Record<string, number> = {};
function measure(label: string, ms: number): number {
  measured[label] = Math.round(ms);
  return ms;
}

/** Polls `probe` until it returns true; the milliseconds it took, or Infinity after `limitMs`. */
async function msUntil(probe: () => Promise<boolean>, limitMs = 3_000): Promise<number> {
  const start = performance.now();
  while (performance.now() - start < limitMs) {
    if (await probe()) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 5));
  }
  return Infinity;
}

async function errorName(work: Promise<unknown>): Promise<string> {
  try {
    await work;
    return 'ok';
  } catch (err) {
    return (err as Error).name;
  }
}

beforeAll(async () => {
  db = await createTestDatabase();
  // Two replicas started at the same moment on an empty database: they race to migrate, to
  // create the first account and the first sealing key, and must both come up agreeing.
  [a, b] = await Promise.all([replica(dirs[0]!.path), replica(dirs[1]!.path)]);
  // The replica that created the first account wrote the admin profile into its data directory.
  profileDir = readProfile(dirs[0]!.path, 'latchkey') ? dirs[0]!.path : dirs[1]!.path;
  const profile = readProfile(profileDir, 'latchkey');
  if (profile === undefined) throw new Error('no replica wrote the admin profile');
  admin = profile;
});
afterAll(async () => {
  console.info(`replica propagation (ms): ${JSON.stringify(measured)}`);
  // Whatever beforeAll got to: a failed start must not leave directories or a database behind.
  await Promise.all([a?.close(), b?.close()]);
  for (const d of dirs) d.remove();
  await db?.drop();
});

describe('replicas on one PostgreSQL', () => {
  it('start together on an empty database with one account and one sealing key', async () => {
    const accounts = await a.store.db.selectFrom('accounts').select('account_id').execute();
    expect(accounts.map((r) => r.account_id)).toEqual(['000000000000']);
    const current = await a.store.db
      .selectFrom('sealing_keys')
      .select('kid')
      .where('retire_after', 'is', null)
      .execute();
    expect(current).toHaveLength(1);
    // The admin key works on both.
    for (const s of [a, b]) {
      const id = await sts(s, admin).send(new GetCallerIdentityCommand({}));
      expect(id.Arn).toBe('arn:aws:iam::000000000000:user/admin');
    }
  });

  it('refuse to start a replica given another master key, saying so', async () => {
    const dir = tempDir();
    process.env.LATCHKEY_MASTER_KEY = randomBytes(32).toString('base64');
    try {
      await expect(
        startServer({
          host: '127.0.0.1',
          port: 0,
          dataDir: dir.path,
          databaseUrl: db.url,
          logger: pino({ level: 'silent' }),
        }),
      ).rejects.toThrow(/every replica of one deployment needs the same LATCHKEY_MASTER_KEY/);
    } finally {
      delete process.env.LATCHKEY_MASTER_KEY;
      dir.remove();
    }
  });

  it('accept session credentials minted by each other', async () => {
    await iam(a, admin).send(
      new CreateRoleCommand({
        RoleName: 'replicated',
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: 'arn:aws:iam::000000000000:root' },
              Action: 'sts:AssumeRole',
            },
          ],
        }),
      }),
    );
    for (const [issuer, verifier] of [
      [a, b],
      [b, a],
    ] as const) {
      const { Credentials } = await sts(issuer, admin).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/replicated',
          RoleSessionName: 'xr',
        }),
      );
      const creds = sessionCreds(Credentials);
      const id = await sts(verifier, creds).send(new GetCallerIdentityCommand({}));
      expect(id.Arn).toBe('arn:aws:sts::000000000000:assumed-role/replicated/xr');
    }
  });

  it('honour a policy change made through the other replica within the bound', async () => {
    const alice = await newUser('alice', { Action: 'iam:GetUser', Resource: '*' });
    const allowedOnB = async () =>
      (await errorName(iam(b, alice).send(new GetUserCommand({})))) === 'ok';
    // B loads alice's policies (cached for 1 s) just before A removes them: without a message
    // from A, B could not see the change before `warmed + 1 s`.
    let warmed = performance.now();
    expect(await allowedOnB()).toBe(true);
    await iam(a, admin).send(new DeleteUserPolicyCommand({ UserName: 'alice', PolicyName: 'p' }));
    let acked = performance.now();
    await msUntil(async () => !(await allowedOnB()));
    expect(performance.now() - warmed).toBeLessThan(POLICY_CACHE_MS);
    expect(measure('policy removed', performance.now() - acked)).toBeLessThan(PROPAGATION_BOUND_MS);
    // And back: a grant through A is honoured by B as fast.
    warmed = performance.now();
    expect(await allowedOnB()).toBe(false);
    await iam(a, admin).send(
      new PutUserPolicyCommand({
        UserName: 'alice',
        PolicyName: 'p',
        PolicyDocument: policy({ Action: 'iam:GetUser', Resource: '*' }),
      }),
    );
    acked = performance.now();
    await msUntil(allowedOnB);
    expect(performance.now() - warmed).toBeLessThan(POLICY_CACHE_MS);
    expect(measure('policy granted', performance.now() - acked)).toBeLessThan(PROPAGATION_BOUND_MS);
  });

  it('refuse an access key deleted through the other replica within the bound', async () => {
    const bob = await newUser('bob', { Action: 'iam:GetUser', Resource: '*' });
    // B resolves the key (cached for 5 s) just before A deletes it.
    const warmed = performance.now();
    expect(await errorName(sts(b, bob).send(new GetCallerIdentityCommand({})))).toBe('ok');
    await iam(a, admin).send(
      new DeleteAccessKeyCommand({ UserName: 'bob', AccessKeyId: bob.accessKeyId }),
    );
    const ms = await msUntil(
      async () =>
        (await errorName(sts(b, bob).send(new GetCallerIdentityCommand({})))) ===
        'InvalidClientTokenId',
    );
    expect(performance.now() - warmed).toBeLessThan(KEY_CACHE_MS);
    expect(measure('access key deleted', ms)).toBeLessThan(PROPAGATION_BOUND_MS);
  });

  it('refuse sessions revoked through the other replica within the bound', async () => {
    await iam(a, admin).send(
      new PutRolePolicyCommand({
        RoleName: 'replicated',
        PolicyName: 'read',
        PolicyDocument: policy({ Action: 'iam:GetUser', Resource: '*' }),
      }),
    );
    const { Credentials } = await sts(a, admin).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/replicated',
        RoleSessionName: 'to-revoke',
      }),
    );
    const creds = sessionCreds(Credentials);
    const works = async () =>
      (await errorName(sts(b, creds).send(new GetCallerIdentityCommand({})))) === 'ok';
    // B re-reads revocations on a request more than 2 s after its last read: after 2 s of
    // quiet, this call makes it read them, so without a message it keeps them for 2 s more.
    await new Promise((r) => setTimeout(r, REVOCATIONS_REREAD_MS + 100));
    const warmed = performance.now();
    expect(await works()).toBe(true);
    const revoked = await signedJsonRequest(
      { ...admin, endpointUrl: a.url },
      'POST',
      '/_latchkey/api/session-revocations',
      { roleArn: 'arn:aws:iam::000000000000:role/replicated' },
    );
    expect(revoked.status).toBe(200);
    const ms = await msUntil(async () => !(await works()));
    expect(performance.now() - warmed).toBeLessThan(REVOCATIONS_REREAD_MS);
    expect(measure('sessions revoked', ms)).toBeLessThan(PROPAGATION_BOUND_MS);
  });

  it('honour a bucket policy put, a bucket policy deleted and a bucket deleted through the other replica at once', async () => {
    const carol = await newUser('carol', { Action: 's3:ListBucket', Resource: '*' });
    const viaA = s3(a, admin);
    await viaA.send(new CreateBucketCommand({ Bucket: 'shared' }));
    // (Listing, not reading: these replicas do not share an objects directory.)
    const listOnB = () =>
      errorName(s3(b, carol).send(new ListObjectsV2Command({ Bucket: 'shared' })));
    const deny = JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: { AWS: 'arn:aws:iam::000000000000:user/carol' },
          Action: 's3:ListBucket',
          Resource: 'arn:aws:s3:::shared',
        },
      ],
    });
    /**
     * B re-reads the bucket at `warmed` (any copy it held before has expired by then), so it
     * keeps that copy until `warmed + 1 s` unless A's message drops it: honouring the change
     * before then is the message's doing.
     */
    const change = async (
      label: string,
      before: () => Promise<boolean>,
      act: () => Promise<unknown>,
      after: () => Promise<boolean>,
    ) => {
      await new Promise((r) => setTimeout(r, BUCKET_CACHE_MS + 50));
      const warmed = performance.now();
      expect(await before(), `${label}: before`).toBe(true);
      await act();
      const ms = await msUntil(after);
      expect(performance.now() - warmed, `${label}: inside B's cache time`).toBeLessThan(
        BUCKET_CACHE_MS,
      );
      expect(measure(label, ms)).toBeLessThan(BUCKET_PROPAGATION_MS);
    };
    await change(
      'bucket policy denies',
      async () => (await listOnB()) === 'ok',
      () => viaA.send(new PutBucketPolicyCommand({ Bucket: 'shared', Policy: deny })),
      async () => (await listOnB()) === 'AccessDenied',
    );
    await change(
      'bucket policy deleted',
      async () => (await listOnB()) === 'AccessDenied',
      () => viaA.send(new DeleteBucketPolicyCommand({ Bucket: 'shared' })),
      async () => (await listOnB()) === 'ok',
    );
    const bucketOnB = () =>
      errorName(s3(b, admin).send(new HeadBucketCommand({ Bucket: 'shared' })));
    await change(
      'bucket deleted',
      async () => (await bucketOnB()) === 'ok',
      () => viaA.send(new DeleteBucketCommand({ Bucket: 'shared' })),
      async () => (await bucketOnB()) === 'NotFound',
    );
  });

  it('coordinate a sealing key rotation: tokens of the new key open everywhere at once', async () => {
    const assume = async (s: RunningServer) => {
      const { Credentials } = await sts(s, admin).send(
        new AssumeRoleCommand({
          RoleArn: 'arn:aws:iam::000000000000:role/replicated',
          RoleSessionName: `s${Date.now()}`,
        }),
      );
      return sessionCreds(Credentials);
    };
    const before = await assume(a);
    const oldKid = sealedKeyId(before.sessionToken ?? '');
    await a.rotateSealingKey();
    const after = await assume(a);
    const newKid = sealedKeyId(after.sessionToken ?? '');
    expect(newKid).toBeDefined();
    expect(newKid).not.toBe(oldKid);
    // B opens the new key's tokens immediately, and the old key's during the overlap.
    for (const creds of [after, before]) {
      expect(await errorName(sts(b, creds).send(new GetCallerIdentityCommand({})))).toBe('ok');
    }
    // B seals with the new key too, once it hears of the rotation.
    const ms = await msUntil(
      async () => sealedKeyId((await assume(b)).sessionToken ?? '') === newKid,
    );
    expect(measure('new sealing key used', ms)).toBeLessThan(PROPAGATION_BOUND_MS);
    // A third replica started now loads the same keyring.
    const c = await replica(dirs[2]!.path);
    try {
      for (const creds of [after, before]) {
        expect(await errorName(sts(c, creds).send(new GetCallerIdentityCommand({})))).toBe('ok');
      }
      expect(sealedKeyId((await assume(c)).sessionToken ?? '')).toBe(newKid);
    } finally {
      await c.close();
    }
  });

  it('rotates through `latchkey sealing-keys rotate` against one replica; only the first account may', async () => {
    const rotated = await runLatchkey([
      'sealing-keys',
      'rotate',
      '--json',
      '--data-dir',
      profileDir,
      '--endpoint',
      b.url,
    ]);
    expect(rotated.stderr).toBe('');
    const { keyId } = JSON.parse(rotated.stdout) as { keyId: string };
    const { Credentials } = await sts(a, admin).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/replicated',
        RoleSessionName: 'after-cli-rotation',
      }),
    );
    // A heard of it: it seals with B's new key.
    expect(sealedKeyId(Credentials?.SessionToken ?? '')).toBe(keyId);
    const other = await signedJsonRequest(
      { ...admin, endpointUrl: a.url },
      'POST',
      '/_latchkey/api/accounts',
      { accountId: '333344445555' },
    );
    const refused = await signedJsonRequest(
      {
        ...admin,
        endpointUrl: a.url,
        accessKeyId: String(other.json.accessKeyId),
        secretAccessKey: String(other.json.secretAccessKey),
      },
      'POST',
      '/_latchkey/api/sealing-keys/rotate',
      {},
    );
    expect(refused.status).toBe(403);
  });

  it('rotations racing on two replicas leave exactly one current key', async () => {
    await Promise.all([a.rotateSealingKey(), b.rotateSealingKey()]);
    const current = await a.store.db
      .selectFrom('sealing_keys')
      .select('kid')
      .where('retire_after', 'is', null)
      .execute();
    expect(current).toHaveLength(1);
    const { Credentials } = await sts(b, admin).send(
      new AssumeRoleCommand({
        RoleArn: 'arn:aws:iam::000000000000:role/replicated',
        RoleSessionName: 'after-race',
      }),
    );
    const creds = sessionCreds(Credentials);
    expect(await errorName(sts(a, creds).send(new GetCallerIdentityCommand({})))).toBe('ok');
  });
});

function policy(statement: Record<string, unknown>): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', ...statement }] });
}

async function newUser(name: string, statement: Record<string, unknown>): Promise<Creds> {
  const client = iam(a, admin);
  await client.send(new CreateUserCommand({ UserName: name }));
  await client.send(
    new PutUserPolicyCommand({
      UserName: name,
      PolicyName: 'p',
      PolicyDocument: policy(statement),
    }),
  );
  const { AccessKey } = await client.send(new CreateAccessKeyCommand({ UserName: name }));
  return {
    accessKeyId: AccessKey?.AccessKeyId ?? '',
    secretAccessKey: AccessKey?.SecretAccessKey ?? '',
  };
}

function sessionCreds(
  c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined,
): Creds {
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
  };
}
