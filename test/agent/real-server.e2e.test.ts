/**
 * The agent against Latchkey's own EKS Auth (the server's `AssumeRoleForPodIdentity`), end to
 * end: a pod's projected token minted by the cluster's issuer → the agent → credentials the SDK
 * reads → an STS call the server authenticates as the association's role. Deleting the
 * association is noticed at the next renewal (ResourceNotFoundException → evicted → 404).
 */
import {
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromHttp } from '@aws-sdk/credential-providers';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startAgent, type RunningAgent } from '../../src/agent/index.js';
import { createClusterWithProvider, mintToken } from '../helpers/irsa.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { request, TestClock } from './helpers/harness.js';

let t: TestServer;
let agent: RunningAgent;
const clock = new TestClock();
const dir = tempDir('latchkey-agent-e2e-');
let associationId = '';

beforeAll(async () => {
  t = await startTestServer();
  const config = {
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  };
  await createClusterWithProvider(t.server.url, t.admin, 'dev');
  await new IAMClient(config).send(
    new CreateRoleCommand({
      RoleName: 'cart-role',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: { Service: 'pods.eks.amazonaws.com' },
            Action: ['sts:AssumeRole', 'sts:TagSession'],
          },
        ],
      }),
    }),
  );
  const { association } = await new EKSClient(config).send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'shop',
      serviceAccount: 'cart',
      roleArn: 'arn:aws:iam::000000000000:role/cart-role',
    }),
  );
  associationId = association?.associationId ?? '';
  agent = await startAgent({
    server: t.server.url,
    cluster: 'dev',
    credentials: t.admin,
    listen: '127.0.0.1:0',
    local: true,
    clock: clock.now,
    sweepIntervalMs: 3_600_000,
    eksAuthMaxAttempts: 1,
    logger: pino({ level: 'silent' }),
  });
});
afterAll(async () => {
  await agent?.close();
  await t.stop();
  dir.remove();
});

describe('agent → Latchkey EKS Auth', () => {
  it('a pod gets its association role’s credentials, which the server accepts', async () => {
    const token = await mintToken(t.admin, 'dev', {
      namespace: 'shop',
      serviceAccount: 'cart',
      audience: 'pods.eks.amazonaws.com',
    });
    const tokenFile = join(dir.path, 'token');
    writeFileSync(tokenFile, token);
    const credentials = fromHttp({
      awsContainerCredentialsFullUri: agent.credentialsUrls[0],
      awsContainerAuthorizationTokenFile: tokenFile,
    });
    const sts = new STSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials,
      maxAttempts: 1,
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(/^arn:aws:sts::000000000000:assumed-role\/cart-role\/eks-dev-/);
    expect(identity.Account).toBe('000000000000');
    const answer = await request(new URL(agent.credentialsUrls[0] ?? '').origin, { token });
    expect(answer.json?.AccountId).toBe('000000000000');

    // An IRSA-audience token is refused by EKS Auth, and the agent passes the 400 on.
    const irsa = await mintToken(t.admin, 'dev', { namespace: 'shop', serviceAccount: 'cart' });
    const refused = await request(new URL(agent.credentialsUrls[0] ?? '').origin, { token: irsa });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain('(InvalidTokenException)');

    await new EKSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: t.admin,
      maxAttempts: 1,
    }).send(new DeletePodIdentityAssociationCommand({ clusterName: 'dev', associationId }));
    expect(agent.cacheSize()).toBe(1);
    clock.advance(3 * 3600_000 + 1000);
    await agent.sweep();
    expect(agent.cacheSize()).toBe(0);
    const gone = await request(new URL(agent.credentialsUrls[0] ?? '').origin, { token });
    expect(gone.status).toBe(404);
    expect(gone.text).toContain('(ResourceNotFoundException)');
  });
});
