/**
 * One server per embedded data directory. Two processes writing the same SQLite file would
 * each keep their own caches, sealing keyring and revocation list and silently disagree, so a
 * second server on a data directory is refused with a clear error instead.
 *
 * The lock is an exclusive SQLite transaction held open on `DIR/latchkey.lock` for the life of
 * the server: an operating-system file lock, released by the kernel when the process exits, even
 * by `kill -9` (no stale lock to clean up). The holder's pid is written to `DIR/latchkey.pid`
 * for the error message.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';

/** A second server tried to open a data directory another one is using. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';

  constructor(
    readonly dataDir: string,
    readonly holder: string | undefined,
  ) {
    super(
      `the data directory ${dataDir} is in use by another Latchkey server` +
        `${holder === undefined ? '' : ` (${holder})`}. The embedded SQLite store allows one ` +
        'server per data directory; stop that one, use another --data-dir, or run several ' +
        'servers on PostgreSQL (--database-url).',
    );
  }
}

/** A held data directory lock. */
export interface DataDirLock {
  /** Releases the lock (idempotent). */
  release(): void;
}

/**
 * Takes the data directory's lock, or throws {@link DataDirInUseError} at once when another
 * server (in this process or another) holds it.
 *
 * @example
 * const lock = lockDataDir('.latchkey');
 * try { … } finally { lock.release(); }
 */
export function lockDataDir(dataDir: string): DataDirLock {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(dataDir, 'latchkey.pid');
  const db = new SqliteDatabase(join(dataDir, 'latchkey.lock'), { timeout: 0 });
  try {
    // A rollback journal (not WAL): an EXCLUSIVE transaction then locks out other connections
    // entirely, readers included.
    db.pragma('journal_mode = DELETE');
    db.exec('CREATE TABLE IF NOT EXISTS holder (pid INTEGER)');
    db.exec('BEGIN EXCLUSIVE');
    db.exec('DELETE FROM holder');
  } catch (err) {
    db.close();
    const code = (err as { code?: unknown }).code;
    if (typeof code === 'string' && code.startsWith('SQLITE_BUSY')) {
      throw new DataDirInUseError(dataDir, readHolder(pidFile));
    }
    throw err;
  }
  writeFileSync(
    pidFile,
    `pid ${process.pid} on ${hostname()} since ${new Date().toISOString()}\n`,
    { mode: 0o600 },
  );
  let held = true;
  return {
    release() {
      if (!held) return;
      held = false;
      rmSync(pidFile, { force: true });
      db.exec('ROLLBACK');
      db.close();
    },
  };
}

function readHolder(pidFile: string): string | undefined {
  try {
    return readFileSync(pidFile, 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
