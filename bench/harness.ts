/**
 * Shared parts of the HTTP benchmarks: Latchkey and a bare node:http baseline in child processes
 * (so the load generator's CPU and memory are not counted against them), load in alternating
 * rounds keeping each side's best (other work on a shared machine hits every side alike), and
 * a server process's peak RSS.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Agent, request as httpRequest } from 'node:http';
import { createInterface } from 'node:readline';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { readProfile, type Profile } from '../src/profiles/index.js';
import { createClusterWithProvider, createIrsaRole, mintToken } from '../test/helpers/irsa.js';
import type { ChildOptions } from './latchkey-child.js';

export const CONNECTIONS = 32;
/** Seconds of load per side per round. */
export const SECONDS = Number(process.env.BENCH_SECONDS ?? 2);
export const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);

const ROOT = join(import.meta.dirname, '..');
const CHILD = join(import.meta.dirname, 'latchkey-child.ts');

/**
 * The child, compiled once per run into one ESM file (packages left as imports, resolved through
 * a `node_modules` link beside it) in a temporary directory removed at exit. Plain compiled
 * JavaScript, as `latchkey server` runs from dist/: under tsx's loader the same server starts
 * with ~55 MB more RSS and spends CPU compiling, which would distort the figures.
 */
let bundled: Promise<string> | undefined;
function childScript(): Promise<string> {
  bundled ??= (async () => {
    const dir = mkdtempSync(join(tmpdir(), 'latchkey-bench-child-'));
    leftovers.add(dir);
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const outfile = join(dir, 'latchkey-child.mjs');
    // esbuild comes with tsx, which runs the benchmarks.
    await build({
      entryPoints: [CHILD],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      packages: 'external',
      logLevel: 'warning',
    });
    return outfile;
  })();
  return bundled;
}

/** A server in a child process. */
export interface ChildServer {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

/** Latchkey in a child process, with its own temporary data directory. */
export interface LatchkeyChild extends ChildServer {
  /** The first account's admin profile. */
  admin: Profile;
  dataDir: string;
}

/** Spawns a node process and resolves with the value of its first `url: …` line. */
async function spawnServer(args: string[]): Promise<ChildServer> {
  const child = spawn(process.execPath, args, {
    // stdout carries the `url:` line; the child's errors go to ours.
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LATCHKEY_LOG_LEVEL: 'warn' },
  });
  const lines = createInterface({ input: child.stdout! });
  const url = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith('url: ')) resolve(line.slice(5));
    });
  });
  child.removeAllListeners('exit');
  if (child.pid === undefined) throw new Error('no pid');
  running.add(child);
  child.once('exit', () => running.delete(child));
  return { url, pid: child.pid, stop: () => stopChild(child) };
}

/**
 * Children still running and temporary directories not yet removed: killed and removed when the
 * benchmark process exits, also when a benchmark fails before stopping its servers.
 */
