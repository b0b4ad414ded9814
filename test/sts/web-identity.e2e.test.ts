/**
 * IRSA end to end: a service account's projected token is exchanged at STS
 * AssumeRoleWithWebIdentity by the AWS CLI, boto3 and the SDK for JavaScript v3, each through
 * its own web-identity provider with only the pod's environment variables set.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  AssumeRoleWithWebIdentityCommand,
  GetCallerIdentityCommand,
  STSClient,
} from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IssuerKeys, mintServiceAccountToken } from '../../src/oidc/index.js';
import { createClusterWithProvider, createIrsaRole, mintToken } from '../helpers/irsa.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const exec = promisify(execFile);
const ENTRY = join(import.meta.dirname, '../helpers/latchkey.ts');
let t: TestServer;
let roleArn: string;
let issuer: string;
let sts: STSClient;

beforeAll(async () => {
  t = await startTestServer();
  const provider = await createClusterWithProvider(t.server.url, t.admin, 'dev');
  issuer = provider.issuer;
  roleArn = await createIrsaRole(
    t.server.url,
    t.admin,
    'reader',
    provider,
    'system:serviceaccount:default:reader',
  );
  sts = new STSClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    maxAttempts: 1,
    credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  });
});
afterAll(async () => {
  await t.stop();
});

/** Runs `cmd` as a pod of default/reader would run (through `latchkey exec`). */
async function asPod(cmd: string[]): Promise<string> {
  const { stdout } = await exec(
    process.execPath,
    [
      '--import',
      'tsx',
      ENTRY,
      'exec',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account',
      'reader',
      '--role-arn',
      roleArn,
      '--data-dir',
      t.dataDir,
      '--',
      ...cmd,
    ],
    { timeout: 90_000 },
  );
  return stdout;
}

const sessionArn = /^arn:aws:sts::000000000000:assumed-role\/reader\/.+$/;

describe('IRSA with real clients', () => {
  it('AWS CLI', async () => {
    const out = JSON.parse(await asPod(['aws', 'sts', 'get-caller-identity'])) as {
      Arn: string;
      UserId: string;
    };
    expect(out.Arn).toMatch(sessionArn);
    expect(out.UserId).toMatch(/^AROA[A-Z2-7]{17}:/);
  });

  it('boto3', async () => {
    const out = await asPod([
      'python3',
      '-c',
      "import boto3; print(boto3.client('sts').get_caller_identity()['Arn'])",
    ]);
    expect(out.trim()).toMatch(sessionArn);
  });

  it('SDK for JavaScript v3 (default credential chain)', async () => {
    const script = join(import.meta.dirname, '../helpers/caller-identity.mjs');
    const out = await asPod([process.execPath, script]);
    expect(out.trim()).toMatch(sessionArn);
  });
});

