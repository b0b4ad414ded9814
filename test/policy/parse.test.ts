/**
 * Parsing and validation: AWS's grammar, the rules of each policy kind, size limits, and AWS's
 * MalformedPolicyDocument messages.
 */
import { describe, expect, it } from 'vitest';
import { isAwsError } from '../../src/errors/index.js';
import { parsePolicy, type ParseOptions, type PolicyKind } from '../../src/policy/index.js';

const V = '2012-10-17';

function doc(statement: unknown, extra: Record<string, unknown> = { Version: V }): string {
  return JSON.stringify({ ...extra, Statement: statement });
}

function allow(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    Effect: 'Allow',
    Action: 's3:ListBucket',
    Resource: 'arn:aws:s3:::example_bucket',
    ...extra,
  };
}

/** The error `parsePolicy` throws, as `code: message`. */
function failure(text: string, options: ParseOptions | PolicyKind = 'managed'): string {
  const opts = typeof options === 'string' ? { kind: options } : options;
  try {
    parsePolicy(text, opts);
  } catch (err) {
    if (isAwsError(err)) return `${err.code}: ${err.message}`;
    throw err;
  }
  return 'accepted';
}

const MALFORMED = 'MalformedPolicyDocument: ';

describe('the grammar', () => {
  it('accepts a statement object or an array, an Id, and condition values of any JSON scalar', () => {
    const p = parsePolicy(
      JSON.stringify({
        Version: V,
        Id: 'a b c',
        Statement: {
          Sid: 'ViewOnly1',
          Effect: 'Allow',
          Action: ['s3:Get*', 's3:List*'],
          Resource: '*',
          Condition: {
            Bool: { 'aws:SecureTransport': true },
            NumericLessThan: { 's3:max-keys': 10 },
          },
        },
      }),
      { kind: 'managed' },
    );
    expect(p).toMatchObject({ kind: 'managed', version: V, id: 'a b c' });
    expect(p.statements[0]).toMatchObject({
      sid: 'ViewOnly1',
      effect: 'Allow',
      action: ['s3:Get*', 's3:List*'],
      resource: ['*'],
      conditions: [
        { operator: 'Bool', key: 'aws:SecureTransport', values: ['true'] },
        { operator: 'NumericLessThan', key: 's3:max-keys', values: ['10'] },
      ],
    });
    expect(
      parsePolicy(doc([allow(), allow({ Effect: 'Deny' })]), { kind: 'managed' }).statements,
    ).toHaveLength(2);
  });

  it('rejects text that is not JSON with "Syntax errors in policy."', () => {
    expect(failure('This is not a json document')).toBe(`${MALFORMED}Syntax errors in policy.`);
    expect(failure('{"Version":"2012-10-17",')).toBe(`${MALFORMED}Syntax errors in policy.`);
  });

  it('rejects a duplicated key (the grammar forbids repeated elements)', () => {
    const text = `{"Version":"${V}","Statement":{"Effect":"Allow","Effect":"Deny","Action":"s3:*","Resource":"*"}}`;
    expect(failure(text)).toBe(`${MALFORMED}Syntax errors in policy.`);
  });

  it('rejects unknown elements, wrong types and empty statement lists', () => {
    const syntax = `${MALFORMED}Syntax errors in policy.`;
    expect(failure(JSON.stringify({ Version: V }))).toBe(syntax);
    expect(failure(doc([]))).toBe(syntax);
    expect(failure(doc(['afd']))).toBe(syntax);
    expect(failure(doc(allow(), { Version: V, 'Extra field': 'value' }))).toBe(syntax);
    expect(failure(doc(allow({ 'Extra field': 'value' })))).toBe(syntax);
    expect(failure(doc(allow(), { Version: V, Id: ['x'] }))).toBe(syntax);
    expect(failure(doc(allow({ Sid: {} })))).toBe(syntax);
    expect(failure(doc(allow({ Resource: { a: 'arn:aws:s3:::b' } })))).toBe(syntax);
    expect(failure(doc(allow({ Resource: ['adfdf', {}] })))).toBe(syntax);
    expect(failure(doc(allow({ Action: [[]] })))).toBe(syntax);
    expect(failure(doc(allow({ NotResource: '*' })))).toBe(syntax);
    expect(failure(doc(allow({ NotAction: 'iam:dsf' })))).toBe(syntax);
    expect(failure(doc(allow({ Condition: [] })))).toBe(syntax);
    expect(failure(doc(allow({ Condition: { DateGreaterThan: 'b' } })))).toBe(syntax);
    expect(failure(doc(allow({ Condition: { DateGreaterThan: { a: {} } } })))).toBe(syntax);
  });

  it('rejects an unknown condition operator with "Syntax errors in policy."', () => {
    expect(failure(doc(allow({ Condition: { StringEqualz: { 'aws:username': 'alice' } } })))).toBe(
      `${MALFORMED}Syntax errors in policy.`,
    );
    expect(failure(doc(allow({ Condition: { 'ForAnyValue::StringEquals': { a: 'b' } } })))).toBe(
      `${MALFORMED}Syntax errors in policy.`,
    );
    // Operator names are case-sensitive.
    expect(failure(doc(allow({ Condition: { stringequals: { a: 'b' } } })))).toBe(
      `${MALFORMED}Syntax errors in policy.`,
    );
    // IAM accepts an unknown operator with an empty block; it has no effect.
    expect(failure(doc(allow({ Condition: { x: {}, y: {} } })))).toBe('accepted');
  });

  it('accepts every operator family with set qualifiers and IfExists', () => {
    const ops = [
      'StringEquals',
      'ForAnyValue:StringLikeIfExists',
      'ForAllValues:StringNotEqualsIgnoreCase',
      'NumericGreaterThanEqualsIfExists',
      'DateNotEquals',
      'BoolIfExists',
      'BinaryEquals',
      'NotIpAddress',
      'ArnNotLike',
      'Null',
    ];
    const condition = Object.fromEntries(ops.map((o) => [o, { 'aws:k': '2020-01-01T00:00:00Z' }]));
    expect(failure(doc(allow({ Condition: condition })))).toBe('accepted');
  });

  it('rejects a missing Effect with "Syntax errors in policy." and a lower-case one as legacy', () => {
    expect(failure(doc({ Action: 's3:ListBucket', Resource: 'arn:aws:s3:::b' }))).toBe(
      `${MALFORMED}Syntax errors in policy.`,
    );
    expect(failure(doc(allow({ Effect: 'invalid' })))).toBe(`${MALFORMED}Syntax errors in policy.`);
    expect(failure(doc(allow({ Effect: 'denY' })))).toBe(
      `${MALFORMED}The policy failed legacy parsing`,
    );
  });
});

