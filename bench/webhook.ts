/**
 * Admission webhook over HTTPS with 32 connections, against a bare node:https server answering
 * a constant body of the same size with the same certificate (both in child processes, same
 * run), for a realistic two-container pod whose service account has a role (every answer
 * carries a patch):
 * - AdmissionReviews/s and p99 when saturated (autocannon);
 * - p99 at a steady admission rate (a paced client; autocannon's rate limit sends each
 *   second's quota in one burst), goal < 5 ms;
 * - CPU time of one answer in process (decode, decide, patch, encode).
 *
 * Run as `tsx bench/webhook.ts serve …` it is the child that serves the webhook.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import autocannon from 'autocannon';
import { pino } from 'pino';
import { tempDir } from '../test/helpers/tmp.js';
import {
  answerAdmissionReview,
  generateSelfSignedCertificate,
  PodMutator,
  ServiceAccountCache,
  startWebhook,
} from '../src/webhook/index.js';
import { steadyP99Ms } from './harness.js';
import type { BenchLine } from './report.js';

const CONNECTIONS = 32;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
// Steady admission rate for the latency figure: about twice what a large cluster's scheduler
// places per second (kube-scheduler's default API QPS is 50). BENCH_WEBHOOK_RATE overrides.
const STEADY_RATE = Number(process.env.BENCH_WEBHOOK_RATE ?? 200);
const ROLE = 'arn:aws:iam::111122223333:role/orders';
const THIS_FILE = fileURLToPath(import.meta.url);

const SERVICE_ACCOUNTS = `apiVersion: v1
kind: ServiceAccount
metadata:
  name: orders
  namespace: shop
  annotations:
    eks.amazonaws.com/role-arn: ${ROLE}
    eks.amazonaws.com/sts-regional-endpoints: "true"
`;

/** A pod as the API server sends it: defaults filled in, two containers, probes, resources. */
const POD = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    generateName: 'orders-7d9f8c6b5-',
    namespace: 'shop',
    labels: { app: 'orders', 'pod-template-hash': '7d9f8c6b5' },
    ownerReferences: [
      {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        name: 'orders-7d9f8c6b5',
        uid: '6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f',
        controller: true,
        blockOwnerDeletion: true,
      },
    ],
  },
  spec: {
    serviceAccountName: 'orders',
    volumes: [
      {
        name: 'kube-api-access-x7k2p',
        projected: {
          sources: [{ serviceAccountToken: { expirationSeconds: 3607, path: 'token' } }],
        },
      },
    ],
    containers: [
      {
        name: 'orders',
        image: 'registry.example.com/shop/orders:1.42.0',
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [
          { name: 'LOG_LEVEL', value: 'info' },
          {
            name: 'POD_NAME',
            valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } },
          },
        ],
        resources: {
          limits: { cpu: '1', memory: '512Mi' },
          requests: { cpu: '250m', memory: '256Mi' },
        },
        volumeMounts: [
          {
            name: 'kube-api-access-x7k2p',
            readOnly: true,
            mountPath: '/var/run/secrets/kubernetes.io/serviceaccount',
          },
        ],
        livenessProbe: {
          httpGet: { path: '/healthz', port: 'http', scheme: 'HTTP' },
          timeoutSeconds: 1,
          periodSeconds: 10,
          successThreshold: 1,
          failureThreshold: 3,
        },
        readinessProbe: {
          httpGet: { path: '/ready', port: 'http', scheme: 'HTTP' },
          timeoutSeconds: 1,
          periodSeconds: 5,
          successThreshold: 1,
          failureThreshold: 3,
        },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        securityContext: {
          runAsNonRoot: true,
          allowPrivilegeEscalation: false,
          capabilities: { drop: ['ALL'] },
        },
      },
      {
        name: 'envoy',
        image: 'envoyproxy/envoy:v1.31.0',
        resources: {
          limits: { cpu: '500m', memory: '128Mi' },
          requests: { cpu: '100m', memory: '64Mi' },
        },
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
      },
    ],
    restartPolicy: 'Always',
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    schedulerName: 'default-scheduler',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
  },
};