const running = new Set<ChildProcess>();
const leftovers = new Set<string>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of leftovers) rmSync(dir, { recursive: true, force: true });
});

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Starts Latchkey (compiled from src/) in a child process on a fresh temporary data directory. */
export async function startLatchkey(
  options: Omit<ChildOptions, 'dataDir'> = {},
): Promise<LatchkeyChild> {
  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  leftovers.add(dataDir);
  try {
    // BENCH_CHILD_NODE_ARGS (e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`) is for profiling.
    const nodeArgs = (process.env.BENCH_CHILD_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
    const server = await spawnServer([
      ...nodeArgs,
      await childScript(),
      JSON.stringify({ ...options, dataDir }),
    ]);
    const admin = readProfile(dataDir, 'latchkey');
    if (admin === undefined) throw new Error('no admin profile');
    return {
      ...server,
      admin,
      dataDir,
      async stop() {
        await server.stop();
        rmSync(dataDir, { recursive: true, force: true });
        leftovers.delete(dataDir);
      },
    };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * A bare node:http server answering every request with `status`, `headers` and `body`
 * (HEAD: no body), after reading the request's body.
 */
export function startBare(
  body: string,
  headers: Record<string, string> = {},
  status = 200,
): Promise<ChildServer> {
  const script = `
const http = require('node:http');
const [body, headers, status] = JSON.parse(process.argv[1]);
const bytes = Buffer.from(body);
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(status, { ...headers, 'content-length': bytes.length });
    res.end(req.method === 'HEAD' ? undefined : bytes);
  });
}).listen(0, '127.0.0.1', function () { console.log('url: http://127.0.0.1:' + this.address().port); });
`;
  return spawnServer(['-e', script, JSON.stringify([body, headers, status])]);
}

/**
 * A bare node:http server that stores each request body as S3 does at its simplest: streamed
 * into a temporary file in `dir` while computing its MD5, fsync, rename; then answers 200.
 */
export function startBareUpload(dir: string): Promise<ChildServer> {
  const script = `
const http = require('node:http');
const fs = require('node:fs');
const { createHash } = require('node:crypto');
const { pipeline, Transform } = require('node:stream');
const dir = process.argv[1];
let n = 0;
http.createServer((req, res) => {
  const temp = dir + '/upload-' + n++;
  const md5 = createHash('md5');
  const meter = new Transform({ transform(chunk, _e, cb) { md5.update(chunk); cb(null, chunk); } });
  const fd = fs.openSync(temp, 'wx');
  const file = fs.createWriteStream('', { fd, autoClose: false, highWaterMark: 1024 * 1024 });
  pipeline(req, meter, file, (err) => {
    if (err) { fs.closeSync(fd); res.writeHead(500); res.end(); return; }
    fs.fsync(fd, () => {
      fs.closeSync(fd);
      fs.renameSync(temp, temp + '.blob');
      fs.unlinkSync(temp + '.blob');
      res.writeHead(200, { etag: '"' + md5.digest('hex') + '"', 'content-length': 0 });
      res.end();
    });
  });
}).listen(0, '127.0.0.1', function () { console.log('url: http://127.0.0.1:' + this.address().port); });
`;
  return spawnServer(['-e', script, dir]);
}

/** What one side of a comparison sends. */
export interface LoadSpec {
  url: string;
  /** The server's process, for its CPU time per request. */
  pid?: number;
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT';
  headers?: Record<string, string>;
  body?: string;
  /** Called before each round (e.g. to re-sign a request); returns the spec to use. */
  refresh?: () => Promise<Omit<LoadSpec, 'refresh'>>;
}

/** One side's best round. */
export interface SideResult {
  reqPerSec: number;
  /** Latency percentiles of the best round, ms (autocannon's resolution: 1 ms above 1 ms). */
  p50Ms: number;
  p99Ms: number;
  /**
   * CPU time (user + system) the server process spent per request, µs, in its leanest round:
   * less sensitive to other work on the machine than req/s. NaN off Linux.
   */
  cpuUs: number;
}

/**
 * Loads each side for {@link SECONDS} per round, sides alternating, {@link ROUNDS} rounds;
 * keeps each side's best round. Any non-2xx answer or socket error fails the benchmark.
 */
export async function alternate<K extends string>(
  sides: Record<K, LoadSpec>,
  connections = CONNECTIONS,
): Promise<Record<K, SideResult>> {
  const best = {} as Record<K, SideResult>;
  const keys = Object.keys(sides) as K[];
  for (let round = 0; round < ROUNDS; round++) {
    // Each round starts with a different side, so no side always runs right after another.
    const order = keys.map((_, i) => keys[(i + round) % keys.length] as K);
    for (const key of order) {
      const side = sides[key];
      const spec = side.refresh ? await side.refresh() : side;
      const cpuBefore = cpuMs(side.pid);
      const result = await autocannon({
        url: spec.url,
        connections,
        duration: SECONDS,
        method: spec.method ?? 'GET',
        ...(spec.headers ? { headers: spec.headers } : {}),
        ...(spec.body !== undefined ? { body: spec.body } : {}),
        ...(spec.method === 'HEAD' ? { setupClient: skipBodiesOfHead } : {}),
      });
      if (result.non2xx > 0 || result.errors > 0 || result.timeouts > 0) {
        throw new Error(
          `${key}: ${result.non2xx} non-2xx, ${result.errors} errors, ${result.timeouts} timeouts`,
        );
      }
      const cpuAfter = cpuMs(side.pid);
      const cpuUs =
        cpuBefore === undefined || cpuAfter === undefined
          ? Number.NaN
          : ((cpuAfter - cpuBefore) * 1000) / Math.max(1, result.requests.total);
      const prior = best[key] as SideResult | undefined;
      const better = prior === undefined || result.requests.average > prior.reqPerSec;
      best[key] = {
        reqPerSec: Math.max(prior?.reqPerSec ?? 0, result.requests.average),
        p50Ms: better ? result.latency.p50 : prior.p50Ms,
        p99Ms: better ? result.latency.p99 : prior.p99Ms,
        cpuUs: Math.min(prior?.cpuUs ?? Number.POSITIVE_INFINITY, cpuUs),
      };
    }
  }
  return best;
}

/** CPU time (user + system) a process has used, ms; undefined off Linux. */
export function cpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * autocannon's response parser (http-parser-js) is not told that answers to HEAD have no body,
 * so it waits for the Content-Length bytes of one forever. Its headers-complete callback is set
 * after `setupClient` runs; this wraps whatever is set so that it answers "skip the body", as
 * node:http's parser does for HEAD.
 */
function skipBodiesOfHead(client: unknown): void {
  const parser = (client as { parser: Record<number, unknown> }).parser;
  const ON_HEADERS_COMPLETE = 2; // HTTPParser.kOnHeadersComplete in http-parser-js
  let handler: ((info: unknown) => unknown) | undefined;
  Object.defineProperty(parser, ON_HEADERS_COMPLETE, {
    configurable: true,
    get: () => (info: unknown) => {
      handler?.(info);
      return true;
    },
    set: (fn: (info: unknown) => unknown) => {
      handler = fn;
    },
  });
}

/**
 * Peak RSS of a process, in MB (10^6 bytes), since the last {@link resetPeakRss}: Linux's
 * VmHWM. Undefined where /proc is not available.
 */
export function peakRssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmHWM');
  return kb === undefined ? undefined : (kb * 1024) / 1e6;
}

/** Current RSS of a process, in MB; undefined where /proc is not available. */
export function rssMb(pid: number): number | undefined {
  const kb = statusKb(pid, 'VmRSS');
  return kb === undefined ? undefined : (kb * 1024) / 1e6;
}

/** Resets a process's peak RSS to its current RSS (Linux `clear_refs` 5); false if it cannot. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

function statusKb(pid: number, field: string): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m?.[1] === undefined ? undefined : Number(m[1]);
  } catch {
    return undefined;
  }
}

/** A temporary directory removed by the returned function. */
export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  leftovers.add(path);
  return {
    path,
    remove: () => {
      rmSync(path, { recursive: true, force: true });
      leftovers.delete(path);
    },
  };
}

/**
 * IRSA as eksctl sets it up: a cluster, its issuer as an IAM OIDC provider, a role whose trust
 * policy admits one service account, and a token of that service account valid for an hour.
 * Returns the AssumeRoleWithWebIdentity request body (unsigned, as the SDKs send it) and the
 * role's ARN.
 */
export async function setUpWebIdentity(
  server: LatchkeyChild,
): Promise<{ body: string; roleArn: string }> {
  const provider = await createClusterWithProvider(server.url, server.admin, 'bench');
  const roleArn = await createIrsaRole(
    server.url,
    server.admin,
    'bench-irsa',
    provider,
    'system:serviceaccount:bench:app',
  );
  const token = await mintToken(server.admin, 'bench', {
    namespace: 'bench',
    serviceAccount: 'app',
    expirationSeconds: 3600,
  });
  const body = new URLSearchParams({
    Action: 'AssumeRoleWithWebIdentity',
    Version: '2011-06-15',
    RoleArn: roleArn,
    RoleSessionName: 'bench',
    WebIdentityToken: token,
  }).toString();
  return { body, roleArn };
}

/** Headers of a Query POST. */
export const FORM = { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' };

/** Sends a Query POST once; throws unless it answers 200. Returns the response body. */
export async function postOnce(url: string, body: string): Promise<string> {
  const response = await fetch(url, { method: 'POST', headers: FORM, body });
  const text = await response.text();
  if (response.status !== 200) throw new Error(`${url} answered ${response.status}: ${text}`);
  return text;
}

/**
 * p99 latency at a steady offered rate, ms (autocannon's rate limit sends each second's quota in
 * a burst): `connections` keep-alive connections, each calling `send` at evenly spaced times,
 * latency taken from the planned send time (so a slow answer also counts against the requests
 * it delays). A 1 s warm-up, then `seconds` of load. `send` resolves with the HTTP status.
 */
export async function steadyP99Ms(
  send: () => Promise<number>,
  rate: number,
  connections = CONNECTIONS,
  seconds = SECONDS * 2,
): Promise<number> {
  const interval = (1000 * connections) / rate;
  const run = async (ms: number, latencies: number[] | undefined) => {
    const start = performance.now() + 10;
    const end = start + ms;
    await Promise.all(
      Array.from({ length: connections }, async (_, i) => {
        for (
          let planned = start + (i * interval) / connections;
          planned < end;
          planned += interval
        ) {
          const wait = planned - performance.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const status = await send();
          if (status < 200 || status > 299) throw new Error(`answer ${status}`);
          latencies?.push(performance.now() - planned);
        }
      }),
    );
  };
  await run(1000, undefined);
  const latencies: number[] = [];
  await run(seconds * 1000, latencies);
  latencies.sort((a, b) => a - b);
  return latencies[Math.floor(latencies.length * 0.99)] ?? 0;
}

/** Sends `spec` over plain HTTP on keep-alive connections; resolves with the status. */
export function httpSender(spec: Omit<LoadSpec, 'refresh'>): {
  send: () => Promise<number>;
  close: () => void;
} {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });
  const send = () =>
    new Promise<number>((resolve, reject) => {
      const req = httpRequest(
        spec.url,
        { method: spec.method ?? 'GET', headers: spec.headers ?? {}, agent },
        (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        },
      );
      req.on('error', reject);
      req.end(spec.body);
    });
  return { send, close: () => agent.destroy() };
}
