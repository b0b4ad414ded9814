/**
 * `latchkey webhook`: flag handling in process, and the command end to end in a child
 * process (HTTPS, generated certificate, CA bundle file, SIGTERM).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { Command } from 'commander';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  parseGoDuration,
  registerWebhookCommand,
  webhookOptionsFromFlags,
  type WebhookCommandDeps,
  type WebhookFlags,
} from '../../src/cli/webhook.js';
import { CachedAssociationSource, StaticAssociationSource } from '../../src/webhook/index.js';
import { tempDir } from '../helpers/tmp.js';
import { admissionReview, REPO_ROOT } from './helpers/fixtures.js';
import { httpsRequest } from './helpers/https.js';

const silent = pino({ level: 'silent' });

function flags(args: string[], deps: WebhookCommandDeps = {}): WebhookFlags {
  const program = new Command('latchkey').exitOverride().configureOutput({ writeErr: () => {} });
  registerWebhookCommand(program, deps);
  const cmd = program.commands.find((c) => c.name() === 'webhook');
  if (!cmd) throw new Error('no webhook command');
  cmd.parseOptions(args);
  return cmd.opts<WebhookFlags>();
}

describe('latchkey webhook flags', () => {
  it('parses Go durations', () => {
    expect(parseGoDuration('100ms')).toBe(100);
    expect(parseGoDuration('1m30s')).toBe(90_000);
    expect(parseGoDuration('1.5s')).toBe(1500);
    expect(parseGoDuration('0')).toBe(0);
    expect(() => parseGoDuration('100')).toThrow(/duration/);
    expect(() => parseGoDuration('1s garbage')).toThrow(/duration/);
  });

  it('has upstream defaults', async () => {
    const options = await webhookOptionsFromFlags(
      flags(['--service-accounts', 'sa.yaml']),
      {},
      silent,
    );
    expect(options).toMatchObject({
      port: 8443,
      annotationDomain: 'eks.amazonaws.com',
      audience: 'sts.amazonaws.com',
      mountPath: '/var/run/secrets/eks.amazonaws.com/serviceaccount',
      tokenExpiration: 86400,
      regionalSts: false,
      serviceAccountLookupGraceMs: 100,
      serviceAccounts: { file: 'sa.yaml' },
    });
    expect(options.tls).toEqual({
      generate: {
        dnsNames: [
          'latchkey-webhook',
          'latchkey-webhook.latchkey',
          'latchkey-webhook.latchkey.svc',
          'latchkey-webhook.latchkey.svc.cluster.local',
          'localhost',
        ],
        ipAddresses: ['127.0.0.1'],
      },
    });
    expect(options.region).toBeUndefined();
    expect(options.associations).toBeUndefined();
  });

  it.each([
    [[], /exactly one of --kubeconfig FILE, --in-cluster or --service-accounts/],
    [['--service-accounts', 'a', '--in-cluster'], /exactly one/],
    [['--service-accounts', 'a', '--tls-cert', 'c'], /both --tls-cert and --tls-key/],
    [
      ['--service-accounts', 'a', '--watch-config-map'],
      /--watch-config-map needs the Kubernetes API/,
    ],
    [['--service-accounts', 'a', '--server', 'http://lk:4599'], /--server needs --cluster-name/],
  ])('refuses %j', async (args, message) => {
    await expect(webhookOptionsFromFlags(flags(args), {}, silent)).rejects.toThrow(message);
  });

  it('refuses malformed values at parse time', () => {
    expect(() => flags(['--port', 'x'])).toThrow();
    expect(() => flags(['--inject-endpoint', 'not a url'])).toThrow();
    expect(() => flags(['--tls-min-version', '1.1'])).toThrow();
  });

  it('builds the server-backed association source through the seam, cached', async () => {
    const seen: unknown[] = [];
    const deps: WebhookCommandDeps = {
      serverAssociationSource: (o) => {
        seen.push({ server: o.server.href, cluster: o.clusterName, uri: o.config.fullUri });
        return new StaticAssociationSource();
      },
    };
    const options = await webhookOptionsFromFlags(
      flags(
        [
          '--service-accounts',
          'a',
          '--server',
          'http://lk:4599',
          '--cluster-name',
          'dev',
          '--container-credentials-full-uri',
          'http://127.0.0.1:2703/v1/credentials',
        ],
        deps,
      ),
      deps,
      silent,
    );
    expect(options.associations).toBeInstanceOf(CachedAssociationSource);
    expect(seen).toEqual([
      { server: 'http://lk:4599/', cluster: 'dev', uri: 'http://127.0.0.1:2703/v1/credentials' },
    ]);
  });

  it('maps the remaining flags', async () => {
    const options = await webhookOptionsFromFlags(
      flags([
        '--service-accounts',
        'a',
        '--aws-default-region',
        'eu-central-1',
        '--inject-endpoint',
        'https://latchkey.latchkey.svc:4599/',
        '--compose-role-arn',
        '--account-id',
        '111122223333',
        '--service-account-lookup-grace-period',
        '0',
        '--tls-san',
        '10.0.0.7',
        '--tls-san',
        'webhook.example.com',
        '--tls-min-version',
        '1.3',
        '--sts-regional-endpoint',
      ]),
      {},
      silent,
    );
    expect(options).toMatchObject({
      region: 'eu-central-1',
      endpointUrl: 'https://latchkey.latchkey.svc:4599',
      composeRoleArn: { accountId: '111122223333', partition: 'aws' },
      serviceAccountLookupGraceMs: 0,
      minTlsVersion: 'TLSv1.3',
      regionalSts: true,
    });
    const generate = (options.tls as { generate: { dnsNames: string[]; ipAddresses: string[] } })
      .generate;
    expect(generate.dnsNames).toContain('webhook.example.com');
    expect(generate.ipAddresses).toEqual(['127.0.0.1', '10.0.0.7']);
  });
});

describe('latchkey webhook, end to end', () => {
  it('serves HTTPS with a generated certificate, writes the CA bundle, and stops on SIGTERM', async () => {
    const dir = tempDir('latchkey-webhook-cli-');
    try {
      const saFile = join(dir.path, 'sa.yaml');
      const assocFile = join(dir.path, 'assoc.json');
      const caFile = join(dir.path, 'ca.b64');
      writeFileSync(
        saFile,
        'kind: ServiceAccount\nmetadata: {name: app, namespace: default, annotations: {eks.amazonaws.com/role-arn: "arn:aws:iam::111122223333:role/app"}}\n',
      );
      writeFileSync(
        assocFile,
        JSON.stringify({ identities: [{ namespace: 'default', serviceAccount: 'pi' }] }),
      );
      const script = [
        "import { Command } from 'commander';",
        "import { registerWebhookCommand } from './src/cli/webhook.ts';",
        "const program = new Command('latchkey');",
        'registerWebhookCommand(program);',
        "await program.parseAsync(process.argv.slice(1), { from: 'user' });",
      ].join('\n');
      const child = spawn(
        process.execPath,
        [
          '--import',
          'tsx',
          '--input-type=module',
          '-e',
          script,
          'webhook',
          '--host',
          '127.0.0.1',
          '--port',
          '0',
          '--service-accounts',
          saFile,
          '--watch-container-credentials-config',
          assocFile,
          '--ca-bundle-file',
          caFile,
          '--region',
          'us-west-2',
          '--inject-endpoint',
          'https://latchkey.latchkey.svc:4599',
        ],
        {
          cwd: REPO_ROOT,
          env: { ...process.env, LATCHKEY_LOG_LEVEL: 'info' },
          stdio: ['ignore', 'pipe', 'inherit'],
        },
      );
      let url = '';
      let caBundle = '';
      const lines = createInterface({ input: child.stdout });
      for await (const line of lines) {
        if (line.startsWith('caBundle: ')) caBundle = line.slice('caBundle: '.length);
        else if (line.includes('"webhook listening"'))
          url = (JSON.parse(line) as { url: string }).url;
        if (url && caBundle) break;
      }
      expect(readFileSync(caFile, 'utf8').trim()).toBe(caBundle);
      const ca = Buffer.from(caBundle, 'base64').toString();

      const admit = async (serviceAccount: string) => {
        const pod = {
          metadata: { name: 'p' },
          spec: { serviceAccountName: serviceAccount, containers: [{ name: 'c' }] },
        };
        const res = await httpsRequest(`${url}/mutate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: admissionReview(pod),
          ca,
        });
        return Buffer.from(
          (JSON.parse(res.body) as { response: { patch: string } }).response.patch,
          'base64',
        ).toString();
      };
      const irsa = await admit('app');
      expect(irsa).toContain(
        '{"name":"AWS_ROLE_ARN","value":"arn:aws:iam::111122223333:role/app"}',
      );
      expect(irsa).toContain('{"name":"AWS_REGION","value":"us-west-2"}');
      expect(irsa).toContain(
        '{"name":"AWS_ENDPOINT_URL_STS","value":"https://latchkey.latchkey.svc:4599"}',
      );
      const podIdentity = await admit('pi');
      expect(podIdentity).toContain(
        '{"name":"AWS_CONTAINER_CREDENTIALS_FULL_URI","value":"http://169.254.170.23/v1/credentials"}',
      );
      expect(podIdentity).toContain('"audience":"pods.eks.amazonaws.com"');

      child.kill('SIGTERM');
      const [code] = (await once(child, 'exit')) as [number | null];
      expect(code).toBe(0);
    } finally {
      dir.remove();
    }
  });
});
