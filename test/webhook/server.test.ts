/**
 * The webhook over HTTPS: generated and file certificates (with hot reload), the routes,
 * limits and failure answers, and the service-accounts file source behind it.
 */
import { X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  generateSelfSignedCertificate,
  ServiceAccountCache,
  startWebhook,
  type GeneratedCertificate,
  type RunningWebhook,
} from '../../src/webhook/index.js';
import { tempDir } from '../helpers/tmp.js';
import { admissionReview } from './helpers/fixtures.js';
import { httpsRequest } from './helpers/https.js';

const silent = pino({ level: 'silent' });
const ROLE = 'arn:aws:iam::111122223333:role/app';

const SERVICE_ACCOUNTS = `
apiVersion: v1
kind: ServiceAccount
metadata:
  name: app
  namespace: default
  annotations:
    eks.amazonaws.com/role-arn: ${ROLE}
---
apiVersion: v1
kind: List
items:
  - apiVersion: v1
    kind: ServiceAccount
    metadata: { name: plain, namespace: default }
---
apiVersion: apps/v1
kind: Deployment
metadata: { name: not-a-service-account }
`;

const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { generateName: 'web-', namespace: 'default' },
  spec: { serviceAccountName: 'app', containers: [{ name: 'app', image: 'busybox' }] },
};

function waitFor(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = async () => {
      if (await check()) return resolve();
      if (Date.now() > deadline) return reject(new Error('condition not met in time'));
      setTimeout(tick, 25);
    };
    void tick();
  });
}

describe('webhook over HTTPS with a generated certificate', () => {
  const dir = tempDir('latchkey-webhook-');
  const saFile = join(dir.path, 'sa.yaml');
  let webhook: RunningWebhook;
  let ca: string;
  const post = (
    body: string | Buffer,
    headers: Record<string, string> = { 'content-type': 'application/json' },
  ) => httpsRequest(`${webhook.url}/mutate`, { method: 'POST', headers, body, ca });

  beforeAll(async () => {
    writeFileSync(saFile, SERVICE_ACCOUNTS);
    webhook = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      tls: { generate: { dnsNames: ['latchkey-webhook.latchkey.svc', 'localhost'] } },
      serviceAccounts: { file: saFile },
      serviceAccountLookupGraceMs: 50,
      maxRequestBytes: 64 * 1024,
      enableDebuggingHandlers: true,
      logger: silent,
    });
    ca = Buffer.from(webhook.caBundle ?? '', 'base64').toString();
  });
  afterAll(async () => {
    await webhook.close();
    dir.remove();
  });

  it('prints a CA bundle that verifies the serving certificate', async () => {
    expect(ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    const res = await httpsRequest(`${webhook.url}/healthz`, { ca });
    expect(res.status).toBe(200);
    expect(res.body).toBe('ok');
    const stranger = await generateSelfSignedCertificate({ dnsNames: ['localhost'] });
    await expect(httpsRequest(`${webhook.url}/healthz`, { ca: stranger.caCert })).rejects.toThrow(
      /self-signed|unable to verify|certificate/,
    );
  });

  it('generates a CA-signed serving certificate for the service names', () => {
    const leaf = new X509Certificate(webhook.tls.cert);
    const caCert = new X509Certificate(ca);
    expect(caCert.ca).toBe(true);
    expect(leaf.ca).toBe(false);
    expect(leaf.checkIssued(caCert)).toBe(true);
    expect(leaf.verify(caCert.publicKey)).toBe(true);
    expect(leaf.subjectAltName).toBe(
      'DNS:latchkey-webhook.latchkey.svc, DNS:localhost, IP Address:127.0.0.1',
    );
    expect(leaf.subject).toBe('CN=latchkey-webhook.latchkey.svc');
  });

  it('mutates a pod named by its generateName', async () => {
    const res = await post(admissionReview(POD));
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toBe('application/json');
    const { response } = JSON.parse(res.body);
    expect(response.allowed).toBe(true);
    expect(Buffer.from(response.patch, 'base64').toString()).toContain(ROLE);
  });

  it('answers readiness, metrics and the debug cache', async () => {
    expect((await httpsRequest(`${webhook.url}/readyz`, { ca })).status).toBe(200);
    const metrics = await httpsRequest(`${webhook.url}/metrics`, { ca });
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(
      /pod_identity_webhook_pod_count\{method="sts_web_identity"\} [1-9]/,
    );
    expect(metrics.body).toMatch(/http_request_count\{verb="POST",path="mutate",code="200"\}/);
    expect(metrics.body).toMatch(/pod_identity_webhook_used 1/);
    const debug = JSON.parse((await httpsRequest(`${webhook.url}/debug/alpha/cache`, { ca })).body);
    expect(Object.keys(debug.serviceAccounts).sort()).toEqual(['default/app', 'default/plain']);
  });

  it('answers 404, 405, 415, 400 and 413 without falling over', async () => {
    expect((await httpsRequest(`${webhook.url}/nope`, { ca })).status).toBe(404);
    const wrongMethod = await httpsRequest(`${webhook.url}/mutate`, { ca });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.allow).toBe('POST');
    expect((await post(admissionReview(POD), { 'content-type': 'text/plain' })).status).toBe(415);
    const bad = await post('{"request":');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatch(/malformed AdmissionReview: body is not JSON/);
    const huge = await post(
      admissionReview({
        ...POD,
        metadata: { ...POD.metadata, annotations: { big: 'x'.repeat(100_000) } },
      }),
    );
    expect(huge.status).toBe(413);
    expect(huge.body).toMatch(/larger than 65536 bytes/);
    // Still serving.
    expect((await post(admissionReview(POD))).status).toBe(200);
  });

  it('reloads the service accounts file, keeping the last good one on a broken edit', async () => {
    const sa = (role: string) =>
      `kind: ServiceAccount\nmetadata:\n  name: app\n  namespace: default\n  annotations:\n    eks.amazonaws.com/role-arn: ${role}\n`;
    const roleOf = async () => {
      const { response } = JSON.parse((await post(admissionReview(POD))).body);
      return response.patch ? Buffer.from(response.patch, 'base64').toString() : '';
    };
    const NEW = 'arn:aws:iam::111122223333:role/new';
    writeFileSync(saFile, sa(NEW));
    await waitFor(async () => (await roleOf()).includes(NEW));
    writeFileSync(saFile, 'kind: ServiceAccount\nmetadata: [broken');
    await new Promise((r) => setTimeout(r, 400));
    expect(await roleOf()).toContain(NEW);
  });

  it('serves many concurrent reviews', async () => {
    const answers = await Promise.all(Array.from({ length: 50 }, () => post(admissionReview(POD))));
    expect(answers.every((a) => a.status === 200)).toBe(true);
  });
});

