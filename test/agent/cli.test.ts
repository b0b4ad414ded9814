/**
 * `latchkey agent` as a process: keys from the environment or from a data directory's profile,
 * probes and metrics on their own listeners, a clean exit on SIGTERM, and refusals of bad flags.
 */
import { fromHttp } from '@aws-sdk/credential-providers';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeProfile } from '../../src/profiles/index.js';
import { cleanAwsEnv } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { EksAuthStandIn } from './helpers/eks-auth-stand-in.js';

const ROOT = join(import.meta.dirname, '..', '..');
const MAIN = join(import.meta.dirname, 'helpers', 'cli-main.ts');
// Loaded by absolute URL: the agent runs in a scratch directory.
const TSX = pathToFileURL(join(ROOT, 'node_modules', 'tsx', 'dist', 'loader.mjs')).href;
const LOCAL_LISTENERS = [
  '--listen',
  '127.0.0.1:0',
  '--probe-listen',
  '127.0.0.1:0',
  '--metrics-listen',
  '127.0.0.1:0',
  '--local',
];

let standIn: EksAuthStandIn;
const dir = tempDir('latchkey-agent-cli-');

beforeAll(async () => {
  standIn = await EksAuthStandIn.start();
});
afterAll(async () => {
  await standIn.close();
  dir.remove();
});

interface Started {
  child: ChildProcess;
  lines: Map<string, string>;
  stderr: () => string;
}

/** Spawns the agent and waits for its credentials/probes/metrics/signing lines. */
async function spawnAgent(args: string[], env: NodeJS.ProcessEnv): Promise<Started> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'agent', ...args], {
    cwd: dir.path,
    env: { ...env, LATCHKEY_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  child.stderr?.on('data', (c: Buffer) => (err += c.toString()));
  const lines = new Map<string, string>();
  const reader = createInterface({ input: child.stdout! });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`agent did not start: ${err}`)), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited with ${code}: ${err}`));
    });
    reader.on('line', (line) => {
      const m = /^(credentials|probes|metrics|signing as): (.*)$/.exec(line);
      if (m) lines.set(m[1] ?? '', m[2] ?? '');
      if (lines.has('signing as')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolve();
      }
    });
  });
  return { child, lines, stderr: () => err };
}

async function stop(started: Started): Promise<number | null> {
  started.child.kill('SIGTERM');
  const [code] = (await once(started.child, 'exit')) as [number | null];
  return code;
}

async function run(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', TSX, MAIN, 'agent', ...args], {
    cwd: dir.path,
    env,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()));
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stderr };
}

describe('latchkey agent', () => {
  it('signs with AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, serves credentials, probes and metrics, exits 0 on SIGTERM', async () => {
    const started = await spawnAgent(
      ['--server', standIn.url, '--cluster', 'dev', ...LOCAL_LISTENERS],
      cleanAwsEnv({
        AWS_ACCESS_KEY_ID: standIn.nodeCredentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: standIn.nodeCredentials.secretAccessKey,
        AWS_REGION: standIn.region,
      }),
    );
    try {
      expect(started.lines.get('signing as')).toBe('environment');
      const tokenFile = join(dir.path, 'token-env');
      writeFileSync(tokenFile, standIn.podToken({ namespace: 'cli', serviceAccount: 'env' }));
      const creds = await fromHttp({
        awsContainerCredentialsFullUri: started.lines.get('credentials'),
        awsContainerAuthorizationTokenFile: tokenFile,
      })();
      expect(standIn.ownerOf(creds.accessKeyId)).toMatchObject({
        namespace: 'cli',
        serviceAccount: 'env',
      });

      const probes = new URL(started.lines.get('probes') ?? '');
      for (const path of ['/healthz', '/readyz']) {
        const answer = await fetch(new URL(path, probes));
        expect(answer.status).toBe(200);
      }
      expect((await fetch(new URL('/metrics', probes))).status).toBe(404);
      const metrics = new URL(started.lines.get('metrics') ?? '');
      const text = await (await fetch(metrics)).text();
      expect(text).toContain('pod_identity_http_response{code="200"} 1');
      expect(text).toContain('latchkey_agent_cache_lookups_total{result="miss"} 1');
      expect(text).toContain(
        'latchkey_agent_eks_auth_request_duration_seconds_count{outcome="success"} 1',
      );
      expect(text).toContain('latchkey_agent_cache_entries 1');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect((await fetch(new URL('/healthz', metrics))).status).toBe(200);
    } finally {
      expect(await stop(started)).toBe(0);
    }
    expect(started.stderr()).toBe('');
  });

  it('signs with a data directory’s profile, taking its endpoint and region', async () => {
    const dataDir = join(dir.path, 'data');
    writeProfile(dataDir, {
      name: 'node',
      endpointUrl: standIn.url,
      region: standIn.region,
      ...standIn.nodeCredentials,
    });
    const started = await spawnAgent(
      ['--cluster', 'dev', '--data-dir', dataDir, '--profile', 'node', ...LOCAL_LISTENERS],
      cleanAwsEnv({}),
    );
    try {
      expect(started.lines.get('signing as')).toBe(`profile node in ${dataDir}`);
      const tokenFile = join(dir.path, 'token-profile');
      writeFileSync(tokenFile, standIn.podToken({ namespace: 'cli', serviceAccount: 'profile' }));
      const creds = await fromHttp({
        awsContainerCredentialsFullUri: started.lines.get('credentials'),
        awsContainerAuthorizationTokenFile: tokenFile,
      })();
      expect(standIn.ownerOf(creds.accessKeyId)).toMatchObject({ serviceAccount: 'profile' });
    } finally {
      expect(await stop(started)).toBe(0);
    }
  });

  it('refuses missing keys, a bad listen address, an occupied port and a bad retention', async () => {
    const env = cleanAwsEnv({});
    const noKeys = await run(
      ['--server', standIn.url, '--cluster', 'dev', '--listen', '127.0.0.1:0'],
      env,
    );
    expect(noKeys.code).toBe(1);
    expect(noKeys.stderr).toContain('latchkey: no profile latchkey in ./.latchkey/aws');

    const keys = {
      AWS_ACCESS_KEY_ID: standIn.nodeCredentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: standIn.nodeCredentials.secretAccessKey,
    };
    const badListen = await run(
      ['--server', standIn.url, '--cluster', 'dev', '--listen', 'nowhere'],
      cleanAwsEnv(keys),
    );
    expect(badListen.code).toBe(1);
    expect(badListen.stderr).toContain('invalid listen address "nowhere"');

    const standInPort = new URL(standIn.url).port;
    const busy = await run(
      [
        '--server',
        standIn.url,
        '--cluster',
        'dev',
        '--listen',
        `127.0.0.1:${standInPort}`,
        '--probe-listen',
        '127.0.0.1:0',
        '--metrics-listen',
        '127.0.0.1:0',
      ],
      cleanAwsEnv(keys),
    );
    expect(busy.code).toBe(1);
    expect(busy.stderr).toContain('EADDRINUSE');

    const badRetention = await run(
      ['--cluster', 'dev', '--listen', '127.0.0.1:0', '--max-credential-retention', 'forever'],
      cleanAwsEnv(keys),
    );
    expect(badRetention.code).toBe(1);
    expect(badRetention.stderr).toContain('seconds, or a duration such as 3h, 90m or 1h30m');
  });
});
