/**
 * Service accounts from the Kubernetes API: the real `@kubernetes/client-node` informer
 * against a stand-in API server answering with recorded responses (list, watch events,
 * single GETs, ConfigMap), with pods admitted over HTTPS while the cache changes.
 */
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServiceAccountCache, startWebhook, type RunningWebhook } from '../../src/webhook/index.js';
import { InformerServiceAccountSource } from '../../src/webhook/service-accounts/informer-source.js';
import { tempDir } from '../helpers/tmp.js';
import {
  recorded,
  recordedWatchEvents,
  startFakeApiServer,
  type FakeApiServer,
} from './helpers/fake-apiserver.js';
import { admissionReview } from './helpers/fixtures.js';
import { httpsRequest } from './helpers/https.js';

const silent = pino({ level: 'silent' });

async function eventually(check: () => Promise<boolean> | boolean, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('informer-backed service accounts', () => {
  const dir = tempDir('latchkey-informer-');
  const events = recordedWatchEvents();
  let api: FakeApiServer;
  let webhook: RunningWebhook;
  let ca: string;

  /** Admits a pod using `namespace/serviceAccount`; returns the decoded patch text ('' for none). */
  async function admit(namespace: string, serviceAccount: string): Promise<string> {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'p', namespace },
      spec: { serviceAccountName: serviceAccount, containers: [{ name: 'c', image: 'busybox' }] },
    };
    const review = JSON.parse(admissionReview(pod)) as { request: { namespace: string } };
    review.request.namespace = namespace;
    const res = await httpsRequest(`${webhook.url}/mutate`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(review),
      ca,
    });
    const { response } = JSON.parse(res.body) as { response: { allowed: boolean; patch?: string } };
    expect(response.allowed).toBe(true);
    return response.patch ? Buffer.from(response.patch, 'base64').toString() : '';
  }

  beforeAll(async () => {
    api = await startFakeApiServer(dir.path);
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromFile(api.kubeconfigPath);
    webhook = await startWebhook({
      host: '127.0.0.1',
      port: 0,
      tls: { generate: { dnsNames: ['localhost'] } },
      serviceAccounts: { kubeConfig, configMapNamespace: 'latchkey' },
      serviceAccountLookupGraceMs: 1000,
      logger: silent,
    });
    ca = Buffer.from(webhook.caBundle ?? '', 'base64').toString();
  });
  afterAll(async () => {
    await webhook?.close();
    await api?.close();
    dir.remove();
  });

  it('lists all namespaces with the kubeconfig credentials, then watches from the list version', async () => {
    await api.watchOpened(1);
    const list = api.requests.find(
      (r) => r.path === '/api/v1/serviceaccounts' && !r.query.has('watch'),
    );
    expect(list?.authorization).toBe('Bearer recorded-test-token');
    const watch = api.requests.find(
      (r) => r.path === '/api/v1/serviceaccounts' && r.query.get('watch') === 'true',
    );
    expect(watch?.query.get('resourceVersion')).toBe('48213');
    // One list and one watch: the informer is started exactly once.
    const serviceAccountCalls = api.requests.filter((r) => r.path === '/api/v1/serviceaccounts');
    expect(serviceAccountCalls.map((r) => r.query.get('watch'))).toEqual([null, 'true']);
    expect(webhook.cache.size).toBe(3);
    expect((await httpsRequest(`${webhook.url}/readyz`, { ca })).status).toBe(200);
  });

  it('mutates pods of listed service accounts with their annotations', async () => {
    const patch = await admit('default', 'app');
    expect(patch).toContain('arn:aws:iam::111122223333:role/app"');
    expect(patch).toContain('"expirationSeconds":3600');
    expect(await admit('kube-system', 'coredns')).toBe('');
  });

  it('reads the pod-identity-webhook ConfigMap of its namespace', async () => {
    const cm = api.requests.find(
      (r) => r.path === '/api/v1/namespaces/latchkey/configmaps' && !r.query.has('watch'),
    );
    expect(cm?.query.get('fieldSelector')).toBe('metadata.name=pod-identity-webhook');
    const patch = await admit('batch', 'nightly');
    expect(patch).toContain('arn:aws:iam::111122223333:role/nightly');
    expect(patch).toContain('"AWS_STS_REGIONAL_ENDPOINTS"');
  });

  it('follows ADDED, MODIFIED and DELETED watch events', async () => {
    const [added, modified, deleted] = events;
    api.push(added as Record<string, unknown>);
    await eventually(() => webhook.cache.get('team', 'reports').entry !== undefined);
    expect(await admit('team', 'reports')).toContain(
      '"name":"AWS_STS_REGIONAL_ENDPOINTS","value":"regional"',
    );

    api.push(modified as Record<string, unknown>);
    await eventually(
      () => webhook.cache.get('default', 'app').entry?.roleArn.endsWith('app-v2') ?? false,
    );
    expect(await admit('default', 'app')).toContain('role/app-v2');

    api.push(deleted as Record<string, unknown>);
    await eventually(() => !webhook.cache.get('default', 'app').found);
    // Not cached, and the direct GET answers 404 (recorded Status): admitted unchanged.
    expect(await admit('default', 'app')).toBe('');
    expect(
      api.requests.some((r) => r.path === '/api/v1/namespaces/default/serviceaccounts/app'),
    ).toBe(true);
  });

  it('fetches a service account the watch has not delivered yet, within the grace period', async () => {
    api.singles.set('late/worker', recorded('serviceaccount-late-worker.json'));
    expect(await admit('late', 'worker')).toContain('arn:aws:iam::111122223333:role/worker');
  });

  it('re-watches from the last resourceVersion when the API server ends the watch', async () => {
    const bookmark = events[3] as Record<string, unknown>;
    api.push(bookmark);
    await new Promise((r) => setTimeout(r, 50));
    api.endWatches();
    await api.watchOpened(2);
    const watches = api.requests.filter(
      (r) => r.query.get('watch') === 'true' && r.path === '/api/v1/serviceaccounts',
    );
    expect(watches[1]?.query.get('resourceVersion')).toBe('48260');
  });

  it('lists again after 410 Gone', async () => {
    const lists = () =>
      api.requests.filter((r) => r.path === '/api/v1/serviceaccounts' && !r.query.has('watch'))
        .length;
    const before = lists();
    api.push(events[4] as Record<string, unknown>);
    await new Promise((r) => setTimeout(r, 50));
    api.endWatches();
    await api.watchOpened(3);
    expect(lists()).toBe(before + 1);
    // The relist brings back the recorded list, where default/app still has its first role.
    await eventually(
      () => webhook.cache.get('default', 'app').entry?.roleArn.endsWith('role/app') ?? false,
    );
  });
});

