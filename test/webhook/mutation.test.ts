/**
 * The mutation beyond the fixtures: opt-outs, grace period, Pod Identity precedence, token
 * lifetime clamping, endpoint injection, re-invocation, Go encoding of containers, and the
 * AdmissionReview envelope's answers to bad input.
 */
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  answerAdmissionReview,
  containerCredentialsConfig,
  PodMutator,
  ServiceAccountCache,
  StaticAssociationSource,
  WebhookMetrics,
  type PodMutatorOptions,
} from '../../src/webhook/index.js';
import type { JsonObject } from '../../src/webhook/go-json.js';
import { admissionReview } from './helpers/fixtures.js';
import { applyAddPatch } from './helpers/https.js';

const ROLE = 'arn:aws:iam::111122223333:role/app';
const silent = pino({ level: 'silent' });

interface Patch {
  op: string;
  path: string;
  value: unknown;
}

function cacheWith(
  annotations: Record<string, string> | undefined,
  name = 'app',
): ServiceAccountCache {
  const cache = new ServiceAccountCache({
    defaults: {
      annotationDomain: 'eks.amazonaws.com',
      audience: 'sts.amazonaws.com',
      regionalSts: false,
      tokenExpiration: 86_400,
    },
  });
  if (annotations) cache.upsert({ metadata: { name, namespace: 'default', annotations } });
  return cache;
}

function pod(spec: Partial<JsonObject> = {}, metadata: Partial<JsonObject> = {}): JsonObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', namespace: 'default', ...metadata } as JsonObject,
    spec: {
      serviceAccountName: 'app',
      containers: [{ name: 'app', image: 'busybox' }],
      ...spec,
    } as JsonObject,
  };
}

async function review(
  options: Partial<PodMutatorOptions> & { serviceAccounts: ServiceAccountCache },
  object: JsonObject,
  contentType = 'application/json',
) {
  const mutator = new PodMutator({
    serviceAccountLookupGraceMs: 0,
    randomInt: () => 0,
    logger: silent,
    ...options,
  });
  const answer = await answerAdmissionReview(admissionReview(object), contentType, mutator, silent);
  const body =
    answer.status === 200
      ? (JSON.parse(answer.body) as { response: Record<string, unknown> })
      : undefined;
  const patchB64 = body?.response.patch as string | undefined;
  const patch = patchB64
    ? (JSON.parse(Buffer.from(patchB64, 'base64').toString()) as Patch[])
    : undefined;
  return { answer, response: body?.response, patch };
}

function envOf(patch: Patch[] | undefined, container = 0): Record<string, string> {
  const containers = patch?.find((p) => p.path === '/spec/containers')?.value as JsonObject[];
  const env = (containers[container]?.env ?? []) as { name: string; value: string }[];
  return Object.fromEntries(env.map((e) => [e.name, e.value]));
}

function volumeOf(patch: Patch[] | undefined): JsonObject {
  const op = patch?.find((p) => p.path.startsWith('/spec/volumes'));
  return (Array.isArray(op?.value) ? op.value[0] : op?.value) as JsonObject;
}

