/**
 * Policy evaluation throughput and latency, against `@cloud-copilot/iam-simulate` on identical
 * inputs in the same run (its core `authorize`, with policies pre-loaded, so both sides measure
 * evaluation only):
 *
 * (a) a 3-statement identity policy;
 * (b) the AWS-managed ReadOnlyAccess policy (2 statements, ~2,700 action patterns);
 * (c) 50 policies × 20 statements across 50 services, plus a resource policy;
 * (d) cost independence: (c) against one statement for the request's service.
 *
 * Both sides are warmed up; throughput is the best of five alternating rounds per side, each
 * measured after a full garbage collection. `npm run bench policy` runs it, or
 * `npx tsx bench/policy.ts` alone.
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { loadPolicy } from '@cloud-copilot/iam-policy';
import { authorize } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js';
import { DiscoveryContextKeyConstraints } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js';
import { AwsRequestImpl } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js';
import { RequestContextImpl } from '../node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js';
import {
  compilePolicyText,
  evaluatePolicies,
  type AuthorizationRequest,
  type CompiledPolicy,
} from '../src/policy/index.js';
import { opsPerSecond, percentileMicros, type BenchLine } from './report.js';

type Doc = { Version: string; Statement: Record<string, unknown>[] };

const ACCOUNT = '111122223333';
const PRINCIPAL = `arn:aws:iam::${ACCOUNT}:user/alice`;
const STRICT = {
  simulationMode: 'Strict' as const,
  discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
};

interface Scenario {
  name: string;
  identity: Doc[];
  resource?: Doc;
  action: string;
  target: string;
  context: Record<string, string | string[]>;
}

function threeStatements(): Scenario {
  return {
    name: '3-statement policy',
    identity: [
      {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'ReadReports',
            Effect: 'Allow',
            Action: ['s3:GetObject', 's3:ListBucket'],
            Resource: ['arn:aws:s3:::reports', 'arn:aws:s3:::reports/${aws:username}/*'],
          },
          {
            Sid: 'DenyInsecure',
            Effect: 'Deny',
            Action: 's3:*',
            Resource: '*',
            Condition: { Bool: { 'aws:SecureTransport': 'false' } },
          },
          {
            Sid: 'Office',
            Effect: 'Allow',
            Action: 'ec2:Describe*',
            Resource: '*',
            Condition: { IpAddress: { 'aws:SourceIp': '203.0.113.0/24' } },
          },
        ],
      },
    ],
    action: 's3:GetObject',
    target: 'arn:aws:s3:::reports/alice/2024/q1.csv',
    context: {
      'aws:username': 'alice',
      'aws:SecureTransport': 'true',
      'aws:SourceIp': '203.0.113.7',
    },
  };
}

function readOnlyAccess(): Scenario {
  const file = new URL('../test/policy/fixtures/readonly-access.json', import.meta.url);
  const { document } = JSON.parse(readFileSync(file, 'utf8')) as { document: Doc };
  return {
    name: 'AWS-managed ReadOnlyAccess',
    identity: [document],
    action: 'dynamodb:GetItem',
    target: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/Orders`,
    context: { 'aws:SecureTransport': 'true' },
  };
}

function fiftyByTwenty(): Scenario {
  const identity: Doc[] = [];
  for (let p = 0; p < 50; p++) {
    const statements: Record<string, unknown>[] = [];
    for (let s = 0; s < 20; s++) {
      const service = `svc${(p * 20 + s) % 50}`;
      statements.push({
        Sid: `P${p}S${s}`,
        Effect: s % 7 === 0 ? 'Deny' : 'Allow',
        Action: [`${service}:Get*`, `${service}:Describe${s}`],
        Resource: `arn:aws:${service}:*:${ACCOUNT}:thing/${p}-${s}/*`,
        ...(s % 3 === 0
          ? { Condition: { StringEquals: { 'aws:PrincipalTag/team': `team-${s}` } } }
          : {}),
      });
    }
    identity.push({ Version: '2012-10-17', Statement: statements });
  }
  // The request's service, s3, is named by one statement of one policy.
  identity[25]?.Statement.push({
    Sid: 'Target',
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::data/*',
  });
  return {
    name: '50 policies × 20 statements',
    identity,
    resource: {
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 's3:*',
          Resource: 'arn:aws:s3:::data/*',
          Condition: { StringNotEquals: { 'aws:PrincipalAccount': ACCOUNT } },
        },
      ],
    },
    action: 's3:GetObject',
    target: 'arn:aws:s3:::data/k',
    context: { 'aws:PrincipalTag/team': 'team-3', 'aws:PrincipalAccount': ACCOUNT },
  };
}

/** The same request against the same number of policies, each keeping only its own statement. */
function onlyRelevant(s: Scenario): Scenario {
  return {
    ...s,
    name: 'same policies, unrelated statements removed',
    identity: s.identity.map((d) => ({
      ...d,
      Statement: d.Statement.filter((st) => st['Sid'] === 'Target').length
        ? d.Statement.filter((st) => st['Sid'] === 'Target')
        : [d.Statement[0]!],
    })),
  };
}

/** One policy of 1,000 statements, all but one for other services. */
function thousandStatements(keep: boolean): Scenario {
  const statements: Record<string, unknown>[] = [];
  if (keep) {
    for (let i = 0; i < 999; i++) {
      statements.push({
        Effect: 'Allow',
        Action: `svc${i % 100}:Get*`,
        Resource: `arn:aws:svc${i % 100}:*:*:x/${i}`,
      });
    }
  }
  statements.push({
    Sid: 'Target',
    Effect: 'Allow',
    Action: 's3:GetObject',
    Resource: 'arn:aws:s3:::data/*',
  });
  return {
    name: keep ? '1 policy × 1,000 statements' : '1 policy × 1 statement',
    identity: [{ Version: '2012-10-17', Statement: statements }],
    action: 's3:GetObject',
    target: 'arn:aws:s3:::data/k',
    context: {},
  };
}