describe('AssumeRoleWithWebIdentity as AWS answers it', () => {
  it('returns the session, the subject, the audience and the provider', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    const r = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'app',
        WebIdentityToken: token,
        DurationSeconds: 900,
      }),
    );
    expect(r.SubjectFromWebIdentityToken).toBe('system:serviceaccount:default:reader');
    expect(r.Audience).toBe('sts.amazonaws.com');
    expect(r.Provider).toBe(issuer);
    expect(r.AssumedRoleUser?.Arn).toBe('arn:aws:sts::000000000000:assumed-role/reader/app');
    expect(r.Credentials?.AccessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(r.Credentials?.SecretAccessKey).toHaveLength(40);
    const lifetime = (r.Credentials?.Expiration?.getTime() ?? 0) - Date.now();
    expect(lifetime).toBeGreaterThan(850_000);
    expect(lifetime).toBeLessThanOrEqual(900_000);
    const session = new STSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: r.Credentials?.AccessKeyId ?? '',
        secretAccessKey: r.Credentials?.SecretAccessKey ?? '',
        sessionToken: r.Credentials?.SessionToken ?? '',
      },
    });
    expect((await session.send(new GetCallerIdentityCommand({}))).Arn).toBe(
      'arn:aws:sts::000000000000:assumed-role/reader/app',
    );
    // A tampered session token is refused.
    const tampered = new STSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: r.Credentials?.AccessKeyId ?? '',
        secretAccessKey: r.Credentials?.SecretAccessKey ?? '',
        sessionToken: (r.Credentials?.SessionToken ?? '').slice(0, -4) + 'AAAA',
      },
    });
    await expect(tampered.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
  });

  it('the same token works 50 times (no replay cache, as AWS)', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    for (let i = 0; i < 50; i++) {
      const r = await sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: `s${i}`,
          WebIdentityToken: token,
        }),
      );
      expect(r.Credentials?.AccessKeyId).toBeDefined();
    }
  });

  it('another service account’s token is AccessDenied (403)', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'writer',
    });
    await expect(
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: token,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'AccessDenied',
      message: 'Not authorized to perform sts:AssumeRoleWithWebIdentity',
    });
  });

  it('expired 301 s ago is ExpiredTokenException; 299 s ago is accepted', async () => {
    const masterKey = Buffer.from(
      readFileSync(join(t.dataDir, 'master.key'), 'utf8').trim(),
      'base64',
    );
    const keys = new IssuerKeys(t.server.store.db, masterKey);
    const issuerId = issuer.slice(issuer.lastIndexOf('/') + 1);
    const key = await keys.signingKey(issuerId);
    const now = Math.floor(Date.now() / 1000);
    const minted = (age: number) =>
      mintServiceAccountToken(key, {
        issuerUrl: issuer,
        namespace: 'default',
        serviceAccount: 'reader',
        audiences: ['sts.amazonaws.com'],
        expirationSeconds: 600,
        now: now - 600 - age,
      });
    await expect(
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: await minted(301),
        }),
      ),
    ).rejects.toMatchObject({ name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } });
    const ok = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'sess',
        WebIdentityToken: await minted(299),
      }),
    );
    expect(ok.Credentials).toBeDefined();
  });

  it('DurationSeconds above the role’s MaxSessionDuration is ValidationError', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    await expect(
      sts.send(
        new AssumeRoleWithWebIdentityCommand({
          RoleArn: roleArn,
          RoleSessionName: 'sess',
          WebIdentityToken: token,
          DurationSeconds: 7200,
        }),
      ),
    ).rejects.toMatchObject({
      name: 'ValidationError',
      message: 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
    });
  });

  it('revoke-sessions makes every earlier session fail at once', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'reader',
    });
    const r = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'old',
        WebIdentityToken: token,
      }),
    );
    const creds = {
      accessKeyId: r.Credentials?.AccessKeyId ?? '',
      secretAccessKey: r.Credentials?.SecretAccessKey ?? '',
      sessionToken: r.Credentials?.SessionToken ?? '',
    };
    const session = new STSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: creds,
    });
    await session.send(new GetCallerIdentityCommand({}));
    await exec(process.execPath, [
      '--import',
      'tsx',
      ENTRY,
      'revoke-sessions',
      '--role',
      roleArn,
      '--data-dir',
      t.dataDir,
    ]);
    await expect(session.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    // New sessions work.
    const fresh = await sts.send(
      new AssumeRoleWithWebIdentityCommand({
        RoleArn: roleArn,
        RoleSessionName: 'new',
        WebIdentityToken: token,
      }),
    );
    const again = new STSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: {
        accessKeyId: fresh.Credentials?.AccessKeyId ?? '',
        secretAccessKey: fresh.Credentials?.SecretAccessKey ?? '',
        sessionToken: fresh.Credentials?.SessionToken ?? '',
      },
    });
    expect((await again.send(new GetCallerIdentityCommand({}))).Arn).toContain(
      'assumed-role/reader/new',
    );
  });
});
