/**
 * GetCallerIdentity req/s over HTTP at 32 connections, against a bare Node HTTP server that
 * answers a constant body, both in child processes, measured in the same run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { readProfile } from '../src/profiles/index.js';
import { signQuery } from '../test/helpers/sign.js';
import type { BenchLine } from './report.js';

const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const ROOT = join(import.meta.dirname, '..');

const BARE_SERVER = `
const http = require('node:http');
const body = '<GetCallerIdentityResponse><GetCallerIdentityResult/></GetCallerIdentityResponse>';
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => { res.writeHead(200, { 'content-type': 'text/xml' }); res.end(body); });
}).listen(Number(process.argv[1]), '127.0.0.1', () => console.log('ready'));
`;

async function waitReady(child: ChildProcess, url: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (child.exitCode !== null) throw new Error('server exited');
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  throw new Error(`no answer from ${url}`);
}

async function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ connections: CONNECTIONS, duration: SECONDS, ...opts });
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (child.exitCode === null) await once(child, 'exit');
}

export default async function bench(): Promise<BenchLine[]> {
  const barePort = 45_901;
  const bare = spawn(process.execPath, ['-e', BARE_SERVER, String(barePort)], { stdio: 'ignore' });
  const bareUrl = `http://127.0.0.1:${barePort}`;
  await waitReady(bare, bareUrl);
  const body = 'Action=GetCallerIdentity&Version=2011-06-15';
  const baseline = await load({ url: bareUrl, method: 'POST', body });
  await stop(bare);

  const dataDir = mkdtempSync(join(tmpdir(), 'latchkey-bench-'));
  const port = 45_902;
  const server = spawn(
    process.execPath,
    [join(ROOT, 'bin/latchkey.js'), 'server', '--port', String(port), '--data-dir', dataDir],
    { stdio: 'ignore', env: { ...process.env, LATCHKEY_LOG_LEVEL: 'warn' } },
  );
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitReady(server, `${url}/_latchkey/healthz`);
    const admin = readProfile(dataDir, 'latchkey');
    if (!admin) throw new Error('no admin profile');
    // One signed request replayed: valid for the 5-minute window, as any captured request is.
    const signed = await signQuery({ endpoint: url, service: 'sts', body, credentials: admin });
    const check = await fetch(signed.url, { method: 'POST', headers: signed.headers, body });
    if (check.status !== 200) throw new Error(`GetCallerIdentity answered ${check.status}`);
    const result = await load({ url, method: 'POST', headers: signed.headers, body });
    if (result.non2xx > 0 || result.errors > 0) throw new Error('errors during the run');
    const ratio = result.requests.average / baseline.requests.average;
    return [
      {
        name: `GetCallerIdentity over HTTP, ${CONNECTIONS} connections`,
        value: result.requests.average,
        unit: 'req/s',
        baseline: { name: 'bare node:http', value: baseline.requests.average },
        goal: '≥ 60% of bare',
        met: ratio >= 0.6,
      },
      {
        name: 'GetCallerIdentity latency p99',
        value: result.latency.p99,
        unit: 'ms',
        baseline: { name: 'bare node:http p99', value: baseline.latency.p99 },
      },
    ];
  } finally {
    await stop(server);
    rmSync(dataDir, { recursive: true, force: true });
  }
}
