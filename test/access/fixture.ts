/**
 * An account set up the way a platform team would, through the AWS SDK against a real server:
 * a cluster with its OIDC provider, IRSA roles (one tight, one with no subject, one with a
 * wildcard subject), Pod Identity roles and associations (one chained into a long-session
 * target, one whose role does not trust the service), a role trusting Pod Identity that no
 * association uses, a ForAllValues condition — and real denials in the audit trail.
 */
import { CreatePodIdentityAssociationCommand, EKSClient } from '@aws-sdk/client-eks';
import { CreateBucketCommand, PutBucketPolicyCommand, S3Client } from '@aws-sdk/client-s3';
import {
  CreateAccessKeyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  IAMClient,
  ListRolesCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
} from '@aws-sdk/client-iam';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import type { Profile } from '../../src/profiles/index.js';
import { createClusterWithProvider, createIrsaRole, mintToken } from '../helpers/irsa.js';

/** What the fixture made. */
export interface AccessFixture {
  providerUrl: string;
  providerArn: string;
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
    providerArn: provider.providerArn,
    roles: { reader, open, team, pod, target, orphan, ec2, tagKeys, cron },
    bob,
  };
}

/** What the cross-account fixture made. */
export interface CrossAccountFixture {
  /** The second account. */
  accountB: string;
  /** Roles of the first account (A). */
  a: Record<'partnerClient' | 'notNamed' | 'bucketOnly' | 'xacctPod' | 'partnerEntry', string>;
  /** Roles of account B. */
  b: Record<'partnerReader' | 'partnerOther' | 'xacctTarget' | 'bAssumer', string>;
}

/**
 * A second account and buckets with policies, on top of {@link setUpAccess}:
 *
 * - bucket `shared-a` of account A, whose policy lets B's `partner-reader` and A's
 *   `bucket-only` (a role with no policy of its own, IRSA role of `default/bucket-sa`) read,
 *   lets anyone read `public/*`, and denies A's admin user;
 * - bucket `partner-b` of account B, whose policy lets A's `partner-client` and `app-reader`
 *   read (app-reader's own policy covers only `reports/*`);
 * - A's `not-named` may read `partner-b` by its own policy, but that bucket's policy does not
 *   name it; B's `partner-other` may read anything by its own policy, but is named by no bucket;
 * - association `xacct/fetcher` in cluster `dev`: A's `xacct-pod`, chained into B's
 *   `xacct-target`, which may read anything by its own policy;
 * - A's `partner-entry` trusts B's account (root); B's `b-assumer` may assume it by its own
 *   policy, B's `partner-other` may not.
 */
