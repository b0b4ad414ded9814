/**
 * The engine's building blocks: wildcard matching, strict JSON, dates, IP ranges, the request
 * context, and decisions as data.
 */
import { describe, expect, it } from 'vitest';
import { isAwsError } from '../../src/errors/index.js';
import { parseDate } from '../../src/policy/conditions/date.js';
import { inCidr, parseCidr, parseIp } from '../../src/policy/conditions/ip.js';
import {
  accessDenied,
  buildRequestContext,
  explainDecision,
  prepareContext,
  principalTypeValue,
} from '../../src/policy/index.js';
import { JsonSyntaxError, parseStrictJson } from '../../src/policy/json.js';
import { GlobTemplate, StringTemplate } from '../../src/policy/variables.js';
import { compileGlob } from '../../src/policy/wildcard.js';
import { alice, decide, policy } from './helpers.js';

describe('wildcards', () => {
  const cases: [string, string, boolean][] = [
    ['*', '', true],
    ['*', 'anything', true],
    ['', '', true],
    ['', 'a', false],
    ['a*', 'abc', true],
    ['*c', 'abc', true],
    ['a*c', 'ac', true],
    ['a*c', 'abcbc', true],
    ['a*c', 'abcb', false],
    ['a?c', 'abc', true],
    ['a?c', 'ac', false],
    ['*a*b*c*', 'xxaxxbxxcxx', true],
    ['*a*b*c*', 'xxaxxcxxbxx', false],
    ['a**b', 'ab', true],
    ['?*', '', false],
    ['*?', 'x', true],
    ['ab*ab', 'abab', true],
    ['ab*ab', 'aba', false],
    ['*.txt', 'a.txt', true],
    ['home/*/docs/?', 'home/a/b/docs/x', true],
  ];
  for (const [pattern, input, expected] of cases) {
    it(`${JSON.stringify(pattern)} vs ${JSON.stringify(input)} → ${expected}`, () => {
      expect(compileGlob(pattern).test(input)).toBe(expected);
    });
  }

  it('is linear on adversarial patterns', () => {
    const pattern = '*a'.repeat(30) + 'b';
    const input = 'a'.repeat(5000);
    const t0 = performance.now();
    expect(compileGlob(pattern).test(input)).toBe(false);
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('keeps substituted values and ${*} literal', () => {
    const values = new Map([['aws:username', 'a*']]);
    expect(new GlobTemplate('home/${aws:username}/*', true).match('home/a*/x', values)).toBe(true);
    expect(new GlobTemplate('home/${aws:username}/*', true).match('home/abc/x', values)).toBe(
      false,
    );
    expect(new GlobTemplate('a${*}b', true).match('a*b', values)).toBe(true);
    expect(new GlobTemplate('a${*}b', true).match('axb', values)).toBe(false);
    expect(new GlobTemplate('${missing}', true).match('x', values)).toMatchObject({
      name: 'missing',
    });
    expect(new StringTemplate("x-${aws:PrincipalTag/team, 'none'}", true).resolve(values)).toBe(
      'x-none',
    );
  });
});

describe('strict JSON', () => {
  it('reads JSON, including escapes, and rejects duplicates and junk', () => {
    expect(parseStrictJson('{"a":[1,-2.5e3,true,null,"x\\u00e9\\n"]}')).toEqual({
      a: [1, -2500, true, null, 'xé\n'],
    });
    expect(() => parseStrictJson('{"a":1,"a":2}')).toThrow(JsonSyntaxError);
    expect(() => parseStrictJson('{"a":1} x')).toThrow(JsonSyntaxError);
    expect(() => parseStrictJson('{"a":01}')).toThrow(JsonSyntaxError);
    expect(() => parseStrictJson('['.repeat(100) + ']'.repeat(100))).toThrow(JsonSyntaxError);
    const proto = parseStrictJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(Object.keys(proto)).toEqual(['__proto__']);
  });
});

describe('dates and IP ranges', () => {
  it('reads W3C ISO 8601 profiles and epoch seconds', () => {
    expect(parseDate('2024-06-01T12:00:00Z')).toBe(Date.UTC(2024, 5, 1, 12));
    expect(parseDate('2024-06-01T14:00:00+02:00')).toBe(Date.UTC(2024, 5, 1, 12));
    expect(parseDate('2024-06-01T12:00Z')).toBe(Date.UTC(2024, 5, 1, 12));
    expect(parseDate('2024-06-01')).toBe(Date.UTC(2024, 5, 1));
    expect(parseDate('2024-06')).toBe(Date.UTC(2024, 5, 1));
    expect(parseDate('1717243200')).toBe(Date.UTC(2024, 5, 1, 12));
    expect(parseDate('2024-13-01')).toBeUndefined();
    expect(parseDate('yesterday')).toBeUndefined();
  });

  it('reads IPv4 and IPv6 addresses and ranges', () => {
    const v6 = parseIp('2001:db8::1');
    expect(v6?.v6).toBe(true);
    expect(inCidr(v6!, parseCidr('2001:db8::/32')!)).toBe(true);
    expect(inCidr(parseIp('::ffff:192.0.2.1')!, parseCidr('::ffff:0:0/96')!)).toBe(true);
    expect(inCidr(parseIp('10.0.0.1')!, parseCidr('2001:db8::/32')!)).toBe(false);
    expect(parseIp('256.0.0.1')).toBeUndefined();
    expect(parseIp('1::2::3')).toBeUndefined();
    expect(parseCidr('10.0.0.0/33')).toBeUndefined();
  });
});

describe('the request context', () => {
  it('builds the global keys as AWS formats them', () => {
    const ctx = buildRequestContext(
      {
        principalArn: alice.arn,
        principalAccount: alice.accountId,
        principalType: 'IAMUser',
        userId: 'AIDAEXAMPLE',
        username: 'alice',
        principalTags: { team: 'red' },
        requestTags: { env: 'prod', owner: 'a' },
        sourceIp: '203.0.113.7',
        currentTime: new Date('2024-06-01T12:00:00.250Z'),
        tokenIssueTime: new Date('2024-06-01T11:00:00Z'),
        secureTransport: true,
        sourceIdentity: 'alice@example.com',
        resourceAccount: '444455556666',
      },
      { 's3:prefix': 'home/' },
    );
    expect(ctx).toEqual({
      'aws:CurrentTime': '2024-06-01T12:00:00Z',
      'aws:EpochTime': '1717243200',
      'aws:PrincipalArn': alice.arn,
      'aws:PrincipalAccount': alice.accountId,
      'aws:PrincipalType': 'User',
      'aws:userid': 'AIDAEXAMPLE',
      'aws:username': 'alice',
      'aws:PrincipalTag/team': 'red',
      'aws:RequestTag/env': 'prod',
      'aws:RequestTag/owner': 'a',
      'aws:TagKeys': ['env', 'owner'],
      'aws:SourceIp': '203.0.113.7',
      'aws:TokenIssueTime': '2024-06-01T11:00:00Z',
      'aws:SecureTransport': true,
      'aws:SourceIdentity': 'alice@example.com',
      'aws:ResourceAccount': '444455556666',
      's3:prefix': 'home/',
    });
    expect(principalTypeValue('AssumedRole')).toBe('AssumedRole');
    expect(principalTypeValue('Root')).toBe('Account');
  });

  it('normalises keys, numbers, booleans and dates once', () => {
    const prepared = prepareContext({
      'AWS:SecureTransport': false,
      n: 5,
      when: new Date('2024-01-01T00:00:00Z'),
      empty: [],
      missing: undefined,
    });
    expect(prepared.values.get('aws:securetransport')).toBe('false');
    expect(prepared.values.get('n')).toBe('5');
    expect(prepared.values.get('when')).toBe('2024-01-01T00:00:00Z');
    expect(prepared.values.get('empty')).toBeUndefined();
    expect(prepared.values.get('missing')).toBeUndefined();
    expect(prepareContext(prepared)).toBe(prepared);
  });

  it('handles large contexts', () => {
    const big = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`Key${i}`, `v${i}`]));
    const p = prepareContext(big);
    expect(p.values.get('key0')).toBe('v0');
    expect(p.values.get('key39')).toBe('v39');
    const allow = policy({
      Effect: 'Allow',
      Action: '*',
      Resource: '*',
      Condition: { StringEquals: { Key33: 'v33' } },
    });
    expect(decide({ identityPolicies: [allow], context: big }).decision).toBe('allowed');
  });
});

describe('decisions as data', () => {
  it('serialise with their trace, and become AccessDenied errors with an explanation', () => {
    const deny = policy({ Sid: 'No', Effect: 'Deny', Action: 's3:*', Resource: '*' });
    const d = decide({ identityPolicies: [deny] });
    const json = JSON.parse(JSON.stringify(d)) as Record<string, unknown>;
    expect(json).toMatchObject({
      decision: 'explicitDeny',
      denial: { policyType: 'identity', explicit: true },
      trace: [{ kind: 'statement', applies: true, effect: 'Deny' }],
    });
    const err = accessDenied(
      { principal: alice, action: 's3:GetObject', resource: 'arn:aws:s3:::b/k' },
      d,
    );
    expect(isAwsError(err, 'AccessDenied')).toBe(true);
    expect(err.status).toBe(403);
    expect(err.explanation).toMatchObject({ decision: 'explicitDeny', matched: [{ sid: 'No' }] });
    expect(explainDecision(d)).toEqual([
      'decision: explicitDeny',
      `identity ${deny.id}#No: Deny applies`,
    ]);
  });
});
