/**
 * Paths from a service account to roles: IRSA (a role's trust policy admits the account's
 * projected token through the cluster's OIDC provider), Pod Identity (an association, optionally
 * chained into a target role), and role chaining beyond (a role's session allowed to assume
 * another role that trusts it). Every step is the engine's decision.
 */
import type { Decision } from '../policy/index.js';
import {
  CHAINED_SESSION_SECONDS,
  decideChain,
  decideIrsaTrust,
  decidePodIdentityTrust,
  IRSA_AUDIENCE,
  noPolicyDecision,
  podIdentityTags,
  POD_IDENTITY_SERVICE,
  POD_IDENTITY_SESSION_SECONDS,
  subjectOf,
} from './decide.js';
import type { AccessSnapshot, SnapshotCluster, SnapshotRole } from './snapshot.js';

/** One role reached along a path, and the trust decision that let the path in. */
export interface PathStep {
  via: 'irsa' | 'pod-identity' | 'association-target' | 'chain';
  roleArn: string;
  /** The action the trust decision was about (sts:AssumeRoleWithWebIdentity, sts:AssumeRole, …). */
  action: string;
  decision: Decision;
  associationId?: string;
}

/** How a service account (or every account a pattern admits) reaches a role. */
export interface AccessPath {
  cluster: string;
  namespace: string;
  serviceAccount: string;
  /** For a path open to many service accounts: the token subject pattern the trust admits. */
  subjectPattern?: string;
  steps: PathStep[];
  /** Session tags the path's sessions carry (Pod Identity's). */
  sessionTags: Record<string, string>;
  /** The longest the credentials at the end of the path last, in seconds. */
  maxSessionSeconds: number;
  /** True when every step's trust allows. */
  works: boolean;
  /** Why the path does not work, in words. */
  problem?: string;
}

/** Chains are followed this many hops past the first role. */
const MAX_CHAIN_HOPS = 2;
/** Role-to-role chains are looked for only among this many roles (it is quadratic). */
const MAX_ROLES_FOR_CHAINS = 300;

/** Every path of every known service account, plus the paths open to subject patterns. */
export function allPaths(snapshot: AccessSnapshot): AccessPath[] {
  const out: AccessPath[] = [];
  for (const sa of snapshot.serviceAccounts) {
    out.push(...pathsForServiceAccount(snapshot, sa.cluster, sa.namespace, sa.name));
  }
  out.push(...patternPaths(snapshot));
  return out;
}

/**
 * The paths of one service account: IRSA roles that trust it, its association, and the chains
 * beyond. Broken Pod Identity paths (a role that does not trust the service) are included with
 * `works: false`; IRSA roles that do not trust the account are not paths at all.
 */
export function pathsForServiceAccount(
  snapshot: AccessSnapshot,
  clusterName: string,
  namespace: string,
  serviceAccount: string,
): AccessPath[] {
  const cluster = snapshot.clusters.find((c) => c.name === clusterName);
  if (cluster === undefined) return [];
  const subject = subjectOf(namespace, serviceAccount);
  const base = { cluster: cluster.name, namespace, serviceAccount };
  const paths: AccessPath[] = [];

  if (cluster.providerArn !== undefined) {
    for (const role of ownRolesWithTrust(snapshot)) {
      const decision = decideIrsaTrust(role, cluster, subject);
      if (decision.decision !== 'allowed') continue;
      paths.push(irsaPath(base, cluster, role, decision));
    }
  }

  const association = snapshot.associations.find(
    (a) =>
      a.clusterName === cluster.name &&
      a.namespace === namespace &&
      a.serviceAccount === serviceAccount,
  );
  if (association !== undefined) {
    const tags = association.disableSessionTags
      ? {}
      : podIdentityTags(cluster, namespace, serviceAccount);
    const role = snapshot.role(association.roleArn);
    const trust = role
      ? decidePodIdentityTrust(role, cluster, snapshot.accountId, tags)
      : { action: 'sts:AssumeRole', decision: noPolicyDecision('trust') };
    const first: PathStep = {
      via: 'pod-identity',
      roleArn: association.roleArn,
      action: trust.action,
      decision: trust.decision,
      associationId: association.associationId,
    };
    let path: AccessPath = {
      ...base,
      steps: [first],
      sessionTags: tags,
      maxSessionSeconds: POD_IDENTITY_SESSION_SECONDS,
      works: role !== undefined && trust.decision.decision === 'allowed',
      ...(role === undefined
        ? { problem: `the association's role ${association.roleArn} does not exist` }
        : trust.decision.decision !== 'allowed'
          ? {
              problem: `the trust policy of ${role.arn} does not let ${POD_IDENTITY_SERVICE} ${trust.action}`,
            }
          : {}),
    };
    if (association.targetRoleArn !== undefined) {
      const target = snapshot.role(association.targetRoleArn);
      const decision =
        role && target
          ? decideChain(role, target, tags, association.externalId)
          : noPolicyDecision('trust');
      const works = path.works && target !== undefined && decision.decision === 'allowed';
      path = {
        ...path,
        steps: [
          ...path.steps,
          {
            via: 'association-target',
            roleArn: association.targetRoleArn,
            action: 'sts:AssumeRole',
            decision,
            associationId: association.associationId,
          },
        ],
        maxSessionSeconds: CHAINED_SESSION_SECONDS,
        works,
        ...(path.problem !== undefined
          ? {}
          : target === undefined
            ? { problem: `the target role ${association.targetRoleArn} does not exist` }
            : !works
              ? {
                  problem: `${association.roleArn} may not assume the target role ${target.arn} (its trust policy or the first role's permissions refuse)`,
                }
              : {}),
      };
    }
    paths.push(path);
  }
  return withChains(snapshot, paths);
}

