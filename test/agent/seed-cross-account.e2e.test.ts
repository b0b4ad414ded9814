/**
 * The seed's cross-account scenario, end to end through the node agent: a pod identity
 * association in account A names a role of A and a target role of account B; the pod's SDK
 * gets credentials from the agent with only the container-credentials variables and reads a
 * bucket owned by B. Without B's trust it gets nothing. After the association is deleted, the
 * credentials the pod (and the agent) still hold stop working at once for calls to Latchkey:
 * the stale window is measured and must be zero.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  GetObjectCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp, fromNodeProviderChain } from '@aws-sdk/credential-providers';
import type { AwsCredentialIdentity } from '@smithy/types';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/index.js';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import type { Profile } from '../../src/profiles/index.js';
import { mintToken } from '../helpers/irsa.js';
import {
  cleanAwsEnv,
  runAwsCli,
  runPython,
  startTestServer,
  type TestServer,
} from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';

const ACCOUNT_B = '444455556666';
const dir = tempDir('latchkey-seed-');
let t: TestServer;
let accountB: Profile;
let agent: RunningAgent;
let readerAssociation = '';

type Credentials =
  | Profile
  | AwsCredentialIdentity
  | ReturnType<typeof fromHttp>
  | ReturnType<typeof fromNodeProviderChain>;

function config(credentials: Credentials) {
  return { endpoint: t.server.url, region: 'us-east-1', credentials, maxAttempts: 1 };
}

function s3(credentials: Credentials): S3Client {
  return new S3Client({ ...config(credentials), forcePathStyle: true });
}

/** What a pod's SDK does with only the two container-credentials variables set. */
async function podCredentials(serviceAccount: string) {
  const token = await mintToken(t.admin, 'dev', {
    namespace: 'default',
    serviceAccount,
    audience: 'pods.eks.amazonaws.com',
  });
  const tokenFile = join(dir.path, `${serviceAccount}.token`);
  writeFileSync(tokenFile, token);
  return {
    token,
    provider: fromHttp({
      awsContainerCredentialsFullUri: agent.credentialsUrls[0],
      awsContainerAuthorizationTokenFile: tokenFile,
    }),
  };
}

async function readReport(credentials: Credentials): Promise<string> {
  const out = await s3(credentials).send(
    new GetObjectCommand({ Bucket: 'b-data', Key: 'report.txt' }),
  );
  return (await out.Body?.transformToString()) ?? '';
}

const trustService = {
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    },
  ],
};

beforeAll(async () => {
  t = await startTestServer();
  const created = await signedJsonRequest(t.admin, 'POST', '/_latchkey/api/accounts', {
    accountId: ACCOUNT_B,
  });
  accountB = {
    ...t.admin,
    accessKeyId: String(created.json.accessKeyId),
    secretAccessKey: String(created.json.secretAccessKey),
  };
  const a = { iam: new IAMClient(config(t.admin)), eks: new EKSClient(config(t.admin)) };
  const b = new IAMClient(config(accountB));
  await a.eks.send(
    new CreateClusterCommand({
      name: 'dev',
      roleArn: 'arn:aws:iam::000000000000:role/eks',
      resourcesVpcConfig: {},
    }),
  );

  // Account A: the association's role, which may chain into B's roles.
  await a.iam.send(
    new CreateRoleCommand({
      RoleName: 'pod-role',
      AssumeRolePolicyDocument: JSON.stringify(trustService),
    }),
  );
  await a.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'pod-role',
      PolicyName: 'chain',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Resource: `arn:aws:iam::${ACCOUNT_B}:role/*`,
          },
        ],
      }),
    }),
  );

  // Account B: its bucket, a reader role that trusts A's pod role, one that does not.
  await s3(accountB).send(new CreateBucketCommand({ Bucket: 'b-data' }));
  await s3(accountB).send(
    new PutObjectCommand({ Bucket: 'b-data', Key: 'report.txt', Body: 'quarterly numbers' }),
  );
  const readS3 = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Action: ['s3:GetObject', 's3:ListBucket'],
        Resource: ['arn:aws:s3:::b-data', 'arn:aws:s3:::b-data/*'],
      },
    ],
  });
  await b.send(
    new CreateRoleCommand({
      RoleName: 'data-reader',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:role/pod-role' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        ],
      }),
    }),
  );
  await b.send(
    new PutRolePolicyCommand({ RoleName: 'data-reader', PolicyName: 's3', PolicyDocument: readS3 }),
  );
  await b.send(
    new CreateRoleCommand({
      RoleName: 'data-closed',
      AssumeRolePolicyDocument: JSON.stringify(trustService),
    }),
  );
  await b.send(
    new PutRolePolicyCommand({ RoleName: 'data-closed', PolicyName: 's3', PolicyDocument: readS3 }),
  );

  const associate = async (serviceAccount: string, target: string) =>
    (
      await a.eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'dev',
          namespace: 'default',
          serviceAccount,
          roleArn: 'arn:aws:iam::000000000000:role/pod-role',
          targetRoleArn: `arn:aws:iam::${ACCOUNT_B}:role/${target}`,
        }),
      )
    ).association?.associationId ?? '';
  readerAssociation = await associate('reporter', 'data-reader');
  await associate('blocked', 'data-closed');

  agent = await startAgent({
    server: t.server.url,
    cluster: 'dev',
    credentials: t.admin,
    listen: '127.0.0.1:0',
    local: true,
    eksAuthMaxAttempts: 1,
    logger: pino({ level: 'silent' }),
  });
});

