/**
 * Seeded generator of differential cases: policies (identity, resource, boundary, session, trust)
 * and a request, covering every condition-operator family, set operators, `IfExists`, wildcards,
 * policy variables, deny/allow mixes, cross-account access and role trust.
 *
 * Shapes are limited to what both engines are meant to agree on (see docs/policy-fidelity.md for
 * the classes excluded on purpose); within those, values are random.
 */
import { Rng } from './rng.js';

export const ACCOUNT_A = '111111111111';
export const ACCOUNT_B = '222222222222';

/** A policy document as JSON. */
export type PolicyJson = {
  Version?: string;
  Statement: Record<string, unknown>[];
};

/** One generated case. */
export interface Scenario {
  seed: number;
  mode: 'standard' | 'trust';
  principal: {
    type: 'IAMUser' | 'AssumedRole' | 'Service';
    arn: string;
    accountId: string;
    sessionIssuerArn?: string;
  };
  action: string;
  resource: string;
  resourceAccount: string;
  context: Record<string, string | string[]>;
  identity: PolicyJson[];
  resourcePolicy?: PolicyJson;
  boundary?: PolicyJson;
  session?: PolicyJson;
}

interface ServiceSpec {
  actions: string[];
  resources: (account: string) => string[];
  /** The resource type prefix ("product") of the resource part, e.g. `table/`. */
  product: string;
}

const SERVICES: Record<string, ServiceSpec> = {
  dynamodb: {
    actions: ['GetItem', 'PutItem', 'Query', 'DeleteItem', 'DescribeTable', 'BatchGetItem'],
    resources: (a) => [
      `arn:aws:dynamodb:us-east-1:${a}:table/Orders`,
      `arn:aws:dynamodb:us-east-1:${a}:table/Orders/index/ByDate`,
      `arn:aws:dynamodb:eu-west-1:${a}:table/Users`,
    ],
    product: 'table/',
  },
  s3: {
    actions: ['GetObject', 'PutObject', 'ListBucket', 'DeleteObject'],
    // Bucket and object ARNs carry no region or account; the owner is the resource account.
    resources: () => [
      'arn:aws:s3:::reports',
      'arn:aws:s3:::reports/2024/q1.csv',
      'arn:aws:s3:::reports/a:b/c.txt',
    ],
    product: '',
  },
  sqs: {
    actions: ['SendMessage', 'ReceiveMessage', 'DeleteMessage', 'GetQueueAttributes'],
    resources: (a) => [`arn:aws:sqs:us-east-1:${a}:jobs`, `arn:aws:sqs:us-east-1:${a}:jobs-dlq`],
    product: '',
  },
  sns: {
    actions: ['Publish', 'Subscribe', 'GetTopicAttributes'],
    resources: (a) => [`arn:aws:sns:us-east-1:${a}:alerts`, `arn:aws:sns:eu-west-1:${a}:Orders`],
    product: '',
  },
  lambda: {
    actions: ['InvokeFunction', 'GetFunction', 'UpdateFunctionCode'],
    resources: (a) => [
      `arn:aws:lambda:us-east-1:${a}:function:resize`,
      `arn:aws:lambda:us-east-1:${a}:function:resize:prod`,
    ],
    product: 'function:',
  },
  ec2: {
    actions: ['StartInstances', 'StopInstances', 'TerminateInstances'],
    resources: (a) => [
      `arn:aws:ec2:us-east-1:${a}:instance/i-0abc`,
      `arn:aws:ec2:us-west-2:${a}:instance/i-0def`,
    ],
    product: 'instance/',
  },
};

type KeyType = 'string' | 'numeric' | 'date-iso' | 'date-epoch' | 'bool' | 'binary' | 'ip' | 'arn';

interface KeySpec {
  key: string;
  type: KeyType;
  /** Values a request may carry. */
  context: string[];
  /** Values a policy may compare with. */
  policy: string[];
  /** The key is multivalued (arrays in the context). */
  multi?: boolean;
}

