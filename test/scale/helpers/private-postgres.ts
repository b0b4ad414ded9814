/**
 * A private PostgreSQL cluster for one test file, which the test may stop, crash and restart
 * without disturbing the shared server other tests use: `initdb` into a fresh temporary
 * directory, trust authentication on 127.0.0.1 only, a free port, no Unix socket, `fsync` on.
 *
 * PostgreSQL refuses to run as root; when the tests run as root (CI does), the binaries run as
 * the `postgres` OS user through `runuser`, and the directory is handed to that user.
 */
import { execFile, execFileSync } from 'node:child_process';
import {
  appendFileSync,
  chownSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
} from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** How `pg_ctl` stops the server: `fast` (clean shutdown) or `immediate` (like a crash). */
export type StopMode = 'fast' | 'immediate';

/** A running private cluster. */
export interface PrivatePostgres {
  /** `postgres://postgres@127.0.0.1:PORT/postgres`. */
  readonly url: string;
  readonly port: number;
  /** `pg_ctl restart -m MODE`, waiting until it accepts connections again. */
  restart(mode: StopMode): Promise<void>;
  /** `pg_ctl stop -m MODE`. */
  stop(mode: StopMode): Promise<void>;
  /** `pg_ctl start`, waiting until it accepts connections. */
  start(): Promise<void>;
  /** The server's log so far. */
  log(): string;
  /** Stops the server (immediately) and deletes the directory. Never throws. */
  destroy(): Promise<void>;
}

/** Where `initdb`, `pg_ctl` and `postgres` are, or undefined when they are not installed. */
export function findPostgresBinaries(): string | undefined {
  const complete = (dir: string) =>
    ['initdb', 'pg_ctl', 'postgres'].every((b) => existsSync(join(dir, b)));
  const candidates: string[] = [];
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8' }).trim());
  } catch {
    // no pg_config on the PATH
  }
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((v) => /^\d+$/.test(v))
      .sort((x, y) => Number(y) - Number(x));
    candidates.push(...versions.map((v) => join(root, v, 'bin')));
  }
  return candidates.find(complete);
}

/** The uid and gid of the `postgres` OS user, or undefined when there is none. */
function postgresUser(): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    return Number.isInteger(uid) && Number.isInteger(gid) ? { uid, gid } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Why a private cluster cannot be started here, or undefined when it can.
 *
 * @example
 * const reason = privatePostgresUnavailable();
 * describe.skipIf(reason !== undefined)('PostgreSQL restarted', () => { … });
 */
export function privatePostgresUnavailable(): string | undefined {
  if (findPostgresBinaries() === undefined) {
    return 'PostgreSQL server binaries (initdb, pg_ctl, postgres) not found via pg_config or /usr/lib/postgresql/*/bin';
  }
  if (process.getuid?.() === 0 && postgresUser() === undefined) {
    return 'running as root and there is no `postgres` OS user to run PostgreSQL as';
  }
  return undefined;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/**
 * The temporary directory, or `/tmp` when the cluster runs as `postgres` and that user cannot
 * reach the usual one (a TMPDIR under /root).
 */
function reachableTmp(asPostgres: boolean): string {
  const dir = tmpdir();
  if (!asPostgres) return dir;
  try {
    execFileSync('runuser', ['-u', 'postgres', '--', 'test', '-x', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    return '/tmp';
  }
}

/** postmaster.pid files of clusters started by this process: stopped on exit if a test forgot to. */
const live = new Set<string>();
process.once('exit', () => {
  for (const pidFile of live) {
    try {
      const pid = Number(readFileSync(pidFile, 'utf8').split('\n', 1)[0]);
      if (pid > 0) process.kill(pid, 'SIGQUIT');
    } catch {
      // already gone
    }
  }
});

/**
 * Creates and starts a private cluster.
 *
 * @example
 * const pg = await startPrivatePostgres();
 * try { await pg.restart('fast'); } finally { await pg.destroy(); }
 */
export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = findPostgresBinaries();
  if (bin === undefined) throw new Error(privatePostgresUnavailable());
  const asRoot = process.getuid?.() === 0;
  const owner = asRoot ? postgresUser() : undefined;
  if (asRoot && owner === undefined) throw new Error(privatePostgresUnavailable());

  const dir = mkdtempSync(join(reachableTmp(owner !== undefined), 'latchkey-pg-'));
  if (owner) chownSync(dir, owner.uid, owner.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const port = await freePort();
  const run = (program: string, args: string[]) =>
    asRoot
      ? exec('runuser', ['-u', 'postgres', '--', join(bin, program), ...args], { timeout: 60_000 })
      : exec(join(bin, program), args, { timeout: 60_000 });
  const pgCtl = (...args: string[]) =>
    run('pg_ctl', ['-D', data, '-l', logFile, '-w', '-t', '30', ...args]);

  let started = false;
  const destroy = async () => {
    if (started) await pgCtl('-m', 'immediate', 'stop').catch(() => {});
    live.delete(join(data, 'postmaster.pid'));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await run('initdb', [
      '-D',
      data,
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--locale=C',
      // initdb's own flush only; the server below runs with fsync on.
      '--no-sync',
    ]);
    // In postgresql.conf (not on pg_ctl's command line), so every restart keeps them.
    const conf = [
      `listen_addresses = '127.0.0.1'`,
      `port = ${port}`,
      `unix_socket_directories = ''`,
      'fsync = on',
      'synchronous_commit = on',
      'full_page_writes = on',
      'max_connections = 50',
      'shared_buffers = 16MB',
    ].join('\n');
    appendFileSync(join(data, 'postgresql.conf'), `\n${conf}\n`);
    started = true;
    live.add(join(data, 'postmaster.pid'));
    await pgCtl('start');
  } catch (err) {
    await destroy();
    throw err;
  }
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    restart: async (mode) => {
      await pgCtl('-m', mode, 'restart');
    },
    stop: async (mode) => {
      await pgCtl('-m', mode, 'stop');
    },
    start: async () => {
      await pgCtl('start');
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    destroy,
  };
}
