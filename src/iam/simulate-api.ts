/**
 * IAM's policy simulation: SimulatePrincipalPolicy (a user's or role's current policies, plus
 * optional extra ones) and SimulateCustomPolicy (only the given ones), each action × resource
 * decided by the engine, with the matched statements and the context keys the policies
 * needed but the request did not give.
 */
import type { Authorizer } from '../auth/index.js';
import { AwsError } from '../errors/index.js';
import {
  buildRequestContext,
  compilePolicy,
  evaluatePolicies,
  parsePolicy,
  statementSpans,
  type CompiledPolicy,
  type ContextValue,
  type Decision,
  type PolicyKind,
  type RequestPrincipal,
  type StatementSpan,
} from '../policy/index.js';
import type { QueryCall, QueryHandler, QueryParams, XmlObject } from '../protocol/index.js';
import { AWS_MANAGED } from './managed-policies.js';
import { readMarker } from './policy-api.js';
import type { NamedPolicy, PolicySetLoader } from './policy-set.js';
import { parseRoleArn, type RoleDirectory } from './roles.js';
import type { UserDirectory } from './users.js';
import { validateInteger } from './validate.js';

/** What simulation works on. */
export interface SimulateApiDeps {
  users: UserDirectory;
  roles: RoleDirectory;
  loader: PolicySetLoader;
  authorizer: Authorizer;
}

interface Simulation {
  principal: RequestPrincipal;
  identity: NamedPolicy[];
  boundary: NamedPolicy[];
  resourcePolicy?: string;
  resourceOwner?: string;
  context: Record<string, ContextValue>;
}

/** The simulation actions, to merge into the IAM service's action table. */
export function simulateActions(deps: SimulateApiDeps): Record<string, QueryHandler> {
  const authorize = (call: QueryCall, action: string, resource: string) =>
    deps.authorizer.authorize(call.principal, { action: `iam:${action}`, resource });

  return {
    async SimulatePrincipalPolicy(call) {
      const source = call.params.require('PolicySourceArn');
      await authorize(call, 'SimulatePrincipalPolicy', source);
      const { principal, identity, boundary } = await sourcePolicies(deps, call, source);
      const boundaryInput = inputPolicies(call.params, 'PermissionsBoundaryPolicyInputList');
      return simulate(call.params, {
        principal,
        identity: [...identity, ...inputPolicies(call.params, 'PolicyInputList')],
        // A boundary given in the request replaces the principal's own, as in IAM.
        boundary: boundaryInput.length > 0 ? boundaryInput : boundary,
        ...common(call.params),
      });
    },

    async SimulateCustomPolicy(call) {
      await authorize(call, 'SimulateCustomPolicy', '*');
      const identity = inputPolicies(call.params, 'PolicyInputList');
      if (identity.length === 0) {
        throw new AwsError(
          'ValidationError',
          "1 validation error detected: Value null at 'policyInputList' failed to satisfy constraint: Member must not be null",
        );
      }
      const caller =
        call.params.get('CallerArn') ??
        `arn:aws:iam::${call.principal.accountId}:user/SimulatedUser`;
      return simulate(call.params, {
        principal: callerPrincipal(caller),
        identity,
        boundary: inputPolicies(call.params, 'PermissionsBoundaryPolicyInputList'),
        ...common(call.params),
      });
    },
  };
}