describe('Version', () => {
  it('requires 2012-10-17 for managed policies and boundaries', () => {
    const message = `${MALFORMED}Policy document must be version 2012-10-17 or greater.`;
    expect(failure(doc(allow(), {}), 'managed')).toBe(message);
    expect(failure(doc(allow(), { Version: '2008-10-17' }), 'managed')).toBe(message);
    expect(failure(doc(allow(), {}), 'boundary')).toBe(message);
  });

  it('rejects an unknown version with "Syntax errors in policy."', () => {
    expect(failure(doc(allow(), { Version: '2013-10-17' }), 'managed')).toBe(
      `${MALFORMED}Syntax errors in policy.`,
    );
    expect(failure(doc(allow(), { Version: '2013-10-17' }), 'role-inline')).toBe(
      `${MALFORMED}Syntax errors in policy.`,
    );
  });

  it('allows inline, resource, trust and session policies without one (2008-10-17 rules)', () => {
    expect(parsePolicy(doc(allow(), {}), { kind: 'role-inline' }).version).toBeUndefined();
    expect(
      parsePolicy(doc(allow(), { Version: '2008-10-17' }), { kind: 'user-inline' }).version,
    ).toBe('2008-10-17');
    expect(failure(doc(allow({ Principal: '*' }), {}), 'resource')).toBe('accepted');
    expect(failure(doc(allow(), {}), 'session')).toBe('accepted');
  });
});

