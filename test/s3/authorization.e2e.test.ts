/**
 * S3 decisions that depend on more than an action and a resource: S3's and AWS's condition
 * keys, policy variables, session policies, permissions boundaries and explicit denies in
 * bucket policies. Each case is a role session (AssumeRole through the real STS) calling S3
 * with the AWS SDK, and each allow has its deny beside it.
 */
import {
  CreateRoleCommand,
  IAMClient,
  PutRolePermissionsBoundaryCommand,
  PutRolePolicyCommand,
  CreatePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  DeleteBucketPolicyCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../helpers/server.js';

const BUCKET = 'conditions';
let t: TestServer;
let iam: IAMClient;
let admin: S3Client;

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { AWS: 'arn:aws:iam::000000000000:root' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    },
  ],
});

function s3(credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) {
  return new S3Client({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials,
    forcePathStyle: true,
    maxAttempts: 1,
  });
}

/** A role with one inline policy (and optional tags), and an S3 client for a session of it. */
async function roleSession(
  name: string,
  policy: object,
  options: { tags?: Record<string, string>; sessionPolicy?: object; boundaryArn?: string } = {},
): Promise<S3Client> {
  await iam.send(
    new CreateRoleCommand({
      RoleName: name,
      AssumeRolePolicyDocument: TRUST,
      Tags: Object.entries(options.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    }),
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: name,
      PolicyName: 'inline',
      PolicyDocument: JSON.stringify(policy),
    }),
  );
  if (options.boundaryArn) {
    await iam.send(
      new PutRolePermissionsBoundaryCommand({
        RoleName: name,
        PermissionsBoundary: options.boundaryArn,
      }),
    );
  }
  const sts = new STSClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  });
  const { Credentials } = await sts.send(
    new AssumeRoleCommand({
      RoleArn: `arn:aws:iam::000000000000:role/${name}`,
      RoleSessionName: 'test',
      ...(options.sessionPolicy ? { Policy: JSON.stringify(options.sessionPolicy) } : {}),
    }),
  );
  return s3({
    accessKeyId: Credentials?.AccessKeyId ?? '',
    secretAccessKey: Credentials?.SecretAccessKey ?? '',
    sessionToken: Credentials?.SessionToken ?? '',
  });
}

async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'allowed';
  } catch (err) {
    return (err as { name: string }).name;
  }
}

const allow = (Action: string | string[], Resource: string | string[], Condition?: object) => ({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action, Resource, ...(Condition ? { Condition } : {}) }],
});

beforeAll(async () => {
  t = await startTestServer();
  iam = new IAMClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  });
  admin = s3(t.admin);
  await admin.send(new CreateBucketCommand({ Bucket: BUCKET }));
  for (const key of ['home/alice/a.txt', 'home/bob/b.txt', 'team-a/doc', 'team-b/doc']) {
    await admin.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: key }));
  }
});

afterAll(async () => {
  await t.stop();
});

describe('S3 condition keys', () => {
  it('s3:prefix: listing is allowed under the granted prefix only', async () => {
    const alice = await roleSession(
      'prefix-lister',
      allow('s3:ListBucket', `arn:aws:s3:::${BUCKET}`, {
        StringLike: { 's3:prefix': ['home/alice/*'] },
      }),
    );
    const mine = await alice.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/alice/' }),
    );
    expect(mine.Contents?.map((o) => o.Key)).toEqual(['home/alice/a.txt']);
    expect(
      await outcome(alice.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'home/bob/' }))),
    ).toBe('AccessDenied');
    expect(await outcome(alice.send(new ListObjectsV2Command({ Bucket: BUCKET })))).toBe(
      'AccessDenied',
    );
  });

  it('s3:max-keys: a numeric condition on the page size', async () => {
    const lister = await roleSession(
      'small-pages',
      allow('s3:ListBucket', `arn:aws:s3:::${BUCKET}`, {
        NumericLessThanEquals: { 's3:max-keys': '2' },
      }),
    );
    const page = await lister.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 2 }));
    expect(page.Contents).toHaveLength(2);
    expect(
      await outcome(lister.send(new ListObjectsV2Command({ Bucket: BUCKET, MaxKeys: 100 }))),
    ).toBe('AccessDenied');
  });

  it('aws:PrincipalTag in a policy variable: each team reads its own prefix', async () => {
    const teamA = await roleSession(
      'tagged-reader',
      allow('s3:GetObject', `arn:aws:s3:::${BUCKET}/\${aws:PrincipalTag/team}/*`),
      { tags: { team: 'team-a' } },
    );
    const own = await teamA.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team-a/doc' }));
    expect(await own.Body?.transformToString()).toBe('team-a/doc');
    expect(
      await outcome(teamA.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team-b/doc' }))),
    ).toBe('AccessDenied');
  });
});

