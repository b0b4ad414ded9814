/**
 * EKS Pod Identity end to end at EKS Auth (boto3's `eks-auth` client): the association's role
 * is assumed with the pod's session tags, chained into a target role of another account, and
 * deleting the association revokes what was issued.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import {
  CreateRoleCommand,
  GetRoleCommand,
  IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { searchAudit } from '../../src/audit/index.js';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import type { Profile } from '../../src/profiles/index.js';
import { createClusterWithProvider, mintToken } from '../helpers/irsa.js';
import { runPython, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let accountB: Profile;
const ACCOUNT_B = '222233334444';
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

function clients(
  credentials: Profile | { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
) {
  const config = { endpoint: t.server.url, region: 'us-east-1', credentials, maxAttempts: 1 };
  return { iam: new IAMClient(config), sts: new STSClient(config), eks: new EKSClient(config) };
}

beforeAll(async () => {
  t = await startTestServer();
  await createClusterWithProvider(t.server.url, t.admin, 'dev');
  const created = await signedJsonRequest(t.admin, 'POST', '/_latchkey/api/accounts', {
    accountId: ACCOUNT_B,
  });
  accountB = {
    ...t.admin,
    accessKeyId: String(created.json.accessKeyId),
    secretAccessKey: String(created.json.secretAccessKey),
  };
  const a = clients(t.admin);
  await a.iam.send(
    new CreateRoleCommand({
      RoleName: 'pod-role',
      AssumeRolePolicyDocument: JSON.stringify(podTrust),
    }),
  );
  // The pod role may read roles only for pods of namespace "default" (session tags), and may
  // chain into the target role of account B.
  await a.iam.send(
    new PutRolePolicyCommand({
      RoleName: 'pod-role',
      PolicyName: 'p',
      PolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Action: 'iam:GetRole',
            Resource: '*',
            Condition: { StringEquals: { 'aws:PrincipalTag/kubernetes-namespace': 'default' } },
          },
          {
            Effect: 'Allow',
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            Resource: `arn:aws:iam::${ACCOUNT_B}:role/target`,
          },
        ],
      }),
    }),
  );
  await a.iam.send(
    new CreateRoleCommand({
      RoleName: 'untrusting',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'ec2.amazonaws.com' },
            Action: 'sts:AssumeRole',
          },
        ],
      }),
    }),
  );
});
afterAll(async () => {
  await t.stop();
});

async function assume(token: string): Promise<{
  code: string;
  creds?: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string };
  body?: Record<string, unknown>;
}> {
  const out = await runPython(
    `
import boto3, botocore, json, sys
c = boto3.Session().client('eks-auth')
try:
    r = c.assume_role_for_pod_identity(clusterName='dev', token=sys.stdin.read())
    r.pop('ResponseMetadata', None)
    print(json.dumps({'code': 'ok', 'body': r}, default=str))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'code': e.response['Error']['Code']}))
`,
    t.cliEnv(),
    token,
  );
  const parsed = JSON.parse(out) as { code: string; body?: Record<string, unknown> };
  const credentials = parsed.body?.credentials as
    { accessKeyId: string; secretAccessKey: string; sessionToken: string } | undefined;
  return {
    code: parsed.code,
    ...(parsed.body ? { body: parsed.body } : {}),
    ...(credentials
      ? {
          creds: {
            AccessKeyId: credentials.accessKeyId,
            SecretAccessKey: credentials.secretAccessKey,
            SessionToken: credentials.sessionToken,
          },
        }
      : {}),
  };
}

function sessionClients(creds: {
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
}) {
  return clients({
    accessKeyId: creds.AccessKeyId,
    secretAccessKey: creds.SecretAccessKey,
    sessionToken: creds.SessionToken,
  });
}

describe('AssumeRoleForPodIdentity', () => {
  let associationId = '';

  it('issues the association role’s credentials with the pod’s session tags', async () => {
    const { association } = await clients(t.admin).eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'dev',
        namespace: 'default',
        serviceAccount: 'app',
        roleArn: 'arn:aws:iam::000000000000:role/pod-role',
      }),
    );
    associationId = association?.associationId ?? '';
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'app',
      audience: 'pods.eks.amazonaws.com',
    });
    const r = await assume(token);
    expect(r.code).toBe('ok');
    expect(r.body).toMatchObject({
      subject: { namespace: 'default', serviceAccount: 'app' },
      audience: 'pods.eks.amazonaws.com',
      podIdentityAssociation: { associationId },
    });
    const session = sessionClients(r.creds!);
    const id = await session.sts.send(new GetCallerIdentityCommand({}));
    expect(id.Arn).toMatch(/^arn:aws:sts::000000000000:assumed-role\/pod-role\/eks-dev-/);
    // The session tag kubernetes-namespace=default satisfies the policy's condition.
    const role = await session.iam.send(new GetRoleCommand({ RoleName: 'pod-role' }));
    expect(role.Role?.RoleName).toBe('pod-role');
  });

  it('a role that does not trust pods.eks.amazonaws.com is AccessDeniedException (400)', async () => {
    await clients(t.admin).eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'dev',
        namespace: 'default',
        serviceAccount: 'untrusted',
        roleArn: 'arn:aws:iam::000000000000:role/untrusting',
      }),
    );
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'untrusted',
      audience: 'pods.eks.amazonaws.com',
    });
    expect((await assume(token)).code).toBe('AccessDeniedException');
  });

  it('chains into a target role of another account only when that role trusts the pod role', async () => {
    const eks = clients(t.admin).eks;
    // The target role must exist.
    await expect(
      eks.send(
        new CreatePodIdentityAssociationCommand({
          clusterName: 'dev',
          namespace: 'default',
          serviceAccount: 'cross',
          roleArn: 'arn:aws:iam::000000000000:role/pod-role',
          targetRoleArn: `arn:aws:iam::${ACCOUNT_B}:role/target`,
        }),
      ),
    ).rejects.toMatchObject({ name: 'InvalidParameterException' });
    const b = clients(accountB);
    const trustPodRole = (externalId?: string) =>
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::000000000000:role/pod-role' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
            ...(externalId
              ? { Condition: { StringEquals: { 'sts:ExternalId': externalId } } }
              : {}),
          },
        ],
      });
    await b.iam.send(
      new CreateRoleCommand({
        RoleName: 'target',
        AssumeRolePolicyDocument: trustPodRole('us-east-1/000000000000/dev/default/cross'),
      }),
    );
    await b.iam.send(
      new CreateRoleCommand({
        RoleName: 'closed',
        AssumeRolePolicyDocument: JSON.stringify(podTrust),
      }),
    );
    await eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'dev',
        namespace: 'default',
        serviceAccount: 'cross',
        roleArn: 'arn:aws:iam::000000000000:role/pod-role',
        targetRoleArn: `arn:aws:iam::${ACCOUNT_B}:role/target`,
      }),
    );
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'cross',
      audience: 'pods.eks.amazonaws.com',
    });
    const r = await assume(token);
    expect(r.code).toBe('ok');
    const id = await sessionClients(r.creds!).sts.send(new GetCallerIdentityCommand({}));
    expect(id.Account).toBe(ACCOUNT_B);
    expect(id.Arn).toMatch(new RegExp(`^arn:aws:sts::${ACCOUNT_B}:assumed-role/target/eks-dev-`));
    // A chained session lasts at most one hour.
    const expiration = new Date(
      String((r.body?.credentials as { expiration: string }).expiration),
    ).getTime();
    expect(expiration - Date.now()).toBeLessThanOrEqual(3_600_000);
    // Both accounts' trails hold the call, with one sharedEventID.
    const recorded = async (accountId: string) =>
      (
        await searchAudit(t.server.store.db, {
          accountId,
          attribute: { key: 'EventName', value: 'AssumeRoleForPodIdentity' },
          limit: 10,
        })
      ).records.find((record) => record.errorCode === undefined);
    const [inA, inB] = [await recorded('000000000000'), await recorded(ACCOUNT_B)];
    expect(inA?.sharedEventID).toBeDefined();
    expect(inB?.sharedEventID).toBe(inA?.sharedEventID);
    expect(inB?.recipientAccountId).toBe(ACCOUNT_B);

    // A target role that does not trust the pod role: denied.
    await eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'dev',
        namespace: 'default',
        serviceAccount: 'closed',
        roleArn: 'arn:aws:iam::000000000000:role/pod-role',
        targetRoleArn: `arn:aws:iam::${ACCOUNT_B}:role/closed`,
      }),
    );
    const closedToken = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'closed',
      audience: 'pods.eks.amazonaws.com',
    });
    expect((await assume(closedToken)).code).toBe('AccessDeniedException');
  });

  it('deleting the association revokes its credentials at once', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'app',
      audience: 'pods.eks.amazonaws.com',
    });
    const r = await assume(token);
    const session = sessionClients(r.creds!);
    await session.sts.send(new GetCallerIdentityCommand({}));
    await clients(t.admin).eks.send(
      new DeletePodIdentityAssociationCommand({ clusterName: 'dev', associationId }),
    );
    await expect(session.sts.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    expect((await assume(token)).code).toBe('ResourceNotFoundException');
  });
});
