/**
 * AWS's policy evaluation logic: actions, resources, principals, and how identity-based,
 * resource-based, boundary and session policies combine, in one account and across accounts.
 */
import { describe, expect, it } from 'vitest';
import {
  accessDeniedMessage,
  evaluateTrust,
  explainDecision,
  formatStatementRef,
  type RequestPrincipal,
} from '../../src/policy/index.js';
import { ACCT, OTHER, alice, appSession, decide, policy } from './helpers.js';

const allowAll = () => policy({ Effect: 'Allow', Action: '*', Resource: '*' });

describe('actions', () => {
  it('match case-insensitively, with wildcards in the action name', () => {
    const p = policy({
      Effect: 'Allow',
      Action: ['S3:get*', 'ec2:Describe?nstances'],
      Resource: '*',
    });
    expect(decide({ identityPolicies: [p], action: 's3:GetObject' }).decision).toBe('allowed');
    expect(decide({ identityPolicies: [p], action: 'S3:GETOBJECTACL' }).decision).toBe('allowed');
    expect(decide({ identityPolicies: [p], action: 'ec2:DescribeInstances' }).decision).toBe(
      'allowed',
    );
    expect(decide({ identityPolicies: [p], action: 'ec2:DescribeInstancesX' }).decision).toBe(
      'implicitDeny',
    );
    expect(decide({ identityPolicies: [p], action: 's3:PutObject' }).decision).toBe('implicitDeny');
  });

  it('NotAction applies to every other action, of every service', () => {
    const p = policy({ Effect: 'Allow', NotAction: 'iam:*', Resource: '*' });
    expect(decide({ identityPolicies: [p], action: 'iam:CreateUser' }).decision).toBe(
      'implicitDeny',
    );
    expect(decide({ identityPolicies: [p], action: 'sqs:SendMessage' }).decision).toBe('allowed');
  });
});