describe('informer recovery', () => {
  it('keeps serving while the API server fails, and syncs once it answers', async () => {
    const dir = tempDir('latchkey-informer-');
    const api = await startFakeApiServer(dir.path);
    try {
      api.listAnswer = {
        status: 500,
        body: '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"etcdserver: request timed out","code":500}',
      };
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(api.kubeconfigPath);
      const cache = new ServiceAccountCache({
        defaults: {
          annotationDomain: 'eks.amazonaws.com',
          audience: 'sts.amazonaws.com',
          regionalSts: false,
          tokenExpiration: 86400,
        },
      });
      const source = new InformerServiceAccountSource({
        kubeConfig,
        cache,
        logger: silent,
        restartDelayMs: { initial: 50, max: 200 },
      });
      await source.start();
      expect(source.synced).toBe(false);
      api.listAnswer = { status: 200, body: recorded('serviceaccounts-list.json') };
      await eventually(() => source.synced);
      expect(cache.get('default', 'app').entry?.roleArn).toBe('arn:aws:iam::111122223333:role/app');
      // Closed right after the list, while its watch may still be opening: no watch survives.
      await source.close();
      await new Promise((r) => setTimeout(r, 100));
      expect(api.openWatches()).toBe(0);
    } finally {
      await api.close();
      dir.remove();
    }
  });
});