/** The AdmissionReview sent by the benchmark. */
export const REVIEW = JSON.stringify({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: {
    uid: '0b1f5a2e-9c8d-4e7f-a6b5-c4d3e2f1a0b9',
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    namespace: 'shop',
    operation: 'CREATE',
    userInfo: {
      username: 'system:serviceaccount:kube-system:replicaset-controller',
      groups: ['system:serviceaccounts', 'system:authenticated'],
    },
    object: POD,
    oldObject: null,
    dryRun: false,
    options: { kind: 'CreateOptions', apiVersion: 'meta.k8s.io/v1' },
  },
});

const BARE_SERVER = `
const https = require('node:https');
const fs = require('node:fs');
const [certFile, keyFile, bodyFile] = process.argv.slice(1);
const body = fs.readFileSync(bodyFile);
const server = https.createServer({ cert: fs.readFileSync(certFile), key: fs.readFileSync(keyFile) }, (req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
});
server.listen(0, '127.0.0.1', () => console.error('ready ' + server.address().port));
`;

/** The child: serves the webhook and prints its port. */
async function serve(saFile: string, certFile: string, keyFile: string): Promise<void> {
  const webhook = await startWebhook({
    host: '127.0.0.1',
    port: 0,
    tls: { certFile, keyFile },
    serviceAccounts: { file: saFile },
    region: 'us-east-1',
  });
  // stderr: stdout carries the log, which goes to a file as a container runtime's would.
  console.error(`ready ${webhook.port}`);
  process.on('SIGTERM', () => void webhook.close().then(() => process.exit(0)));
}

/** Resolves with the port a child prints on stderr as `ready PORT`. */
function readyPort(child: ChildProcess): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    let done = false;
    child.stderr?.on('data', (chunk: Buffer) => {
      if (done) return;
      text += chunk.toString();
      const m = /^ready (\d+)$/m.exec(text);
      if (m) {
        done = true;
        resolve(Number(m[1]));
      }
    });
    child.once('exit', () => reject(new Error('server exited before it was ready')));
  });
}

async function stop(child: ChildProcess): Promise<void> {
  // A child killed by a signal has signalCode set and exitCode null.
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  await once(child, 'exit');
}

/** Saturating load: every connection sends its next request as soon as the answer arrives. */
function saturate(port: number): Promise<autocannon.Result> {
  return autocannon({
    url: `https://127.0.0.1:${port}/mutate`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: REVIEW,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
}

function post(agent: Agent, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/mutate',
        method: 'POST',
        agent,
        headers: { 'content-type': 'application/json' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(REVIEW);
  });
}

/** Latency at a steady rate ({@link steadyP99Ms}) over HTTPS. */
async function steadyP99(port: number, rate: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS, rejectUnauthorized: false });
  try {
    return await steadyP99Ms(() => post(agent, port), rate, CONNECTIONS, SECONDS);
  } finally {
    agent.destroy();
  }
}

/** Both measurements against one server. */
async function measure(port: number): Promise<{ saturated: autocannon.Result; steadyP99: number }> {
  const saturated = await saturate(port);
  if (saturated.non2xx > 0 || saturated.errors > 0) {
    throw new Error(
      `errors during the run: ${saturated.non2xx} non-2xx, ${saturated.errors} errors`,
    );
  }
  return { saturated, steadyP99: await steadyP99(port, STEADY_RATE) };
}

/** CPU time of one answer (decode, decide, patch, encode), in process, warm cache. */
async function cpuMicrosPerReview(): Promise<number> {
  const cache = new ServiceAccountCache({
    defaults: {
      annotationDomain: 'eks.amazonaws.com',
      audience: 'sts.amazonaws.com',
      regionalSts: false,
      tokenExpiration: 86400,
    },
  });
  cache.upsert({
    metadata: {
      name: 'orders',
      namespace: 'shop',
      annotations: { 'eks.amazonaws.com/role-arn': ROLE },
    },
  });
  const mutator = new PodMutator({
    serviceAccounts: cache,
    region: 'us-east-1',
    logger: pino({ level: 'silent' }),
  });
  const n = 20_000;
  for (let i = 0; i < 2000; i++) await answerAdmissionReview(REVIEW, 'application/json', mutator);
  // CPU time rather than wall time: steadier on a shared machine.
  const before = process.cpuUsage();
  for (let i = 0; i < n; i++) await answerAdmissionReview(REVIEW, 'application/json', mutator);
  const used = process.cpuUsage(before);
  return (used.user + used.system) / n;
}

