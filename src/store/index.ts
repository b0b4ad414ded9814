/**
 * The store: one Kysely query layer over two engines. SQLite (a WAL file in the data
 * directory) is the embedded default; PostgreSQL is used when a `postgres://` URL is given,
 * so several stateless replicas can share it. Migrations run at open.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  type Migration,
  type MigrationProvider,
} from 'kysely';
import pg from 'pg';
import { migrations } from './migrations.js';
import type { Database } from './schema.js';
import { withUnavailableErrors } from './unavailable.js';

export type { Database } from './schema.js';
export { DataDirInUseError, lockDataDir, type DataDirLock } from './data-dir-lock.js';
export {
  StoreUnavailableError,
  storeUnavailableReason,
  withUnavailableErrors,
  type StoreUnavailableReason,
} from './unavailable.js';

/** Which engine a store runs on. */
export type StoreEngine = 'sqlite' | 'postgres';

/** An open store. */
export interface Store {
  readonly db: Kysely<Database>;
  readonly engine: StoreEngine;
  /** Closes every connection. */
  close(): Promise<void>;
}

/** Where the store lives. */
export interface StoreOptions {
  /** Data directory; the SQLite file is `DIR/latchkey.db`. */
  dataDir: string;
  /** A `postgres://` URL; when set, PostgreSQL is used instead of SQLite. */
  databaseUrl?: string | undefined;
}

/**
 * Opens the store and brings its schema up to date.
 *
 * @example
 * const store = await openStore({ dataDir: '.latchkey' });
 * const n = await store.db.selectFrom('accounts').select('account_id').execute();
 */
export async function openStore(options: StoreOptions): Promise<Store> {
  const { db, engine } = options.databaseUrl
    ? { db: openPostgres(options.databaseUrl), engine: 'postgres' as const }
    : { db: openSqlite(options.dataDir), engine: 'sqlite' as const };
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return { db, engine, close: () => db.destroy() };
}

function openSqlite(dataDir: string): Kysely<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sqlite = new SqliteDatabase(join(dataDir, 'latchkey.db'));
  sqlite.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the call that made it is acknowledged.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({
    dialect: withUnavailableErrors(new SqliteDialect({ database: sqlite })),
  });
}

function openPostgres(url: string): Kysely<Database> {
  // A connection that cannot be made within the timeout fails the request with a 503 instead
  // of holding it while PostgreSQL is unreachable.
  const pool = new pg.Pool({ connectionString: url, max: 10, connectionTimeoutMillis: 5_000 });
  // A connection's error (e.g. the server restarting) must not crash the process: idle ones are
  // reported on the pool, checked-out ones on the client (its next query then fails, as a 503).
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return new Kysely<Database>({ dialect: withUnavailableErrors(new PostgresDialect({ pool })) });
}

async function migrate(db: Kysely<Database>): Promise<void> {
  const provider: MigrationProvider = {
    getMigrations: async (): Promise<Record<string, Migration>> => migrations,
  };
  // Migrations are independent of each other, and some were numbered while a later one had
  // already run on development stores: an earlier-numbered one not yet run is run, not refused.
  // A store that has run a migration this version does not know is still refused (no downgrade).
  const { error, results } = await new Migrator({
    db,
    provider,
    allowUnorderedMigrations: true,
  }).migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`store migration ${failed} failed: ${String(error)}`, { cause: error });
  }
}

/** True when `err` is a unique or primary-key violation on either engine. */
export function isUniqueViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = String((err as { code: unknown }).code);
  return (
    code === '23505' ||
    code === 'SQLITE_CONSTRAINT_PRIMARYKEY' ||
    code === 'SQLITE_CONSTRAINT_UNIQUE'
  );
}

/** The current time as the store writes it. */
export function nowIso(): string {
  return new Date().toISOString();
}