describe('Principal by policy kind', () => {
  it('rejects a principal in identity policies', () => {
    const message = `${MALFORMED}Policy document should not specify a principal.`;
    for (const kind of ['managed', 'role-inline', 'user-inline', 'boundary', 'session'] as const) {
      expect(failure(doc(allow({ Principal: '*' })), kind)).toBe(message);
      expect(failure(doc(allow({ NotPrincipal: { AWS: '123456789012' } })), kind)).toBe(message);
    }
  });

  it('requires one in resource-based policies', () => {
    expect(failure(doc(allow()), 'resource')).toBe(`${MALFORMED}Missing required field Principal`);
    expect(
      failure(doc(allow({ Principal: { AWS: 'arn:aws:iam::123456789012:user/*' } })), 'resource'),
    ).toBe(`${MALFORMED}Invalid principal in policy`);
    expect(failure(doc(allow({ Principal: { Nobody: 'x' } })), 'resource')).toBe(
      `${MALFORMED}Invalid principal in policy`,
    );
    const ok = [
      '*',
      { AWS: '*' },
      { AWS: '123456789012' },
      { AWS: ['arn:aws:iam::123456789012:root', 'arn:aws:iam::123456789012:user/path/alice'] },
      { AWS: 'arn:aws:sts::123456789012:assumed-role/App/session' },
      { AWS: 'AROAEXAMPLEID1234567' },
      { Service: 'cloudtrail.amazonaws.com' },
      { CanonicalUser: 'a'.repeat(64) },
    ];
    for (const principal of ok)
      expect(failure(doc(allow({ Principal: principal })), 'resource')).toBe('accepted');
  });

  it('requires one in trust policies and names the bad value', () => {
    const trust = (s: Record<string, unknown>) =>
      doc({ Effect: 'Allow', Action: 'sts:AssumeRole', ...s });
    expect(failure(trust({}), 'trust')).toBe(`${MALFORMED}Missing required field Principal`);
    expect(failure(trust({ Principal: { AWS: 'arn:aws:iam::*:role/x' } }), 'trust')).toBe(
      `${MALFORMED}Invalid principal in policy: "AWS":"arn:aws:iam::*:role/x"`,
    );
    expect(failure(trust({ Principal: { Service: 'not a service' } }), 'trust')).toBe(
      `${MALFORMED}Invalid principal in policy: "SERVICE":"not a service"`,
    );
    expect(failure(trust({ Principal: {} }), 'trust')).toBe(
      `${MALFORMED}Missing required field Principal cannot be empty!`,
    );
    expect(failure(trust({ Effect: 'Deny', NotPrincipal: { AWS: '123456789012' } }), 'trust')).toBe(
      `${MALFORMED}AssumeRole policy must not contain NotPrincipal field.`,
    );
  });
});