describe('IRSA mutation', () => {
  it('injects role, token file, volume and mount', async () => {
    const { response, patch } = await review(
      { serviceAccounts: cacheWith({ 'eks.amazonaws.com/role-arn': ROLE }) },
      pod(),
    );
    expect(response?.allowed).toBe(true);
    expect(envOf(patch)).toEqual({
      AWS_ROLE_ARN: ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
    });
    expect(volumeOf(patch)).toEqual({
      name: 'aws-iam-token',
      projected: {
        sources: [
          {
            serviceAccountToken: {
              audience: 'sts.amazonaws.com',
              expirationSeconds: 86400,
              path: 'token',
            },
          },
        ],
      },
    });
  });

  it.each([
    ['0', 600],
    ['599', 600],
    ['3600', 3600],
    ['86400', 86400],
    ['200000', 86400],
    ['not-a-number', 86400],
  ])('clamps the service account token-expiration %s to %i', async (value, expected) => {
    const cache = cacheWith({
      'eks.amazonaws.com/role-arn': ROLE,
      'eks.amazonaws.com/token-expiration': value,
    });
    const { patch } = await review({ serviceAccounts: cache }, pod());
    expect(JSON.stringify(volumeOf(patch))).toContain(`"expirationSeconds":${expected}`);
  });

  it('lets the pod annotation override the service account lifetime, clamped', async () => {
    const cache = cacheWith({
      'eks.amazonaws.com/role-arn': ROLE,
      'eks.amazonaws.com/token-expiration': '3600',
    });
    const high = await review(
      { serviceAccounts: cache },
      pod({}, { annotations: { 'eks.amazonaws.com/token-expiration': '200000' } }),
    );
    expect(JSON.stringify(volumeOf(high.patch))).toContain('"expirationSeconds":86400');
    const bad = await review(
      { serviceAccounts: cache },
      pod({}, { annotations: { 'eks.amazonaws.com/token-expiration': '1h' } }),
    );
    expect(JSON.stringify(volumeOf(bad.patch))).toContain('"expirationSeconds":3600');
  });

  it('honours the audience annotation and a custom annotation domain', async () => {
    const cache = new ServiceAccountCache({
      defaults: {
        annotationDomain: 'example.com',
        audience: 'sts.amazonaws.com',
        regionalSts: true,
        tokenExpiration: 3600,
      },
    });
    cache.upsert({
      metadata: {
        name: 'app',
        namespace: 'default',
        annotations: { 'example.com/role-arn': ROLE, 'example.com/audience': 'latchkey' },
      },
    });
    const { patch } = await review(
      { serviceAccounts: cache, annotationDomain: 'example.com' },
      pod(),
    );
    expect(envOf(patch).AWS_STS_REGIONAL_ENDPOINTS).toBe('regional');
    expect(volumeOf(patch)).toMatchObject({
      projected: {
        sources: [{ serviceAccountToken: { audience: 'latchkey', expirationSeconds: 3600 } }],
      },
    });
  });

  it('composes a role ARN from a bare role name when asked', async () => {
    const cache = new ServiceAccountCache({
      defaults: {
        annotationDomain: 'eks.amazonaws.com',
        audience: 'sts.amazonaws.com',
        regionalSts: false,
        tokenExpiration: 86400,
        composeRoleArn: { accountId: '000000000000', partition: 'aws' },
      },
    });
    cache.upsert({
      metadata: {
        name: 'app',
        namespace: 'default',
        annotations: { 'eks.amazonaws.com/role-arn': 'team/app' },
      },
    });
    const { patch } = await review({ serviceAccounts: cache }, pod());
    expect(envOf(patch).AWS_ROLE_ARN).toBe('arn:aws:iam::000000000000:role/team/app');
  });

  it('injects the Latchkey endpoint when configured, keeping values the container sets', async () => {
    const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
    const { patch } = await review(
      {
        serviceAccounts: cache,
        endpointUrl: 'https://latchkey.latchkey.svc:4599',
        region: 'eu-west-1',
      },
      pod({
        containers: [
          { name: 'a', image: 'x' },
          { name: 'b', image: 'x', env: [{ name: 'AWS_ENDPOINT_URL', value: 'http://mine' }] },
        ],
      }),
    );
    expect(envOf(patch, 0)).toEqual({
      AWS_DEFAULT_REGION: 'eu-west-1',
      AWS_REGION: 'eu-west-1',
      AWS_ROLE_ARN: ROLE,
      AWS_WEB_IDENTITY_TOKEN_FILE: '/var/run/secrets/eks.amazonaws.com/serviceaccount/token',
      AWS_ENDPOINT_URL_STS: 'https://latchkey.latchkey.svc:4599',
      AWS_ENDPOINT_URL: 'https://latchkey.latchkey.svc:4599',
    });
    expect(envOf(patch, 1).AWS_ENDPOINT_URL).toBe('http://mine');
    expect(envOf(patch, 1).AWS_ENDPOINT_URL_STS).toBe('https://latchkey.latchkey.svc:4599');
  });

  it('produces no duplicates when re-invoked on its own output', async () => {
    const cache = cacheWith({
      'eks.amazonaws.com/role-arn': ROLE,
      'eks.amazonaws.com/sts-regional-endpoints': 'true',
    });
    const options = { serviceAccounts: cache, region: 'us-east-1', endpointUrl: 'https://lk:4599' };
    const original = pod({ initContainers: [{ name: 'init', image: 'x' }] });
    const first = await review(options, original);
    const once = applyAddPatch(original, first.patch ?? []);
    const second = await review(options, once);
    const twice = applyAddPatch(once, second.patch ?? []);
    expect(twice).toEqual(once);
    const spec = twice.spec as {
      volumes: unknown[];
      containers: { env: unknown[]; volumeMounts: unknown[] }[];
    };
    expect(spec.volumes).toHaveLength(1);
    expect(spec.containers[0]?.env).toHaveLength(7);
    expect(spec.containers[0]?.volumeMounts).toHaveLength(1);
  });

  it('skips containers listed in skip-containers, read as CSV', async () => {
    const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
    const containers = [{ name: 'a' }, { name: 'b,c' }, { name: 'd' }];
    const { patch } = await review(
      { serviceAccounts: cache },
      pod({ containers }, { annotations: { 'eks.amazonaws.com/skip-containers': 'a,"b,c"' } }),
    );
    expect(envOf(patch, 0)).toEqual({});
    expect(envOf(patch, 1)).toEqual({});
    expect(envOf(patch, 2).AWS_ROLE_ARN).toBe(ROLE);
    // A malformed value skips nothing, as upstream.
    const bad = await review(
      { serviceAccounts: cache },
      pod({ containers }, { annotations: { 'eks.amazonaws.com/skip-containers': 'a"b' } }),
    );
    expect(envOf(bad.patch, 0).AWS_ROLE_ARN).toBe(ROLE);
  });

  it('mounts Windows tokens at a C:\\ path', async () => {
    const { patch } = await review(
      { serviceAccounts: cacheWith({ 'eks.amazonaws.com/role-arn': ROLE }) },
      pod({ nodeSelector: { 'kubernetes.io/os': 'windows' } }),
    );
    expect(envOf(patch).AWS_WEB_IDENTITY_TOKEN_FILE).toBe(
      'C:\\var\\run\\secrets\\eks.amazonaws.com\\serviceaccount\\token',
    );
  });

  it('reads service accounts from the pod-identity-webhook ConfigMap, namespace * included', async () => {
    const cache = cacheWith(undefined);
    cache.setConfigMapEntries(
      new Map([
        [
          '*/app',
          {
            roleArn: ROLE,
            audience: 'sts.amazonaws.com',
            useRegionalSts: true,
            tokenExpiration: 7200,
          },
        ],
      ]),
    );
    const { patch } = await review({ serviceAccounts: cache }, pod());
    expect(envOf(patch)).toMatchObject({
      AWS_ROLE_ARN: ROLE,
      AWS_STS_REGIONAL_ENDPOINTS: 'regional',
    });
  });
});