const KEYS: KeySpec[] = [
  {
    key: 'aws:PrincipalTag/team',
    type: 'string',
    context: ['Orders', 'jobs', 'red', 'blue', 'Red'],
    policy: ['Orders', 'jobs', 'red', 'blue', 'RED'],
  },
  {
    key: 'aws:username',
    type: 'string',
    context: ['alice', 'bob', 'Alice'],
    policy: ['alice', 'bob', 'ALICE'],
  },
  {
    key: 'aws:RequestTag/env',
    type: 'string',
    context: ['prod', 'dev', 'Prod', 'pre*prod'],
    policy: ['prod', 'dev', 'PROD', 'staging'],
  },
  {
    key: 'aws:TagKeys',
    type: 'string',
    context: ['team', 'env', 'owner', 'Team'],
    policy: ['team', 'env', 'owner', 'cost'],
    multi: true,
  },
  {
    key: 'svc:Count',
    type: 'numeric',
    context: ['1', '5', '10', '2.5', '-3', '0'],
    policy: ['1', '5', '10', '2.5', '-3', '0', '7.0'],
  },
  {
    key: 'aws:CurrentTime',
    type: 'date-iso',
    context: ['2024-01-01T00:00:00Z', '2024-06-01T12:00:00Z', '2025-01-01T00:00:00Z'],
    policy: [
      '2024-01-01T00:00:00Z',
      '2024-06-01T12:00:00Z',
      '2025-01-01T00:00:00Z',
      '2024-03-15T08:30:00Z',
    ],
  },
  {
    key: 'aws:EpochTime',
    type: 'date-epoch',
    context: ['1704067200', '1717243200', '1735689600'],
    policy: ['1704067200', '1717243200', '1735689600', '1710491400'],
  },
  {
    key: 'aws:SecureTransport',
    type: 'bool',
    context: ['true', 'false', 'TRUE'],
    policy: ['true', 'false', 'False'],
  },
  {
    key: 'svc:Blob',
    type: 'binary',
    context: ['aGVsbG8=', 'd29ybGQ='],
    policy: ['aGVsbG8=', 'd29ybGQ=', 'Zm9v'],
  },
  {
    key: 'aws:SourceIp',
    type: 'ip',
    context: ['203.0.113.7', '198.51.100.20', '2001:db8::1', '10.1.2.3', '2001:db8:ffff::9'],
    policy: [
      '203.0.113.0/24',
      '198.51.100.0/25',
      '2001:db8::/32',
      '2001:db8:ffff::/48',
      '10.0.0.0/8',
      '203.0.113.7',
      '0.0.0.0/0',
      '::/0',
      '198.51.100.128/25',
    ],
  },
  {
    key: 'aws:SourceArn',
    type: 'arn',
    context: [
      'arn:aws:sns:us-east-1:111111111111:alerts',
      'arn:aws:s3:::bucket/key:with:colons',
      'arn:aws:lambda:us-east-1:222222222222:function:resize',
    ],
    policy: [
      'arn:aws:sns:us-east-1:111111111111:alerts',
      'arn:aws:sns:*:111111111111:*',
      'arn:aws:s3:::bucket/*',
      'arn:aws:lambda:us-east-?:*:function:*',
      'arn:aws:*:*:222222222222:*',
      'arn:aws:s3:::bucket/key:*',
    ],
  },
  {
    key: 'aws:PrincipalArn',
    type: 'arn',
    context: [
      'arn:aws:iam::111111111111:user/alice',
      'arn:aws:iam::111111111111:role/App',
      'arn:aws:iam::222222222222:role/Other',
    ],
    policy: [
      'arn:aws:iam::111111111111:user/alice',
      'arn:aws:iam::111111111111:user/${aws:username}',
      'arn:aws:iam::*:role/App',
      'arn:aws:iam::111111111111:*',
      'arn:aws:iam::222222222222:role/Oth?r',
    ],
  },
  {
    key: 'svc:Labels',
    type: 'string',
    context: ['a', 'b', 'c', 'A'],
    policy: ['a', 'b', 'c*', '${aws:PrincipalTag/team}'],
    multi: true,
  },
];

