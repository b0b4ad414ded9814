/**
 * The Pod Identity agent (`latchkey agent`, run as its CLI) against the EKS Auth stand-in, each
 * in a child process:
 * - cache-hit req/s at 32 connections against a bare node:http server answering a constant body
 *   of the same size to the same request, measured in the same run, best of two alternating
 *   rounds each (goal ≥ 80%);
 * - cold-path latency: the first request of distinct tokens, one at a time (an EKS Auth call each);
 * - 1,000 concurrent cold requests for one pod: EKS Auth calls made (must be 1);
 * - the agent's own code per cache hit, in-process without sockets (what it adds to node:http).
 *
 * The agent runs with its incoming rate limit lifted (upstream's 1000 req/s, burst 500 would cap
 * the first figure by design).
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { CredentialCache } from '../src/agent/cache.js';
import { AGENT_HOSTS, HostGuard, LOOPBACK_HOSTS } from '../src/agent/host-guard.js';
import { AgentMetrics } from '../src/agent/metrics.js';
import { TokenBucket } from '../src/agent/rate-limit.js';
import { CredentialRetriever } from '../src/agent/retriever.js';
import { createCredentialsHandler } from '../src/agent/server.js';
import { parsePodToken } from '../src/agent/token.js';
import { opsPerSecond, type BenchLine } from './report.js';

const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4);
const COLD_SAMPLES = 300;
const CONCURRENT_COLD = 1000;
const ROOT = join(import.meta.dirname, '..');
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const STAND_IN = pathToFileURL(join(ROOT, 'test', 'agent', 'helpers', 'eks-auth-stand-in.ts')).href;
const AGENT_CLI = join(ROOT, 'test', 'agent', 'helpers', 'cli-main.ts');

const BARE_SERVER = `
const http = require('node:http');
const body = Buffer.from(process.argv[1]);
http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length });
  res.end(body);
}).listen(0, '127.0.0.1', function () { console.log('url: http://127.0.0.1:' + this.address().port); });
`;

const STAND_IN_SERVER = `
const { EksAuthStandIn } = await import(${JSON.stringify(STAND_IN)});
const standIn = await EksAuthStandIn.start();
console.log('url: ' + standIn.url);
process.on('SIGTERM', () => standIn.close().then(() => process.exit(0)));
`;

/** Spawns a server and resolves with the value of its first `prefix: value` line. */
async function start(
  args: string[],
  prefix: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; value: string }> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env });
  const lines = createInterface({ input: child.stdout! });
  const value = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}`)));
    lines.on('line', (line) => {
      if (line.startsWith(`${prefix}: `)) resolve(line.slice(prefix.length + 2));
    });
  });
  child.removeAllListeners('exit');
  return { child, value };
}

async function stop(child: ChildProcess): Promise<void> {
  // A child killed by a signal has a signalCode and no exitCode.
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

async function json<T>(url: string, init?: RequestInit): Promise<T> {
  const response = await fetch(url, init);
  if (!response.ok) throw new Error(`${url}: ${response.status}`);
  return (await response.json()) as T;
}

function get(
  url: URL,
  token: string,
  agent: http.Agent | false,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { headers: { authorization: token }, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
  });
}

/** CPU time (user + system) a process has used, ms; undefined off Linux. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS;
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

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

/** µs of agent code per cache hit: the request handler on a realistic token, sockets left out. */
async function handlerMicros(token: string): Promise<number> {
  const logger = pino({ level: 'silent' });
  const metrics = new AgentMetrics(() => 0);
  const cache = new CredentialCache(2000, () => undefined);
  const retriever = new CredentialRetriever({
    client: {
      assumeRoleForPodIdentity: async () => ({
        accessKeyId: 'ASIAEXAMPLE000000001',
        secretAccessKey: 'x'.repeat(40),
        sessionToken: 'y'.repeat(400),
        expiresAtMs: Date.now() + 6 * 3600_000,
        accountId: '111122223333',
        assumedRoleArn: 'arn:aws:sts::111122223333:assumed-role/r/s',
        associationId: 'a-1',
      }),
    },
    cache,
    maxRetentionMs: 3 * 3600_000,
    clock: Date.now,
    metrics,
    logger,
  });
  await retriever.fetch(token, parsePodToken(token));
  const handler = createCredentialsHandler({
    limiter: new TokenBucket(1e12, 1e12),
    hostGuard: new HostGuard([...AGENT_HOSTS, ...LOOPBACK_HOSTS]),
    retriever,
    clock: Date.now,
    metrics,
    logger,
  });
  // Fresh header strings per request, as node:http gives them.
  const requests = Array.from({ length: 1024 }, () => ({
    url: '/v1/credentials',
    rawHeaders: ['Host', '169.254.170.23', 'Authorization', Buffer.from(token).toString('latin1')],
  })) as unknown as http.IncomingMessage[];
  const response = {
    writeHead: () => response,
    end: () => undefined,
  } as unknown as http.ServerResponse;
  let i = 0;
  return 1e6 / opsPerSecond(() => handler(requests[i++ & 1023]!, response), 2000);
}

export default async function bench(): Promise<BenchLine[]> {
  const standIn = await start(
    ['--import', TSX, '--input-type=module', '-e', STAND_IN_SERVER],
    'url',
  );
  const children: ChildProcess[] = [standIn.child];
  try {
    const standInUrl = standIn.value;
    const node = await json<{ accessKeyId: string; secretAccessKey: string }>(
      `${standInUrl}/_stand-in/node-credentials`,
    );
    const tokenFor = async (serviceAccount: string) =>
      (
        await json<{ token: string }>(
          `${standInUrl}/_stand-in/token?namespace=bench&serviceAccount=${serviceAccount}`,
        )
      ).token;
    const calls = async () =>
      (await json<{ calls: number }>(`${standInUrl}/_stand-in/stats`)).calls;

    const agent = await start(
      [
        '--import',
        TSX,
        AGENT_CLI,
        'agent',
        '--server',
        standInUrl,
        '--cluster',
        'dev',
        '--listen',
        '127.0.0.1:0',
        '--probe-listen',
        '127.0.0.1:0',
        '--metrics-listen',
        '127.0.0.1:0',
        '--local',
        '--rate-limit',
        '100000000',
        '--burst',
        '100000000',
      ],
      'credentials',
      {
        ...process.env,
        AWS_ACCESS_KEY_ID: node.accessKeyId,
        AWS_SECRET_ACCESS_KEY: node.secretAccessKey,
        LATCHKEY_LOG_LEVEL: 'warn',
      },
    );
    children.push(agent.child);
    const credentialsUrl = new URL(agent.value);

    // Cache hits: one pod, warmed, then 32 connections.
    const hot = await tokenFor('hot');
    const warm = await get(credentialsUrl, hot, false);
    if (warm.status !== 200) throw new Error(`agent answered ${warm.status}: ${warm.body}`);
    const bare = await start(['-e', BARE_SERVER, warm.body], 'url');
    children.push(bare.child);
    // Alternating rounds, best of each: other work on the machine hits both alike. CPU time per
    // request of each server process is the load-independent figure.
    const load = (url: string) =>
      autocannon({
        url,
        connections: CONNECTIONS,
        duration: SECONDS / ROUNDS,
        headers: { authorization: hot },
      });
    const measure = async (url: string, pid: number | undefined) => {
      const before = cpuMs(pid);
      const result = await load(url);
      const after = cpuMs(pid);
      const cpuPerRequestUs =
        before === undefined || after === undefined
          ? Number.NaN
          : ((after - before) * 1000) / Math.max(1, result.requests.total);
      return { result, cpuPerRequestUs };
    };
    let baseline: autocannon.Result | undefined;
    let hits: autocannon.Result | undefined;
    const cpu = { bare: Number.POSITIVE_INFINITY, agent: Number.POSITIVE_INFINITY };
    for (let round = 0; round < ROUNDS; round++) {
      const b = await measure(`${bare.value}/v1/credentials`, bare.child.pid);
      const a = await measure(credentialsUrl.toString(), agent.child.pid);
      if (a.result.non2xx > 0 || a.result.errors > 0) {
        throw new Error('errors during the cache-hit run');
      }
      if (baseline === undefined || b.result.requests.average > baseline.requests.average) {
        baseline = b.result;
      }
      if (hits === undefined || a.result.requests.average > hits.requests.average) hits = a.result;
      cpu.bare = Math.min(cpu.bare, b.cpuPerRequestUs);
      cpu.agent = Math.min(cpu.agent, a.cpuPerRequestUs);
    }
    await stop(bare.child);
    if (baseline === undefined || hits === undefined) throw new Error('no rounds');

    // Cold path: distinct tokens, one at a time, on a kept-alive connection.
    const keepAlive = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const tokens = await Promise.all(
      Array.from({ length: COLD_SAMPLES }, (_, i) => tokenFor(`cold-${i}`)),
    );
    const before = await calls();
    const samples: number[] = [];
    for (const token of tokens) {
      const t0 = performance.now();
      const answer = await get(credentialsUrl, token, keepAlive);
      samples.push(performance.now() - t0);
      if (answer.status !== 200) throw new Error(`cold request answered ${answer.status}`);
    }
    keepAlive.destroy();
    if ((await calls()) - before !== COLD_SAMPLES)
      throw new Error('cold requests were not all misses');
    samples.sort((a, b) => a - b);

    // 1,000 concurrent cold requests for one pod, EKS Auth answering in 200 ms.
    await fetch(`${standInUrl}/_stand-in/default-outcome`, {
      method: 'PUT',
      body: JSON.stringify({ kind: 'delay', ms: 200 }),
    });
    const herd = await tokenFor('herd');
    const beforeHerd = await calls();
    const herdAgent = new http.Agent({ keepAlive: false, maxSockets: CONCURRENT_COLD });
    const t0 = performance.now();
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT_COLD }, () => get(credentialsUrl, herd, herdAgent)),
    );
    const herdMs = performance.now() - t0;
    herdAgent.destroy();
    const herdCalls = (await calls()) - beforeHerd;
    const herdOk = answers.filter((a) => a.status === 200).length;
    const distinct = new Set(answers.map((a) => a.body)).size;

    const handlerUs = await handlerMicros(hot);
    const ratio = hits.requests.average / baseline.requests.average;
    return [
      {
        name: `agent cache hit, ${CONNECTIONS} connections (best of ${ROUNDS})`,
        value: hits.requests.average,
        unit: 'req/s',
        baseline: { name: 'bare node:http, same body', value: baseline.requests.average },
        goal: '≥ 80% of bare',
        met: ratio >= 0.8,
      },
      {
        name: 'agent CPU per cache hit (user + system)',
        value: cpu.agent,
        unit: 'µs',
        baseline: { name: 'bare node:http', value: cpu.bare },
      },
      { name: 'agent code per cache hit (in-process, no sockets)', value: handlerUs, unit: 'µs' },
      {
        name: 'agent cache hit latency p99',
        value: hits.latency.p99,
        unit: 'ms',
        baseline: { name: 'bare node:http p99', value: baseline.latency.p99 },
      },
      {
        name: `cold path (EKS Auth call) p50, ${COLD_SAMPLES} tokens`,
        value: percentile(samples, 0.5),
        unit: 'ms',
      },
      { name: 'cold path (EKS Auth call) p99', value: percentile(samples, 0.99), unit: 'ms' },
      {
        name: `${CONCURRENT_COLD} concurrent cold requests for one pod: EKS Auth calls (${herdOk} × 200, ${distinct} distinct body, ${Math.round(herdMs)} ms)`,
        value: herdCalls,
        unit: 'calls',
        goal: 'exactly 1',
        met: herdCalls === 1 && herdOk === CONCURRENT_COLD && distinct === 1,
      },
    ];
  } finally {
    for (const child of children.reverse()) await stop(child);
  }
}