/** The policies of a user or role named by ARN (the caller's own account only). */
async function sourcePolicies(
  deps: SimulateApiDeps,
  call: QueryCall,
  arn: string,
): Promise<{ principal: RequestPrincipal; identity: NamedPolicy[]; boundary: NamedPolicy[] }> {
  const role = parseRoleArn(arn);
  const user = /^arn:aws:iam::(\d{12}):user\/(?:.*\/)?([\w+=,.@-]+)$/.exec(arn);
  const account = role?.accountId ?? user?.[1];
  if (account !== call.principal.accountId || (role === undefined && user === null)) {
    throw new AwsError(
      'NoSuchEntity',
      `PolicySourceArn ${arn} does not exist or is not a user or role of your account.`,
    );
  }
  if (role !== undefined) {
    const found = await deps.roles.get(role.accountId, role.roleName);
    const set = await deps.loader.load({
      type: 'AssumedRole',
      accountId: found.accountId,
      arn: `arn:aws:sts::${found.accountId}:assumed-role/${found.roleName}/SimulatedSession`,
      principalId: `${found.roleId}:SimulatedSession`,
      accessKeyId: 'ASIASIMULATION',
      session: {
        accessKeyId: 'ASIASIMULATION',
        secretAccessKey: '',
        accountId: found.accountId,
        roleArn: found.arn,
        roleId: found.roleId,
        sessionName: 'SimulatedSession',
        tags: {},
        transitiveTagKeys: [],
        sessionPolicyArns: [],
        chainDepth: 0,
        issuedBy: 'AssumeRole',
        issuedAt: Date.now(),
        expiresAt: Date.now() + 3_600_000,
      },
    });
    return {
      principal: {
        type: 'AssumedRole',
        arn: found.arn,
        accountId: found.accountId,
        sessionIssuerArn: found.arn,
      },
      identity: set.identity,
      boundary: set.boundary ? [set.boundary] : [],
    };
  }
  const found = await deps.users.get(account, user?.[2] ?? '');
  const set = await deps.loader.load({
    type: 'IAMUser',
    accountId: found.accountId,
    arn: found.arn,
    principalId: found.userId,
    accessKeyId: 'AKIASIMULATION',
    userName: found.userName,
  });
  return {
    principal: {
      type: 'IAMUser',
      arn: found.arn,
      accountId: found.accountId,
      principalId: found.userId,
    },
    identity: set.identity,
    boundary: set.boundary ? [set.boundary] : [],
  };
}

function common(
  params: QueryParams,
): Pick<Simulation, 'resourcePolicy' | 'resourceOwner' | 'context'> {
  const resourcePolicy = params.get('ResourcePolicy');
  const resourceOwner = params.get('ResourceOwner');
  return {
    ...(resourcePolicy === undefined ? {} : { resourcePolicy }),
    ...(resourceOwner === undefined
      ? {}
      : { resourceOwner: resourceOwner.replace(/^arn:aws:iam::(\d{12}):root$/, '$1') }),
    context: contextEntries(params),
  };
}

function simulate(params: QueryParams, sim: Simulation): XmlObject {
  const actions = params.list('ActionNames');
  if (actions.length === 0) {
    throw new AwsError(
      'ValidationError',
      "1 validation error detected: Value null at 'actionNames' failed to satisfy constraint: Member must not be null",
    );
  }
  const resources = params.list('ResourceArns');
  const identity = sim.identity.map((p) => compile(p, 'identity'));
  const boundary = sim.boundary.map((p) => compile(p, 'boundary'));
  const resourcePolicy =
    sim.resourcePolicy === undefined
      ? undefined
      : compile({ id: 'ResourcePolicy', document: sim.resourcePolicy }, 'resource');
  const maxItems = validateInteger('maxItems', params.get('MaxItems'), { min: 1, max: 1000 }, 100);
  const start = readMarker(params.get('Marker'));
  // Where each policy's statements are, for the matched statements' positions.
  const spans = new Map<string, StatementSpan[]>();
  for (const p of [...sim.identity, ...sim.boundary]) spans.set(p.id, statementSpans(p.document));
  if (sim.resourcePolicy !== undefined) {
    spans.set('ResourcePolicy', statementSpans(sim.resourcePolicy));
  }
  const results: XmlObject[] = [];
  for (const action of actions) {
    for (const resource of resources.length > 0 ? resources : ['*']) {
      const resourceAccount = sim.resourceOwner ?? sim.principal.accountId;
      const decision = evaluatePolicies(
        {
          principal: sim.principal,
          action,
          resource,
          resourceAccount,
          context: {
            ...buildRequestContext({
              principalArn: sim.principal.sessionIssuerArn ?? sim.principal.arn,
              principalAccount: sim.principal.accountId,
              principalType: sim.principal.type,
              resourceAccount,
            }),
            ...sim.context,
          },
          identityPolicies: identity,
          ...(resourcePolicy ? { resourcePolicy } : {}),
          ...(boundary.length > 0 ? { permissionsBoundary: boundary[0] } : {}),
        },
        { trace: 'full' },
      );
      results.push(resultXml(action, resource, decision, boundary.length > 0, spans));
    }
  }
  const page = results.slice(start, start + maxItems);
  return start + maxItems < results.length
    ? { EvaluationResults: page, IsTruncated: true, Marker: String(start + maxItems) }
    : { EvaluationResults: page, IsTruncated: false };
}