describe('webhook with certificate files', () => {
  const dir = tempDir('latchkey-webhook-tls-');
  const certFile = join(dir.path, 'tls.crt');
  const keyFile = join(dir.path, 'tls.key');
  let first: GeneratedCertificate;
  let webhook: RunningWebhook;

  beforeAll(async () => {
    first = await generateSelfSignedCertificate({ dnsNames: ['localhost'] });
    writeFileSync(certFile, first.cert);
    writeFileSync(keyFile, first.key);
    writeFileSync(join(dir.path, 'empty.yaml'), '');
    webhook = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      tls: { certFile, keyFile },
      serviceAccounts: { file: join(dir.path, 'empty.yaml') },
      logger: silent,
    });
  });
  afterAll(async () => {
    await webhook.close();
    dir.remove();
  });

  it('refuses a missing or malformed service accounts file at start', async () => {
    const start = (file: string) =>
      startWebhook({
        port: 0,
        host: '127.0.0.1',
        tls: { certFile, keyFile },
        serviceAccounts: { file },
        logger: silent,
      });
    await expect(start(join(dir.path, 'missing.yaml'))).rejects.toMatchObject({
      code: 'ERR_WEBHOOK_SOURCE',
      message: expect.stringMatching(/cannot read service accounts file/),
    });
    const broken = join(dir.path, 'broken.yaml');
    writeFileSync(broken, 'kind: ServiceAccount\nmetadata:\n  annotations: {a: b}\n');
    await expect(start(broken)).rejects.toMatchObject({
      message: expect.stringMatching(/needs metadata\.name/),
    });
  });

  it('refuses unusable certificate files at start', async () => {
    const bad = join(dir.path, 'bad.crt');
    writeFileSync(bad, 'not a certificate');
    await expect(
      startWebhook({
        port: 0,
        host: '127.0.0.1',
        tls: { certFile: bad, keyFile },
        serviceAccounts: { file: certFile },
        logger: silent,
      }),
    ).rejects.toMatchObject({ code: 'ERR_WEBHOOK_TLS' });
  });

  it('admits pods unchanged when no service account matches', async () => {
    const res = await httpsRequest(`${webhook.url}/mutate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: admissionReview(POD),
      ca: first.caCert,
    });
    expect(JSON.parse(res.body).response).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('serves a replaced certificate without a restart, and ignores a broken one', async () => {
    const before = await httpsRequest(`${webhook.url}/healthz`, { ca: first.caCert });
    const second = await generateSelfSignedCertificate({ dnsNames: ['localhost'] });
    writeFileSync(keyFile, second.key);
    writeFileSync(certFile, second.cert);
    let after = before;
    await waitFor(async () => {
      after = await httpsRequest(`${webhook.url}/healthz`, { ca: second.caCert }).catch(
        () => before,
      );
      return after.fingerprint !== before.fingerprint;
    });
    expect(after.status).toBe(200);
    writeFileSync(certFile, 'garbage');
    await new Promise((r) => setTimeout(r, 500));
    const still = await httpsRequest(`${webhook.url}/healthz`, { ca: second.caCert });
    expect(still.fingerprint).toBe(after.fingerprint);
  });
});

describe('webhook with an in-memory cache and a failing association source', () => {
  it('answers 500 for the review, logs it, and keeps serving', async () => {
    const tls = await generateSelfSignedCertificate({ dnsNames: ['localhost'] });
    const cache = new ServiceAccountCache({
      defaults: {
        annotationDomain: 'eks.amazonaws.com',
        audience: 'sts.amazonaws.com',
        regionalSts: false,
        tokenExpiration: 86400,
      },
    });
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    let fail = true;
    const webhook = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      tls: { material: tls },
      serviceAccounts: { cache },
      associations: {
        lookup: () =>
          fail ? Promise.reject(new Error('association store down')) : Promise.resolve(undefined),
      },
      logger,
    });
    try {
      const post = () =>
        httpsRequest(`${webhook.url}/mutate`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: admissionReview(POD),
          ca: tls.caCert,
        });
      const failed = await post();
      expect(failed.status).toBe(500);
      expect(failed.body).toBe('internal error\n');
      expect(
        lines.some((l) => l.includes('association store down') && l.includes('"level":50')),
      ).toBe(true);
      fail = false;
      expect((await post()).status).toBe(200);
    } finally {
      await webhook.close();
    }
  });
});