export default async function bench(): Promise<BenchLine[]> {
  const dir = tempDir('latchkey-bench-webhook-');
  const children: ChildProcess[] = [];
  try {
    const tls = await generateSelfSignedCertificate({ dnsNames: ['localhost'] });
    const certFile = join(dir.path, 'tls.crt');
    const keyFile = join(dir.path, 'tls.key');
    const saFile = join(dir.path, 'sa.yaml');
    writeFileSync(certFile, tls.cert);
    writeFileSync(keyFile, tls.key);
    writeFileSync(saFile, SERVICE_ACCOUNTS);

    const cpuMicros = await cpuMicrosPerReview();

    // The bare server answers with a body as large as the webhook's real answer.
    const cache = new ServiceAccountCache({
      defaults: {
        annotationDomain: 'eks.amazonaws.com',
        audience: 'sts.amazonaws.com',
        regionalSts: false,
        tokenExpiration: 86400,
      },
    });
    cache.upsert({
      metadata: {
        name: 'orders',
        namespace: 'shop',
        annotations: { 'eks.amazonaws.com/role-arn': ROLE },
      },
    });
    const sample = await answerAdmissionReview(
      REVIEW,
      'application/json',
      new PodMutator({ serviceAccounts: cache, region: 'us-east-1' }),
    );
    if (!sample.body.includes('"patch"')) throw new Error('the benchmark pod is not mutated');
    const bodyFile = join(dir.path, 'body.json');
    writeFileSync(bodyFile, sample.body);

    const bare = spawn(process.execPath, ['-e', BARE_SERVER, certFile, keyFile, bodyFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(bare);
    const baseline = await measure(await readyPort(bare));
    await stop(bare);

    const logFd = openSync(join(dir.path, 'webhook.log'), 'w');
    const webhook = spawn(
      process.execPath,
      ['--import', 'tsx', THIS_FILE, 'serve', saFile, certFile, keyFile],
      {
        // The log (one line per mutated pod at info) goes to a file, as a container runtime's
        // would: a pipe the busy load generator drains late would stall the child's
        // synchronous log writes and measure this harness, not the webhook.
        stdio: ['ignore', logFd, 'pipe'],
        env: { ...process.env, LATCHKEY_LOG_LEVEL: process.env.LATCHKEY_LOG_LEVEL ?? 'info' },
      },
    );
    closeSync(logFd);
    children.push(webhook);
    const port = await readyPort(webhook);
    const result = await measure(port);
    return [
      {
        name: `AdmissionReviews over HTTPS, ${CONNECTIONS} connections, saturating (IRSA patch)`,
        value: result.saturated.requests.average,
        unit: 'req/s',
        baseline: {
          name: 'bare node:https, same body',
          value: baseline.saturated.requests.average,
        },
      },
      {
        name: 'AdmissionReview latency p99, saturating',
        value: result.saturated.latency.p99,
        unit: 'ms',
        baseline: { name: 'bare node:https p99', value: baseline.saturated.latency.p99 },
      },
      {
        name: `AdmissionReview latency p99 at ${STEADY_RATE} reviews/s, ${CONNECTIONS} connections`,
        value: result.steadyP99,
        unit: 'ms',
        baseline: { name: 'bare node:https p99', value: baseline.steadyP99 },
        goal: '< 5 ms',
        met: result.steadyP99 < 5,
      },
      {
        name: 'CPU per AdmissionReview in process (decode, decide, patch, encode)',
        value: cpuMicros,
        unit: 'µs',
      },
    ];
  } finally {
    for (const child of children) await stop(child);
    dir.remove();
  }
}

if (process.argv[2] === 'serve' && import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [saFile, certFile, keyFile] = process.argv.slice(3);
  if (!saFile || !certFile || !keyFile) throw new Error('usage: webhook.ts serve SA_FILE CERT KEY');
  await serve(saFile, certFile, keyFile);
}
