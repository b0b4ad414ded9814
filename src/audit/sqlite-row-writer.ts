import { open, type FileHandle } from 'node:fs/promises';
import SqliteDatabase from 'better-sqlite3';
import { UPSERT_ONE, upsertParameters, type AuditRow, type AuditRowWriter } from './row-writer.js';

/** How long a batch waits for SQLite's write lock before it fails (its calls fail closed). */
const LOCK_WAIT_MS = 5_000;

/**
 * Commits audit rows to the store's SQLite file on a connection of its own, with the fsync off
 * the event loop. better-sqlite3 is synchronous: with `synchronous = FULL` every commit's fsync
 * would stall every request for about a millisecond. This connection commits with
 * `synchronous = NORMAL` — in WAL mode the commit only appends to the WAL, and nothing can be
 * corrupted — and then makes the WAL durable with an asynchronous `fdatasync` (the thread pool)
 * before the batch resolves, so an acknowledged record is on disk as under FULL. The WAL only
 * grows or is rewound in place while a connection is open, so one handle on it serves for the
 * life of the writer.
 *
 * The connection never waits for SQLite's lock by sleeping (that would stall the event loop):
 * a batch that finds the lock taken is retried a millisecond later.
 */
export class SqliteRowWriter implements AuditRowWriter {
  readonly #db: SqliteDatabase.Database;
  /**
   * One transaction (taking the write lock at its start) of one-row upserts: a single small
   * prepared statement, where a statement per batch size would hold megabytes of programs.
   */
  readonly #insertAll: SqliteDatabase.Transaction<(rows: AuditRow[]) => void>;
  #wal: Promise<FileHandle> | undefined;

  /** @param file The store's SQLite file (WAL mode, set by the store's own connection). */
  constructor(private readonly file: string) {
    this.#db = new SqliteDatabase(file);
    this.#db.pragma('synchronous = NORMAL');
    this.#db.pragma('busy_timeout = 0');
    const insert = this.#db.prepare(UPSERT_ONE);
    this.#insertAll = this.#db.transaction((rows: AuditRow[]) => {
      for (const row of rows) insert.run(upsertParameters(row));
    });
  }

  async write(rows: AuditRow[]): Promise<void> {
    const started = Date.now();
    for (;;) {
      try {
        this.#insertAll.immediate(rows);
        break;
      } catch (err) {
        const code = (err as { code?: string }).code;
        if (code !== 'SQLITE_BUSY' || Date.now() - started > LOCK_WAIT_MS) throw err;
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    }
    const wal = await (this.#wal ??= open(`${this.file}-wal`, 'r')).catch((err: unknown) => {
      this.#wal = undefined;
      throw err;
    });
    await wal.datasync();
  }

  async close(): Promise<void> {
    const wal = this.#wal;
    this.#wal = undefined;
    await (await wal)?.close();
    this.#db.close();
  }
}