export async function setUpCrossAccount(
  url: string,
  admin: Profile,
  fx: AccessFixture,
): Promise<CrossAccountFixture> {
  const B = '222233334444';
  const created = await signedJsonRequest(admin, 'POST', '/_latchkey/api/accounts', {
    accountId: B,
  });
  if (created.status !== 200) throw new Error(`account: ${JSON.stringify(created.json)}`);
  const adminB = {
    ...admin,
    accessKeyId: String(created.json.accessKeyId),
    secretAccessKey: String(created.json.secretAccessKey),
  };
  const clients = (credentials: Profile) => {
    const config = { endpoint: url, region: 'us-east-1', credentials, maxAttempts: 1 };
    return {
      iam: new IAMClient(config),
      eks: new EKSClient(config),
      s3: new S3Client({ ...config, forcePathStyle: true }),
    };
  };
  const inA = clients(admin);
  const inB = clients(adminB);
  const doc = (statements: unknown[]) =>
    JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const role = async (
    iam: IAMClient,
    name: string,
    trustedBy: unknown,
    statements: unknown[],
  ): Promise<string> => {
    const arn =
      (
        await iam.send(
          new CreateRoleCommand({
            RoleName: name,
            AssumeRolePolicyDocument: doc([
              {
                Effect: 'Allow',
                Principal: trustedBy,
                Action: ['sts:AssumeRole', 'sts:TagSession'],
              },
            ]),
          }),
        )
      ).Role?.Arn ?? '';
    if (statements.length > 0) {
      await iam.send(
        new PutRolePolicyCommand({
          RoleName: name,
          PolicyName: 'inline',
          PolicyDocument: doc(statements),
        }),
      );
    }
    return arn;
  };
  const read = (resource: string, sid = 'Read') => ({
    Sid: sid,
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: resource,
  });

  const b = {
    partnerReader: await role(inB.iam, 'partner-reader', { AWS: `arn:aws:iam::${B}:root` }, [
      read('arn:aws:s3:::shared-a/*', 'ReadSharedA'),
    ]),
    partnerOther: await role(inB.iam, 'partner-other', { AWS: `arn:aws:iam::${B}:root` }, [
      read('*', 'ReadAnything'),
    ]),
    xacctTarget: await role(
      inB.iam,
      'xacct-target',
      { AWS: `arn:aws:iam::${ACCOUNT}:role/xacct-pod` },
      [read('*', 'TargetReadsAnything')],
    ),
  };
  const a = {
    partnerClient: await role(inA.iam, 'partner-client', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, [
      read('arn:aws:s3:::partner-b/*', 'ReadPartnerB'),
    ]),
    notNamed: await role(inA.iam, 'not-named', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, [
      read('arn:aws:s3:::partner-b/*', 'ReadPartnerB'),
    ]),
    bucketOnly: await createIrsaRole(
      url,
      admin,
      'bucket-only',
      { providerArn: fx.providerArn, providerUrl: fx.providerUrl },
      'system:serviceaccount:default:bucket-sa',
    ),
    xacctPod: await role(inA.iam, 'xacct-pod', { Service: 'pods.eks.amazonaws.com' }, [
      { Effect: 'Allow', Action: ['sts:AssumeRole', 'sts:TagSession'], Resource: b.xacctTarget },
    ]),
  };
  const partnerEntry = await role(inA.iam, 'partner-entry', { AWS: `arn:aws:iam::${B}:root` }, []);
  const bAssumer = await role(inB.iam, 'b-assumer', { AWS: `arn:aws:iam::${B}:root` }, [
    { Sid: 'EnterA', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: partnerEntry },
  ]);
  await inA.eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'xacct',
      serviceAccount: 'fetcher',
      roleArn: a.xacctPod,
      targetRoleArn: b.xacctTarget,
    }),
  );
  const put = await signedJsonRequest(
    admin,
    'PUT',
    '/_latchkey/api/clusters/dev/service-accounts/default/bucket-sa',
    { annotations: { 'eks.amazonaws.com/role-arn': a.bucketOnly } },
  );
  if (put.status !== 200) throw new Error(`service account: ${JSON.stringify(put.json)}`);

  await inA.s3.send(new CreateBucketCommand({ Bucket: 'shared-a' }));
  await inA.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'shared-a',
      Policy: doc([
        {
          Sid: 'PartnerReads',
          Effect: 'Allow',
          Principal: { AWS: b.partnerReader },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared-a/*',
        },
        {
          Sid: 'OwnRoleDirect',
          Effect: 'Allow',
          Principal: { AWS: a.bucketOnly },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared-a/*',
        },
        {
          Sid: 'PublicPrefix',
          Effect: 'Allow',
          Principal: '*',
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared-a/public/*',
        },
        {
          Sid: 'DenyAdmin',
          Effect: 'Deny',
          Principal: { AWS: `arn:aws:iam::${ACCOUNT}:user/admin` },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::shared-a/*',
        },
      ]),
    }),
  );
  await inB.s3.send(new CreateBucketCommand({ Bucket: 'partner-b' }));
  await inB.s3.send(
    new PutBucketPolicyCommand({
      Bucket: 'partner-b',
      Policy: doc([
        {
          Sid: 'ClientReads',
          Effect: 'Allow',
          Principal: { AWS: [a.partnerClient, fx.roles.reader] },
          Action: 's3:GetObject',
          Resource: 'arn:aws:s3:::partner-b/*',
        },
      ]),
    }),
  );
  return {
    accountB: B,
    a: { ...a, partnerEntry },
    b: { ...b, bAssumer },
  };
}

/** What the trust-policy fixture made (all in the first account). */
export interface TrustFixture {
  users: Record<'carol' | 'dave', string>;
  roles: Record<'assumer' | 'rootTrusted' | 'userTrusted' | 'denyTrusted', string>;
}

/**
 * Roles whose trust policies name IAM principals, on top of {@link setUpAccess}:
 *
 * - `root-trusted` trusts the account (root): who may assume it is whoever's own policy allows;
 * - `user-trusted` trusts user `dave` (no policy of his own) by ARN, and nobody else;
 * - `deny-trusted` trusts the account but denies user `carol`;
 * - user `carol` and role `assumer` (IRSA role of `ops/deployer`) may `sts:AssumeRole` on
 *   `role/*-trusted` by their own policies.
 */
export async function setUpTrust(
  url: string,
  admin: Profile,
  fx: AccessFixture,
): Promise<TrustFixture> {
  const iam = new IAMClient({
    endpoint: url,
    region: 'us-east-1',
    credentials: admin,
    maxAttempts: 1,
  });
  const doc = (statements: unknown[]) =>
    JSON.stringify({ Version: '2012-10-17', Statement: statements });
  const assumeTrusted = {
    Sid: 'AssumeTrusted',
    Effect: 'Allow',
    Action: 'sts:AssumeRole',
    Resource: `arn:aws:iam::${ACCOUNT}:role/*-trusted`,
  };
  const user = async (name: string) =>
    (await iam.send(new CreateUserCommand({ UserName: name }))).User?.Arn ?? '';
  const carol = await user('carol');
  const dave = await user('dave');
  await iam.send(
    new PutUserPolicyCommand({
      UserName: 'carol',
      PolicyName: 'assume',
      PolicyDocument: doc([assumeTrusted]),
    }),
  );
  const assumer = await createIrsaRole(
    url,
    admin,
    'assumer',
    { providerArn: fx.providerArn, providerUrl: fx.providerUrl },
    'system:serviceaccount:ops:deployer',
  );
  await iam.send(
    new PutRolePolicyCommand({
      RoleName: 'assumer',
      PolicyName: 'assume',
      PolicyDocument: doc([assumeTrusted]),
    }),
  );
  const put = await signedJsonRequest(
    admin,
    'PUT',
    '/_latchkey/api/clusters/dev/service-accounts/ops/deployer',
    { annotations: { 'eks.amazonaws.com/role-arn': assumer } },
  );
  if (put.status !== 200) throw new Error(`service account: ${JSON.stringify(put.json)}`);
  const role = async (name: string, statements: unknown[]) =>
    (
      await iam.send(
        new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: doc(statements) }),
      )
    ).Role?.Arn ?? '';
  const trust = (effect: 'Allow' | 'Deny', principal: string, sid: string) => ({
    Sid: sid,
    Effect: effect,
    Principal: { AWS: principal },
    Action: 'sts:AssumeRole',
  });
  const root = `arn:aws:iam::${ACCOUNT}:root`;
  return {
    users: { carol, dave },
    roles: {
      assumer,
      rootTrusted: await role('root-trusted', [trust('Allow', root, 'TrustAccount')]),
      userTrusted: await role('user-trusted', [trust('Allow', dave, 'TrustDave')]),
      denyTrusted: await role('deny-trusted', [
        trust('Allow', root, 'TrustAccount'),
        trust('Deny', carol, 'NotCarol'),
      ]),
    },
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
