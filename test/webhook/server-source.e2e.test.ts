/**
 * `latchkey webhook --server URL --cluster-name C`: the webhook asks a real Latchkey server
 * (EKS ListPodIdentityAssociations, SigV4-signed with a data directory's profile) which service
 * accounts have a pod identity association, caches the answers, and keeps the last answer
 * while the server is unreachable.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CreateClusterCommand,
  CreatePodIdentityAssociationCommand,
  DeletePodIdentityAssociationCommand,
  EKSClient,
} from '@aws-sdk/client-eks';
import { CreateRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { Command } from 'commander';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  registerWebhookCommand,
  webhookOptionsFromFlags,
  type WebhookFlags,
} from '../../src/cli/webhook.js';
import {
  containerCredentialsConfig,
  isWebhookError,
  ServerAssociationSource,
  startWebhook,
  type RunningWebhook,
} from '../../src/webhook/index.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { tempDir } from '../helpers/tmp.js';
import { admissionReview } from './helpers/fixtures.js';
import { httpsRequest } from './helpers/https.js';

const silent = pino({ level: 'silent' });
const dir = tempDir('latchkey-webhook-server-');
let t: TestServer;
let webhook: RunningWebhook;
let ca: string;
let associationId = '';

function flags(args: string[]): WebhookFlags {
  const program = new Command('latchkey').exitOverride().configureOutput({ writeErr: () => {} });
  registerWebhookCommand(program);
  const cmd = program.commands.find((c) => c.name() === 'webhook');
  if (!cmd) throw new Error('no webhook command');
  cmd.parseOptions(args);
  return cmd.opts<WebhookFlags>();
}

const pod = (serviceAccountName: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `${serviceAccountName}-0`, namespace: 'default' },
  spec: { serviceAccountName, containers: [{ name: 'app', image: 'busybox' }] },
});

async function patchFor(sa: string): Promise<string> {
  const res = await httpsRequest(`${webhook.url}/mutate`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: admissionReview(pod(sa)),
    ca,
  });
  expect(res.status).toBe(200);
  const { response } = JSON.parse(res.body) as { response: { allowed: boolean; patch?: string } };
  expect(response.allowed).toBe(true);
  return response.patch === undefined ? '' : Buffer.from(response.patch, 'base64').toString();
}

beforeAll(async () => {
  t = await startTestServer();
  const config = {
    endpoint: t.server.url,
    region: 'us-east-1',
    credentials: t.admin,
    maxAttempts: 1,
  };
  const eks = new EKSClient(config);
  await eks.send(
    new CreateClusterCommand({
      name: 'dev',
      roleArn: 'arn:aws:iam::000000000000:role/eks',
      resourcesVpcConfig: {},
    }),
  );
  const { Role } = await new IAMClient(config).send(
    new CreateRoleCommand({
      RoleName: 'app-role',
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
  const { association } = await eks.send(
    new CreatePodIdentityAssociationCommand({
      clusterName: 'dev',
      namespace: 'default',
      serviceAccount: 'app',
      roleArn: Role?.Arn ?? '',
    }),
  );
  associationId = association?.associationId ?? '';

  const saFile = join(dir.path, 'sa.yaml');
  writeFileSync(
    saFile,
    [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: app, namespace: default }',
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: { name: other, namespace: default }',
    ].join('\n---\n'),
  );
  const options = await webhookOptionsFromFlags(
    flags([
      '--host',
      '127.0.0.1',
      '--port',
      '0',
      '--service-accounts',
      saFile,
      '--server',
      t.server.url,
      '--cluster-name',
      'dev',
      '--data-dir',
      t.dataDir,
      '--association-cache-ttl',
      '300',
    ]),
    {},
    silent,
  );
  webhook = await startWebhook(options);
  ca = Buffer.from(webhook.caBundle ?? '', 'base64').toString();
});

afterAll(async () => {
  await webhook?.close();
  await t.stop();
  dir.remove();
});

describe('webhook --server: associations from the Latchkey server', () => {
  it('injects Pod Identity for a service account with an association, nothing for one without', async () => {
    const patch = await patchFor('app');
    expect(patch).toContain(
      '"name":"AWS_CONTAINER_CREDENTIALS_FULL_URI","value":"http://169.254.170.23/v1/credentials"',
    );
    expect(patch).toContain(
      '"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE","value":"/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token"',
    );
    expect(patch).toContain('"audience":"pods.eks.amazonaws.com"');
    expect(await patchFor('other')).toBe('');
  });

  it('sees a deleted association once the cache entry expires', async () => {
    await new EKSClient({
      endpoint: t.server.url,
      region: 'us-east-1',
      credentials: t.admin,
      maxAttempts: 1,
    }).send(new DeletePodIdentityAssociationCommand({ clusterName: 'dev', associationId }));
    await new Promise((r) => setTimeout(r, 400));
    expect(await patchFor('app')).toBe('');
  });
});

describe('ServerAssociationSource failures', () => {
  const config = containerCredentialsConfig();

  it.each([
    ['an unknown cluster', { clusterName: 'nope' }, /HTTP 404 ResourceNotFoundException/],
    [
      'keys the server does not know',
      { credentials: { accessKeyId: 'AKIAXXXXXXXXXXXXXXXX', secretAccessKey: 'x' } },
      /HTTP 403 /,
    ],
    ['a server that is not there', { server: new URL('http://127.0.0.1:1') }, /failed/],
  ])('%s: rejects with ERR_WEBHOOK_SOURCE', async (_what, override, message) => {
    const source = new ServerAssociationSource({
      server: new URL(t.server.url),
      clusterName: 'dev',
      config,
      credentials: t.admin,
      ...override,
    });
    const err: unknown = await source.lookup('default', 'app').catch((e: unknown) => e);
    expect(isWebhookError(err) && err.code).toBe('ERR_WEBHOOK_SOURCE');
    expect(String(err)).toMatch(message);
  });
});
