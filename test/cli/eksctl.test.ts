/** eksctl-style shortcuts and `latchkey exec`, as a user runs them against a real server. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  GetRoleCommand,
  IAMClient,
  ListAttachedRolePoliciesCommand,
  ListOpenIDConnectProvidersCommand,
} from '@aws-sdk/client-iam';
import { EKSClient, ListPodIdentityAssociationsCommand } from '@aws-sdk/client-eks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startTestServer, type TestServer } from '../helpers/server.js';

const exec = promisify(execFile);
const ENTRY = join(import.meta.dirname, '../helpers/latchkey.ts');
let t: TestServer;
let iam: IAMClient;

/** Runs the CLI with this server's data directory (placed before any `--`). */
function latchkey(args: string[]) {
  const dash = args.indexOf('--');
  const withDir =
    dash < 0
      ? [...args, '--data-dir', t.dataDir]
      : [...args.slice(0, dash), '--data-dir', t.dataDir, ...args.slice(dash)];
  return exec(process.execPath, ['--import', 'tsx', ENTRY, ...withDir], { timeout: 60_000 });
}

beforeAll(async () => {
  t = await startTestServer();
  iam = new IAMClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  });
  await latchkey(['cluster', 'create', 'dev']);
});
afterAll(async () => {
  await t.stop();
});

describe('eksctl-style shortcuts', () => {
  it('utils associate-iam-oidc-provider is idempotent', async () => {
    await latchkey(['utils', 'associate-iam-oidc-provider', '--cluster', 'dev', '--approve']);
    const { stdout } = await latchkey([
      'utils',
      'associate-iam-oidc-provider',
      '--cluster',
      'dev',
      '--json',
    ]);
    const { providerArn } = JSON.parse(stdout) as { providerArn: string };
    expect(providerArn).toMatch(
      /^arn:aws:iam::000000000000:oidc-provider\/127\.0\.0\.1:\d+\/_latchkey\/oidc\/id\/[0-9A-F]{32}$/,
    );
    const list = await iam.send(new ListOpenIDConnectProvidersCommand({}));
    expect(list.OpenIDConnectProviderList?.map((p) => p.Arn)).toEqual([providerArn]);
  });

  it('create iamserviceaccount: role with sub and aud conditions, policies, manifest', async () => {
    const { stdout } = await latchkey([
      'create',
      'iamserviceaccount',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--name',
      's3-reader',
      '--attach-policy-arn',
      'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      '--output',
      'yaml',
    ]);
    const manifest = parse(stdout) as {
      kind: string;
      metadata: { name: string; namespace: string; annotations: Record<string, string> };
    };
    expect(manifest).toMatchObject({
      kind: 'ServiceAccount',
      metadata: { name: 's3-reader', namespace: 'default' },
    });
    const roleArn = manifest.metadata.annotations['eks.amazonaws.com/role-arn'];
    expect(roleArn).toBe('arn:aws:iam::000000000000:role/latchkey-dev-default-s3-reader');
    const role = await iam.send(new GetRoleCommand({ RoleName: 'latchkey-dev-default-s3-reader' }));
    const trust = JSON.parse(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')) as {
      Statement: {
        Principal: { Federated: string };
        Action: string;
        Condition: { StringEquals: Record<string, string> };
      }[];
    };
    const condition = trust.Statement[0]?.Condition.StringEquals ?? {};
    const subKey = Object.keys(condition).find((k) => k.endsWith(':sub')) ?? '';
    expect(condition[subKey]).toBe('system:serviceaccount:default:s3-reader');
    expect(condition[subKey.replace(/:sub$/, ':aud')]).toBe('sts.amazonaws.com');
    expect(trust.Statement[0]?.Action).toBe('sts:AssumeRoleWithWebIdentity');
    const attached = await iam.send(
      new ListAttachedRolePoliciesCommand({ RoleName: 'latchkey-dev-default-s3-reader' }),
    );
    expect(attached.AttachedPolicies?.map((p) => p.PolicyName)).toEqual(['AmazonS3ReadOnlyAccess']);
  });

  it('create podidentityassociation: a role trusting pods.eks.amazonaws.com and the association', async () => {
    const { stdout } = await latchkey([
      'create',
      'podidentityassociation',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account-name',
      'pi-app',
      '--permission-policy-arns',
      'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess',
      '--json',
    ]);
    const association = JSON.parse(stdout) as { roleArn: string };
    expect(association.roleArn).toBe('arn:aws:iam::000000000000:role/latchkey-dev-default-pi-app');
    const role = await iam.send(new GetRoleCommand({ RoleName: 'latchkey-dev-default-pi-app' }));
    expect(decodeURIComponent(role.Role?.AssumeRolePolicyDocument ?? '')).toContain(
      'pods.eks.amazonaws.com',
    );
    const eks = new EKSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: t.admin,
      maxAttempts: 1,
    });
    const list = await eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: 'dev', serviceAccount: 'pi-app' }),
    );
    expect(list.associations).toHaveLength(1);
  });
});