/**
 * Paths open to every service account matching a pattern: a role trusting a cluster's provider
 * with a wildcard subject (`system:serviceaccount:team-*:*`), or with no subject condition.
 */
export function patternPaths(snapshot: AccessSnapshot): AccessPath[] {
  const out: AccessPath[] = [];
  for (const cluster of snapshot.clusters) {
    if (cluster.providerArn === undefined) continue;
    for (const role of ownRolesWithTrust(snapshot)) {
      // No subject condition at all: a subject nobody would name still gets in.
      const probe = decideIrsaTrust(
        role,
        cluster,
        subjectOf('latchkey-probe-0', 'latchkey-probe-0'),
      );
      if (probe.decision === 'allowed') {
        out.push({
          ...irsaPath(
            { cluster: cluster.name, namespace: '*', serviceAccount: '*' },
            cluster,
            role,
            probe,
          ),
          subjectPattern: '*',
        });
        continue;
      }
      for (const pattern of subjectPatterns(role, cluster)) {
        const sample = pattern.replace(/[*?]/g, 'x');
        const decision = decideIrsaTrust(role, cluster, sample);
        if (decision.decision !== 'allowed') continue;
        const m = /^system:serviceaccount:([^:]*):([^:]*)$/.exec(pattern);
        out.push({
          ...irsaPath(
            { cluster: cluster.name, namespace: m?.[1] ?? '*', serviceAccount: m?.[2] ?? '*' },
            cluster,
            role,
            decision,
          ),
          subjectPattern: pattern,
        });
      }
    }
  }
  return withChains(snapshot, out);
}

/** Wildcard values of `<provider>:sub` conditions in a role's trust statements for `cluster`. */
export function subjectPatterns(role: SnapshotRole, cluster: SnapshotCluster): string[] {
  const key = `${cluster.providerUrl}:sub`.toLowerCase();
  const out = new Set<string>();
  for (const st of role.trust?.document.statements ?? []) {
    for (const c of st.conditions) {
      if (c.key.toLowerCase() !== key) continue;
      for (const v of c.values) if (/[*?]/.test(v)) out.add(v);
    }
  }
  return [...out];
}

/** Whether a subject pattern (with `*` and `?`) admits a subject. */
export function subjectMatches(pattern: string, subject: string): boolean {
  if (pattern === '*') return true;
  const re = new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '.*')
      .replace(/\?/g, '.')}$`,
  );
  return re.test(subject);
}

function ownRolesWithTrust(snapshot: AccessSnapshot): SnapshotRole[] {
  return snapshot.roles.filter((r) => !r.foreign && r.trust !== undefined);
}

function irsaPath(
  base: { cluster: string; namespace: string; serviceAccount: string },
  cluster: SnapshotCluster,
  role: SnapshotRole,
  decision: Decision,
): AccessPath {
  const audienceOk = cluster.providerClientIds?.includes(IRSA_AUDIENCE) ?? false;
  return {
    ...base,
    steps: [{ via: 'irsa', roleArn: role.arn, action: 'sts:AssumeRoleWithWebIdentity', decision }],
    sessionTags: {},
    maxSessionSeconds: role.maxSessionDuration,
    works: audienceOk,
    ...(audienceOk
      ? {}
      : {
          problem: `the OIDC provider of cluster ${cluster.name} does not list ${IRSA_AUDIENCE} as a client id, so STS refuses its tokens`,
        }),
  };
}

/** Each working path, extended by every role its last role's session may chain into. */
function withChains(snapshot: AccessSnapshot, paths: AccessPath[]): AccessPath[] {
  if (snapshot.roles.length > MAX_ROLES_FOR_CHAINS) return paths;
  const out: AccessPath[] = [];
  const extend = (path: AccessPath, hops: number) => {
    out.push(path);
    if (!path.works || hops >= MAX_CHAIN_HOPS) return;
    // Another account's role (an association's target) chains by its own policies too.
    const last = snapshot.role(path.steps.at(-1)?.roleArn ?? '');
    if (last === undefined) return;
    for (const next of snapshot.roles) {
      if (path.steps.some((s) => s.roleArn === next.arn)) continue;
      const decision = decideChain(last, next, path.sessionTags);
      if (decision.decision !== 'allowed') continue;
      extend(
        {
          ...path,
          steps: [
            ...path.steps,
            { via: 'chain', roleArn: next.arn, action: 'sts:AssumeRole', decision },
          ],
          maxSessionSeconds: CHAINED_SESSION_SECONDS,
        },
        hops + 1,
      );
    }
  };
  for (const p of paths) extend(p, p.steps.length - 1);
  return out;
}