describe('Action and Resource', () => {
  it('requires actions, and resources in identity policies', () => {
    expect(failure(doc({ Effect: 'Allow', Resource: 'arn:aws:s3:::b' }))).toBe(
      `${MALFORMED}Policy statement must contain actions.`,
    );
    expect(failure(doc(allow({ Action: [] })))).toBe(
      `${MALFORMED}Policy statement must contain actions.`,
    );
    expect(failure(doc({ Effect: 'Allow', Action: 's3:ListBucket' }))).toBe(
      `${MALFORMED}Policy statement must contain resources.`,
    );
    expect(failure(doc(allow({ Resource: [] })))).toBe(
      `${MALFORMED}Policy statement must contain resources.`,
    );
  });

  it('checks action vendors', () => {
    expect(failure(doc(allow({ Action: 'invalid' })))).toBe(
      `${MALFORMED}Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`,
    );
    expect(failure(doc(allow({ Action: 's3:List:Bucket' })))).toBe(
      `${MALFORMED}Actions/Condition can contain only one colon.`,
    );
    expect(failure(doc(allow({ Action: 'a a:ListBucket' })))).toBe(
      `${MALFORMED}Vendor a a is not valid`,
    );
    // IAM does not know every service: an unknown vendor or odd action name is accepted.
    expect(failure(doc(allow({ Action: ['s3-s:ListBucket', 'iam: asdf safdsf af '] })))).toBe(
      'accepted',
    );
  });

  it("rejects a malformed resource ARN with AWS's message", () => {
    expect(failure(doc(allow({ Resource: 'invalid resource' })))).toBe(
      `${MALFORMED}Resource invalid resource must be in ARN format or "*".`,
    );
    expect(failure(doc(allow({ Resource: '' })))).toBe(
      `${MALFORMED}Resource  must be in ARN format or "*".`,
    );
    expect(failure(doc(allow({ Resource: 'a:bsdfdsafsad' })))).toBe(
      `${MALFORMED}Partition "bsdfdsafsad" is not valid for resource "arn:bsdfdsafsad:*:*:*:*".`,
    );
    expect(failure(doc(allow({ Resource: 'aws:s3:::example_bucket' })))).toBe(
      `${MALFORMED}Partition "s3" is not valid for resource "arn:s3:::example_bucket:*".`,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws' })))).toBe(
      `${MALFORMED}Resource vendor must be fully qualified and cannot contain regexes.`,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws:s3*:::bucket' })))).toBe(
      `${MALFORMED}Resource vendor must be fully qualified and cannot contain regexes.`,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws:iam:us-east-1::user/x' })))).toBe(
      `${MALFORMED}IAM resource arn:aws:iam:us-east-1::user/x cannot contain region information.`,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws:s3:us-east-1::example_bucket' })))).toBe(
      `${MALFORMED}Resource arn:aws:s3:us-east-1::example_bucket can not contain region information.`,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws:iam:::example_bucket' })))).toMatch(
      /^MalformedPolicyDocument: IAM resource path must either be "\*" or start with user\/, federated-user\/, role\//,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws:s3::example_bucket' })))).toBe(
      `${MALFORMED}The policy failed legacy parsing`,
    );
    expect(failure(doc(allow({ Resource: 'arn:aws::::example_bucket' })))).toBe(
      `${MALFORMED}The policy failed legacy parsing`,
    );
    for (const ok of [
      'arn:aws:iam::*:user/${aws:username}',
      'arn:aws:ec2:region:account-id:instance/*',
      'arn:aws:fdsasf',
    ]) {
      expect(failure(doc(allow({ Resource: ok })))).toBe('accepted');
    }
  });
});

describe('Sid and conditions', () => {
  it('requires unique, alphanumeric Sids in IAM policies', () => {
    expect(failure(doc([allow({ Sid: 'sdf' }), allow({ Sid: 'sdf' })]))).toBe(
      `${MALFORMED}Statement IDs (SID) in a single policy must be unique.`,
    );
    expect(failure(doc(allow({ Sid: 'not ok' })))).toBe(
      `${MALFORMED}Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*`,
    );
    expect(failure(doc(allow({ Sid: 'bucket policy sid', Principal: '*' })), 'resource')).toBe(
      'accepted',
    );
  });

  it('applies the legacy date check to Date operator values', () => {
    const legacy = `${MALFORMED}The policy failed legacy parsing`;
    for (const bad of ['sdfdsf', '234-13', '2016-12-13t2:00:00.593194+1', '9223372036854775808']) {
      expect(failure(doc(allow({ Condition: { DateLessThan: { 'aws:CurrentTime': bad } } })))).toBe(
        legacy,
      );
    }
    for (const ok of [
      '2019-07-01T13:20:15Z',
      '2016-12-13T21:20:37.593194+00:00',
      '01T',
      '-292275054',
      '1700000000',
    ]) {
      expect(failure(doc(allow({ Condition: { DateLessThan: { 'aws:CurrentTime': ok } } })))).toBe(
        'accepted',
      );
    }
  });
});

