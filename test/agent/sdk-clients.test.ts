/**
 * Real clients read credentials from the agent with nothing but the container-credentials
 * variables set, as the Pod Identity webhook sets them: the JS SDK (`fromHttp` with the token
 * file, `fromContainerMetadata` with the token variable), boto3 and the AWS CLI — the CLI then
 * signs an STS call with them, which the stand-in verifies.
 */
import { fromContainerMetadata, fromHttp } from '@aws-sdk/credential-providers';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanAwsEnv, runAwsCli, runPython } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { startHarness, type Harness } from './helpers/harness.js';

let h: Harness;
const dir = tempDir('latchkey-agent-');
let tokenFile = '';
let token = '';

beforeAll(async () => {
  h = await startHarness();
  token = h.standIn.podToken({ namespace: 'shop', serviceAccount: 'cart', pod: 'cart-7d9' });
  tokenFile = join(dir.path, 'eks-pod-identity-token');
  writeFileSync(tokenFile, token);
});
afterAll(async () => {
  await h.close();
  dir.remove();
});

/** Only what the Pod Identity webhook injects, pointing at the agent on loopback. */
function podEnv(): NodeJS.ProcessEnv {
  return cleanAwsEnv({
    AWS_CONTAINER_CREDENTIALS_FULL_URI: h.agent.credentialsUrls[0] ?? '',
    AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile,
    AWS_CONFIG_FILE: join(dir.path, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(dir.path, 'none'),
    AWS_DEFAULT_REGION: 'us-east-1',
  });
}

function expectOwnedByCart(accessKeyId: string | undefined): void {
  const owner = h.standIn.ownerOf(accessKeyId ?? '');
  expect(owner).toMatchObject({
    namespace: 'shop',
    serviceAccount: 'cart',
    podName: 'cart-7d9',
    token,
  });
}

describe('SDK container-credentials providers', () => {
  it('JS SDK fromHttp: AWS_CONTAINER_CREDENTIALS_FULL_URI + AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE', async () => {
    const creds = await fromHttp({
      awsContainerCredentialsFullUri: h.agent.credentialsUrls[0],
      awsContainerAuthorizationTokenFile: tokenFile,
    })();
    expectOwnedByCart(creds.accessKeyId);
    expect(creds.sessionToken).toBe(h.standIn.ownerOf(creds.accessKeyId)?.sessionToken);
    expect(creds.expiration?.getTime()).toBe(
      (h.standIn.ownerOf(creds.accessKeyId)?.expiration ?? 0) * 1000,
    );
  });

  it('JS SDK fromContainerMetadata: AWS_CONTAINER_AUTHORIZATION_TOKEN', async () => {
    const saved = { ...process.env };
    process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI = h.agent.credentialsUrls[0];
    process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN = token;
    try {
      const creds = await fromContainerMetadata({ maxRetries: 0 })();
      expectOwnedByCart(creds.accessKeyId);
    } finally {
      process.env = saved;
    }
  });

  it('JS SDK fromHttp surfaces the agent’s 400 for a bad token', async () => {
    const bad = join(dir.path, 'bad-token');
    writeFileSync(bad, 'not-a-jwt');
    await expect(
      fromHttp({
        awsContainerCredentialsFullUri: h.agent.credentialsUrls[0],
        awsContainerAuthorizationTokenFile: bad,
        maxRetries: 0,
      })(),
    ).rejects.toThrow(/Server responded with status: 400/);
  });

  it('boto3 and the AWS CLI (container provider only), the CLI signing an STS call with the credentials', async () => {
    const env = podEnv();
    const [python, cli] = await Promise.all([
      runPython(
        'import boto3, json\n' +
          'c = boto3.Session().get_credentials()\n' +
          'f = c.get_frozen_credentials()\n' +
          'print(json.dumps({"method": c.method, "key": f.access_key, "token": f.token}))',
        env,
      ),
      runAwsCli(
        ['sts', 'get-caller-identity', '--endpoint-url', h.standIn.url, '--output', 'json'],
        env,
      ),
    ]);
    const boto = JSON.parse(python) as { method: string; key: string; token: string };
    expect(boto.method).toBe('container-role');
    expectOwnedByCart(boto.key);
    expect(boto.token).toBe(h.standIn.ownerOf(boto.key)?.sessionToken);
    expect(cli.code, cli.stderr).toBe(0);
    const identity = JSON.parse(cli.stdout) as { Arn: string; Account: string };
    expect(identity.Arn).toBe('arn:aws:sts::111122223333:assumed-role/shop-cart/eks-dev-cart-7d9');
    // Both clients were answered from one EKS Auth call (the JS tests above warmed the cache).
    expect(h.standIn.callsFor(token)).toBe(1);
  });
});
