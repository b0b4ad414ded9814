/**
 * Classes of cases where iam-simulate departs from AWS's documented behaviour. Each class is
 * recorded, with the AWS documentation that decides it, in docs/policy-fidelity.md; cases in a
 * class are counted and excluded from the comparison explicitly (never silently).
 *
 * A case falls in a class only when the departure can change a statement that matters: the
 * statement must name the request's action (our trace shows it was evaluated past `Action`).
 */
import { parseCidr, parseIp } from '../../../src/policy/conditions/ip.js';
import { compileCondition, evaluateCondition } from '../../../src/policy/conditions/condition.js';
import { parseOperator } from '../../../src/policy/conditions/operators.js';
import {
  compilePolicy,
  evaluatePolicies,
  parsePolicy,
  prepareContext,
  type Decision,
  type TraceEntry,
} from '../../../src/policy/index.js';
import { parseParts, resolveVariable, variablesOf } from '../../../src/policy/variables.js';
import type { PolicyJson, Scenario } from './generate.js';

/** Identifiers of the excluded classes (see docs/policy-fidelity.md). */
export const EXCLUSION_CLASSES = [
  'session-policy-vs-direct-grant',
  'negated-operator-unresolved-variable',
  'ifexists-on-set-operator',
  'empty-multivalued-key',
  'not-ip-bare-address-other-family',
  'ipv4-zero-prefix',
  'variable-in-product-segment',
] as const;

export type ExclusionClass = (typeof EXCLUSION_CLASSES)[number];

type ConditionJson = Record<string, Record<string, string | string[]>>;
type StatementEntry = Extract<TraceEntry, { kind: 'statement' }>;

function policies(s: Scenario): [string, PolicyJson][] {
  const out: [string, PolicyJson][] = s.identity.map((p, i) => [`identity-${i}`, p]);
  if (s.resourcePolicy) out.push([s.mode === 'trust' ? 'trust' : 'resource', s.resourcePolicy]);
  if (s.boundary) out.push(['boundary', s.boundary]);
  if (s.session) out.push(['session', s.session]);
  return out;
}

/** iam-simulate's "product" of a resource part: up to the first `/` or `:`. */
function referenceProduct(resourcePart: string): string {
  const slash = resourcePart.indexOf('/');
  const colon = resourcePart.indexOf(':');
  if (slash >= 0 && colon >= 0) return resourcePart.slice(0, Math.min(slash, colon) + 1);
  if (colon < 0) return resourcePart.slice(0, slash + 1);
  return resourcePart.slice(0, colon + 1);
}

/** Whether our engine finds the request in a `Resource` (or outside a `NotResource`) list. */
function resourceElementHolds(s: Scenario, list: string[], not: boolean): boolean {
  const statement: Record<string, unknown> = { Effect: 'Allow', Action: '*' };
  if (list.length > 0) statement[not ? 'NotResource' : 'Resource'] = list;
  else if (not) return true;
  else return false;
  const policy = compilePolicy(
    parsePolicy(JSON.stringify({ Version: '2012-10-17', Statement: [statement] }), {
      kind: 'identity',
      maxLength: false,
    }),
    'probe',
  );
  return (
    evaluatePolicies({
      // Any IAM caller in the resource's account: only the resource element is being probed.
      principal: {
        type: 'IAMUser',
        arn: `arn:aws:iam::${s.resourceAccount}:user/probe`,
        accountId: s.resourceAccount,
      },
      action: s.action,
      resource: s.resource,
      context: s.context,
      identityPolicies: [policy],
    }).decision === 'allowed'
  );
}

