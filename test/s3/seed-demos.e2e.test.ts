/**
 * The demos of the IRSA guides, run as a user runs them: `latchkey` sets up the cluster, its
 * OIDC provider and the service accounts' roles, and the AWS CLI (v1, from the machine's
 * Python) runs under `latchkey exec`, which gives it the web-identity variables of the
 * service account's pod. Each call's audit record is checked too: data events for object
 * calls, a copy in the bucket owner's trail for cross-account calls.
 */
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { CreatePolicyCommand, IAMClient } from '@aws-sdk/client-iam';
import {
  CreateBucketCommand,
  PutBucketPolicyCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAudit, type CloudTrailRecord } from '../../src/audit/index.js';
import { readProfile, type Profile } from '../../src/profiles/index.js';
import { runLatchkey, type CliResult } from '../helpers/cli.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const ACCOUNT_B = '111111111111';

let t: TestServer;
let accountB: Profile;

/** Runs the AWS CLI as the pod of service account `sa` (namespace default, cluster dev). */
function awsAs(sa: string, args: string[]): Promise<CliResult> {
  const pod = ['--cluster', 'dev', '--namespace', 'default', '--service-account', sa];
  return runLatchkey(t.dataDir, ['exec', ...pod, '--', 'aws', ...args]);
}

/** A set-up command; it must succeed. */
async function setup(args: string[]): Promise<void> {
  const r = await runLatchkey(t.dataDir, args);
  if (r.code !== 0) throw new Error(`latchkey ${args.join(' ')}: ${r.stderr}`);
}

function s3(profile: Profile): S3Client {
  return new S3Client({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: profile,
    forcePathStyle: true,
    maxAttempts: 1,
  });
}

async function records(accountId: string, eventName: string): Promise<CloudTrailRecord[]> {
  const page = await searchAudit(t.server.store.db, {
    accountId,
    attribute: { key: 'EventName', value: eventName },
    limit: 50,
  });
  return page.records;
}

beforeAll(async () => {
  t = await startTestServer();
  await setup(['cluster', 'create', 'dev']);
  await setup(['utils', 'associate-iam-oidc-provider', '--cluster', 'dev', '--approve']);
  await setup(['account', 'create', '--account-id', ACCOUNT_B]);
  const profile = readProfile(t.dataDir, `latchkey-${ACCOUNT_B}`);
  if (profile === undefined) throw new Error('account create wrote no profile');
  accountB = profile;

  const admin = s3(t.admin);
  for (const bucket of ['team-a', 'team-b']) {
    await admin.send(new CreateBucketCommand({ Bucket: bucket }));
    await admin.send(
      new PutObjectCommand({ Bucket: bucket, Key: 'hello.txt', Body: `hello from ${bucket}\n` }),
    );
  }
  const other = s3(accountB);
  await other.send(new CreateBucketCommand({ Bucket: 'b-shared' }));
  await other.send(
    new PutObjectCommand({ Bucket: 'b-shared', Key: 'report.csv', Body: 'a,b\n1,2\n' }),
  );
}, 240_000);

afterAll(async () => {
  await t.stop();
});

describe('a service account whose role has ReadOnlyAccess', () => {
  beforeAll(async () => {
    await setup([
      'create',
      'iamserviceaccount',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--name',
      'read-only',
      '--attach-policy-arn',
      'arn:aws:iam::aws:policy/ReadOnlyAccess',
      '--approve',
    ]);
  });

  it('aws s3 ls lists the buckets', async () => {
    const ls = await awsAs('read-only', ['s3', 'ls']);
    expect(ls.stderr).toBe('');
    expect(ls.code).toBe(0);
    const names = ls.stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s+/).at(-1));
    // The account's own buckets (ListBuckets lists the caller's account's buckets).
    expect(names).toEqual(['team-a', 'team-b']);
  });

  it('aws s3api create-bucket is denied with AccessDenied, and nothing is created', async () => {
    const create = await awsAs('read-only', ['s3api', 'create-bucket', '--bucket', 'not-mine']);
    expect(create.code).not.toBe(0);
    expect(create.stderr).toContain('(AccessDenied)');
    expect(create.stderr).toContain('assumed-role/latchkey-dev-default-read-only/');
    expect(create.stderr).toContain('is not authorized to perform: s3:CreateBucket');
    const ls = await awsAs('read-only', ['s3', 'ls']);
    expect(ls.stdout).not.toContain('not-mine');

    const [denial] = await records('000000000000', 'CreateBucket');
    expect(denial).toMatchObject({
      eventSource: 's3.amazonaws.com',
      errorCode: 'AccessDenied',
      managementEvent: true,
      eventCategory: 'Management',
      userIdentity: { type: 'AssumedRole' },
      requestParameters: { bucketName: 'not-mine' },
    });
    // The record explains the denial: no statement allowed it.
    expect(JSON.stringify(denial?.additionalEventData)).toContain('decision');
  });
});

