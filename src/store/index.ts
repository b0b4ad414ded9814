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
  /** The SQLite file (engine `sqlite`), for components that open their own connection. */
  readonly sqliteFile?: string;
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
  if (options.databaseUrl) {
    const db = await migrated(openPostgres(options.databaseUrl));
    return { db, engine: 'postgres', close: () => db.destroy() };
  }
  const sqliteFile = join(options.dataDir, 'latchkey.db');
  const db = await migrated(openSqlite(options.dataDir, sqliteFile));
  return { db, engine: 'sqlite', sqliteFile, close: () => db.destroy() };
}

/** The store brought up to date; closed if its migrations fail. */
async function migrated(db: Kysely<Database>): Promise<Kysely<Database>> {
  try {
    await migrate(db);
  } catch (err) {
    await db.destroy();
    throw err;
  }
  return db;
}

function openSqlite(dataDir: string, file: string): Kysely<Database> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const sqlite = new SqliteDatabase(file);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before the call that made it is acknowledged.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  return new Kysely<Database>({
    dialect: withUnavailableErrors(new SqliteDialect({ database: driverConnection(sqlite) })),
  });
}

/** Most prepared statements kept per SQLite connection. */
const STATEMENT_CACHE_SIZE = 256;

/**
 * The connection as Kysely's SQLite driver sees it, changed in two ways:
 *
 * - Transactions begin `IMMEDIATE` (taking the write lock at once, waiting up to the busy
 *   timeout for it). The audit trail commits from a connection of its own; a deferred
 *   transaction that read before that commit and wrote after it would fail with SQLITE_BUSY
 *   instead of waiting.
 * - `prepare` is memoized: the driver prepares every query anew, and preparing (parsing and
 *   planning the SQL) cost more than running the request path's small lookups in profiles
 *   (bench/). Statements are reused only one at a time: the driver runs each synchronously to
 *   completion (`all` / `run`), and nothing in Latchkey streams a query (`iterate` keeps a
 *   statement busy). Least recently used statements are dropped past
 *   {@link STATEMENT_CACHE_SIZE}.
 */
function driverConnection(sqlite: SqliteDatabase.Database): {
  prepare(sql: string): SqliteDatabase.Statement;
  close(): void;
} {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    prepare(text) {
      const sql = text === 'begin' ? 'begin immediate' : text;
      let statement = statements.get(sql);
      if (statement === undefined) {
        statement = sqlite.prepare(sql);
        if (statements.size >= STATEMENT_CACHE_SIZE) {
          statements.delete(statements.keys().next().value as string);
        }
      } else statements.delete(sql);
      statements.set(sql, statement);
      return statement;
    },
    close: () => sqlite.close(),
  };
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