describe('trust policies', () => {
  const trust = (s: Record<string, unknown>) =>
    doc({
      Effect: 'Allow',
      Principal: { Service: 'pods.eks.amazonaws.com' },
      Action: ['sts:AssumeRole', 'sts:TagSession'],
      ...s,
    });

  it('accepts an EKS Pod Identity and an IRSA trust policy', () => {
    expect(failure(trust({}), 'trust')).toBe('accepted');
    const irsa = doc({
      Effect: 'Allow',
      Principal: {
        Federated:
          'arn:aws:iam::111122223333:oidc-provider/oidc.eks.us-east-1.amazonaws.com/id/ABC',
      },
      Action: 'sts:AssumeRoleWithWebIdentity',
      Condition: {
        StringEquals: {
          'oidc.eks.us-east-1.amazonaws.com/id/ABC:sub': 'system:serviceaccount:default:app',
        },
      },
    });
    expect(failure(irsa, 'trust')).toBe('accepted');
  });

  it('rejects resources, non-STS actions and invalid JSON with IAM wording', () => {
    expect(failure(trust({ Resource: '*' }), 'trust')).toBe(
      `${MALFORMED}Has prohibited field Resource`,
    );
    expect(failure(trust({ NotResource: '*' }), 'trust')).toBe(
      `${MALFORMED}AssumeRole policy must not contain resources.`,
    );
    expect(failure(trust({ Action: '*' }), 'trust')).toBe(
      `${MALFORMED}AssumeRole policy may only specify STS AssumeRole actions.`,
    );
    expect(failure(trust({ Action: 's3:GetObject' }), 'trust')).toBe(
      `${MALFORMED}AssumeRole policy may only specify STS AssumeRole actions.`,
    );
    expect(failure('{invalid', 'trust')).toBe(`${MALFORMED}This policy contains invalid Json`);
    expect(failure(doc({ Principal: '*', Action: 'sts:AssumeRole' }), 'trust')).toBe(
      `${MALFORMED}Missing required field Effect`,
    );
  });
});

describe('resource-based policies of one service', () => {
  it('rejects actions and resources of other services', () => {
    const bucket = (s: Record<string, unknown>) =>
      doc({
        Effect: 'Allow',
        Principal: '*',
        Action: 's3:GetObject',
        Resource: 'arn:aws:s3:::b/*',
        ...s,
      });
    const s3 = { kind: 'resource', service: 's3' } as const;
    expect(failure(bucket({}), s3)).toBe('accepted');
    expect(failure(bucket({ Action: 'ec2:RunInstances' }), s3)).toBe(
      `${MALFORMED}Policy has invalid action`,
    );
    expect(failure(bucket({ Resource: 'arn:aws:sqs:us-east-1:123456789012:q' }), s3)).toBe(
      `${MALFORMED}Policy has invalid resource`,
    );
  });
});

describe('size limits', () => {
  const padded = (n: number, kind: 'identity' | 'trust' = 'identity') => {
    const base =
      kind === 'trust' ? { Effect: 'Allow', Principal: '*', Action: 'sts:AssumeRole' } : allow();
    const text = doc({ ...base, Sid: '' });
    return text.replace('"Sid":""', `"Sid":"${'x'.repeat(n - text.length)}"`);
  };

  it("counts characters other than white space against the kind's limit", () => {
    const spaced = doc(allow()).replace(/,/g, ',      \n\t');
    expect(spaced.length).toBeGreaterThan(doc(allow()).length);
    expect(failure(spaced, { kind: 'user-inline', maxLength: doc(allow()).length })).toBe(
      'accepted',
    );
  });

  it("answers AWS's LimitExceeded messages", () => {
    expect(failure(padded(6145), 'managed')).toBe(
      'LimitExceeded: Cannot exceed quota for PolicySize: 6144',
    );
    expect(failure(padded(6144), 'managed')).toBe('accepted');
    expect(failure(padded(10241), { kind: 'role-inline', entityName: 'app' })).toBe(
      'LimitExceeded: Maximum policy size of 10240 bytes exceeded for role app',
    );
    expect(failure(padded(2049), { kind: 'user-inline', entityName: 'alice' })).toBe(
      'LimitExceeded: Maximum policy size of 2048 bytes exceeded for user alice',
    );
    expect(failure(padded(2049, 'trust'), 'trust')).toBe(
      'LimitExceeded: Cannot exceed quota for ACLSizePerRole: 2048',
    );
    expect(failure(padded(4000, 'trust'), { kind: 'trust', maxLength: 4096 })).toBe('accepted');
    expect(failure(padded(2049), 'session')).toBe(
      "ValidationError: 1 validation error detected: Value at 'policy' failed to satisfy constraint: Member must have length less than or equal to 2048",
    );
    expect(failure(padded(9000), 'identity')).toBe('accepted');
    expect(failure(padded(7000), { kind: 'managed', maxLength: false })).toBe('accepted');
  });
});