describe('latchkey exec', () => {
  const printEnv = [
    'node',
    '-e',
    "const fs=require('fs');const e=process.env;const f=e.AWS_WEB_IDENTITY_TOKEN_FILE||e.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE;" +
      "console.log(JSON.stringify({env:Object.fromEntries(Object.entries(e).filter(([k])=>k.startsWith('AWS_'))),claims:JSON.parse(Buffer.from(fs.readFileSync(f,'utf8').split('.')[1],'base64url'))}))",
  ];

  it('IRSA: the webhook’s variables and a fresh token for the service account', async () => {
    const { stdout } = await latchkey([
      'exec',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account',
      's3-reader',
      '--',
      ...printEnv,
    ]);
    const { env, claims } = JSON.parse(stdout) as {
      env: Record<string, string>;
      claims: Record<string, unknown>;
    };
    expect(env.AWS_ROLE_ARN).toBe('arn:aws:iam::000000000000:role/latchkey-dev-default-s3-reader');
    expect(env.AWS_ENDPOINT_URL).toBe(t.server.url);
    expect(env.AWS_REGION).toBe('us-east-1');
    expect(env.AWS_PROFILE).toBeUndefined();
    expect(env.AWS_ACCESS_KEY_ID).toBeUndefined();
    expect(claims).toMatchObject({
      sub: 'system:serviceaccount:default:s3-reader',
      aud: ['sts.amazonaws.com'],
    });
  });

  it('Pod Identity when an association exists (with an agent URL)', async () => {
    const { stdout } = await latchkey([
      'exec',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account',
      'pi-app',
      '--agent-url',
      'http://127.0.0.1:2703',
      '--',
      ...printEnv,
    ]);
    const { env, claims } = JSON.parse(stdout) as {
      env: Record<string, string>;
      claims: Record<string, unknown>;
    };
    expect(env.AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe('http://127.0.0.1:2703/v1/credentials');
    expect(env.AWS_ROLE_ARN).toBeUndefined();
    expect(claims).toMatchObject({
      sub: 'system:serviceaccount:default:pi-app',
      aud: ['pods.eks.amazonaws.com'],
    });
  });

  it('a service account with no role is a clear error', async () => {
    const err = await latchkey([
      'exec',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account',
      'nobody',
      '--',
      'true',
    ]).catch((e: { code: number; stderr: string }) => e);
    expect(err).toMatchObject({ code: 1 });
    expect((err as { stderr: string }).stderr).toContain('has no role');
  });

  it('the command’s exit code is passed on', async () => {
    const err = await latchkey([
      'exec',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--service-account',
      's3-reader',
      '--',
      'node',
      '-e',
      'process.exit(7)',
    ]).catch((e: { code: number }) => e);
    expect(err).toMatchObject({ code: 7 });
  });
});