const OPERATORS: Record<KeyType, string[]> = {
  string: [
    'StringEquals',
    'StringNotEquals',
    'StringEqualsIgnoreCase',
    'StringNotEqualsIgnoreCase',
    'StringLike',
    'StringNotLike',
  ],
  numeric: [
    'NumericEquals',
    'NumericNotEquals',
    'NumericLessThan',
    'NumericLessThanEquals',
    'NumericGreaterThan',
    'NumericGreaterThanEquals',
  ],
  'date-iso': [
    'DateEquals',
    'DateNotEquals',
    'DateLessThan',
    'DateLessThanEquals',
    'DateGreaterThan',
    'DateGreaterThanEquals',
  ],
  'date-epoch': [
    'DateEquals',
    'DateNotEquals',
    'DateLessThan',
    'DateLessThanEquals',
    'DateGreaterThan',
    'DateGreaterThanEquals',
  ],
  bool: ['Bool'],
  binary: ['BinaryEquals'],
  ip: ['IpAddress', 'NotIpAddress'],
  arn: ['ArnEquals', 'ArnLike', 'ArnNotEquals', 'ArnNotLike', 'StringLike'],
};

const VARIABLES = [
  '${aws:username}',
  '${aws:PrincipalTag/team}',
  "${aws:PrincipalTag/team, 'red'}",
  '${svc:Missing}',
  "${svc:Missing, 'jobs'}",
];

/** Generates the case for `seed`. */
export function generateScenario(seed: number): Scenario {
  const rng = new Rng(seed);
  const trust = rng.chance(0.1);
  const crossAccount = rng.chance(0.3);
  const principalAccount = ACCOUNT_A;
  const resourceAccount = crossAccount ? ACCOUNT_B : ACCOUNT_A;
  const assumedRole = rng.chance(0.5);
  const roleName = rng.pick(['App', 'Builder']);
  const service = !trust && rng.chance(0.05);
  const principal: Scenario['principal'] = service
    ? {
        type: 'Service',
        arn: rng.pick(['lambda.amazonaws.com', 'sns.amazonaws.com']),
        accountId: '',
      }
    : assumedRole
      ? {
          type: 'AssumedRole',
          arn: `arn:aws:sts::${principalAccount}:assumed-role/${roleName}/session-${rng.int(1, 2)}`,
          accountId: principalAccount,
          sessionIssuerArn: `arn:aws:iam::${principalAccount}:role/${roleName}`,
        }
      : {
          type: 'IAMUser',
          arn: `arn:aws:iam::${principalAccount}:user/${rng.pick(['alice', 'bob'])}`,
          accountId: principalAccount,
        };

  let action: string;
  let resource: string;
  let target: string;
  if (trust) {
    target = 'sts';
    action = rng.pick(['sts:AssumeRole', 'sts:AssumeRole', 'sts:TagSession']);
    resource = `arn:aws:iam::${resourceAccount}:role/${rng.pick(['Target', 'Deploy'])}`;
  } else {
    target = rng.pick(Object.keys(SERVICES));
    const spec = SERVICES[target]!;
    action = `${target}:${rng.pick(spec.actions)}`;
    resource = rng.pick(spec.resources(resourceAccount));
  }

  const gen = new PolicyGenerator(rng, { service: target, action, resource, principal, trust });
  const context = generateContext(rng, principal);

  const identity: PolicyJson[] = [];
  // A service principal has no identity, boundary or session policies.
  const identityCount = service ? 0 : rng.pick([0, 1, 1, 1, 2, 2, 3]);
  for (let i = 0; i < identityCount; i++) identity.push(gen.policy('identity'));
  const scenario: Scenario = {
    seed,
    mode: trust ? 'trust' : 'standard',
    principal,
    action,
    resource,
    resourceAccount,
    context,
    identity,
  };
  if (trust || service || rng.chance(0.5))
    scenario.resourcePolicy = gen.policy(trust ? 'trust' : 'resource');
  if (!service && rng.chance(0.3)) scenario.boundary = gen.policy('identity');
  if (principal.type === 'AssumedRole' && rng.chance(0.3))
    scenario.session = gen.policy('identity');
  return scenario;
}

function generateContext(
  rng: Rng,
  principal: Scenario['principal'],
): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const spec of KEYS) {
    if (spec.key === 'aws:username') {
      if (principal.type === 'IAMUser' && rng.chance(0.8)) {
        out[spec.key] = principal.arn.slice(principal.arn.lastIndexOf('/') + 1);
      }
      continue;
    }
    if (!rng.chance(0.6)) continue;
    // Key names are case-insensitive; exercise that now and then.
    const name = rng.chance(0.1) ? spec.key.toUpperCase() : spec.key;
    if (spec.multi) {
      out[name] = rng.chance(0.05) ? [] : rng.some(spec.context, rng.int(1, 3));
    } else if (rng.chance(0.08)) {
      out[name] = rng.some(spec.context, 2);
    } else {
      out[name] = rng.pick(spec.context);
    }
  }
  return out;
}

