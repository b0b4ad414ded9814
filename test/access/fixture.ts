/**
 * An account set up the way a platform team would, through the AWS SDK against a real server:
 * a cluster with its OIDC provider, IRSA roles (one tight, one with no subject, one with a
 * wildcard subject), Pod Identity roles and associations (one chained into a long-session
 * target, one whose role does not trust the service), a role trusting Pod Identity that no
 * association uses, a ForAllValues condition — and real denials in the audit trail.
 */
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import type { Profile } from '../../src/profiles/index.js';
import { createClusterWithProvider, createIrsaRole, mintToken } from '../helpers/irsa.js';

/** What the fixture made. */
export interface AccessFixture {
  providerUrl: string;
  roles: Record<
    'reader' | 'open' | 'team' | 'pod' | 'target' | 'orphan' | 'ec2' | 'tagKeys' | 'cron',
    string
  >;
  bob: { accessKeyId: string; secretAccessKey: string };
}

const ACCOUNT = '000000000000';

/** Builds the fixture on a running server (cluster `dev`). */
export async function setUpAccess(url: string, admin: Profile): Promise<AccessFixture> {
  const config = { endpoint: url, region: 'us-east-1', credentials: admin, maxAttempts: 1 };
  const iam = new IAMClient(config);
  const eks = new EKSClient(config);
  const provider = await createClusterWithProvider(url, admin, 'dev');
  const p = provider.providerUrl;

  const reader = await createIrsaRole(
    url,
    admin,
    'app-reader',
    provider,
    'system:serviceaccount:default:app',
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'app-reader',
      PolicyName: 'read-reports',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ReadReports',
            Effect: 'Allow',
            Action: 's3:GetObject',
            Resource: 'arn:aws:s3:::reports/*',
          },
        ],
      }),
    }),
  );

  const role = async (name: string, trust: unknown, maxSessionDuration?: number) =>
    (
      await iam.send(
        new CreateRoleCommand({
          RoleName: name,
          AssumeRolePolicyDocument: JSON.stringify(trust),
          ...(maxSessionDuration ? { MaxSessionDuration: maxSessionDuration } : {}),
        }),
      )
    ).Role?.Arn ?? '';
  const inline = (roleName: string, statements: unknown[]) =>
    iam.send(
      new PutRolePolicyCommand({
        RoleName: roleName,
        PolicyName: 'inline',
        PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: statements }),
      }),
    );

  const open = await role('open-irsa', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
      },
    ],
  });
  await inline('open-irsa', [{ Effect: 'Allow', Action: 's3:ListBucket', Resource: '*' }]);

  const team = await role('team-irsa', {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Federated: provider.providerArn },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringLike: { [`${p}:sub`]: 'system:serviceaccount:team-*:*' },
          StringEquals: { [`${p}:aud`]: 'sts.amazonaws.com' },
        },
      },
    ],
  });
  await inline('team-irsa', [{ Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*' }]);

  const podTrust = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'pods.eks.amazonaws.com' },
        Action: ['sts:AssumeRole', 'sts:TagSession'],
      },
    ],
  };
  const pod = await role('web-pod', podTrust);
  const target = await role(
    'uploads-target',
    {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Allow',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/web-pod` },
          Action: ['sts:AssumeRole', 'sts:TagSession'],
        },
      ],
    },
    43_200,
  );
  await inline('web-pod', [
    { Effect: 'Allow', Action: 'sts:AssumeRole', Resource: target },
    { Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' },
  ]);
  await inline('uploads-target', [
    {
      Sid: 'WriteUploads',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: 'arn:aws:s3:::uploads/*',
    },
  ]);
  const orphan = await role('orphan-pod', podTrust);
  // Pod Identity works for this one, but the target does not trust it: the chain breaks there.
  const cron = await role('cron-pod', podTrust);
  await inline('cron-pod', [{ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: target }]);
  const ec2 = await role('ec2-only', {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ],
  });
  const tagKeys = await role('tag-keys', podTrust);
  await inline('tag-keys', [
    {
      Sid: 'OnlyTeamTags',
      Effect: 'Allow',
      Action: 's3:PutObjectTagging',
      Resource: '*',
      Condition: { 'ForAllValues:StringEquals': { 'aws:TagKeys': ['team'] } },
    },
  ]);

  await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'web',
      serviceAccount: 'frontend',
      roleArn: pod,
      targetRoleArn: target,
    }),
  );
  await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'batch',
      serviceAccount: 'worker',
      roleArn: ec2,
    }),
  );
  await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'jobs',
      serviceAccount: 'cron',
      roleArn: cron,
      targetRoleArn: target,
    }),
  );
  await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'tags',
      serviceAccount: 'tagger',
      roleArn: tagKeys,
    }),
  );
  const put = await signedJsonRequest(
    admin,
    'PUT',
    '/_latchkey/api/clusters/dev/service-accounts/default/app',
    { annotations: { 'eks.amazonaws.com/role-arn': reader } },
  );
  if (put.status !== 200) throw new Error(`service account: ${JSON.stringify(put.json)}`);

  // A user with no permissions, and its denied call (identity policy decides).
  await iam.send(new CreateUserCommand({ UserName: 'bob' }));
  const key = await iam.send(new CreateAccessKeyCommand({ UserName: 'bob' }));
  const bob = {
    accessKeyId: key.AccessKey?.AccessKeyId ?? '',
    secretAccessKey: key.AccessKey?.SecretAccessKey ?? '',
  };
  await new IAMClient({ ...config, credentials: bob }).send(new ListRolesCommand({})).then(
    () => {
      throw new Error('bob should be denied');
    },
    () => undefined,
  );

  // A pod of batch/worker asks Pod Identity for credentials: the role's trust refuses.
  const token = await mintToken(admin, 'dev', {
    namespace: 'batch',
    serviceAccount: 'worker',
    audience: 'pods.eks.amazonaws.com',
  });
  const denied = await signedJsonRequest(
    admin,
    'POST',
    '/clusters/dev/assume-role-for-pod-identity',
    { token },
    'eks-auth',
  );
  if (denied.status === 200) throw new Error('batch/worker should be refused');

  // A pod of jobs/cron: its role is assumed, but chaining into the target is refused.
  const cronToken = await mintToken(admin, 'dev', {
    namespace: 'jobs',
    serviceAccount: 'cron',
    audience: 'pods.eks.amazonaws.com',
  });
  const chainDenied = await signedJsonRequest(
    admin,
    'POST',
    '/clusters/dev/assume-role-for-pod-identity',
    { token: cronToken },
    'eks-auth',
  );
  if (chainDenied.status === 200) throw new Error('jobs/cron should be refused');

  return {
    providerUrl: p,
    roles: { reader, open, team, pod, target, orphan, ec2, tagKeys, cron },
    bob,
  };
}

/** Waits until the audit trail holds `n` denied records (read-only calls are written lazily). */
export async function waitForDenials(admin: Profile, n: number): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const r = await signedJsonRequest(admin, 'POST', '/_latchkey/api/audit/search', {
      denied: true,
      limit: 50,
    });
    if (Array.isArray(r.json.events) && r.json.events.length >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`fewer than ${n} denials recorded`);
}