describe('a role allowed s3:ListBucket and s3:GetObject on one bucket', () => {
  beforeAll(async () => {
    const iam = new IAMClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: t.admin,
      maxAttempts: 1,
    });
    const { Policy } = await iam.send(
      new CreatePolicyCommand({
        PolicyName: 'team-a-reader',
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::team-a' },
            { Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::team-a/*' },
            {
              Effect: 'Allow',
              Action: ['s3:ListBucket', 's3:GetObject'],
              Resource: ['arn:aws:s3:::b-shared', 'arn:aws:s3:::b-shared/*'],
            },
          ],
        }),
      }),
    );
    await setup([
      'create',
      'iamserviceaccount',
      '--cluster',
      'dev',
      '--namespace',
      'default',
      '--name',
      'team-a',
      '--attach-policy-arn',
      Policy?.Arn ?? '',
      '--approve',
    ]);
  });

  it('listing and reading that bucket work', async () => {
    const ls = await awsAs('team-a', ['s3', 'ls', 's3://team-a']);
    expect(ls.code).toBe(0);
    expect(ls.stdout).toMatch(/\s18 hello\.txt\n$/);
    const get = await awsAs('team-a', ['s3', 'cp', 's3://team-a/hello.txt', '-']);
    expect(get.code).toBe(0);
    expect(get.stdout).toBe('hello from team-a\n');

    const [read] = await records('000000000000', 'GetObject');
    expect(read).toMatchObject({
      eventCategory: 'Data',
      managementEvent: false,
      readOnly: true,
      requestParameters: { bucketName: 'team-a', key: 'hello.txt' },
      resources: [
        { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::team-a/hello.txt' },
        { type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::team-a' },
      ],
      userIdentity: {
        type: 'AssumedRole',
        sessionContext: { sessionIssuer: { userName: 'latchkey-dev-default-team-a' } },
      },
    });
  });

  it('writing it and touching any other bucket are denied', async () => {
    const put = await awsAs('team-a', [
      's3api',
      'put-object',
      '--bucket',
      'team-a',
      '--key',
      'new.txt',
    ]);
    expect(put.code).not.toBe(0);
    expect(put.stderr).toContain('(AccessDenied)');
    expect(put.stderr).toContain('s3:PutObject on resource: "arn:aws:s3:::team-a/new.txt"');
    const other = await awsAs('team-a', ['s3', 'ls', 's3://team-b']);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toContain('AccessDenied');
    const otherGet = await awsAs('team-a', ['s3', 'cp', 's3://team-b/hello.txt', '-']);
    expect(otherGet.code).not.toBe(0);
    expect(otherGet.stdout).toBe('');
    const all = await awsAs('team-a', ['s3', 'ls']);
    expect(all.code).not.toBe(0);
    expect(all.stderr).toContain('s3:ListAllMyBuckets');
    // Nothing was written.
    const ls = await awsAs('team-a', ['s3', 'ls', 's3://team-a']);
    expect(ls.stdout).not.toContain('new.txt');
  });
});

describe('cross-account: a bucket of account B and a role of account A', () => {
  it('without a bucket policy statement for the role, denied', async () => {
    const get = await awsAs('team-a', ['s3', 'cp', 's3://b-shared/report.csv', '-']);
    expect(get.code).not.toBe(0);
    expect(get.stderr).toContain('403');
  });

  it('with the bucket policy granting the role, allowed; both accounts get the record', async () => {
    const roleArn = 'arn:aws:iam::000000000000:role/latchkey-dev-default-team-a';
    await s3(accountB).send(
      new PutBucketPolicyCommand({
        Bucket: 'b-shared',
        Policy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: roleArn },
              Action: ['s3:GetObject', 's3:ListBucket'],
              Resource: ['arn:aws:s3:::b-shared', 'arn:aws:s3:::b-shared/*'],
            },
          ],
        }),
      }),
    );
    const get = await awsAs('team-a', ['s3', 'cp', 's3://b-shared/report.csv', '-']);
    expect(get.stderr).toBe('');
    expect(get.stdout).toBe('a,b\n1,2\n');
    const ls = await awsAs('team-a', ['s3', 'ls', 's3://b-shared']);
    expect(ls.stdout).toContain('report.csv');
    // The role's own account is still denied what its policy does not allow there.
    const put = await awsAs('team-a', [
      's3api',
      'put-object',
      '--bucket',
      'b-shared',
      '--key',
      'x',
    ]);
    expect(put.stderr).toContain('(AccessDenied)');

    const mine = (await records('000000000000', 'GetObject')).find(
      (r) => r.requestParameters?.bucketName === 'b-shared' && r.errorCode === undefined,
    );
    const theirs = (await records(ACCOUNT_B, 'GetObject')).find(
      (r) => r.requestParameters?.bucketName === 'b-shared' && r.errorCode === undefined,
    );
    expect(mine?.sharedEventID).toBeDefined();
    expect(theirs?.sharedEventID).toBe(mine?.sharedEventID);
    expect(theirs?.eventID).not.toBe(mine?.eventID);
    expect(theirs?.recipientAccountId).toBe(ACCOUNT_B);
    expect(theirs?.userIdentity.arn).toMatch(/^arn:aws:sts::000000000000:assumed-role\//);
  });

  it('LookupEvents shows management events only, as CloudTrail’s event history does', async () => {
    const cloudtrail = new CloudTrailClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: accountB,
      maxAttempts: 1,
    });
    const { Events } = await cloudtrail.send(
      new LookupEventsCommand({
        LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: 's3.amazonaws.com' }],
      }),
    );
    const names = new Set(Events?.map((e) => e.EventName));
    expect(names.has('PutBucketPolicy')).toBe(true);
    expect(names.has('CreateBucket')).toBe(true);
    expect(names.has('GetObject')).toBe(false);
    expect(names.has('PutObject')).toBe(false);
  });
});
