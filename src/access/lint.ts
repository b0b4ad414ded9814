/**
 * Lint of an account's workload identity set-up: trust policies that admit more service
 * accounts than intended, conditions that pass when a key is missing, Pod Identity roles and
 * associations that do not fit together, and chains that cannot last as long as configured.
 * Every finding comes with its fix.
 */
import type { PolicyStatement } from '../policy/index.js';
import {
  CHAINED_SESSION_SECONDS,
  decideChain,
  decidePodIdentityTrust,
  podIdentityTags,
  POD_IDENTITY_SERVICE,
} from './decide.js';
import { allPaths, type AccessPath } from './paths.js';
import type { AccessSnapshot, SnapshotPolicy, SnapshotRole } from './snapshot.js';

/** The rules, with what each looks for. */
export const LINT_RULES = {
  'irsa-trust-without-sub':
    'A trust policy lets an OIDC provider’s tokens assume the role with no condition on the token’s sub: every service account of the cluster can assume it.',
  'irsa-wildcard-subject':
    'A trust policy admits a wildcard subject (or any principal): more service accounts than one can assume the role.',
  'irsa-missing-aud':
    'A trust policy does not check the token’s aud: tokens minted for other audiences are accepted.',
  'forallvalues-missing-key':
    'An Allow uses ForAllValues on a key requests may not carry: ForAllValues is true when the key is missing, so the statement also applies without it.',
  'pod-identity-trust-without-association':
    'A role trusts pods.eks.amazonaws.com but no pod identity association uses it.',
  'association-role-not-trusting':
    'A pod identity association names a role that does not exist or does not trust pods.eks.amazonaws.com (sts:AssumeRole and sts:TagSession).',
  'association-target-not-trusting':
    'A pod identity association’s target role does not exist or does not let the association’s role assume it.',
  'chain-beyond-one-hour':
    'A role reached by role chaining has a MaxSessionDuration over one hour, which chained sessions never get.',
} as const;

/** A lint rule's id. */
export type LintRuleId = keyof typeof LINT_RULES;

/** One finding: what is wrong, where, and how to fix it. */
export interface LintFinding {
  rule: LintRuleId;
  severity: 'error' | 'warning';
  /** The role or association ARN the finding is about. */
  subject: string;
  message: string;
  fix: string;
}

/** Keys every request carries (ForAllValues on them cannot pass vacuously). */
const ALWAYS_PRESENT = new Set([
  'aws:currenttime',
  'aws:epochtime',
  'aws:principalarn',
  'aws:principalaccount',
  'aws:principaltype',
  'aws:userid',
  'aws:securetransport',
]);

/**
 * Lints an account's snapshot.
 *
 * @example
 * for (const f of lintAccess(snapshot)) console.log(`${f.rule}: ${f.message}\n  fix: ${f.fix}`);
 */
