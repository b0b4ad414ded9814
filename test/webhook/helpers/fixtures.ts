/**
 * Reading the upstream webhook's pod fixtures (../shared/conformance/pod-identity-webhook)
 * and building the situation each one describes, as upstream's `handler_pod_test.go` does.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'yaml';
import {
  containerCredentialsConfig,
  PodMutator,
  ServiceAccountCache,
  StaticAssociationSource,
  type ContainerCredentialsConfig,
} from '../../../src/webhook/index.js';
import type { JsonObject } from '../../../src/webhook/go-json.js';

/** The repository root (test/webhook/helpers → ../../..). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');
/** The fixtures, beside the clone. */
export const FIXTURE_DIR = join(REPO_ROOT, '..', 'shared', 'conformance', 'pod-identity-webhook');

const T = 'testing.eks.amazonaws.com';

/** One fixture file. */
export interface Fixture {
  /** Path relative to the fixture directory. */
  file: string;
  /** The pod, with namespace and service account set to `default` as upstream's test does. */
  pod: JsonObject;
  annotations: Record<string, string>;
  skip: boolean;
  /** The expected patch, verbatim (undefined: no patch expected). */
  expectedPatch: string | undefined;
}

function walk(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((name) => {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) return walk(path);
      return /\.ya?ml$/.test(name) ? [path] : [];
    });
}

const GO_TRUE = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

/** Every fixture file, in a stable order. */
export function loadFixtures(): Fixture[] {
  return walk(FIXTURE_DIR).map((path) => {
    // One fixture repeats a key (serviceAccountName), which Go's YAML reader accepts.
    const pod = parse(readFileSync(path, 'utf8'), { uniqueKeys: false }) as JsonObject;
    const metadata = pod.metadata as JsonObject;
    const annotations = (metadata.annotations ?? {}) as Record<string, string>;
    metadata.namespace = 'default';
    (pod.spec as JsonObject).serviceAccountName = 'default';
    return {
      file: relative(FIXTURE_DIR, path),
      pod,
      annotations,
      skip: GO_TRUE.has(annotations[`${T}/skip`] ?? ''),
      expectedPatch: annotations[`${T}/expectedPatch`],
    };
  });
}

/** A mutator set up the way the fixture's `testing.eks.amazonaws.com/*` annotations say. */
export function mutatorForFixture(fixture: Fixture): PodMutator {
  const a = fixture.annotations;
  const saAnnotations: Record<string, string> = {};
  const setFrom = (target: string, ...sources: string[]) => {
    for (const source of sources) {
      const value = a[`${T}/${source}`];
      if (value !== undefined) {
        saAnnotations[`eks.amazonaws.com/${target}`] = value;
        return;
      }
    }
  };
  setFrom('role-arn', 'serviceAccount/roleArn');
  setFrom('audience', 'serviceAccount/audience');
  setFrom('sts-regional-endpoints', 'serviceAccount/sts-regional-endpoints', 'handler/injectSTS');
  setFrom('token-expiration', 'serviceAccount/token-expiration', 'handler/expiration');

  const cache = new ServiceAccountCache({
    defaults: {
      annotationDomain: 'eks.amazonaws.com',
      audience: 'sts.amazonaws.com',
      regionalSts: false,
      tokenExpiration: 86_400,
    },
  });
  cache.upsert({ metadata: { name: 'default', namespace: 'default', annotations: saAnnotations } });

  const identities = new Map<string, ContainerCredentialsConfig>();
  const uri = a[`${T}/containercredentials/uri`];
  if (uri !== undefined && uri !== '') {
    identities.set(
      'default/default',
      containerCredentialsConfig({
        fullUri: uri,
        audience: a[`${T}/containercredentials/audience`] ?? '',
        mountPath: a[`${T}/containercredentials/mountPath`] ?? '',
        volumeName: a[`${T}/containercredentials/volumeName`] ?? '',
        tokenPath: a[`${T}/containercredentials/tokenPath`] ?? '',
      }),
    );
  }
  const mountPath = a[`${T}/handler/mountPath`];
  const region = a[`${T}/handler/region`];
  return new PodMutator({
    serviceAccounts: cache,
    associations: new StaticAssociationSource(identities),
    ...(mountPath !== undefined && { mountPath }),
    ...(region !== undefined && { region }),
    serviceAccountLookupGraceMs: 0,
    // Upstream's test uses a random source that always returns 0.
    randomInt: () => 0,
  });
}

/** An AdmissionReview (v1) for creating `pod` in namespace `default`. */
export function admissionReview(
  pod: JsonObject,
  uid = '918ef1dc-928f-4525-99ef-988389f263c3',
): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid,
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      requestKind: { group: '', version: 'v1', kind: 'Pod' },
      requestResource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'default',
      operation: 'CREATE',
      userInfo: {
        username: 'kubernetes-admin',
        groups: ['system:masters', 'system:authenticated'],
      },
      object: pod,
      oldObject: null,
      dryRun: false,
      options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
    },
  });
}
