/**
 * Upgrades and downgrades of a store's schema: a store that ran a later-numbered migration
 * still gets an earlier one it lacks; a store that ran a migration this version does not know
 * (a newer version's) is refused, so a downgrade cannot run on it.
 */
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect, type Migration } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { migrations } from '../../src/store/migrations.js';
import { openStore } from '../../src/store/index.js';
import { tempDir } from '../helpers/tmp.js';

const dirs: { remove: () => void }[] = [];
afterAll(() => dirs.forEach((d) => d.remove()));

async function migrateWith(dataDir: string, list: Record<string, Migration>): Promise<void> {
  const db = new Kysely<unknown>({
    dialect: new SqliteDialect({ database: new SqliteDatabase(join(dataDir, 'latchkey.db')) }),
  });
  try {
    const { error } = await new Migrator({
      db,
      provider: { getMigrations: async () => list },
      allowUnorderedMigrations: true,
    }).migrateToLatest();
    if (error) throw error;
  } finally {
    await db.destroy();
  }
}

describe('store migrations', () => {
  it('runs an earlier-numbered migration on a store that already ran a later one', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const without = Object.fromEntries(
      Object.entries(migrations).filter(([name]) => !name.startsWith('0010_')),
    );
    await migrateWith(dir.path, without);
    const store = await openStore({ dataDir: dir.path });
    try {
      const indexes = await store.db
        .selectFrom('sqlite_master' as never)
        .select('name' as never)
        .where('type' as never, '=', 'index' as never)
        .execute();
      expect((indexes as { name: string }[]).map((r) => r.name)).toContain(
        'sealing_keys_one_current',
      );
    } finally {
      await store.close();
    }
  });

  it('refuses a store migrated by a newer version', async () => {
    const dir = tempDir();
    dirs.push(dir);
    await migrateWith(dir.path, {
      ...migrations,
      '9999_from_the_future': { up: async () => {} },
    });
    await expect(openStore({ dataDir: dir.path })).rejects.toThrow(
      /9999_from_the_future is missing/,
    );
  });
});