afterAll(async () => {
  await agent?.close();
  await t?.stop();
  dir.remove();
});

describe('a pod of account A reads account B’s bucket through the agent', () => {
  it('with B’s trust: the chained session of B’s role reads the object', async () => {
    const { provider } = await podCredentials('reporter');
    expect(await readReport(provider)).toBe('quarterly numbers');
    const who = await new STSClient(config(provider)).send(new GetCallerIdentityCommand({}));
    expect(who.Account).toBe(ACCOUNT_B);
    expect(who.Arn).toMatch(
      new RegExp(`^arn:aws:sts::${ACCOUNT_B}:assumed-role/data-reader/eks-dev-reporter-`),
    );
  });

  it('the AWS CLI, boto3 and the JS default chain read it with only the container variables set', async () => {
    await podCredentials('reporter');
    const env = cleanAwsEnv({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: agent.credentialsUrls[0] ?? '',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: join(dir.path, 'reporter.token'),
      AWS_ENDPOINT_URL: t.server.url,
      AWS_REGION: 'us-east-1',
      // No shared files: a pod has none.
      AWS_CONFIG_FILE: join(dir.path, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir.path, 'none'),
    });
    const cli = await runAwsCli(['s3', 'cp', 's3://b-data/report.txt', '-'], env);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe('quarterly numbers');
    const boto = await runPython(
      `
import boto3
s3 = boto3.client('s3', config=boto3.session.Config(s3={'addressing_style': 'path'}))
print(s3.get_object(Bucket='b-data', Key='report.txt')['Body'].read().decode(), end='')
`,
      env,
    );
    expect(boto).toBe('quarterly numbers');
    // The JS SDK's default chain, with the same variables in this process's environment.
    const saved = { ...process.env };
    try {
      for (const key of Object.keys(process.env))
        if (key.startsWith('AWS_')) delete process.env[key];
      Object.assign(process.env, env);
      const chain = fromNodeProviderChain();
      expect(await readReport(chain)).toBe('quarterly numbers');
    } finally {
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
    }
  });

  it('without B’s trust: the agent hands out nothing, and the read fails', async () => {
    const { provider, token } = await podCredentials('blocked');
    const refused = await fetch(agent.credentialsUrls[0] ?? '', {
      headers: { authorization: token },
    });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain('AccessDeniedException');
    await expect(readReport(provider)).rejects.toThrow(/status: 400/);
    // Account A's own credentials are no way into B's bucket either.
    await expect(readReport(t.admin)).rejects.toMatchObject({ name: 'AccessDenied' });
  });

  it('after the association is deleted, held credentials stop working at once (stale window 0)', async () => {
    const { provider, token } = await podCredentials('reporter');
    // What the pod's SDK holds: fetched from the agent, which caches them too.
    const held = await provider();
    expect(await readReport(held)).toBe('quarterly numbers');

    await new EKSClient(config(t.admin)).send(
      new DeletePodIdentityAssociationCommand({
        clusterName: 'dev',
        associationId: readerAssociation,
      }),
    );
    const deletedAt = performance.now();

    // The pod keeps using what it holds: every call after the deletion is refused.
    let succeeded = 0;
    let firstRefusalMs: number | undefined;
    const refusals = new Set<string>();
    for (let i = 0; i < 20; i++) {
      try {
        await readReport(held);
        succeeded += 1;
      } catch (err) {
        const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
        refusals.add(`${e.name} ${String(e.$metadata?.httpStatusCode)}`);
        firstRefusalMs ??= performance.now() - deletedAt;
      }
    }
    expect(succeeded).toBe(0);
    // S3's answer to a session token that is no longer valid.
    expect([...refusals]).toEqual(['InvalidToken 400']);
    expect(firstRefusalMs).toBeDefined();
    await expect(
      new STSClient(config(held)).send(new GetCallerIdentityCommand({})),
    ).rejects.toMatchObject({ name: 'InvalidClientTokenId' });

    // The agent's cache still holds them until its next renewal (its staleness window, up to
    // half of the 1 h chained session here); what it serves is refused just the same.
    const cached = await fetch(agent.credentialsUrls[0] ?? '', {
      headers: { authorization: token },
    });
    expect(cached.status).toBe(200);
    const body = (await cached.json()) as { AccessKeyId: string };
    expect(body.AccessKeyId).toBe(held.accessKeyId);
    await expect(readReport(held)).rejects.toMatchObject({ name: 'InvalidToken' });
    console.info(
      `stale-credential window after DeletePodIdentityAssociation: 0 of 20 calls succeeded; the first call after the deletion was refused (answered ${firstRefusalMs?.toFixed(1) ?? '?'} ms after it)`,
    );
  });
});
