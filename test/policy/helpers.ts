/** Shorthands for policy-engine tests. */
import {
  compilePolicyText,
  evaluatePolicies,
  type AuthorizationRequest,
  type CompiledPolicy,
  type Decision,
  type EvaluateOptions,
  type PolicyKind,
  type RequestContext,
  type RequestPrincipal,
} from '../../src/policy/index.js';

export const ACCT = '111122223333';
export const OTHER = '444455556666';

export const alice: RequestPrincipal = {
  type: 'IAMUser',
  arn: `arn:aws:iam::${ACCT}:user/alice`,
  accountId: ACCT,
};

export const appSession: RequestPrincipal = {
  type: 'AssumedRole',
  arn: `arn:aws:sts::${ACCT}:assumed-role/app/pod-1`,
  accountId: ACCT,
  sessionIssuerArn: `arn:aws:iam::${ACCT}:role/app`,
};

let counter = 0;

/** Compiles a policy from a JS object (statements default to Version 2012-10-17). */
export function policy(
  statements: Record<string, unknown> | Record<string, unknown>[],
  kind: PolicyKind = 'identity',
  version: string | null = '2012-10-17',
): CompiledPolicy {
  const doc: Record<string, unknown> = { Statement: statements };
  if (version !== null) doc['Version'] = version;
  return compilePolicyText(JSON.stringify(doc), { kind, id: `p${++counter}`, maxLength: false });
}

/** Evaluates with defaults: alice, `s3:GetObject` on `arn:aws:s3:::b/k`, same account. */
export function decide(
  overrides: Partial<AuthorizationRequest> = {},
  options: EvaluateOptions = {},
): Decision {
  return evaluatePolicies(
    {
      principal: alice,
      action: 's3:GetObject',
      resource: 'arn:aws:s3:::b/k',
      context: {},
      identityPolicies: [],
      ...overrides,
    },
    options,
  );
}

/** Whether a single Allow statement with `condition` applies to `context`. */
export function conditionHolds(
  condition: Record<string, unknown>,
  context: RequestContext,
  version: string | null = '2012-10-17',
): boolean {
  const p = policy(
    { Effect: 'Allow', Action: '*', Resource: '*', Condition: condition },
    'identity',
    version,
  );
  return decide({ identityPolicies: [p], context }).decision === 'allowed';
}