interface Target {
  service: string;
  action: string;
  resource: string;
  principal: Scenario['principal'];
  trust: boolean;
}

class PolicyGenerator {
  constructor(
    private readonly rng: Rng,
    private readonly t: Target,
  ) {}

  policy(kind: 'identity' | 'resource' | 'trust'): PolicyJson {
    const rng = this.rng;
    // Variables only mean something in 2012-10-17 policies; other versions get none.
    const version = rng.chance(0.9) ? '2012-10-17' : rng.pick(['2008-10-17', undefined]);
    const variables = version === '2012-10-17';
    const count = rng.int(1, 4);
    const statements: Record<string, unknown>[] = [];
    for (let i = 0; i < count; i++) statements.push(this.statement(kind, variables, i));
    const doc: PolicyJson = { Statement: statements };
    if (version !== undefined) doc.Version = version;
    return doc;
  }

  statement(
    kind: 'identity' | 'resource' | 'trust',
    variables: boolean,
    i: number,
  ): Record<string, unknown> {
    const rng = this.rng;
    const effect = rng.chance(0.75) ? 'Allow' : 'Deny';
    const s: Record<string, unknown> = {};
    if (rng.chance(0.5)) s['Sid'] = `S${i}`;
    s['Effect'] = effect;
    if (kind === 'resource') {
      if (effect === 'Deny' && rng.chance(0.15))
        s['NotPrincipal'] = { AWS: this.principalValues(true) };
      else s['Principal'] = this.principalElement();
    } else if (kind === 'trust') {
      s['Principal'] = this.principalElement();
    }
    if (kind === 'trust') {
      s['Action'] = rng.pick([
        'sts:AssumeRole',
        ['sts:AssumeRole', 'sts:TagSession'],
        'sts:*',
        'sts:Assume*',
        ['sts:TagSession'],
      ]);
    } else if (rng.chance(0.12)) {
      s['NotAction'] = this.actions();
    } else {
      s['Action'] = this.actions();
    }
    if (kind !== 'trust') {
      const resources = this.resources(variables);
      if (rng.chance(0.1)) s['NotResource'] = resources;
      else s['Resource'] = resources.length === 1 && rng.chance(0.5) ? resources[0] : resources;
    }
    if (rng.chance(0.5)) s['Condition'] = this.conditions(variables);
    return s;
  }

  actions(): string | string[] {
    const rng = this.rng;
    const { action, service } = this.t;
    const name = action.slice(action.indexOf(':') + 1);
    const other = rng.pick(Object.keys(SERVICES).filter((s) => s !== service));
    const candidates = [
      action,
      action.toLowerCase(),
      `${service.toUpperCase()}:${name}`,
      `${service}:*`,
      `${service}:${name.slice(0, 3)}*`,
      `${service}:*${name.slice(-4)}`,
      `${service}:${name[0]}?${name.slice(2)}`,
      `${service}:${name}?`,
      '*',
      `${other}:*`,
      `${service}:Describe*`,
      `${service}:${rng.pick(SERVICES[service]?.actions ?? ['AssumeRole'])}`,
    ];
    const n = rng.int(1, 3);
    const list = rng.some(candidates, n);
    return list.length === 1 && rng.chance(0.5) ? list[0]! : list;
  }