describe('resources', () => {
  const on = (pattern: string | string[], resource: string, notResource = false) =>
    decide({
      identityPolicies: [
        policy({
          Effect: 'Allow',
          Action: '*',
          [notResource ? 'NotResource' : 'Resource']: pattern,
        }),
      ],
      resource,
    }).decision === 'allowed';

  it('match ARNs segment by segment, case-sensitively', () => {
    expect(
      on('arn:aws:sqs:*:111122223333:queue1', 'arn:aws:sqs:us-east-2:111122223333:queue1'),
    ).toBe(true);
    expect(
      on('arn:aws:sqs:*:111122223333:queue1', 'arn:aws:sqs:us-east-2:444455556666:queue1'),
    ).toBe(false);
    expect(on('arn:aws:sqs:us-*:*:queue?', 'arn:aws:sqs:us-west-1:444455556666:queue7')).toBe(true);
    expect(on('arn:aws:s3:::Bucket/*', 'arn:aws:s3:::bucket/k')).toBe(false);
    // A wildcard in the region does not reach into the account.
    expect(on('arn:aws:sqs:*:queue1', 'arn:aws:sqs:us-east-2:111122223333:queue1')).toBe(false);
  });

  it("let * in the resource part span / and : (AWS's S3 example)", () => {
    const pattern = 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/*/test/*';
    for (const key of [
      '1/test/object.jpg',
      '1/2/test/object.jpg',
      '1/2/test/3/object.jpg',
      '1/2/3/test/4/object.jpg',
      '1///test///object.jpg',
      '1/test/.jpg',
      '/test/object.jpg',
    ]) {
      expect(on(pattern, `arn:aws:s3:::DOC-EXAMPLE-BUCKET/${key}`)).toBe(true);
    }
    expect(on(pattern, 'arn:aws:s3:::DOC-EXAMPLE-BUCKET/1/tests/object.jpg')).toBe(false);
    expect(
      on('arn:aws:lambda:*:*:function:*', 'arn:aws:lambda:us-east-1:111122223333:function:f:prod'),
    ).toBe(true);
  });

  it('NotResource applies to every other resource', () => {
    const list = ['arn:aws:s3:::HRBucket/Payroll', 'arn:aws:s3:::HRBucket/Payroll/*'];
    expect(on(list, 'arn:aws:s3:::HRBucket/Payroll/2024', true)).toBe(false);
    expect(on(list, 'arn:aws:s3:::HRBucket/Other', true)).toBe(true);
  });

  it('substitute policy variables in the resource part only', () => {
    const p = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: 'arn:aws:s3:::home/${aws:username}/*',
    });
    const ctx = { 'aws:username': 'alice' };
    expect(
      decide({ identityPolicies: [p], resource: 'arn:aws:s3:::home/alice/a.txt', context: ctx })
        .decision,
    ).toBe('allowed');
    expect(
      decide({ identityPolicies: [p], resource: 'arn:aws:s3:::home/bob/a.txt', context: ctx })
        .decision,
    ).toBe('implicitDeny');
    const d = decide({ identityPolicies: [p], resource: 'arn:aws:s3:::home/alice/a.txt' });
    expect(d.decision).toBe('implicitDeny');
    expect(d.missingContextKeys).toEqual(['aws:username']);
    const team = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: "arn:aws:s3:::DOC-EXAMPLE-BUCKET-${aws:PrincipalTag/team, 'company-wide'}",
    });
    expect(
      decide({ identityPolicies: [team], resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET-company-wide' })
        .decision,
    ).toBe('allowed');
    expect(
      decide({
        identityPolicies: [team],
        resource: 'arn:aws:s3:::DOC-EXAMPLE-BUCKET-yellow',
        context: { 'aws:PrincipalTag/team': 'yellow' },
      }).decision,
    ).toBe('allowed');
  });

  it('a NotResource with an unresolved variable makes the statement not apply', () => {
    const p = policy({
      Effect: 'Deny',
      Action: '*',
      NotResource: 'arn:aws:s3:::home/${aws:username}/*',
    });
    const d = decide({ identityPolicies: [p, allowAll()] });
    expect(d.decision).toBe('allowed');
    expect(d.trace.find((e) => e.kind === 'statement' && e.effect === 'Deny')).toMatchObject({
      applies: false,
      mismatch: { element: 'NotResource', unresolvedVariable: 'aws:username' },
    });
  });

  it('"*" as the request resource is matched only by "*"', () => {
    const p = policy({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::*' });
    expect(decide({ identityPolicies: [p], resource: '*' }).decision).toBe('implicitDeny');
    expect(decide({ identityPolicies: [allowAll()], resource: '*' }).decision).toBe('allowed');
  });
});

describe('identity-based policies', () => {
  it('implicitly deny by default, allow with an Allow, and an explicit deny wins', () => {
    expect(decide().decision).toBe('implicitDeny');
    const deny = policy({ Sid: 'DenyAll', Effect: 'Deny', Action: 's3:*', Resource: '*' });
    expect(decide({ identityPolicies: [allowAll()] }).decision).toBe('allowed');
    const d = decide({ identityPolicies: [allowAll(), deny] });
    expect(d.decision).toBe('explicitDeny');
    expect(d.matched.map(formatStatementRef)).toEqual([`${deny.id}#DenyAll`]);
    expect(d.denial).toEqual({ policyType: 'identity', explicit: true });
  });
});

describe('resource-based policies in one account', () => {
  const bucket = (principal: unknown, effect = 'Allow') =>
    policy(
      { Effect: effect, Principal: principal, Action: 's3:*', Resource: 'arn:aws:s3:::b/*' },
      'resource',
    );

  it('an Allow naming the user is enough without any identity policy', () => {
    expect(decide({ resourcePolicy: bucket({ AWS: alice.arn }) }).decision).toBe('allowed');
    expect(decide({ resourcePolicy: bucket('*') }).decision).toBe('allowed');
    expect(
      decide({ resourcePolicy: bucket({ AWS: `arn:aws:iam::${ACCT}:user/bob` }) }).decision,
    ).toBe('implicitDeny');
  });

  it('naming the account delegates to the identity policies', () => {
    expect(decide({ resourcePolicy: bucket({ AWS: ACCT }) }).decision).toBe('implicitDeny');
    expect(
      decide({
        resourcePolicy: bucket({ AWS: `arn:aws:iam::${ACCT}:root` }),
        identityPolicies: [allowAll()],
      }).decision,
    ).toBe('allowed');
  });

  it('a Deny applies to every principal it names, including by account', () => {
    const d = decide({
      resourcePolicy: bucket({ AWS: ACCT }, 'Deny'),
      identityPolicies: [allowAll()],
    });
    expect(d.decision).toBe('explicitDeny');
    expect(d.denial).toEqual({ policyType: 'resource', explicit: true });
  });

  it('a user ARN grant is not limited by an implicit deny in a permissions boundary', () => {
    const boundary = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
    expect(
      decide({ resourcePolicy: bucket({ AWS: alice.arn }), permissionsBoundary: boundary })
        .decision,
    ).toBe('allowed');
    expect(decide({ identityPolicies: [allowAll()], permissionsBoundary: boundary }).decision).toBe(
      'implicitDeny',
    );
  });

  it('a role ARN grant is limited by the boundary and session policies, a session ARN grant is not', () => {
    const boundary = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
    const session = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }, 'session');
    const role = bucket({ AWS: appSession.sessionIssuerArn });
    const sessionGrant = bucket({ AWS: appSession.arn });
    const base = { principal: appSession };
    expect(decide({ ...base, resourcePolicy: role }).decision).toBe('allowed');
    expect(decide({ ...base, resourcePolicy: role, permissionsBoundary: boundary }).decision).toBe(
      'implicitDeny',
    );
    expect(decide({ ...base, resourcePolicy: role, sessionPolicies: [session] }).decision).toBe(
      'implicitDeny',
    );
    expect(
      decide({ ...base, resourcePolicy: role, sessionPolicies: [session] }).denial?.policyType,
    ).toBe('session');
    expect(
      decide({ ...base, resourcePolicy: sessionGrant, permissionsBoundary: boundary }).decision,
    ).toBe('allowed');
    expect(
      decide({ ...base, resourcePolicy: sessionGrant, sessionPolicies: [session] }).decision,
    ).toBe('allowed');
  });

  it('matches a role ARN against sessions by role name, with the path from sessionIssuerArn', () => {
    const pathed: RequestPrincipal = {
      ...appSession,
      sessionIssuerArn: `arn:aws:iam::${ACCT}:role/team/app`,
    };
    expect(
      decide({
        principal: pathed,
        resourcePolicy: bucket({ AWS: `arn:aws:iam::${ACCT}:role/team/app` }),
      }).decision,
    ).toBe('allowed');
    const bare: RequestPrincipal = { type: 'AssumedRole', arn: appSession.arn, accountId: ACCT };
    expect(
      decide({ principal: bare, resourcePolicy: bucket({ AWS: `arn:aws:iam::${ACCT}:role/APP` }) })
        .decision,
    ).toBe('allowed');
    expect(
      decide({
        principal: bare,
        resourcePolicy: bucket({ AWS: `arn:aws:iam::${ACCT}:role/other` }),
      }).decision,
    ).toBe('implicitDeny');
  });
});

describe('permissions boundaries and session policies', () => {
  it('intersect with identity policies', () => {
    const s3 = policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' });
    const ec2 = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
    expect(decide({ identityPolicies: [allowAll()], permissionsBoundary: s3 }).decision).toBe(
      'allowed',
    );
    const d = decide({ identityPolicies: [allowAll()], permissionsBoundary: ec2 });
    expect(d.denial).toEqual({ policyType: 'boundary', explicit: false });
    // A boundary grants nothing on its own.
    expect(decide({ permissionsBoundary: s3 }).denial).toEqual({
      policyType: 'identity',
      explicit: false,
    });
    const session = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }, 'session');
    expect(
      decide({ principal: appSession, identityPolicies: [allowAll()], sessionPolicies: [session] })
        .decision,
    ).toBe('allowed');
    expect(
      decide({
        principal: appSession,
        action: 's3:PutObject',
        identityPolicies: [allowAll()],
        sessionPolicies: [session],
      }).denial,
    ).toEqual({ policyType: 'session', explicit: false });
  });

  it('several session policies (inline and managed) act as one set', () => {
    const a = policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }, 'session');
    const b = policy({ Effect: 'Allow', Action: 's3:PutObject', Resource: '*' }, 'session');
    const req = { principal: appSession, identityPolicies: [allowAll()], sessionPolicies: [a, b] };
    expect(decide({ ...req, action: 's3:PutObject' }).decision).toBe('allowed');
    expect(decide({ ...req, action: 's3:DeleteObject' }).decision).toBe('implicitDeny');
  });

  it('explicit denies in a boundary or session policy deny', () => {
    const deny = policy({ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' });
    expect(decide({ identityPolicies: [allowAll()], permissionsBoundary: deny }).denial).toEqual({
      policyType: 'boundary',
      explicit: true,
    });
    expect(
      decide({ principal: appSession, identityPolicies: [allowAll()], sessionPolicies: [deny] })
        .denial,
    ).toEqual({
      policyType: 'session',
      explicit: true,
    });
  });

  it('a federated-user session without a session policy has no permissions', () => {
    const fed: RequestPrincipal = {
      type: 'FederatedUser',
      arn: `arn:aws:sts::${ACCT}:federated-user/carol`,
      accountId: ACCT,
    };
    expect(decide({ principal: fed, identityPolicies: [allowAll()] }).decision).toBe(
      'implicitDeny',
    );
    const session = policy({ Effect: 'Allow', Action: 's3:*', Resource: '*' }, 'session');
    expect(
      decide({ principal: fed, identityPolicies: [allowAll()], sessionPolicies: [session] })
        .decision,
    ).toBe('allowed');
  });

  it('NotPrincipal with Deny always denies a principal with a permissions boundary', () => {
    const rp = policy(
      [
        { Effect: 'Allow', Principal: '*', Action: 's3:*', Resource: '*' },
        {
          Effect: 'Deny',
          NotPrincipal: { AWS: [alice.arn, `arn:aws:iam::${ACCT}:root`] },
          Action: 's3:*',
          Resource: '*',
        },
      ],
      'resource',
    );
    expect(decide({ resourcePolicy: rp }).decision).toBe('allowed');
    expect(
      decide({ resourcePolicy: rp, principal: { ...alice, hasPermissionsBoundary: true } })
        .decision,
    ).toBe('explicitDeny');
    expect(
      decide({
        resourcePolicy: rp,
        principal: { ...alice, arn: `arn:aws:iam::${OTHER}:user/eve`, accountId: OTHER },
      }).decision,
    ).toBe('explicitDeny');
  });
});

describe('cross-account requests', () => {
  const cross = { resource: 'arn:aws:s3:::b/k', resourceAccount: OTHER };
  const grant = (principal: unknown) =>
    policy(
      {
        Effect: 'Allow',
        Principal: principal,
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b/*',
      },
      'resource',
    );

  it('need both the identity side and the resource policy', () => {
    expect(decide({ ...cross, identityPolicies: [allowAll()] }).denial).toEqual({
      policyType: 'resource',
      explicit: false,
    });
    expect(decide({ ...cross, resourcePolicy: grant({ AWS: alice.arn }) }).denial).toEqual({
      policyType: 'identity',
      explicit: false,
    });
    for (const principal of [{ AWS: alice.arn }, { AWS: ACCT }, '*']) {
      expect(
        decide({ ...cross, identityPolicies: [allowAll()], resourcePolicy: grant(principal) })
          .decision,
      ).toBe('allowed');
    }
  });

  it('are limited by boundaries and session policies even when the session is named', () => {
    const session = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' }, 'session');
    const d = decide({
      ...cross,
      principal: appSession,
      identityPolicies: [allowAll()],
      resourcePolicy: grant({ AWS: appSession.arn }),
      sessionPolicies: [session],
    });
    expect(d.denial).toEqual({ policyType: 'session', explicit: false });
  });
});

describe('other callers', () => {
  it('the root user is allowed in its account unless explicitly denied', () => {
    const root: RequestPrincipal = {
      type: 'Root',
      arn: `arn:aws:iam::${ACCT}:root`,
      accountId: ACCT,
    };
    expect(decide({ principal: root }).decision).toBe('allowed');
    const deny = policy(
      { Effect: 'Deny', Principal: { AWS: ACCT }, Action: '*', Resource: '*' },
      'resource',
    );
    expect(decide({ principal: root, resourcePolicy: deny }).decision).toBe('explicitDeny');
    expect(decide({ principal: root, resourceAccount: OTHER }).decision).toBe('implicitDeny');
  });

  it('a service principal needs a resource policy naming it', () => {
    const svc: RequestPrincipal = {
      type: 'Service',
      arn: 'cloudtrail.amazonaws.com',
      accountId: '',
    };
    const rp = policy(
      {
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: '*',
      },
      'resource',
    );
    expect(decide({ principal: svc, action: 's3:PutObject', resourcePolicy: rp }).decision).toBe(
      'allowed',
    );
    expect(
      decide({ principal: svc, action: 's3:PutObject', identityPolicies: [allowAll()] }).decision,
    ).toBe('implicitDeny');
  });

  it('anonymous callers match only "*"', () => {
    const anon: RequestPrincipal = { type: 'Anonymous', arn: '*', accountId: '' };
    const pub = policy(
      { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*' },
      'resource',
    );
    expect(decide({ principal: anon, resourcePolicy: pub }).decision).toBe('allowed');
  });
});

describe('role trust policies', () => {
  const role = `arn:aws:iam::${ACCT}:role/app`;
  const trust = (principal: unknown, extra: Record<string, unknown> = {}) =>
    policy(
      {
        Effect: 'Allow',
        Principal: principal,
        Action: ['sts:AssumeRole', 'sts:TagSession'],
        ...extra,
      },
      'trust',
    );
  const assume = (principal: RequestPrincipal, trustPolicy: ReturnType<typeof trust>, more = {}) =>
    evaluateTrust({
      principal,
      action: 'sts:AssumeRole',
      roleArn: role,
      trustPolicy,
      context: {},
      ...more,
    });

  it("must allow even in the role's account; naming the account also needs an identity allow", () => {
    expect(assume(alice, trust({ AWS: alice.arn })).decision).toBe('allowed');
    expect(assume(alice, trust({ AWS: ACCT })).denial).toEqual({
      policyType: 'identity',
      explicit: false,
    });
    expect(assume(alice, trust({ AWS: ACCT }), { identityPolicies: [allowAll()] }).decision).toBe(
      'allowed',
    );
    expect(
      assume(alice, trust({ Service: 'ec2.amazonaws.com' }), { identityPolicies: [allowAll()] })
        .denial,
    ).toEqual({
      policyType: 'trust',
      explicit: false,
    });
  });

  it("across accounts the caller's identity policies must allow too", () => {
    const eve: RequestPrincipal = {
      type: 'IAMUser',
      arn: `arn:aws:iam::${OTHER}:user/eve`,
      accountId: OTHER,
    };
    expect(assume(eve, trust({ AWS: eve.arn })).denial).toEqual({
      policyType: 'identity',
      explicit: false,
    });
    expect(assume(eve, trust({ AWS: OTHER }), { identityPolicies: [allowAll()] }).decision).toBe(
      'allowed',
    );
  });

  it('EKS Pod Identity: pods.eks.amazonaws.com may assume and tag sessions', () => {
    const pods: RequestPrincipal = {
      type: 'Service',
      arn: 'pods.eks.amazonaws.com',
      accountId: '',
    };
    const t = trust({ Service: 'pods.eks.amazonaws.com' });
    expect(assume(pods, t).decision).toBe('allowed');
    expect(
      evaluateTrust({
        principal: pods,
        action: 'sts:TagSession',
        roleArn: role,
        trustPolicy: t,
        context: {},
      }).decision,
    ).toBe('allowed');
    expect(
      evaluateTrust({
        principal: pods,
        action: 'sts:SetSourceIdentity',
        roleArn: role,
        trustPolicy: t,
        context: {},
      }).denial,
    ).toEqual({ policyType: 'trust', explicit: false });
  });

  it('IRSA: a web identity from the named provider, with sub and aud conditions', () => {
    const provider = `arn:aws:iam::${ACCT}:oidc-provider/oidc.example.com/id/ABC`;
    const t = policy(
      {
        Effect: 'Allow',
        Principal: { Federated: provider },
        Action: 'sts:AssumeRoleWithWebIdentity',
        Condition: {
          StringEquals: {
            'oidc.example.com/id/ABC:sub': 'system:serviceaccount:default:app',
            'oidc.example.com/id/ABC:aud': 'sts.amazonaws.com',
          },
        },
      },
      'trust',
    );
    const web: RequestPrincipal = { type: 'WebIdentity', arn: provider, accountId: ACCT };
    const run = (context: Record<string, string>, principal = web) =>
      evaluateTrust({
        principal,
        action: 'sts:AssumeRoleWithWebIdentity',
        roleArn: role,
        trustPolicy: t,
        context,
      });
    const good = {
      'oidc.example.com/id/ABC:sub': 'system:serviceaccount:default:app',
      'oidc.example.com/id/ABC:aud': 'sts.amazonaws.com',
    };
    expect(run(good).decision).toBe('allowed');
    const wrong = run({
      ...good,
      'oidc.example.com/id/ABC:sub': 'system:serviceaccount:default:other',
    });
    expect(wrong.decision).toBe('implicitDeny');
    expect(wrong.trace[0]).toMatchObject({
      mismatch: {
        element: 'Condition',
        operator: 'StringEquals',
        key: 'oidc.example.com/id/ABC:sub',
      },
    });
    expect(run(good, { ...web, arn: `arn:aws:iam::${ACCT}:oidc-provider/other` }).decision).toBe(
      'implicitDeny',
    );
    expect(
      accessDeniedMessage(
        { principal: web, action: 'sts:AssumeRoleWithWebIdentity', resource: role },
        wrong,
      ),
    ).toBe(
      `User: ${provider} is not authorized to perform: sts:AssumeRoleWithWebIdentity on resource: ${role} because no role trust policy allows the sts:AssumeRoleWithWebIdentity action`,
    );
  });
});

describe('traces, missing keys and messages', () => {
  it('names each statement and why it did not apply', () => {
    const p = policy([
      {
        Sid: 'Reports',
        Effect: 'Allow',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::reports/*',
      },
      {
        Sid: 'Tls',
        Effect: 'Deny',
        Action: 's3:*',
        Resource: '*',
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
      { Sid: 'Ec2', Effect: 'Allow', Action: 'ec2:*', Resource: '*' },
    ]);
    const d = decide({ identityPolicies: [p], context: { 'aws:SecureTransport': true } });
    expect(d.decision).toBe('implicitDeny');
    expect(d.trace).toEqual([
      { kind: 'skipped', policyType: 'identity', policyId: p.id, statements: 1 },
      expect.objectContaining({
        statement: { policyId: p.id, sid: 'Reports', index: 0 },
        applies: false,
        mismatch: expect.objectContaining({ element: 'Resource' }),
      }),
      expect.objectContaining({
        statement: { policyId: p.id, sid: 'Tls', index: 1 },
        applies: false,
        mismatch: expect.objectContaining({
          element: 'Condition',
          operator: 'Bool',
          key: 'aws:SecureTransport',
        }),
      }),
    ]);
    const full = decide(
      { identityPolicies: [p], context: { 'aws:SecureTransport': true } },
      { trace: 'full' },
    );
    expect(full.decision).toBe('implicitDeny');
    expect(full.trace).toHaveLength(3);
    expect(full.trace[2]).toMatchObject({
      statement: { sid: 'Ec2' },
      mismatch: { element: 'Action' },
    });
    expect(explainDecision(d)[0]).toBe('decision: implicitDeny');
  });

  it('reports the condition keys the evaluated statements needed', () => {
    const p = policy({
      Effect: 'Allow',
      Action: 's3:*',
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:PrincipalTag/team': 'a' },
        IpAddress: { 'aws:SourceIp': '10.0.0.0/8' },
      },
    });
    expect([...decide({ identityPolicies: [p] }).missingContextKeys].sort()).toEqual([
      'aws:PrincipalTag/team',
      'aws:SourceIp',
    ]);
    expect(
      decide({ identityPolicies: [p], action: 'ec2:RunInstances' }).missingContextKeys,
    ).toEqual([]);
  });

  it("builds AWS's AccessDenied messages", () => {
    const req = { principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' };
    const head = `User: ${alice.arn} is not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/k`;
    expect(accessDeniedMessage(req, decide())).toBe(
      `${head} because no identity-based policy allows the s3:GetObject action`,
    );
    // S3's form quotes the resource.
    expect(accessDeniedMessage({ ...req, quoteResource: true }, decide())).toBe(
      `User: ${alice.arn} is not authorized to perform: s3:GetObject on resource: "arn:aws:s3:::b/k" because no identity-based policy allows the s3:GetObject action`,
    );
    const deny = policy({ Effect: 'Deny', Action: '*', Resource: '*' });
    expect(accessDeniedMessage(req, decide({ identityPolicies: [deny] }))).toBe(
      `${head} with an explicit deny in an identity-based policy`,
    );
    const boundary = policy({ Effect: 'Allow', Action: 'ec2:*', Resource: '*' });
    expect(
      accessDeniedMessage(
        req,
        decide({ identityPolicies: [allowAll()], permissionsBoundary: boundary }),
      ),
    ).toBe(`${head} because no permissions boundary allows the s3:GetObject action`);
    expect(
      accessDeniedMessage(
        req,
        decide({ identityPolicies: [allowAll()], permissionsBoundary: deny }),
      ),
    ).toBe(`${head} with an explicit deny in a permissions boundary`);
    expect(
      accessDeniedMessage(req, decide({ identityPolicies: [allowAll()], resourceAccount: OTHER })),
    ).toBe(`${head} because no resource-based policy allows the s3:GetObject action`);
    const rdeny = policy(
      { Effect: 'Deny', Principal: '*', Action: '*', Resource: '*' },
      'resource',
    );
    expect(
      accessDeniedMessage(req, decide({ identityPolicies: [allowAll()], resourcePolicy: rdeny })),
    ).toBe(`${head} with an explicit deny in a resource-based policy`);
    const session = policy({ Effect: 'Deny', Action: '*', Resource: '*' }, 'session');
    expect(
      accessDeniedMessage(
        req,
        decide({
          principal: appSession,
          identityPolicies: [allowAll()],
          sessionPolicies: [session],
        }),
      ),
    ).toBe(`${head} with an explicit deny in a session policy`);
    expect(accessDeniedMessage({ ...req, action: 'iam:ListUsers', resource: '*' }, decide())).toBe(
      `User: ${alice.arn} is not authorized to perform: iam:ListUsers because no identity-based policy allows the iam:ListUsers action`,
    );
  });
});

describe('the service index', () => {
  it("examines only statements that can name the request's service", () => {
    const statements = Array.from({ length: 200 }, (_, i) => ({
      Effect: 'Allow',
      Action: `svc${i}:Get*`,
      Resource: '*',
    }));
    statements.push({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' });
    const p = policy(statements, 'identity');
    expect(p.candidates('s3')).toHaveLength(1);
    expect(p.candidates('unknown')).toHaveLength(0);
    const d = decide({ identityPolicies: [p] });
    expect(d.decision).toBe('allowed');
    expect(d.trace).toHaveLength(2);
    const full = decide({ identityPolicies: [p] }, { trace: 'full' });
    expect(full.trace.filter((e) => e.kind === 'statement')).toHaveLength(201);
  });
});
