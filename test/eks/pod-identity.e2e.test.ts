/**
 * Pod identity associations through the SDK's EKS client, and EKS Auth's
 * AssumeRoleForPodIdentity through boto3's `eks-auth` client: bad and hostile tokens get EKS
 * Auth's errors and nothing is issued.
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  DescribePodIdentityAssociationCommand,
  EKSClient,
  ListPodIdentityAssociationsCommand,
  UpdatePodIdentityAssociationCommand,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClusterWithProvider, mintToken } from '../helpers/irsa.js';
import { runPython, startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let eks: EKSClient;
const podTrust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    {
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
    },
  ],
});

beforeAll(async () => {
  t = await startTestServer();
  const config = {
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  };
  eks = new EKSClient(config);
  await createClusterWithProvider(t.server.url, t.admin, 'dev');
  await createClusterWithProvider(t.server.url, t.admin, 'other');
  const iam = new IAMClient(config);
  for (const name of ['pod-role', 'pod-role-2', 'target']) {
    await iam.send(new CreateRoleCommand({ RoleName: name, AssumeRolePolicyDocument: podTrust }));
  }
});
afterAll(async () => {
  await t.stop();
});

async function errorOf(
  p: Promise<unknown>,
): Promise<{ name: string; status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; message: string; $metadata?: { httpStatusCode?: number } };
    return { name: e.name, message: e.message, status: e.$metadata?.httpStatusCode };
  }
  throw new Error('expected failure');
}

const role = 'arn:aws:iam::000000000000:role/pod-role';
let associationId = '';

describe('pod identity associations', () => {
  it('create, describe, list (filters and pages), update', async () => {
    const { association } = await eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'dev',
        namespace: 'default',
        serviceAccount: 'app',
        roleArn: role,
        targetRoleArn: 'arn:aws:iam::000000000000:role/target',
        tags: { team: 'a' },
      }),
    );
    associationId = association?.associationId ?? '';
    expect(associationId).toMatch(/^a-[a-z0-9]{17}$/);
    expect(association).toMatchObject({
      clusterName: 'dev',
      namespace: 'default',
      serviceAccount: 'app',
      roleArn: role,
      associationArn: `arn:aws:eks:us-east-1:000000000000:podidentityassociation/dev/${associationId}`,
      externalId: 'us-east-1/000000000000/dev/default/app',
      disableSessionTags: false,
    });
    expect(association?.createdAt).toBeInstanceOf(Date);
    await eks.send(
      new CreatePodIdentityAssociationCommand({
        clusterName: 'dev',
        namespace: 'web',
        serviceAccount: 'app',
        roleArn: role,
      }),
    );
    const described = await eks.send(
      new DescribePodIdentityAssociationCommand({ clusterName: 'dev', associationId }),
    );
    expect(described.association?.tags).toEqual({ team: 'a' });
    const filtered = await eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: 'dev', namespace: 'web' }),
    );
    expect(filtered.associations?.map((a) => a.namespace)).toEqual(['web']);
    const page1 = await eks.send(
      new ListPodIdentityAssociationsCommand({ clusterName: 'dev', maxResults: 1 }),
    );
    const page2 = await eks.send(
      new ListPodIdentityAssociationsCommand({
        clusterName: 'dev',
        maxResults: 1,
        nextToken: page1.nextToken,
      }),
    );
    expect(page1.associations).toHaveLength(1);
    expect(page2.associations).toHaveLength(1);
    expect(page2.nextToken).toBeUndefined();
    const updated = await eks.send(
      new UpdatePodIdentityAssociationCommand({
        clusterName: 'dev',
        associationId,
        roleArn: 'arn:aws:iam::000000000000:role/pod-role-2',
        targetRoleArn: '',
      }),
    );
    expect(updated.association?.roleArn).toBe('arn:aws:iam::000000000000:role/pod-role-2');
    expect(updated.association?.targetRoleArn).toBeUndefined();
    expect(updated.association?.externalId).toBeUndefined();
  });

  it('bad input: duplicate, missing cluster, foreign or missing role, bad names', async () => {
    expect(
      await errorOf(
        eks.send(
          new CreatePodIdentityAssociationCommand({
            clusterName: 'dev',
            namespace: 'default',
            serviceAccount: 'app',
            roleArn: role,
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceInUseException', status: 409 });
    expect(
      await errorOf(
        eks.send(
          new CreatePodIdentityAssociationCommand({
            clusterName: 'ghost',
            namespace: 'a',
            serviceAccount: 'b',
            roleArn: role,
          }),
        ),
      ),
    ).toMatchObject({ name: 'ResourceNotFoundException', status: 404 });
    for (const input of [
      { namespace: 'a', serviceAccount: 'b', roleArn: 'arn:aws:iam::111122223333:role/x' },
      { namespace: 'a', serviceAccount: 'b', roleArn: 'arn:aws:iam::000000000000:role/none' },
      { namespace: 'Bad_NS', serviceAccount: 'b', roleArn: role },
      { namespace: 'a', serviceAccount: 'b', roleArn: role, targetRoleArn: role },
    ]) {
      expect(
        (
          await errorOf(
            eks.send(new CreatePodIdentityAssociationCommand({ clusterName: 'dev', ...input })),
          )
        ).name,
        JSON.stringify(input),
      ).toBe('InvalidParameterException');
    }
    expect(
      (
        await errorOf(
          eks.send(
            new DescribePodIdentityAssociationCommand({
              clusterName: 'dev',
              associationId: 'a-00000000000000000',
            }),
          ),
        )
      ).name,
    ).toBe('ResourceNotFoundException');
    const all = await eks.send(new ListPodIdentityAssociationsCommand({ clusterName: 'dev' }));
    expect(all.associations).toHaveLength(2);
  });
});

describe('EKS Auth AssumeRoleForPodIdentity (boto3 eks-auth client)', () => {
  async function assume(token: string, cluster = 'dev'): Promise<{ code: string; status: number }> {
    const out = await runPython(
      `
import boto3, botocore, json, sys
c = boto3.Session().client('eks-auth')
try:
    r = c.assume_role_for_pod_identity(clusterName=${JSON.stringify(cluster)}, token=sys.argv[1] if len(sys.argv) > 1 else ${JSON.stringify(token)})
    print(json.dumps({'code': 'ok', 'status': 200}))
except botocore.exceptions.ClientError as e:
    print(json.dumps({'code': e.response['Error']['Code'], 'status': e.response['ResponseMetadata']['HTTPStatusCode']}))
except botocore.exceptions.ParamValidationError as e:
    print(json.dumps({'code': 'ParamValidationError', 'status': 0}))
`,
      t.cliEnv(),
    );
    return JSON.parse(out) as { code: string; status: number };
  }

  it('an IRSA token (audience sts.amazonaws.com) is InvalidTokenException', async () => {
    const token = await mintToken(t.admin, 'dev', { namespace: 'default', serviceAccount: 'app' });
    expect(await assume(token)).toEqual({ code: 'InvalidTokenException', status: 400 });
  });

  it('another cluster’s token is InvalidTokenException', async () => {
    const token = await mintToken(t.admin, 'other', {
      namespace: 'default',
      serviceAccount: 'app',
      audience: 'pods.eks.amazonaws.com',
    });
    expect(await assume(token)).toEqual({ code: 'InvalidTokenException', status: 400 });
  });

  it('a malformed or tampered token is refused', async () => {
    expect((await assume('not.a.jwt!')).status).toBe(400);
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'app',
      audience: 'pods.eks.amazonaws.com',
    });
    const [h, p, s] = token.split('.');
    const claims = JSON.parse(Buffer.from(p ?? '', 'base64url').toString()) as Record<
      string,
      unknown
    >;
    const forged = `${h}.${Buffer.from(JSON.stringify({ ...claims, sub: 'system:serviceaccount:web:app' })).toString('base64url')}.${s}`;
    expect(await assume(forged)).toEqual({ code: 'InvalidTokenException', status: 400 });
  });

  it('a service account without an association is ResourceNotFoundException (404)', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'lonely',
      audience: 'pods.eks.amazonaws.com',
    });
    expect(await assume(token)).toEqual({ code: 'ResourceNotFoundException', status: 404 });
  });

  it('an unknown cluster is ResourceNotFoundException', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'default',
      serviceAccount: 'app',
      audience: 'pods.eks.amazonaws.com',
    });
    expect(await assume(token, 'ghost')).toEqual({
      code: 'ResourceNotFoundException',
      status: 404,
    });
  });
});

describe('delete', () => {
  it('DeletePodIdentityAssociation removes it', async () => {
    await eks.send(new DeletePodIdentityAssociationCommand({ clusterName: 'dev', associationId }));
    expect(
      (
        await errorOf(
          eks.send(
            new DescribePodIdentityAssociationCommand({ clusterName: 'dev', associationId }),
          ),
        )
      ).name,
    ).toBe('ResourceNotFoundException');
  });
});