  resources(variables: boolean): string[] {
    const rng = this.rng;
    const { resource, service } = this.t;
    const spec = SERVICES[service];
    const parts = resource.split(':');
    const arnService = parts[2] ?? service;
    const head = (region: string, account: string) => `arn:aws:${arnService}:${region}:${account}:`;
    const rest = parts.slice(5).join(':');
    const product = spec?.product ?? 'role/';
    const id = rest.slice(product.length);
    const region = parts[3] ?? '';
    const account = parts[4] ?? '';
    const others = spec?.resources(rng.pick([ACCOUNT_A, ACCOUNT_B])) ?? [];
    const candidates = [
      resource,
      '*',
      `${head(region, '*')}${rest}`,
      `${head(region, account)}${product}*`,
      `${head(region, account)}${product}${id.slice(0, 2)}*`,
      `${head(region, account)}${product}?${id.slice(1)}`,
      `${head(region, account)}${product}${id}*`,
      `${head(region, account)}${product}*/index/*`,
      `${head(region, account === ACCOUNT_A ? ACCOUNT_B : ACCOUNT_A)}${rest}`,
      `${head(region, account)}${product}${id.toUpperCase()}`,
      rng.pick(others.length > 0 ? others : [resource]),
    ];
    // IAM ARNs have no region; only regional services get region wildcards.
    if (region !== '') {
      candidates.push(
        `${head('*', account)}${rest}`,
        `${head('*', '*')}*`,
        `${head(region.slice(0, 3) + '*', account)}${rest}`,
        `${head('??-' + region.slice(3), account)}${rest}`,
      );
    }
    if (variables) {
      candidates.push(
        `${head(region, account)}${product}${rng.pick(VARIABLES)}`,
        `${head(region, account)}${product}${rng.pick(VARIABLES)}*`,
        `${head(region, account)}${product}${id.slice(0, 1)}\${*}`,
      );
    }
    return rng.some(candidates, rng.int(1, 3));
  }

  principalValues(forNot: boolean): string[] {
    const rng = this.rng;
    const p = this.t.principal;
    const acct = p.accountId || ACCOUNT_A;
    const pool = [
      acct,
      `arn:aws:iam::${acct}:root`,
      p.type === 'Service' ? `arn:aws:iam::${acct}:user/bob` : p.arn,
      p.sessionIssuerArn ?? `arn:aws:iam::${acct}:user/carol`,
      `arn:aws:iam::${ACCOUNT_B}:root`,
      ACCOUNT_B,
      `arn:aws:iam::${acct}:user/alice`,
      `arn:aws:iam::${acct}:role/Builder`,
      `arn:aws:sts::${acct}:assumed-role/App/session-1`,
    ];
    if (!forNot) pool.push('*');
    return rng.some(pool, rng.int(1, 3));
  }

  principalElement(): unknown {
    const rng = this.rng;
    const r = rng.next();
    if (r < 0.1) return '*';
    if (r < 0.15) return { AWS: '*' };
    const services = ['lambda.amazonaws.com', 'sns.amazonaws.com'];
    if (r < (this.t.principal.type === 'Service' ? 0.6 : 0.2)) {
      return { Service: rng.chance(0.3) ? services : rng.pick(services) };
    }
    const values = this.principalValues(false);
    return { AWS: values.length === 1 && rng.chance(0.5) ? values[0] : values };
  }

  conditions(variables: boolean): Record<string, Record<string, string | string[]>> {
    const rng = this.rng;
    const out: Record<string, Record<string, string | string[]>> = {};
    const n = rng.int(1, 3);
    for (let i = 0; i < n; i++) {
      const spec = rng.pick(KEYS);
      let operator: string;
      if (rng.chance(0.08)) operator = 'Null';
      else {
        const family =
          spec.type === 'string' || rng.chance(0.9) ? OPERATORS[spec.type] : OPERATORS.string;
        operator = rng.pick(family);
        if (spec.multi ? rng.chance(0.8) : rng.chance(0.15)) {
          operator = `${rng.pick(['ForAllValues', 'ForAnyValue'])}:${operator}`;
        }
        if (rng.chance(0.2)) operator += 'IfExists';
      }
      const values =
        operator === 'Null'
          ? [rng.pick(['true', 'false'])]
          : this.values(spec, operator, variables);
      const key = rng.chance(0.1) ? spec.key.toLowerCase() : spec.key;
      const block = (out[operator] ??= {});
      if (key in block) continue;
      block[key] = values.length === 1 && rng.chance(0.5) ? values[0]! : values;
    }
    return out;
  }

  values(spec: KeySpec, operator: string, variables: boolean): string[] {
    const rng = this.rng;
    const pool = [...spec.policy];
    const like = operator.includes('Like');
    if (spec.type === 'string' || spec.type === 'arn') {
      if (like) pool.push('*', 'Ord*', 'j?bs', 'a*e', '*e*', '?');
      if (variables) pool.push(...VARIABLES);
      else pool.splice(0, pool.length, ...pool.filter((v) => !v.includes('${')));
    }
    return rng.some(pool, rng.int(1, 3));
  }
}