function resultXml(
  action: string,
  resource: string,
  decision: Decision,
  hasBoundary: boolean,
  spans: ReadonlyMap<string, StatementSpan[]>,
): XmlObject {
  return {
    EvalActionName: action,
    EvalResourceName: resource,
    EvalDecision: decision.decision,
    MatchedStatements: decision.matched.map((m) => {
      const span = spans.get(m.policyId)?.[m.index];
      return {
        SourcePolicyId: m.sid === undefined ? m.policyId : `${m.policyId}#${m.sid}`,
        SourcePolicyType: sourceType(m.policyId),
        ...(span
          ? {
              StartPosition: { Line: span.start.line, Column: span.start.column },
              EndPosition: { Line: span.end.line, Column: span.end.column },
            }
          : {}),
      };
    }),
    MissingContextValues: [...decision.missingContextKeys],
    ...(hasBoundary
      ? {
          PermissionsBoundaryDecisionDetail: {
            AllowedByPermissionsBoundary: decision.denial?.policyType !== 'boundary',
          },
        }
      : {}),
  };
}

function sourceType(policyId: string): string {
  if (policyId.startsWith(`arn:aws:iam::${AWS_MANAGED}:policy/`)) return 'aws-managed';
  if (/^arn:aws:iam::\d{12}:policy\//.test(policyId)) return 'user-managed';
  if (policyId.startsWith('role/')) return 'role';
  if (policyId.startsWith('user/')) return 'user';
  if (policyId === 'ResourcePolicy') return 'resource';
  // IAM's PolicySourceType has no name for request-supplied policies (PolicyInputList.N).
  return 'none';
}

/** `PolicyInputList.member.N` documents, named `PolicyInputList.N` as AWS names them. */
function inputPolicies(params: QueryParams, name: string): NamedPolicy[] {
  return params.list(name).map((document, i) => ({ id: `${name}.${i + 1}`, document }));
}

function compile(policy: NamedPolicy, kind: PolicyKind): CompiledPolicy {
  return compilePolicy(parsePolicy(policy.document, { kind, maxLength: false }), policy.id);
}

/** `ContextEntries.member.N.{ContextKeyName, ContextKeyValues.member.M, ContextKeyType}`. */
function contextEntries(params: QueryParams): Record<string, ContextValue> {
  const out: Record<string, ContextValue> = {};
  for (const entry of params.structList('ContextEntries')) {
    const name = entry.ContextKeyName;
    if (name === undefined) continue;
    const values = Object.entries(entry)
      .filter(([k]) => k.startsWith('ContextKeyValues.member.'))
      .sort((a, b) => Number(a[0].split('.').pop()) - Number(b[0].split('.').pop()))
      .map(([, v]) => v);
    const type = entry.ContextKeyType ?? 'string';
    out[name] = type.endsWith('List') ? values : (values[0] ?? '');
  }
  return out;
}

function callerPrincipal(arn: string): RequestPrincipal {
  const account = /^arn:aws:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1] ?? '';
  if (arn.includes(':assumed-role/')) return { type: 'AssumedRole', arn, accountId: account };
  if (arn.endsWith(':root')) return { type: 'Root', arn, accountId: account };
  return { type: 'IAMUser', arn, accountId: account };
}