describe('pods left alone', () => {
  it('does not mutate a service account without role-arn', async () => {
    const { response, patch } = await review({ serviceAccounts: cacheWith({}) }, pod());
    expect(response).toEqual({ uid: expect.any(String), allowed: true });
    expect(patch).toBeUndefined();
  });

  it('honours the skip-pod-identity-webhook label', async () => {
    const { response } = await review(
      { serviceAccounts: cacheWith({ 'eks.amazonaws.com/role-arn': ROLE }) },
      pod({}, { labels: { 'eks.amazonaws.com/skip-pod-identity-webhook': '' } }),
    );
    expect(response).toEqual({ uid: expect.any(String), allowed: true });
  });

  it('admits a pod without a service account unchanged, without waiting', async () => {
    const started = performance.now();
    const { answer, response } = await review(
      {
        serviceAccounts: cacheWith({ 'eks.amazonaws.com/role-arn': ROLE }),
        serviceAccountLookupGraceMs: 5000,
      },
      pod({ serviceAccountName: undefined as unknown as string }),
    );
    expect(response).toEqual({ uid: expect.any(String), allowed: true });
    expect(answer.outcome).toEqual({ mutated: false, reason: 'no-service-account' });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('waits the grace period for a missing service account, then admits unchanged', async () => {
    const metrics = new WebhookMetrics();
    const started = performance.now();
    const { response, answer } = await review(
      { serviceAccounts: cacheWith(undefined), serviceAccountLookupGraceMs: 150, metrics },
      pod(),
    );
    const waited = performance.now() - started;
    expect(response).toEqual({ uid: expect.any(String), allowed: true });
    expect(answer.outcome).toEqual({ mutated: false, reason: 'service-account-not-found' });
    expect(waited).toBeGreaterThanOrEqual(140);
    expect(waited).toBeLessThan(2000);
    expect(await metrics.registry.metrics()).toMatch(/pod_identity_webhook_missing_sa_count 1/);
  });

  it('mutates when the service account arrives within the grace period', async () => {
    const cache = cacheWith(undefined);
    setTimeout(
      () =>
        cache.upsert({
          metadata: {
            name: 'app',
            namespace: 'default',
            annotations: { 'eks.amazonaws.com/role-arn': ROLE },
          },
        }),
      30,
    );
    const { patch } = await review(
      { serviceAccounts: cache, serviceAccountLookupGraceMs: 2000 },
      pod(),
    );
    expect(envOf(patch).AWS_ROLE_ARN).toBe(ROLE);
  });

  it('allows anything but a pod CREATE unchanged', async () => {
    const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
    const mutator = new PodMutator({ serviceAccounts: cache, logger: silent });
    for (const change of [
      { operation: 'UPDATE' },
      { kind: { group: 'apps', version: 'v1', kind: 'Deployment' } },
      { subResource: 'status' },
    ]) {
      const body = JSON.parse(admissionReview(pod())) as { request: JsonObject };
      Object.assign(body.request, change);
      const answer = await answerAdmissionReview(
        JSON.stringify(body),
        'application/json',
        mutator,
        silent,
      );
      expect(JSON.parse(answer.body).response).toEqual({ uid: expect.any(String), allowed: true });
    }
  });
});

describe('Pod Identity', () => {
  const associations = new StaticAssociationSource(
    new Map([['default/app', containerCredentialsConfig()]]),
  );

  it('injects container credentials with EKS defaults and takes precedence over role-arn', async () => {
    const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
    const { patch } = await review(
      { serviceAccounts: cache, associations, randomInt: (max) => max - 1 },
      pod({}, { labels: { app: 'web' } }),
    );
    expect(patch?.[0]).toEqual({
      op: 'add',
      path: '/metadata/labels/eks.amazonaws.com~1pod-identity',
      value: 'enabled',
    });
    expect(envOf(patch)).toEqual({
      AWS_CONTAINER_CREDENTIALS_FULL_URI: 'http://169.254.170.23/v1/credentials',
      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE:
        '/var/run/secrets/pods.eks.amazonaws.com/serviceaccount/eks-pod-identity-token',
    });
    // Default lifetime is jittered over [79200, 86400]; this random source picks the top.
    expect(volumeOf(patch)).toEqual({
      name: 'eks-pod-identity-token',
      projected: {
        sources: [
          {
            serviceAccountToken: {
              audience: 'pods.eks.amazonaws.com',
              expirationSeconds: 86400,
              path: 'eks-pod-identity-token',
            },
          },
        ],
      },
    });
  });

  it('does not need the service account in the cache', async () => {
    const { patch } = await review(
      { serviceAccounts: cacheWith(undefined), associations, serviceAccountLookupGraceMs: 5000 },
      pod(),
    );
    expect(envOf(patch).AWS_CONTAINER_CREDENTIALS_FULL_URI).toBe(
      'http://169.254.170.23/v1/credentials',
    );
    expect(JSON.stringify(volumeOf(patch))).toContain('"expirationSeconds":79200');
  });
});

describe('container encoding (Go round trip)', () => {
  it('drops unknown fields, fills non-omitempty ones and orders keys as Go does', async () => {
    const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
    const container = {
      unknownField: 1,
      tty: false,
      stdin: true,
      ports: [{ containerPort: 80 }],
      image: 'x',
      name: 'app',
      env: [],
      resources: { limits: { memory: '1Gi', cpu: 0.5 } },
      livenessProbe: { httpGet: { port: 'http' }, periodSeconds: 0 },
      securityContext: { privileged: false },
    };
    const { patch } = await review({ serviceAccounts: cache }, pod({ containers: [container] }));
    const out = (patch?.find((p) => p.path === '/spec/containers')?.value as JsonObject[])[0];
    expect(Object.keys(out ?? {})).toEqual([
      'name',
      'image',
      'ports',
      'env',
      'resources',
      'volumeMounts',
      'livenessProbe',
      'securityContext',
      'stdin',
    ]);
    expect(out?.resources).toEqual({ limits: { cpu: '500m', memory: '1Gi' } });
    expect(out?.livenessProbe).toEqual({ httpGet: { port: 'http' } });
    expect(out?.securityContext).toEqual({ privileged: false });
  });

  it('keeps unknown fields with preserveUnknownFields', async () => {
    const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
    const { patch } = await review(
      { serviceAccounts: cache, preserveUnknownFields: true },
      pod({ containers: [{ name: 'app', futureField: { a: 1 } }] }),
    );
    const out = (patch?.find((p) => p.path === '/spec/containers')?.value as JsonObject[])[0];
    expect(out?.futureField).toEqual({ a: 1 });
  });
});

describe('AdmissionReview envelope and bad input', () => {
  const cache = cacheWith({ 'eks.amazonaws.com/role-arn': ROLE });
  const mutator = new PodMutator({
    serviceAccounts: cache,
    logger: silent,
    serviceAccountLookupGraceMs: 0,
  });
  const answer = (body: string, type = 'application/json') =>
    answerAdmissionReview(body, type, mutator, silent);

  it('refuses a non-JSON Content-Type with 415', async () => {
    const a = await answer(admissionReview(pod()), 'application/xml');
    expect(a.status).toBe(415);
    expect(a.body).toBe('Invalid Content-Type, expected `application/json`\n');
  });

  it('accepts application/json with parameters', async () => {
    expect((await answer(admissionReview(pod()), 'application/json; charset=utf-8')).status).toBe(
      200,
    );
  });

  it.each([
    ['not JSON', '{"request": {"object": ', /body is not JSON/],
    ['an array', '[]', /not a JSON object/],
    ['no request', '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', /no request/],
    ['no uid', '{"request":{"object":{}}}', /request\.uid is missing/],
    ['a uid of the wrong type', '{"request":{"uid":5}}', /request\.uid must be a string/],
    [
      'another apiVersion',
      '{"apiVersion":"v1","kind":"AdmissionReview","request":{"uid":"u"}}',
      /apiVersion "v1"/,
    ],
    [
      'another kind',
      '{"apiVersion":"admission.k8s.io/v1","kind":"Pod","request":{"uid":"u"}}',
      /kind "Pod"/,
    ],
  ])('answers 400 to %s', async (_name, body, message) => {
    const a = await answer(body);
    expect(a.status).toBe(400);
    expect(a.contentType).toMatch(/^text\/plain/);
    expect(a.body).toMatch(/^malformed AdmissionReview: /);
    expect(a.body).toMatch(message);
  });

  it('echoes v1beta1 and defaults a missing apiVersion to v1', async () => {
    const beta = JSON.parse(admissionReview(pod())) as JsonObject;
    beta.apiVersion = 'admission.k8s.io/v1beta1';
    expect(JSON.parse((await answer(JSON.stringify(beta))).body).apiVersion).toBe(
      'admission.k8s.io/v1beta1',
    );
    delete beta.apiVersion;
    delete beta.kind;
    const bare = JSON.parse((await answer(JSON.stringify(beta))).body);
    expect(bare).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
  });

  it.each([
    ['no object', undefined, /request\.object is missing/],
    ['a string object', 'pod', /pod: expected object, got string/],
    [
      'containers not a list',
      { spec: { containers: {} } },
      /pod\.spec\.containers: expected array, got object/,
    ],
    [
      'env of the wrong type',
      { spec: { containers: [{ name: 'a', env: 'x' }] } },
      /containers\[0\]\.env: expected array/,
    ],
    [
      'a fractional port',
      { spec: { containers: [{ name: 'a', ports: [{ containerPort: 1.5 }] }] } },
      /containerPort: expected int32/,
    ],
    [
      'annotations that are not strings',
      { metadata: { annotations: { a: 1 } } },
      /annotations\.a: expected string/,
    ],
  ])('denies a pod it cannot decode (%s), as upstream', async (_name, object, message) => {
    const body = JSON.parse(admissionReview(pod())) as { request: JsonObject };
    if (object === undefined) delete body.request.object;
    else body.request.object = object as JsonObject;
    const a = await answer(JSON.stringify(body));
    expect(a.status).toBe(200);
    const response = JSON.parse(a.body).response;
    expect(response.allowed).toBe(false);
    expect(response.uid).toBe('918ef1dc-928f-4525-99ef-988389f263c3');
    expect(response.status.message).toMatch(/^cannot decode pod: /);
    expect(response.status.message).toMatch(message);
  });

  it('accepts nulls where Go does (zero values)', async () => {
    const a = await answer(
      admissionReview(
        pod({
          containers: [
            {
              name: 'app',
              env: null,
              volumeMounts: null,
              ports: [{ containerPort: 80, protocol: null }],
            },
          ],
          volumes: null,
        }),
      ),
    );
    expect(JSON.parse(a.body).response.allowed).toBe(true);
  });
});
