/** `latchkey server` in a child process, for tests that kill it (`kill -9`) or run several. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { readProfile, type Profile } from '../../../src/profiles/index.js';

/** The most of a child's log kept in memory (the newest half is kept past it). */
const MAX_LOG_CHARS = 4 * 1024 * 1024;

const ENTRY = join(import.meta.dirname, '..', '..', 'helpers', 'latchkey.ts');

/** A running child server. */
export interface ChildServer {
  url: string;
  pid: number;
  child: ChildProcess;
  /** The first account's admin profile in its data directory. */
  admin(): Profile;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Its log so far (JSON lines on stdout). */
  stdout(): string;
  /** `kill -9`: no shutdown, no flush. Resolves once the process is gone. */
  kill9(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
}

/** Options of one child server. */
export interface ChildServerOptions {
  dataDir: string;
  databaseUrl?: string;
  /** LATCHKEY_MASTER_KEY (replicas on PostgreSQL share it). */
  masterKey?: string;
  /** A fixed port (a restarted server keeps its endpoint); 0 picks a free one. */
  port?: number;
  args?: string[];
}

/** Starts `latchkey server` and resolves once it serves (its log line names its URL). */
export async function spawnServer(options: ChildServerOptions): Promise<ChildServer> {
  const args = [
    '--import',
    'tsx',
    ENTRY,
    'server',
    '--data-dir',
    options.dataDir,
    '--port',
    String(options.port ?? 0),
    ...(options.databaseUrl ? ['--database-url', options.databaseUrl] : []),
    ...(options.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, LATCHKEY_LOG_LEVEL: 'info' };
  if (options.masterKey !== undefined) env.LATCHKEY_MASTER_KEY = options.masterKey;
  else delete env.LATCHKEY_MASTER_KEY;
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      for (const line of stdout.split('\n')) {
        const m = /"url":"(http:[^"]+)".*Latchkey is serving/.exec(line);
        if (m?.[1] !== undefined) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}: ${stderr}${stdout}`));
    });
  });
  // Keep reading its log (bounded) so the pipe never fills.
  child.stdout.removeAllListeners('data');
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout.length > MAX_LOG_CHARS) stdout = stdout.slice(-MAX_LOG_CHARS / 2);
  });
  return {
    url,
    pid: child.pid ?? 0,
    child,
    admin() {
      const profile = readProfile(options.dataDir, 'latchkey');
      if (profile === undefined) throw new Error('no admin profile');
      return { ...profile, endpointUrl: url };
    },
    stderr: () => stderr,
    stdout: () => stdout,
    async kill9() {
      child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** Runs the CLI to completion and returns its exit code and output. */
export async function runLatchkey(
  args: string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  const code = await new Promise<number>((resolve) => child.once('exit', (c) => resolve(c ?? 1)));
  return { code, stdout, stderr };
}