/** The classes `s` falls in, given our decision for it. */
export function classify(s: Scenario, ours: Decision): ExclusionClass[] {
  const out = new Set<ExclusionClass>();
  const ctx = prepareContext(s.context);
  const lookup = ctx.values;
  const emptyKeys = new Set(
    Object.entries(s.context)
      .filter(([, v]) => Array.isArray(v) && v.length === 0)
      .map(([k]) => k.toLowerCase()),
  );
  const entries = new Map<string, StatementEntry>();
  for (const e of ours.trace) {
    if (e.kind === 'statement') entries.set(`${e.statement.policyId}#${e.statement.index}`, e);
  }

  for (const [id, doc] of policies(s)) {
    const variables = doc.Version === '2012-10-17';
    doc.Statement.forEach((st, index) => {
      const entry = entries.get(`${id}#${index}`);
      if (entry === undefined) return; // not a candidate: its actions name another service
      if (entry.mismatch?.element === 'Action' || entry.mismatch?.element === 'NotAction') return;
      const conditionMatters = (operator: string, key: string): boolean =>
        entry.applies ||
        (entry.mismatch?.element === 'Condition' &&
          entry.mismatch.operator === operator &&
          entry.mismatch.key === key);

      if (variables && (entry.applies || entry.mismatch?.element.endsWith('Resource'))) {
        const not = st['NotResource'] !== undefined;
        const raw = (st['Resource'] ?? st['NotResource']) as string | string[] | undefined;
        const list = typeof raw === 'string' ? [raw] : (raw ?? []);
        // iam-simulate never matches a pattern whose product segment holds a variable.
        const kept = list.filter(
          (r) => !referenceProduct(r.split(':').slice(5).join(':')).includes('${'),
        );
        if (
          kept.length !== list.length &&
          resourceElementHolds(s, list, not) !== resourceElementHolds(s, kept, not)
        ) {
          out.add('variable-in-product-segment');
        }
      }

      const condition = st['Condition'] as ConditionJson | undefined;
      for (const [operator, block] of Object.entries(condition ?? {})) {
        const op = parseOperator(operator);
        if (op === undefined) continue;
        for (const [key, raw] of Object.entries(block)) {
          if (!conditionMatters(operator, key)) continue;
          const values = typeof raw === 'string' ? [raw] : raw;
          const lower = key.toLowerCase();
          const requestValue = lookup.get(lower);
          const requestValues =
            requestValue === undefined
              ? []
              : typeof requestValue === 'string'
                ? [requestValue]
                : requestValue;
          if (
            emptyKeys.has(lower) &&
            (op.base.family === 'null' ||
              op.setOperator === undefined ||
              (op.setOperator === 'ForAnyValue' && op.ifExists))
          ) {
            out.add('empty-multivalued-key');
          }
          if (op.setOperator === 'ForAnyValue' && op.ifExists && requestValue === undefined) {
            out.add('ifexists-on-set-operator');
          }
          if (
            variables &&
            op.base.negated &&
            (op.base.family === 'string' || op.base.family === 'arn') &&
            requestValue !== undefined
          ) {
            const unresolved = values.some((v) =>
              variablesOf(parseParts(v, true)).some(
                (ref) => resolveVariable(ref, lookup) === undefined,
              ),
            );
            if (
              unresolved &&
              evaluateCondition(compileCondition({ operator, key, values }, true), lookup, {
                missing: () => {},
                unresolved: () => {},
                firstUnresolved: undefined,
              }) === undefined
            ) {
              out.add('negated-operator-unresolved-variable');
            }
          }
          if (op.base.family === 'ip') {
            const ips = requestValues.map(parseIp);
            for (const v of values) {
              const range = parseCidr(v);
              if (range === undefined) continue;
              if (
                op.base.negated &&
                !v.includes('/') &&
                ips.some((ip) => ip !== undefined && ip.v6 !== range.v6)
              ) {
                out.add('not-ip-bare-address-other-family');
              }
              if (!range.v6 && v.endsWith('/0') && ips.some((ip) => ip !== undefined && !ip.v6)) {
                out.add('ipv4-zero-prefix');
              }
            }
          }
        }
      }
    });
  }

  if (s.session !== undefined && s.resourceAccount === s.principal.accountId) {
    const direct = ours.trace.some(
      (e) =>
        e.kind === 'statement' &&
        (e.policyType === 'resource' || e.policyType === 'trust') &&
        e.applies &&
        e.effect === 'Allow' &&
        e.principalMatch === 'direct',
    );
    const sessionAllows = ours.trace.some(
      (e) =>
        e.kind === 'statement' && e.policyType === 'session' && e.applies && e.effect === 'Allow',
    );
    if (direct && !sessionAllows) out.add('session-policy-vs-direct-grant');
  }
  return [...out];
}
