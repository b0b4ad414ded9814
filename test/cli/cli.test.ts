/**
 * The `latchkey` command as a user runs it: a real server process, the AWS CLI against the
 * profiles it writes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { awsCliFiles } from '../../src/profiles/index.js';
import { cleanAwsEnv, runAwsCli } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const exec = promisify(execFile);
const ENTRY = join(import.meta.dirname, '../helpers/latchkey.ts');

function latchkey(args: string[]) {
  return exec(process.execPath, ['--import', 'tsx', ENTRY, ...args], { timeout: 60_000 });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      srv.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function waitForHealth(url: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      if ((await fetch(`${url}/_latchkey/healthz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server did not become healthy');
}

describe('latchkey CLI', () => {
  const dir = tempDir();
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    child = spawn(
      process.execPath,
      ['--import', 'tsx', ENTRY, 'server', '--port', String(port), '--data-dir', dir.path],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await waitForHealth(url);
  });

  afterAll(async () => {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    dir.remove();
  });

  it('the built bin answers --help (npm ci compiles it)', async () => {
    const { stdout } = await exec(process.execPath, [
      join(import.meta.dirname, '../../bin/latchkey.js'),
      '--help',
    ]);
    expect(stdout).toContain('Usage: latchkey');
    for (const cmd of ['server', 'up', 'env', 'account', 'cluster', 'token'])
      expect(stdout).toContain(cmd);
  });

  it('first start writes the AWS CLI files, secrets 0600, and env prints the exports', async () => {
    const files = awsCliFiles(dir.path);
    expect(statSync(files.credentials).mode & 0o777).toBe(0o600);
    expect(statSync(files.config).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir.path, 'master.key')).mode & 0o777).toBe(0o600);
    const { stdout } = await latchkey(['env', '--data-dir', dir.path]);
    expect(stdout).toContain(`export AWS_CONFIG_FILE=${files.config}`);
    expect(stdout).toContain(`export AWS_SHARED_CREDENTIALS_FILE=${files.credentials}`);
    expect(stdout).toContain('export AWS_PROFILE=latchkey');
  });

  it('the AWS CLI works with nothing but those three variables', async () => {
    const files = awsCliFiles(dir.path);
    const r = await runAwsCli(
      ['sts', 'get-caller-identity'],
      cleanAwsEnv({
        AWS_CONFIG_FILE: files.config,
        AWS_SHARED_CREDENTIALS_FILE: files.credentials,
        AWS_PROFILE: 'latchkey',
      }),
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).Arn).toBe('arn:aws:iam::000000000000:user/admin');
  });

  it('account create adds an account with its own admin and profile', async () => {
    const { stdout } = await latchkey([
      'account',
      'create',
      '--account-id',
      '123456789012',
      '--data-dir',
      dir.path,
    ]);
    expect(stdout).toContain('latchkey-123456789012');
    const files = awsCliFiles(dir.path);
    const env = cleanAwsEnv({
      AWS_CONFIG_FILE: files.config,
      AWS_SHARED_CREDENTIALS_FILE: files.credentials,
      AWS_PROFILE: 'latchkey-123456789012',
    });
    const r = await runAwsCli(['sts', 'get-caller-identity'], env);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:iam::123456789012:user/admin',
    });
    // The first profile still works.
    const first = await runAwsCli(['sts', 'get-caller-identity'], {
      ...env,
      AWS_PROFILE: 'latchkey',
    });
    expect(JSON.parse(first.stdout).Account).toBe('000000000000');
  });

  it('account create refuses a duplicate or a malformed id', async () => {
    const dup = await latchkey([
      'account',
      'create',
      '--account-id',
      '123456789012',
      '--data-dir',
      dir.path,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(dup).toMatchObject({ code: 1 });
    expect((dup as { stderr: string }).stderr).toContain('EntityAlreadyExists');
    const bad = await latchkey([
      'account',
      'create',
      '--account-id',
      '12345',
      '--data-dir',
      dir.path,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(bad).toMatchObject({ code: 1 });
    expect((bad as { stderr: string }).stderr).toContain('must be exactly 12 digits');
  });

  it('cluster create, then token mints a service-account token of its issuer', async () => {
    const created = await latchkey(['cluster', 'create', 'demo', '--data-dir', dir.path, '--json']);
    const cluster = JSON.parse(created.stdout) as { identity: { oidc: { issuer: string } } };
    const issuer = cluster.identity.oidc.issuer;
    const { stdout } = await latchkey([
      'token',
      '--cluster',
      'demo',
      '--namespace',
      'default',
      '--service-account',
      'app',
      '--duration',
      '600',
      '--data-dir',
      dir.path,
    ]);
    const [, payload] = stdout.trim().split('.');
    const claims = JSON.parse(Buffer.from(payload ?? '', 'base64url').toString('utf8'));
    expect(claims).toMatchObject({
      iss: issuer,
      sub: 'system:serviceaccount:default:app',
      aud: ['sts.amazonaws.com'],
    });
    expect(claims.exp - claims.iat).toBe(600);
    const listed = await latchkey(['cluster', 'list', '--data-dir', dir.path, '--json']);
    expect(JSON.parse(listed.stdout)).toEqual(['demo']);
    const bad = await latchkey([
      'token',
      '--cluster',
      'nope',
      '--namespace',
      'a',
      '--service-account',
      'b',
      '--data-dir',
      dir.path,
    ]).catch((e: { code: number; stderr: string }) => e);
    expect((bad as { stderr: string }).stderr).toContain('ResourceNotFoundException');
  });

  it('the accounts API refuses a caller that is not an admin of the first account', async () => {
    const { signedJsonRequest } = await import('../../src/cli/signed-fetch.js');
    const { readProfile } = await import('../../src/profiles/index.js');
    const other = readProfile(dir.path, 'latchkey-123456789012');
    expect(other).toBeDefined();
    const r = await signedJsonRequest(other!, 'POST', '/_latchkey/api/accounts', {
      accountId: '999999999999',
    });
    expect(r.status).toBe(403);
    expect(r.json.__type).toBe('AccessDeniedException');
  });
});
