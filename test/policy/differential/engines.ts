/**
 * Runs one generated case through both engines: ours (src/policy) and
 * `@cloud-copilot/iam-simulate` (the reference, a devDependency used only by tests and bench).
 *
 * iam-simulate's public `runUnsafeSimulation` ignores session policies, so its core `authorize`
 * is called directly (by file path, past the package's export map) with the same inputs.
 */
import { loadPolicy } from '@cloud-copilot/iam-policy';
import { authorize } from '../../../node_modules/@cloud-copilot/iam-simulate/dist/esm/core_engine/CoreSimulatorEngine.js';
import { DiscoveryContextKeyConstraints } from '../../../node_modules/@cloud-copilot/iam-simulate/dist/esm/context_keys/discoveryContextKeyConstraints.js';
import { AwsRequestImpl } from '../../../node_modules/@cloud-copilot/iam-simulate/dist/esm/request/request.js';
import { RequestContextImpl } from '../../../node_modules/@cloud-copilot/iam-simulate/dist/esm/requestContext.js';
import {
  compilePolicy,
  evaluatePolicies,
  evaluateTrust,
  parsePolicy,
  type CompiledPolicy,
  type Decision,
  type PolicyKind,
} from '../../../src/policy/index.js';
import type { PolicyJson, Scenario } from './generate.js';

/** The three outcomes, in our vocabulary. */
export type Outcome = Decision['decision'];

function compile(doc: PolicyJson, kind: PolicyKind, id: string): CompiledPolicy {
  return compilePolicy(parsePolicy(JSON.stringify(doc), { kind, maxLength: false }), id);
}

/** Our decision for the case. */
export function ourDecision(s: Scenario): Decision {
  const identityPolicies = s.identity.map((p, i) => compile(p, 'identity', `identity-${i}`));
  const boundary = s.boundary ? compile(s.boundary, 'identity', 'boundary') : undefined;
  const session = s.session ? compile(s.session, 'session', 'session') : undefined;
  const principal = { ...s.principal, hasPermissionsBoundary: s.boundary !== undefined };
  if (s.mode === 'trust') {
    return evaluateTrust({
      principal,
      action: s.action,
      roleArn: s.resource,
      roleAccount: s.resourceAccount,
      trustPolicy: compile(s.resourcePolicy!, 'trust', 'trust'),
      context: s.context,
      identityPolicies,
      ...(boundary ? { permissionsBoundary: boundary } : {}),
      ...(session ? { sessionPolicies: [session] } : {}),
    });
  }
  return evaluatePolicies({
    principal,
    action: s.action,
    resource: s.resource,
    resourceAccount: s.resourceAccount,
    context: s.context,
    identityPolicies,
    ...(s.resourcePolicy
      ? { resourcePolicy: compile(s.resourcePolicy, 'resource', 'resource') }
      : {}),
    ...(boundary ? { permissionsBoundary: boundary } : {}),
    ...(session ? { sessionPolicies: [session] } : {}),
  });
}

const STRICT = {
  simulationMode: 'Strict' as const,
  discoveryContextKeyConstraints: new DiscoveryContextKeyConstraints([]),
};

/** iam-simulate's decision for the case. */
export function referenceDecision(s: Scenario): Outcome {
  const request = new AwsRequestImpl(
    s.principal.arn,
    { resource: s.resource, accountId: s.resourceAccount },
    s.action,
    new RequestContextImpl(s.context),
  );
  const analysis = authorize({
    request,
    sessionPolicy: s.session ? loadPolicy(s.session, { name: 'session' }) : undefined,
    identityPolicies: s.identity.map((p, i) => loadPolicy(p, { name: `identity-${i}` })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: s.resourcePolicy
      ? loadPolicy(s.resourcePolicy, { name: 'resource' })
      : undefined,
    permissionBoundaries: s.boundary ? [loadPolicy(s.boundary, { name: 'boundary' })] : undefined,
    vpcEndpointPolicies: undefined,
    simulationParameters: STRICT,
  });
  switch (analysis.result) {
    case 'Allowed':
      return 'allowed';
    case 'ExplicitlyDenied':
      return 'explicitDeny';
    default:
      return 'implicitDeny';
  }
}
