/**
 * Clusters through the AWS SDK's EKS client, and each cluster's OIDC issuer as a relying
 * party (jose's remote JWKS) sees it.
 */
import {
  CreateClusterCommand,
  DeleteClusterCommand,
  DescribeClusterCommand,
  EKSClient,
  ListClustersCommand,
} from '@aws-sdk/client-eks';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedJsonRequest } from '../../src/cli/signed-fetch.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let eks: EKSClient;
beforeAll(async () => {
  t = await startTestServer();
  eks = new EKSClient({
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  });
});
afterAll(async () => {
  await t.stop();
});

const vpc = { subnetIds: ['subnet-1'] };
const roleArn = 'arn:aws:iam::000000000000:role/eks-cluster-role';

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

describe('EKS clusters', () => {
  it('CreateCluster gives the cluster an OIDC issuer served by Latchkey', async () => {
    const { cluster } = await eks.send(
      new CreateClusterCommand({
        name: 'dev',
        roleArn,
        resourcesVpcConfig: vpc,
        tags: { team: 'a' },
      }),
    );
    expect(cluster?.arn).toBe('arn:aws:eks:us-east-1:000000000000:cluster/dev');
    expect(cluster?.status).toBe('ACTIVE');
    expect(cluster?.createdAt).toBeInstanceOf(Date);
    const issuer = cluster?.identity?.oidc?.issuer ?? '';
    expect(issuer).toMatch(new RegExp(`^${t.server.url}/_latchkey/oidc/id/[0-9A-F]{32}$`));

    const discovery = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as {
      issuer: string;
      jwks_uri: string;
    };
    expect(discovery.issuer).toBe(issuer);
    const jwksRes = await fetch(discovery.jwks_uri);
    expect(jwksRes.headers.get('cache-control')).toContain('max-age');
    const jwks = (await jwksRes.json()) as { keys: { kty: string; d?: string }[] };
    expect(jwks.keys).toHaveLength(1);
    expect(jwks.keys[0]?.d).toBeUndefined();
  });

  it('a minted token verifies against the issuer’s published JWKS', async () => {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'dev' }));
    const issuer = cluster?.identity?.oidc?.issuer ?? '';
    const { status, json } = await signedJsonRequest(
      t.admin,
      'POST',
      '/_latchkey/api/clusters/dev/service-account-token',
      { namespace: 'default', serviceAccount: 'reader', expirationSeconds: 3600, podName: 'web-0' },
    );
    expect(status).toBe(200);
    const { payload } = await jwtVerify(
      String(json.token),
      createRemoteJWKSet(new URL(`${issuer}/keys`)),
      {
        issuer,
        audience: 'sts.amazonaws.com',
      },
    );
    expect(payload.sub).toBe('system:serviceaccount:default:reader');
  });

  it('refuses bad token requests', async () => {
    for (const body of [
      { namespace: 'Bad_NS', serviceAccount: 'a' },
      { namespace: 'default', serviceAccount: 'a', expirationSeconds: 599 },
      { namespace: 'default', serviceAccount: 'a', expirationSeconds: 86_401 },
    ]) {
      const r = await signedJsonRequest(
        t.admin,
        'POST',
        '/_latchkey/api/clusters/dev/service-account-token',
        body,
      );
      expect(r.status).toBe(400);
      expect(r.json.__type).toBe('InvalidParameterException');
    }
    const missing = await signedJsonRequest(
      t.admin,
      'POST',
      '/_latchkey/api/clusters/nope/service-account-token',
      {
        namespace: 'default',
        serviceAccount: 'a',
      },
    );
    expect(missing.status).toBe(404);
  });

  it('ListClusters pages with nextToken', async () => {
    for (const name of ['b1', 'b2', 'b3']) {
      await eks.send(new CreateClusterCommand({ name, roleArn, resourcesVpcConfig: vpc }));
    }
    const first = await eks.send(new ListClustersCommand({ maxResults: 2 }));
    expect(first.clusters).toEqual(['b1', 'b2']);
    const second = await eks.send(
      new ListClustersCommand({ maxResults: 2, nextToken: first.nextToken }),
    );
    expect(second.clusters).toEqual(['b3', 'dev']);
    expect(second.nextToken).toBeUndefined();
  });

  it('errors: duplicate, missing, invalid name, bad role ARN — nothing created', async () => {
    expect(
      await errorOf(
        eks.send(new CreateClusterCommand({ name: 'dev', roleArn, resourcesVpcConfig: vpc })),
      ),
    ).toMatchObject({ name: 'ResourceInUseException', status: 409 });
    expect(await errorOf(eks.send(new DescribeClusterCommand({ name: 'ghost' })))).toMatchObject({
      name: 'ResourceNotFoundException',
      status: 404,
      message: 'No cluster found for name: ghost.',
    });
    expect(
      await errorOf(
        eks.send(new CreateClusterCommand({ name: '-bad', roleArn, resourcesVpcConfig: vpc })),
      ),
    ).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    expect(
      await errorOf(
        eks.send(
          new CreateClusterCommand({ name: 'x1', roleArn: 'nope', resourcesVpcConfig: vpc }),
        ),
      ),
    ).toMatchObject({ name: 'InvalidParameterException', status: 400 });
    const all = await eks.send(new ListClustersCommand({}));
    expect(all.clusters).toEqual(['b1', 'b2', 'b3', 'dev']);
  });

  it('DeleteCluster removes the cluster and its issuer', async () => {
    const { cluster } = await eks.send(new DescribeClusterCommand({ name: 'b3' }));
    const issuer = cluster?.identity?.oidc?.issuer ?? '';
    await eks.send(new DeleteClusterCommand({ name: 'b3' }));
    expect((await fetch(`${issuer}/keys`)).status).toBe(404);
    expect((await errorOf(eks.send(new DescribeClusterCommand({ name: 'b3' })))).name).toBe(
      'ResourceNotFoundException',
    );
  });

  it('an unknown key gets the REST-JSON form of the error', async () => {
    const bad = new EKSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) },
      maxAttempts: 1,
    });
    expect(await errorOf(bad.send(new ListClustersCommand({})))).toMatchObject({
      name: 'UnrecognizedClientException',
      status: 403,
    });
  });
});
