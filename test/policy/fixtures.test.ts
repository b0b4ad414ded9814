/**
 * Decision-table fixtures drawn from AWS documentation examples (test/policy/fixtures/*.json):
 * policies, requests and the decisions the documentation states.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  compilePolicyText,
  evaluatePolicies,
  evaluateTrust,
  formatStatementRef,
  type CompiledPolicy,
  type Decision,
  type Denial,
  type PolicyKind,
  type RequestPrincipal,
} from '../../src/policy/index.js';

interface FixtureRequest {
  principal?: RequestPrincipal;
  action: string;
  resource: string;
  resourceAccount?: string;
  context?: Record<string, string | string[]>;
  expect: Decision['decision'];
  denial?: Denial;
  matched?: string[];
}

interface FixtureCase {
  name: string;
  source: string;
  policies: {
    identity?: unknown[];
    resource?: unknown;
    boundary?: unknown;
    session?: unknown[];
    trust?: unknown;
  };
  requests: FixtureRequest[];
}

const file = new URL('./fixtures/aws-docs.json', import.meta.url);
const { cases } = JSON.parse(readFileSync(file, 'utf8')) as { cases: FixtureCase[] };

const DEFAULT_PRINCIPAL: RequestPrincipal = {
  type: 'IAMUser',
  arn: 'arn:aws:iam::123456789012:user/tester',
  accountId: '123456789012',
};

function compile(doc: unknown, kind: PolicyKind, id: string): CompiledPolicy {
  return compilePolicyText(JSON.stringify(doc), { kind, id, maxLength: false });
}

describe('AWS documentation decision table', () => {
  it('has cases', () => expect(cases.length).toBeGreaterThan(20));

  for (const c of cases) {
    describe(c.name, () => {
      const identity = (c.policies.identity ?? []).map((d, i) =>
        compile(d, 'identity', `identity-${i}`),
      );
      const resource = c.policies.resource
        ? compile(c.policies.resource, 'resource', 'resource')
        : undefined;
      const boundary = c.policies.boundary
        ? compile(c.policies.boundary, 'boundary', 'boundary')
        : undefined;
      const session = (c.policies.session ?? []).map((d, i) =>
        compile(d, 'session', `session-${i}`),
      );
      const trust = c.policies.trust ? compile(c.policies.trust, 'trust', 'trust') : undefined;

      c.requests.forEach((r, i) => {
        it(`request ${i + 1}: ${r.action} on ${r.resource} → ${r.expect}`, () => {
          const principal = r.principal ?? DEFAULT_PRINCIPAL;
          const context = r.context ?? {};
          const decision = trust
            ? evaluateTrust({
                principal,
                action: r.action,
                roleArn: r.resource,
                trustPolicy: trust,
                context,
                identityPolicies: identity,
                ...(boundary ? { permissionsBoundary: boundary } : {}),
              })
            : evaluatePolicies({
                principal,
                action: r.action,
                resource: r.resource,
                ...(r.resourceAccount ? { resourceAccount: r.resourceAccount } : {}),
                context,
                identityPolicies: identity,
                ...(resource ? { resourcePolicy: resource } : {}),
                ...(boundary ? { permissionsBoundary: boundary } : {}),
                ...(session.length > 0 ? { sessionPolicies: session } : {}),
              });
          expect(decision.decision, c.source).toBe(r.expect);
          if (r.denial) expect(decision.denial).toEqual(r.denial);
          if (r.matched)
            expect(decision.matched.map(formatStatementRef)).toEqual(
              expect.arrayContaining(r.matched),
            );
        });
      });
    });
  }
});
