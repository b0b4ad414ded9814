/**
 * The Kubernetes manifests of `deploy/`: `kustomization.yaml` lists every manifest, the
 * rendered objects (`kubectl kustomize deploy/` when kubectl is installed, else the listed files
 * with the namespace applied) are valid against the Kubernetes API schema, and they fit
 * together (selectors, the webhook's Service, ConfigMap keys, the agent's addresses, and the
 * `latchkey` flags each container runs with).
 *
 * Two schema checks: the Kubernetes OpenAPI definitions as JSON schemas (`kubernetes-models`,
 * each model's `validate()`: types, formats, enums, required fields), and a strict check built
 * on the models of `@kubernetes/client-node` (also generated from the OpenAPI spec: every field
 * with its JSON name and type, and which fields are required), which also refuses unknown
 * fields, as `kubectl apply --validate=strict` does.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { buildCli } from '../../src/cli/index.js';

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');
const MODELS = join(
  dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')),
  'gen',
  'models',
);

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface Attribute {
  name: string;
  baseName: string;
  type: string;
}

interface ModelClass {
  getAttributeTypeMap(): Attribute[];
}

const models = k8s as unknown as Record<string, ModelClass | undefined>;
const requiredCache = new Map<string, Set<string>>();

/** The required members of a generated model (`'field': T;` rather than `'field'?: T;`). */
function requiredFields(model: string): Set<string> {
  let found = requiredCache.get(model);
  if (found === undefined) {
    const dts = readFileSync(join(MODELS, `${model}.d.ts`), 'utf8');
    found = new Set([...dts.matchAll(/^\s+'([^']+)': /gm)].map((m) => m[1] ?? ''));
    requiredCache.set(model, found);
  }
  return found;
}

/** The model of an object: `apps/v1` `Deployment` → `V1Deployment`. */
function modelFor(apiVersion: string, kind: string): string {
  const version = apiVersion.split('/').at(-1) ?? '';
  return `${version.charAt(0).toUpperCase()}${version.slice(1)}${kind}`;
}

/** Checks `value` against model or type `type`; returns the problems found, with their paths. */
function validate(value: Json | undefined, type: string, path: string): string[] {
  if (value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array?.[1] !== undefined) {
    if (!Array.isArray(value)) return [`${path}: expected an array, got ${kindOf(value)}`];
    const item = array[1];
    return value.flatMap((v, i) => validate(v, item, `${path}[${i}]`));
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map?.[1] !== undefined) {
    if (!isObject(value)) return [`${path}: expected a map, got ${kindOf(value)}`];
    const item = map[1];
    return Object.entries(value).flatMap(([k, v]) => validate(v, item, `${path}.${k}`));
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? [] : [`${path}: expected a string, got ${kindOf(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected a number, got ${kindOf(value)}`];
    case 'boolean':
      return typeof value === 'boolean'
        ? []
        : [`${path}: expected a boolean, got ${kindOf(value)}`];
    case 'Date':
      return typeof value === 'string' && !Number.isNaN(Date.parse(value))
        ? []
        : [`${path}: expected an RFC 3339 time`];
    case 'IntOrString':
      return typeof value === 'string' || Number.isInteger(value)
        ? []
        : [`${path}: expected an integer or a string, got ${kindOf(value)}`];
    case 'any':
    case 'object':
      return [];
  }
  const model = models[type];
  if (model === undefined) return [`${path}: no schema for type ${type}`];
  if (!isObject(value)) return [`${path}: expected an object (${type}), got ${kindOf(value)}`];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a]));
  const problems: string[] = [];
  for (const [key, v] of Object.entries(value)) {
    const attribute = attributes.get(key);
    if (attribute === undefined) problems.push(`${path}.${key}: unknown field of ${type}`);
    else problems.push(...validate(v, attribute.type, `${path}.${key}`));
  }
  for (const name of requiredFields(type)) {
    const baseName = [...attributes.values()].find((a) => a.name === name)?.baseName ?? name;
    if (value[baseName] === undefined) problems.push(`${path}.${baseName}: required by ${type}`);
  }
  return problems;
}

function isObject(value: Json): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function kindOf(value: Json): string {
  return Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value;
}

