/**
 * One store suite, run against both engines: a SQLite file and a real PostgreSQL server.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAwsError } from '../../src/errors/index.js';
import {
  AccessKeyDirectory,
  createAccount,
  listAccounts,
  UserDirectory,
} from '../../src/iam/index.js';
import { openStore, type Store } from '../../src/store/index.js';
import { createTestDatabase } from '../helpers/postgres.js';
import { tempDir } from '../helpers/tmp.js';

const engines: {
  name: string;
  setup: () => Promise<{
    options: { dataDir: string; databaseUrl?: string };
    cleanup: () => Promise<void>;
  }>;
}[] = [
  {
    name: 'sqlite',
    async setup() {
      const dir = tempDir();
      return { options: { dataDir: dir.path }, cleanup: async () => dir.remove() };
    },
  },
  {
    name: 'postgres',
    async setup() {
      const dir = tempDir();
      const db = await createTestDatabase();
      return {
        options: { dataDir: dir.path, databaseUrl: db.url },
        cleanup: async () => {
          await db.drop();
          dir.remove();
        },
      };
    },
  },
];

for (const engine of engines) {
  describe(`store on ${engine.name}`, () => {
    let store: Store;
    let options: { dataDir: string; databaseUrl?: string };
    let cleanup: () => Promise<void>;
    const masterKey = randomBytes(32);

    beforeAll(async () => {
      ({ options, cleanup } = await engine.setup());
      store = await openStore(options);
    });
    afterAll(async () => {
      await store.close();
      await cleanup();
    });

    it('runs migrations once: reopening the store is a no-op', async () => {
      expect(store.engine).toBe(engine.name);
      const again = await openStore(options);
      await again.close();
    });

    it('creates an account with its admin, policy and key in one step', async () => {
      const key = await createAccount(store.db, masterKey, '111111111111');
      expect(key.accessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
      expect(key.secretAccessKey).toHaveLength(40);
      expect(await listAccounts(store.db)).toContain('111111111111');
      const users = new UserDirectory(store.db);
      expect((await users.get('111111111111', 'ADMIN')).userName).toBe('admin');
      expect(await users.attachedPolicyArns('111111111111', 'admin')).toEqual([
        'arn:aws:iam::aws:policy/AdministratorAccess',
      ]);
      const resolved = await new AccessKeyDirectory(store.db, masterKey).resolve(key.accessKeyId);
      expect(resolved?.secretAccessKey).toBe(key.secretAccessKey);
      expect(resolved?.principal.arn).toBe('arn:aws:iam::111111111111:user/admin');
    });

    it('refuses a duplicate account and writes nothing', async () => {
      const before = await store.db.selectFrom('access_keys').select('access_key_id').execute();
      const err = await createAccount(store.db, masterKey, '111111111111').catch((e: unknown) => e);
      expect(isAwsError(err, 'EntityAlreadyExists')).toBe(true);
      const after = await store.db.selectFrom('access_keys').select('access_key_id').execute();
      expect(after).toHaveLength(before.length);
    });

    it('stores secrets sealed, never in plain text', async () => {
      const key = await createAccount(store.db, masterKey, '222222222222');
      const row = await store.db
        .selectFrom('access_keys')
        .selectAll()
        .where('access_key_id', '=', key.accessKeyId)
        .executeTakeFirstOrThrow();
      expect(row.secret_sealed).not.toContain(key.secretAccessKey);
      expect(row.secret_sealed).toMatch(/^v1:/);
      // Another master key cannot open it.
      await expect(
        new AccessKeyDirectory(store.db, randomBytes(32)).resolve(key.accessKeyId),
      ).rejects.toThrow();
    });

    it('keeps user names unique case-insensitively', async () => {
      const users = new UserDirectory(store.db);
      await users.create('111111111111', 'Alice');
      const err = await users.create('111111111111', 'alice').catch((e: unknown) => e);
      expect(isAwsError(err, 'EntityAlreadyExists')).toBe(true);
      expect((err as Error).message).toBe('User with name alice already exists.');
    });

    it('pages users in name order with a marker', async () => {
      const users = new UserDirectory(store.db);
      for (const name of ['u3', 'u1', 'u2']) await users.create('222222222222', name, '/team/');
      const first = await users.list('222222222222', { pathPrefix: '/team/', maxItems: 2 });
      expect(first.items.map((u) => u.userName)).toEqual(['u1', 'u2']);
      expect(first.marker).toBeDefined();
      const second = await users.list('222222222222', {
        pathPrefix: '/team/',
        maxItems: 2,
        marker: first.marker,
      });
      expect(second.items.map((u) => u.userName)).toEqual(['u3']);
      expect(second.marker).toBeUndefined();
      // Path prefixes are case-sensitive.
      const none = await users.list('222222222222', { pathPrefix: '/TEAM/', maxItems: 10 });
      expect(none.items).toEqual([]);
    });

    it('limits access keys to two per user and refuses to delete a user holding keys', async () => {
      const users = new UserDirectory(store.db);
      const keys = new AccessKeyDirectory(store.db, masterKey);
      await users.create('111111111111', 'bob');
      const k1 = await keys.create('111111111111', 'bob');
      await keys.create('111111111111', 'bob');
      const limit = await keys.create('111111111111', 'bob').catch((e: unknown) => e);
      expect(isAwsError(limit, 'LimitExceeded')).toBe(true);
      expect(await keys.list('111111111111', 'bob')).toHaveLength(2);

      const conflict = await users.delete('111111111111', 'bob').catch((e: unknown) => e);
      expect(isAwsError(conflict, 'DeleteConflict')).toBe(true);
      expect((await users.get('111111111111', 'bob')).userName).toBe('bob');

      await keys.updateStatus('111111111111', 'bob', k1.accessKeyId, 'Inactive');
      expect(await keys.resolve(k1.accessKeyId)).toBeNull();
      await keys.delete('111111111111', 'bob', k1.accessKeyId);
      const gone = await keys
        .delete('111111111111', 'bob', k1.accessKeyId)
        .catch((e: unknown) => e);
      expect(isAwsError(gone, 'NoSuchEntity')).toBe(true);
    });
  });
}