export function lintAccess(
  snapshot: AccessSnapshot,
  paths: AccessPath[] = allPaths(snapshot),
): LintFinding[] {
  const findings: LintFinding[] = [];
  for (const role of snapshot.roles) {
    if (role.foreign) continue;
    if (role.trust) findings.push(...lintTrust(role, role.trust));
    for (const policy of [
      ...(role.trust ? [role.trust] : []),
      ...role.identity,
      ...(role.boundary ? [role.boundary] : []),
    ]) {
      findings.push(...lintForAllValues(role, policy));
    }
    if (
      trustsService(role, POD_IDENTITY_SERVICE) &&
      !snapshot.associations.some((a) => a.roleArn === role.arn)
    ) {
      findings.push({
        rule: 'pod-identity-trust-without-association',
        severity: 'warning',
        subject: role.arn,
        message: `${role.roleName} trusts ${POD_IDENTITY_SERVICE}, but no pod identity association uses it.`,
        fix: `Create an association for the service account meant to use it (aws eks create-pod-identity-association --cluster-name CLUSTER --namespace NS --service-account SA --role-arn ${role.arn}), or remove the ${POD_IDENTITY_SERVICE} statement from its trust policy.`,
      });
    }
  }
  findings.push(...lintAssociations(snapshot));
  findings.push(...lintChains(snapshot, paths));
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}|${f.subject}|${f.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** IRSA rules over one trust policy. */
function lintTrust(role: SnapshotRole, trust: SnapshotPolicy): LintFinding[] {
  const out: LintFinding[] = [];
  trust.document.statements.forEach((st, i) => {
    if (st.effect !== 'Allow' || !coversAction(st, 'sts:AssumeRoleWithWebIdentity')) return;
    const where = `statement ${st.sid ?? `#${i + 1}`} of ${role.roleName}'s trust policy`;
    const anyone = st.principal === '*' || st.principal?.Federated?.includes('*') === true;
    const providers = (st.principal === '*' ? [] : (st.principal?.Federated ?? []))
      .map((f) => /^arn:aws:iam::\d{12}:oidc-provider\/(.+)$/.exec(f)?.[1])
      .filter((u): u is string => u !== undefined);
    if (anyone) {
      out.push({
        rule: 'irsa-wildcard-subject',
        severity: 'error',
        subject: role.arn,
        message: `${where} lets any principal call sts:AssumeRoleWithWebIdentity.`,
        fix: `Name the cluster's OIDC provider: "Principal": {"Federated": "arn:aws:iam::${role.accountId}:oidc-provider/ISSUER"}, with StringEquals conditions on ISSUER:sub and ISSUER:aud.`,
      });
    }
    for (const url of providers) {
      const sub = st.conditions.filter((c) => c.key.toLowerCase() === `${url}:sub`.toLowerCase());
      const aud = st.conditions.filter((c) => c.key.toLowerCase() === `${url}:aud`.toLowerCase());
      if (sub.length === 0) {
        out.push({
          rule: 'irsa-trust-without-sub',
          severity: 'error',
          subject: role.arn,
          message: `${where} trusts ${url} with no condition on ${url}:sub: every service account of the cluster can assume ${role.roleName}.`,
          fix: `Add "Condition": {"StringEquals": {"${url}:sub": "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT"}} naming the one service account that should assume it.`,
        });
      }
      for (const c of sub) {
        const wild = c.values.filter((v) => /[*?]/.test(v));
        if (wild.length > 0 && /like/i.test(c.operator)) {
          out.push({
            rule: 'irsa-wildcard-subject',
            severity: 'error',
            subject: role.arn,
            message: `${where} admits the subject pattern ${wild.join(', ')} (${c.operator}): every matching service account can assume ${role.roleName}.`,
            fix: `Use StringEquals on ${url}:sub with the exact subjects, e.g. "system:serviceaccount:NAMESPACE:SERVICE_ACCOUNT" (list several values if several service accounts need it).`,
          });
        }
      }
      if (aud.length === 0) {
        out.push({
          rule: 'irsa-missing-aud',
          severity: 'warning',
          subject: role.arn,
          message: `${where} does not check ${url}:aud: a token the cluster minted for another audience is accepted too.`,
          fix: `Add "StringEquals": {"${url}:aud": "sts.amazonaws.com"} to the statement's Condition.`,
        });
      }
    }
  });
  return out;
}

/** ForAllValues on keys that may be missing, in Allow statements without a Null guard. */
function lintForAllValues(role: SnapshotRole, policy: SnapshotPolicy): LintFinding[] {
  const out: LintFinding[] = [];
  policy.document.statements.forEach((st, i) => {
    if (st.effect !== 'Allow') return;
    for (const c of st.conditions) {
      if (!/^ForAllValues:/i.test(c.operator)) continue;
      const key = c.key.toLowerCase();
      if (ALWAYS_PRESENT.has(key)) continue;
      const guarded = st.conditions.some(
        (g) => g.operator === 'Null' && g.key.toLowerCase() === key && g.values.includes('false'),
      );
      if (guarded) continue;
      out.push({
        rule: 'forallvalues-missing-key',
        severity: 'warning',
        subject: role.arn,
        message: `Statement ${st.sid ?? `#${i + 1}`} of ${policy.id} allows with ${c.operator} on ${c.key}; a request without ${c.key} passes that condition.`,
        fix: `Add "Null": {"${c.key}": "false"} to the statement's Condition so the key must be present, or use ForAnyValue if one matching value is enough.`,
      });
    }
  });
  return out;
}

/** Associations whose role or target role does not fit. */
function lintAssociations(snapshot: AccessSnapshot): LintFinding[] {
  const out: LintFinding[] = [];
  const trustFix = `Add to the role's trust policy: {"Effect": "Allow", "Principal": {"Service": "${POD_IDENTITY_SERVICE}"}, "Action": ["sts:AssumeRole", "sts:TagSession"]}.`;
  for (const a of snapshot.associations) {
    const cluster = snapshot.clusters.find((c) => c.name === a.clusterName);
    const name = `the association ${a.associationId} (${a.clusterName} ${a.namespace}/${a.serviceAccount})`;
    const role = snapshot.role(a.roleArn);
    if (role === undefined) {
      out.push({
        rule: 'association-role-not-trusting',
        severity: 'error',
        subject: a.associationArn,
        message: `${name} names ${a.roleArn}, which does not exist.`,
        fix: `Create the role with a trust policy for ${POD_IDENTITY_SERVICE}, or point the association at an existing role (aws eks update-pod-identity-association --role-arn ARN).`,
      });
      continue;
    }
    const tags =
      a.disableSessionTags || cluster === undefined
        ? {}
        : podIdentityTags(cluster, a.namespace, a.serviceAccount);
    const trust = decidePodIdentityTrust(
      role,
      cluster ?? { name: a.clusterName, arn: '' },
      snapshot.accountId,
      tags,
    );
    if (trust.decision.decision !== 'allowed') {
      out.push({
        rule: 'association-role-not-trusting',
        severity: 'error',
        subject: a.associationArn,
        message: `${name} uses ${role.roleName}, whose trust policy does not let ${POD_IDENTITY_SERVICE} ${trust.action}: its pods get no credentials.`,
        fix: trustFix,
      });
    }
    if (a.targetRoleArn === undefined) continue;
    const target = snapshot.role(a.targetRoleArn);
    if (target === undefined) {
      out.push({
        rule: 'association-target-not-trusting',
        severity: 'error',
        subject: a.associationArn,
        message: `${name} chains into ${a.targetRoleArn}, which does not exist.`,
        fix: `Create the target role, or remove the target from the association (aws eks update-pod-identity-association --target-role-arn "").`,
      });
      continue;
    }
    const chain = decideChain(role, target, tags, a.externalId);
    if (chain.decision !== 'allowed') {
      out.push({
        rule: 'association-target-not-trusting',
        severity: 'error',
        subject: a.associationArn,
        message: `${name} chains ${role.roleName} into ${target.arn}, but ${chain.denial?.policyType === 'trust' ? `the target's trust policy does not admit ${role.arn}` : `${role.roleName}'s permissions do not allow sts:AssumeRole on it`}.`,
        fix: `Add to ${target.roleName}'s trust policy {"Effect": "Allow", "Principal": {"AWS": "${role.arn}"}, "Action": ["sts:AssumeRole", "sts:TagSession"]${a.externalId ? `, "Condition": {"StringEquals": {"sts:ExternalId": "${a.externalId}"}}` : ''}} and allow sts:AssumeRole on ${target.arn} in ${role.roleName}'s permissions.`,
      });
    }
  }
  return out;
}

/** Roles reached by chaining that promise sessions longer than chaining gives. */
function lintChains(snapshot: AccessSnapshot, paths: AccessPath[]): LintFinding[] {
  const out: LintFinding[] = [];
  for (const path of paths) {
    path.steps.forEach((step, i) => {
      if (i === 0 || !path.works) return;
      const role = snapshot.role(step.roleArn);
      if (role === undefined || role.maxSessionDuration <= CHAINED_SESSION_SECONDS) return;
      const from = path.steps[i - 1]?.roleArn ?? '';
      out.push({
        rule: 'chain-beyond-one-hour',
        severity: 'warning',
        subject: role.arn,
        message: `${role.roleName} is reached by chaining from ${from}${step.associationId ? ` (association ${step.associationId})` : ''} and has MaxSessionDuration ${role.maxSessionDuration} s, but a chained session lasts one hour at most.`,
        fix: `Expect the chained credentials to expire after an hour and refresh them (the Pod Identity agent and the AWS SDKs do), and set ${role.roleName}'s MaxSessionDuration to 3600 so its configuration says what happens; if the workload needs longer sessions, grant the first role the permissions directly instead of chaining.`,
      });
    });
  }
  return out;
}

function trustsService(role: SnapshotRole, service: string): boolean {
  return (role.trust?.document.statements ?? []).some(
    (st) =>
      st.effect === 'Allow' &&
      st.principal !== undefined &&
      st.principal !== '*' &&
      (st.principal.Service ?? []).includes(service),
  );
}

/** Whether a statement's Action (or NotAction) covers an action, wildcards included. */
function coversAction(st: PolicyStatement, action: string): boolean {
  const match = (pattern: string) =>
    new RegExp(
      `^${pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
      'i',
    ).test(action);
  if (st.action) return st.action.some(match);
  if (st.notAction) return !st.notAction.some(match);
  return false;
}
