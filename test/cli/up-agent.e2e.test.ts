/**
 * `latchkey up` runs the EKS Pod Identity agent next to the server, and `latchkey exec` gives a
 * service account with an association the container-credentials variables pointing at it: the
 * AWS CLI then runs as the association's role with nothing else set.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { runLatchkey, type CliResult } from '../helpers/cli.js';
import { tempDir } from '../helpers/tmp.js';

const ENTRY = join(import.meta.dirname, '../helpers/latchkey.ts');
const dir = tempDir();
let up: ChildProcess;
let upOutput = '';
let admin: Profile;

/** The CLI with only what a developer's shell would have: no AWS variables. */
function latchkey(args: string[]): Promise<CliResult> {
  return runLatchkey(dir.path, args, {
    env: Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AWS_'))),
  });
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}; output so far:\n${upOutput}`);
}

beforeAll(async () => {
  up = spawn(
    process.execPath,
    ['--import', 'tsx', ENTRY, 'up', '--port', '0', '--agent-port', '0', '--data-dir', dir.path],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LATCHKEY_LOG_LEVEL: 'warn' } },
  );
  up.stdout?.on('data', (chunk: Buffer) => (upOutput += chunk.toString()));
  up.stderr?.on('data', (chunk: Buffer) => (upOutput += chunk.toString()));
  await waitFor(() => existsSync(join(dir.path, 'agent.url')), 'agent.url');
  await waitFor(() => upOutput.includes('Pod Identity agent'), 'the agent line');
  const profile = readProfile(dir.path, 'latchkey');
  if (profile === undefined) throw new Error('no profile');
  admin = profile;

  const config = {
    endpoint: admin.endpointUrl,
    region: 'us-east-1',
    credentials: admin,
    maxAttempts: 1,
  };
  const { Role } = await new IAMClient(config).send(
    new CreateRoleCommand({
      RoleName: 'app-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        ],
      }),
    }),
  );
  // `up` created the cluster its agent serves.
  await new EKSClient(config).send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'local',
      namespace: 'default',
      serviceAccount: 'app',
      roleArn: Role?.Arn ?? '',
    }),
  );
}, 120_000);

afterAll(async () => {
  if (up.exitCode === null) {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
  }
  dir.remove();
});

describe('latchkey up runs the Pod Identity agent', () => {
  it('records the agent’s URL and cluster in the data directory and prints them', () => {
    const url = readFileSync(join(dir.path, 'agent.url'), 'utf8').trim();
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(readFileSync(join(dir.path, 'agent.cluster'), 'utf8').trim()).toBe('local');
    expect(upOutput).toContain(
      `EKS Pod Identity agent for cluster local (created): ${url}/v1/credentials`,
    );
  });

  it('latchkey exec gives the container-credentials variables of that agent', async () => {
    const r = await latchkey([
      'exec',
      '--cluster',
      'local',
      '--namespace',
      'default',
      '--service-account',
      'app',
      '--',
      'sh',
      '-c',
      'echo "$AWS_CONTAINER_CREDENTIALS_FULL_URI"; cat "$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE" | cut -d. -f2',
    ]);
    expect(r.stderr).toBe('');
    const [uri, payload] = r.stdout.trim().split('\n');
    const url = readFileSync(join(dir.path, 'agent.url'), 'utf8').trim();
    expect(uri).toBe(`${url}/v1/credentials`);
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString()) as {
      aud: string[];
      sub: string;
    };
    expect(claims).toMatchObject({
      aud: ['pods.eks.amazonaws.com'],
      sub: 'system:serviceaccount:default:app',
    });
  });

  it('the AWS CLI under latchkey exec runs as the association’s role through the agent', async () => {
    const r = await latchkey([
      'exec',
      '--cluster',
      'local',
      '--namespace',
      'default',
      '--service-account',
      'app',
      '--',
      'aws',
      'sts',
      'get-caller-identity',
    ]);
    expect(r.stderr).toBe('');
    expect(JSON.parse(r.stdout)).toMatchObject({
      Account: '000000000000',
      Arn: expect.stringMatching(
        /^arn:aws:sts::000000000000:assumed-role\/app-role\/eks-local-/,
      ) as unknown,
    });
  });

  it('exec refuses clearly when the agent serves another cluster', async () => {
    const r = await latchkey([
      'exec',
      '--cluster',
      'other',
      '--namespace',
      'default',
      '--service-account',
      'app',
      '--mode',
      'pod-identity',
      '--',
      'true',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('serves cluster local, not other');
  });

  it('stopping up removes the record, and exec then says to start it', async () => {
    up.kill('SIGTERM');
    await new Promise((r) => up.once('exit', r));
    expect(existsSync(join(dir.path, 'agent.url'))).toBe(false);
    expect(existsSync(join(dir.path, 'agent.cluster'))).toBe(false);
    const r = await latchkey([
      'exec',
      '--cluster',
      'local',
      '--namespace',
      'default',
      '--service-account',
      'app',
      '--mode',
      'pod-identity',
      '--endpoint',
      'http://127.0.0.1:1',
      '--',
      'true',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('start `latchkey up`');
  });
});