describe('sessions and boundaries', () => {
  it('a session policy narrows what the role allows', async () => {
    const narrowed = await roleSession(
      'broad-reader',
      allow('s3:GetObject', `arn:aws:s3:::${BUCKET}/*`),
      { sessionPolicy: allow('s3:GetObject', `arn:aws:s3:::${BUCKET}/home/*`) },
    );
    expect(
      await outcome(narrowed.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'home/bob/b.txt' }))),
    ).toBe('allowed');
    expect(
      await outcome(narrowed.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team-a/doc' }))),
    ).toBe('AccessDenied');
  });

  it('a permissions boundary caps the role’s own policy', async () => {
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'read-only-boundary',
        PolicyDocument: JSON.stringify(allow(['s3:GetObject', 's3:ListBucket'], '*')),
      }),
    );
    const bounded = await roleSession(
      'bounded-writer',
      allow(['s3:GetObject', 's3:PutObject'], `arn:aws:s3:::${BUCKET}/*`),
      { boundaryArn: Policy?.Arn ?? '' },
    );
    expect(
      await outcome(bounded.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team-a/doc' }))),
    ).toBe('allowed');
    expect(
      await outcome(
        bounded.send(new PutObjectCommand({ Bucket: BUCKET, Key: 'team-a/new', Body: 'x' })),
      ),
    ).toBe('AccessDenied');
  });
});

describe('explicit denies in the bucket policy', () => {
  it('aws:SecureTransport false and aws:SourceIp deny even the account’s administrator', async () => {
    const denyWhen = (Condition: object) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Deny',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${BUCKET}/*`,
            Condition,
          },
        ],
      });
    const get = () =>
      outcome(admin.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'team-a/doc' })));
    expect(await get()).toBe('allowed');

    await admin.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: denyWhen({ Bool: { 'aws:SecureTransport': 'false' } }),
      }),
    );
    expect(await get()).toBe('AccessDenied');
    // The denial's record names the bucket's policy by the bucket, not by the object.
    await new Promise((r) => setTimeout(r, 300));
    const denied = await t.server.store.db
      .selectFrom('audit_events')
      .select('record')
      .where('event_name', '=', 'GetObject')
      .where('error_code', '=', 'AccessDenied')
      .execute();
    expect(denied.map((r) => r.record).join('\n')).toContain(
      `resource-policy:arn:aws:s3:::${BUCKET}"`,
    );
    expect(denied.map((r) => r.record).join('\n')).not.toContain(
      `resource-policy:arn:aws:s3:::${BUCKET}/`,
    );

    await admin.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: denyWhen({ IpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }),
      }),
    );
    expect(await get()).toBe('AccessDenied');

    await admin.send(
      new PutBucketPolicyCommand({
        Bucket: BUCKET,
        Policy: denyWhen({ NotIpAddress: { 'aws:SourceIp': '127.0.0.0/8' } }),
      }),
    );
    expect(await get()).toBe('allowed');
    await admin.send(new DeleteBucketPolicyCommand({ Bucket: BUCKET }));
  });
});