function costRatio(name: string, big: Scenario, small: Scenario): BenchLine {
  const bigRun = ours(big);
  const smallRun = ours(small);
  warm(bigRun);
  warm(smallRun);
  let bigOps = 0;
  let smallOps = 0;
  for (let round = 0; round < ROUNDS; round++) {
    bigOps = Math.max(bigOps, measure(bigRun));
    smallOps = Math.max(smallOps, measure(smallRun));
  }
  const ratio = smallOps / bigOps;
  return {
    name,
    value: ratio,
    unit: '× time',
    goal: '≤ 1.5× (cost independent of statements for other services)',
    met: ratio <= 1.5,
  };
}

function ours(s: Scenario): () => string {
  const identityPolicies: CompiledPolicy[] = s.identity.map((d, i) =>
    compilePolicyText(JSON.stringify(d), { kind: 'identity', id: `p${i}`, maxLength: false }),
  );
  const request: AuthorizationRequest = {
    principal: { type: 'IAMUser', arn: PRINCIPAL, accountId: ACCOUNT },
    action: s.action,
    resource: s.target,
    context: s.context,
    identityPolicies,
  };
  if (s.resource) {
    request.resourcePolicy = compilePolicyText(JSON.stringify(s.resource), {
      kind: 'resource',
      id: 'rp',
      maxLength: false,
    });
  }
  return () => evaluatePolicies(request).decision;
}

function reference(s: Scenario): () => string {
  const identityPolicies = s.identity.map((d, i) => loadPolicy(d, { name: `p${i}` }));
  const resourcePolicy = s.resource ? loadPolicy(s.resource, { name: 'rp' }) : undefined;
  return () =>
    authorize({
      request: new AwsRequestImpl(
        PRINCIPAL,
        { resource: s.target, accountId: ACCOUNT },
        s.action,
        new RequestContextImpl(s.context),
      ),
      sessionPolicy: undefined,
      identityPolicies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
      resourcePolicy,
      permissionBoundaries: undefined,
      vpcEndpointPolicies: undefined,
      simulationParameters: STRICT,
    }).result;
}

// A full collection before each measuring window, so neither side pays for the other's garbage
// (iam-simulate allocates heavily). `--expose-gc` set at run time, then `gc` taken from a context.
setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Alternating measuring rounds per side; the best counts. */
const ROUNDS = 5;

/** Throughput of `fn`, measured after a full collection. */
function measure(fn: () => unknown, ms = 500): number {
  collect();
  return opsPerSecond(fn, ms);
}

/** Runs `fn` for about `ms` milliseconds. */
function warm(fn: () => unknown, ms = 400): void {
  const end = performance.now() + ms;
  while (performance.now() < end) for (let i = 0; i < 100; i++) fn();
}

function compare(s: Scenario): BenchLine[] {
  const mine = ours(s);
  const theirs = reference(s);
  const expected = mine();
  const got = theirs();
  const same =
    (expected === 'allowed' && got === 'Allowed') || (expected !== 'allowed' && got !== 'Allowed');
  if (!same) throw new Error(`${s.name}: engines disagree (${expected} vs ${got})`);
  // Warm both up until the JIT has settled, then alternate rounds and keep the best of each:
  // other load on the machine then hits both sides alike.
  // Latency of each side on its own heap state, before the other has run its rounds.
  collect();
  warm(mine);
  const p99Ours = percentileMicros(mine, 50_000);
  collect();
  warm(theirs);
  const p99Theirs = percentileMicros(theirs, 5_000);
  let opsOurs = 0;
  let opsTheirs = 0;
  for (let round = 0; round < ROUNDS; round++) {
    opsOurs = Math.max(opsOurs, measure(mine));
    opsTheirs = Math.max(opsTheirs, measure(theirs));
  }
  return [
    {
      name: `policy decision, ${s.name}`,
      value: opsOurs,
      unit: 'decisions/s',
      baseline: { name: 'iam-simulate', value: opsTheirs },
      goal: '≥ 200× iam-simulate',
      met: opsOurs >= 200 * opsTheirs,
    },
    {
      name: `policy decision p99, ${s.name}`,
      value: p99Ours,
      unit: 'µs p99',
      baseline: { name: 'iam-simulate', value: p99Theirs },
      goal: '< 20 µs',
      met: p99Ours < 20,
    },
  ];
}

/** The benchmark's entry point. */
export default async function bench(): Promise<BenchLine[]> {
  const big = fiftyByTwenty();
  const lines = [...compare(threeStatements()), ...compare(readOnlyAccess()), ...compare(big)];
  // Cost independence: statements for other services cost (almost) nothing.
  lines.push(
    costRatio(
      'cost: 50 policies × 20 statements vs the same 50 policies, 1 statement each',
      big,
      onlyRelevant(big),
    ),
    costRatio(
      'cost: 1 policy × 1,000 statements vs 1 policy × 1 statement',
      thousandStatements(true),
      thousandStatements(false),
    ),
  );
  return Promise.resolve(lines);
}

if (
  process.argv[1] !== undefined &&
  import.meta.url.endsWith(process.argv[1].replace(/^.*\//, '/'))
) {
  const { formatLines } = await import('./report.js');
  console.log(formatLines(await bench()));
}