/** Validates one whole object (apiVersion and kind pick the model). */
function validateObject(object: JsonObject): string[] {
  const { apiVersion, kind } = object;
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') {
    return ['object without apiVersion or kind'];
  }
  const name = isObject(object.metadata ?? null)
    ? String((object.metadata as JsonObject).name)
    : '?';
  return validate(object, modelFor(apiVersion, kind), `${kind}/${name}`);
}

/** What the OpenAPI schema of the object's apiVersion and kind says is wrong, if anything. */
async function openApiProblems(object: JsonObject): Promise<string | undefined> {
  const models = (await import(`kubernetes-models/${String(object.apiVersion)}`)) as Record<
    string,
    (new (data: unknown) => { validate(): void }) | undefined
  >;
  const Model = models[String(object.kind)];
  if (Model === undefined)
    return `no schema for ${String(object.apiVersion)} ${String(object.kind)}`;
  try {
    new Model(object).validate();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function parseYaml(text: string): JsonObject[] {
  return parseAllDocuments(text)
    .map((d) => d.toJSON() as Json)
    .filter((d): d is JsonObject => d !== null && isObject(d));
}

interface Kustomization {
  namespace: string;
  resources: string[];
}

const kustomization = parseYaml(
  readFileSync(join(DEPLOY, 'kustomization.yaml'), 'utf8'),
)[0] as unknown as Kustomization;

function hasKubectl(): boolean {
  try {
    execFileSync('kubectl', ['version', '--client'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The objects `kubectl apply -k deploy/` would send. */
function rendered(): JsonObject[] {
  if (hasKubectl()) {
    return parseYaml(execFileSync('kubectl', ['kustomize', DEPLOY], { encoding: 'utf8' }));
  }
  // Without kubectl: the listed files, namespaced as kustomize would.
  const clusterScoped = new Set([
    'Namespace',
    'ClusterRole',
    'ClusterRoleBinding',
    'MutatingWebhookConfiguration',
  ]);
  return kustomization.resources.flatMap((file) =>
    parseYaml(readFileSync(join(DEPLOY, file), 'utf8')).map((o) => {
      if (!clusterScoped.has(String(o.kind))) {
        (o.metadata as JsonObject).namespace = kustomization.namespace;
      }
      return o;
    }),
  );
}

const objects = rendered();

function find(kind: string, name: string): JsonObject {
  const found = objects.find(
    (o) => o.kind === kind && (o.metadata as JsonObject | undefined)?.name === name,
  );
  if (found === undefined) throw new Error(`no ${kind}/${name}`);
  return found;
}

function at(value: Json | undefined, ...path: (string | number)[]): Json | undefined {
  let current = value;
  for (const key of path) {
    if (current === undefined || current === null || typeof current !== 'object') return undefined;
    current = Array.isArray(current) ? current[key as number] : current[key as string];
  }
  return current;
}

function podSpecOf(workload: JsonObject): JsonObject {
  return at(workload, 'spec', 'template', 'spec') as JsonObject;
}

describe('deploy/ manifests', () => {
  it('kustomization.yaml lists every manifest of deploy/, and only files that exist', () => {
    const files = readdirSync(DEPLOY)
      .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
      .sort();
    expect([...kustomization.resources].sort()).toEqual(files);
    expect(kustomization.namespace).toBe('latchkey');
  });

  it('renders the expected objects', () => {
    const kinds = objects.map((o) => `${String(o.kind)}/${String(at(o, 'metadata', 'name'))}`);
    expect(kinds.sort()).toEqual(
      [
        'ClusterRole/latchkey-webhook',
        'ClusterRoleBinding/latchkey-webhook',
        'ConfigMap/latchkey-config',
        'DaemonSet/latchkey-pod-identity-agent',
        'Deployment/latchkey-server',
        'Deployment/latchkey-webhook',
        'MutatingWebhookConfiguration/latchkey-pod-identity-webhook',
        'Namespace/latchkey',
        'PodDisruptionBudget/latchkey-server',
        'PodDisruptionBudget/latchkey-webhook',
        'Service/latchkey',
        'Service/latchkey-webhook',
        'ServiceAccount/latchkey-pod-identity-agent',
        'ServiceAccount/latchkey-server',
        'ServiceAccount/latchkey-webhook',
      ].sort(),
    );
  });

  it('every rendered object is valid against the Kubernetes API schema', () => {
    for (const object of objects) expect(validateObject(object)).toEqual([]);
  });

  it('every rendered object validates against the Kubernetes OpenAPI JSON schemas', async () => {
    // kubernetes-models carries the upstream OpenAPI definitions as JSON schemas (formats,
    // enums, integer vs number, required fields), checked by each model's validate().
    for (const object of objects) {
      expect(await openApiProblems(object)).toBeUndefined();
    }
    const broken = structuredClone(find('Deployment', 'latchkey-server'));
    (at(broken, 'spec') as JsonObject).replicas = 1.5;
    expect(await openApiProblems(broken)).toContain('spec/replicas must be integer');
  });

  it('the validator finds unknown fields, wrong types and missing required fields', () => {
    const deployment = structuredClone(find('Deployment', 'latchkey-server'));
    const container = at(deployment, 'spec', 'template', 'spec', 'containers', 0) as JsonObject;
    container.imagePullPolicyy = 'Always';
    container.ports = { name: 'http' };
    delete container.name;
    (at(deployment, 'spec') as JsonObject).replicas = '2';
    const problems = validateObject(deployment);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Deployment/latchkey-server.spec.replicas: expected a number, got string',
        'Deployment/latchkey-server.spec.template.spec.containers[0].imagePullPolicyy: unknown field of V1Container',
        'Deployment/latchkey-server.spec.template.spec.containers[0].ports: expected an array, got object',
        'Deployment/latchkey-server.spec.template.spec.containers[0].name: required by V1Container',
      ]),
    );
    expect(problems).toHaveLength(4);
    expect(validateObject({ apiVersion: 'v1', kind: 'Nope', metadata: { name: 'x' } })).toEqual([
      'Nope/x: no schema for type V1Nope',
    ]);
  });

  it('Services and disruption budgets select the pods of their workloads', () => {
    const pairs: [string, string, string][] = [
      ['Service', 'latchkey', 'latchkey-server'],
      ['Service', 'latchkey-webhook', 'latchkey-webhook'],
      ['PodDisruptionBudget', 'latchkey-server', 'latchkey-server'],
      ['PodDisruptionBudget', 'latchkey-webhook', 'latchkey-webhook'],
    ];
    for (const [kind, name, workload] of pairs) {
      const object = find(kind, name);
      const selector = (at(object, 'spec', 'selector', 'matchLabels') ??
        at(object, 'spec', 'selector')) as Record<string, string>;
      const labels = at(
        find('Deployment', workload),
        'spec',
        'template',
        'metadata',
        'labels',
      ) as Record<string, string>;
      expect(Object.keys(selector).length).toBeGreaterThan(0);
      for (const [k, v] of Object.entries(selector)) expect(labels[k], `${kind}/${name}`).toBe(v);
    }
  });

  it('the webhook configuration calls the webhook Service on a port it serves, and spares its own pods', () => {
    const mwc = find('MutatingWebhookConfiguration', 'latchkey-pod-identity-webhook');
    const hook = at(mwc, 'webhooks', 0) as JsonObject;
    expect(hook).toMatchObject({
      failurePolicy: 'Ignore',
      sideEffects: 'None',
      reinvocationPolicy: 'IfNeeded',
      admissionReviewVersions: ['v1'],
      clientConfig: {
        service: { name: 'latchkey-webhook', namespace: 'latchkey', path: '/mutate', port: 443 },
      },
      rules: [
        { operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] },
      ],
    });
    expect(Number(hook.timeoutSeconds)).toBeLessThanOrEqual(30);
    const service = find('Service', 'latchkey-webhook');
    expect(at(service, 'spec', 'ports', 0, 'port')).toBe(443);
    expect(at(service, 'spec', 'ports', 0, 'targetPort')).toBe('https');
    expect(JSON.stringify(at(hook, 'namespaceSelector'))).toContain('"latchkey"');
    // Latchkey's own pods carry the skip label the objectSelector honours.
    for (const [kind, name] of [
      ['Deployment', 'latchkey-server'],
      ['Deployment', 'latchkey-webhook'],
      ['DaemonSet', 'latchkey-pod-identity-agent'],
    ] as const) {
      expect(at(find(kind, name), 'spec', 'template', 'metadata', 'labels')).toMatchObject({
        'eks.amazonaws.com/skip-pod-identity-webhook': 'true',
      });
    }
    // The webhook may watch service accounts, nothing more.
    expect(at(find('ClusterRole', 'latchkey-webhook'), 'rules')).toEqual([
      { apiGroups: [''], resources: ['serviceaccounts'], verbs: ['get', 'list', 'watch'] },
    ]);
    expect(at(find('ClusterRoleBinding', 'latchkey-webhook'), 'subjects', 0)).toEqual({
      kind: 'ServiceAccount',
      name: 'latchkey-webhook',
      namespace: 'latchkey',
    });
  });

  it('the agent runs on the host network at the link-local addresses, after adding them', () => {
    const agent = find('DaemonSet', 'latchkey-pod-identity-agent');
    const spec = podSpecOf(agent);
    expect(spec.hostNetwork).toBe(true);
    expect(spec.dnsPolicy).toBe('ClusterFirstWithHostNet');
    const init = at(spec, 'initContainers', 0) as JsonObject;
    const script = (init.command as string[]).join(' ');
    expect(script).toContain('ip addr add 169.254.170.23/32 dev lo');
    expect(script).toContain('ip -6 addr add fd00:ec2::23/128 dev lo');
    expect(at(init, 'securityContext', 'capabilities', 'add')).toEqual(['NET_ADMIN']);
    const args = at(spec, 'containers', 0, 'args') as string[];
    expect(args).toEqual(
      expect.arrayContaining(['--listen=169.254.170.23:80', '--listen=[fd00:ec2::23]:80']),
    );
  });

  it('every ConfigMap key a container reads exists', () => {
    const config = at(find('ConfigMap', 'latchkey-config'), 'data') as Record<string, string>;
    const refs = JSON.stringify(objects).matchAll(
      /"configMapKeyRef":\{"key":"([^"]+)","name":"([^"]+)"\}|"configMapKeyRef":\{"name":"([^"]+)","key":"([^"]+)"\}/g,
    );
    let count = 0;
    for (const m of refs) {
      const key = m[1] ?? m[4] ?? '';
      const name = m[2] ?? m[3] ?? '';
      expect(name).toBe('latchkey-config');
      expect(Object.keys(config)).toContain(key);
      count += 1;
    }
    expect(count).toBeGreaterThan(5);
  });

  it('each latchkey container’s arguments are accepted by the latchkey command', () => {
    const config = at(find('ConfigMap', 'latchkey-config'), 'data') as Record<string, string>;
    const workloads = objects.filter((o) => o.kind === 'Deployment' || o.kind === 'DaemonSet');
    let checked = 0;
    for (const workload of workloads) {
      for (const container of at(podSpecOf(workload), 'containers') as JsonObject[]) {
        expect(String(container.image)).toMatch(/^latchkey:\d+\.\d+\.\d+$/);
        const env = new Map(
          (container.env as JsonObject[]).map((e) => [
            String(e.name),
            String(at(e, 'valueFrom', 'configMapKeyRef', 'key') ?? 'secret'),
          ]),
        );
        // Kubernetes expands $(VAR) from the container's env.
        const args = (container.args as string[]).map((a) =>
          a.replace(/\$\(([A-Z_]+)\)/g, (_m, name: string) => {
            const key = env.get(name);
            expect(key, `${name} in ${String(container.name)}`).toBeDefined();
            return key === 'secret' ? 'postgres://u@db/latchkey' : (config[key ?? ''] ?? '');
          }),
        );
        const [commandName, ...flags] = args;
        const command = buildCli().commands.find((c) => c.name() === commandName);
        expect(command, commandName).toBeDefined();
        const parsed = command?.parseOptions(flags);
        expect(parsed?.unknown, `${String(container.name)}: ${flags.join(' ')}`).toEqual([]);
        checked += 1;
      }
    }
    expect(checked).toBe(3);
  });
});
