/**
 * The access graph: service accounts → roles (IRSA trust or Pod Identity association) → roles
 * they chain into → what each role's policies allow.
 */
import type { PolicyStatement } from '../policy/index.js';
import { allPaths, type AccessPath } from './paths.js';
import type { AccessSnapshot, SnapshotRole } from './snapshot.js';

/** A node of the graph. `column` orders the drawing left to right. */
export interface GraphNode {
  id: string;
  kind: 'serviceAccount' | 'subjectPattern' | 'role' | 'permission';
  label: string;
  /** 0 service accounts, 1 roles assumed first, 2 roles chained into, 3 permissions. */
  column: 0 | 1 | 2 | 3;
  /** Facts shown when the node is selected. */
  detail: Record<string, string>;
}

/** An edge: how one node leads to the next. */
export interface GraphEdge {
  from: string;
  to: string;
  kind: 'irsa' | 'pod-identity' | 'association-target' | 'chain' | 'allows';
  /** False when the step's trust refuses (a broken association). */
  works: boolean;
  label: string;
}

/** The whole graph of one account. */
export interface AccessGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The node id of a service account. */
export function serviceAccountNodeId(cluster: string, namespace: string, name: string): string {
  return `sa:${cluster}/${namespace}/${name}`;
}

/**
 * Builds the graph of a snapshot (computing its paths unless given).
 *
 * @example
 * const graph = buildAccessGraph(await loadAccessSnapshot(sources, accountId));
 */
export function buildAccessGraph(
  snapshot: AccessSnapshot,
  paths: AccessPath[] = allPaths(snapshot),
): AccessGraph {
  const nodes = new Map<string, GraphNode>();
  const edges = new Map<string, GraphEdge>();
  const addEdge = (e: GraphEdge) => {
    const key = `${e.from}\u0000${e.to}\u0000${e.kind}`;
    const existing = edges.get(key);
    if (existing === undefined) edges.set(key, e);
    else if (e.works) existing.works = true;
  };

  for (const sa of snapshot.serviceAccounts) {
    nodes.set(serviceAccountNodeId(sa.cluster, sa.namespace, sa.name), {
      id: serviceAccountNodeId(sa.cluster, sa.namespace, sa.name),
      kind: 'serviceAccount',
      label: `${sa.namespace}/${sa.name}`,
      column: 0,
      detail: {
        cluster: sa.cluster,
        namespace: sa.namespace,
        serviceAccount: sa.name,
        recorded: sa.recorded ? 'yes' : 'no (named by an association)',
        ...(sa.annotations['eks.amazonaws.com/role-arn']
          ? { 'role-arn annotation': sa.annotations['eks.amazonaws.com/role-arn'] }
          : {}),
      },
    });
  }
  const roleColumn = new Map<string, 1 | 2>();
  for (const path of paths) {
    const from =
      path.subjectPattern === undefined
        ? serviceAccountNodeId(path.cluster, path.namespace, path.serviceAccount)
        : `pattern:${path.cluster}/${path.subjectPattern}`;
    if (path.subjectPattern !== undefined && !nodes.has(from)) {
      nodes.set(from, {
        id: from,
        kind: 'subjectPattern',
        label:
          path.subjectPattern === '*'
            ? `any service account (${path.cluster})`
            : `${path.subjectPattern.replace(/^system:serviceaccount:/, '')} (${path.cluster})`,
        column: 0,
        detail: { cluster: path.cluster, subject: path.subjectPattern },
      });
    }
    // Steps before the first refusal work; when every step is allowed but the path still
    // does not work (IRSA without the audience at the provider), its first step is the broken one.
    const refused = path.steps.findIndex((s) => s.decision.decision !== 'allowed');
    const firstBroken = path.works ? path.steps.length : refused < 0 ? 0 : refused;
    let prev = from;
    path.steps.forEach((step, i) => {
      const to = `role:${step.roleArn}`;
      const col = i === 0 ? 1 : 2;
      roleColumn.set(step.roleArn, Math.min(roleColumn.get(step.roleArn) ?? 2, col) as 1 | 2);
      addEdge({
        from: prev,
        to,
        kind: step.via,
        works: i < firstBroken,
        label:
          step.via === 'irsa'
            ? 'IRSA'
            : step.via === 'pod-identity'
              ? `association ${step.associationId ?? ''}`.trim()
              : step.via === 'association-target'
                ? 'target role'
                : 'AssumeRole',
      });
      prev = to;
    });
  }
  for (const role of snapshot.roles) {
    const id = `role:${role.arn}`;
    nodes.set(id, {
      id,
      kind: 'role',
      label: role.foreign ? `${role.roleName} (${role.accountId})` : role.roleName,
      column: roleColumn.get(role.arn) ?? 1,
      detail: {
        arn: role.arn,
        maxSessionDuration: `${role.maxSessionDuration} s`,
        ...(role.foreign ? { account: `${role.accountId} (another account)` } : {}),
        ...(role.boundary ? { permissionsBoundary: role.boundary.id } : {}),
        policies: role.identity.map((p) => p.id).join(', ') || '(none)',
      },
    });
    if (role.foreign) continue;
    for (const perm of permissionsOf(role)) {
      nodes.set(perm.id, perm);
      addEdge({ from: id, to: perm.id, kind: 'allows', works: true, label: 'allows' });
    }
  }
  // Edges to roles the snapshot does not hold (deleted roles named by associations).
  for (const e of edges.values()) {
    if (!nodes.has(e.to) && e.to.startsWith('role:')) {
      const arn = e.to.slice('role:'.length);
      nodes.set(e.to, {
        id: e.to,
        kind: 'role',
        label: `${arn.slice(arn.lastIndexOf('/') + 1)} (missing)`,
        column: roleColumn.get(arn) ?? 1,
        detail: { arn, note: 'no such role' },
      });
    }
  }
  return { nodes: [...nodes.values()], edges: [...edges.values()] };
}

/** One node per Allow statement of a role's identity policies. */
function permissionsOf(role: SnapshotRole): GraphNode[] {
  const out: GraphNode[] = [];
  for (const policy of role.identity) {
    policy.document.statements.forEach((st, index) => {
      if (st.effect !== 'Allow') return;
      out.push({
        id: `perm:${role.arn}:${policy.id}:${index}`,
        kind: 'permission',
        label: statementLabel(st),
        column: 3,
        detail: {
          policy: policy.id,
          statement: st.sid ?? `#${index + 1}`,
          actions: (st.action ?? st.notAction ?? []).join(', '),
          resources: (st.resource ?? st.notResource ?? []).join(', '),
          ...(st.conditions.length > 0
            ? {
                conditions: st.conditions
                  .map((c) => `${c.operator} ${c.key} = ${c.values.join('|')}`)
                  .join('; '),
              }
            : {}),
        },
      });
    });
  }
  return out;
}

/** "s3:GetObject, s3:PutObject on arn:aws:s3:::b/*", shortened. */
export function statementLabel(st: PolicyStatement): string {
  const list = (xs: string[]) =>
    xs.length <= 2 ? xs.join(', ') : `${xs.slice(0, 2).join(', ')} +${xs.length - 2}`;
  const actions = st.action ? list(st.action) : `all but ${list(st.notAction ?? [])}`;
  const resources = st.resource
    ? list(st.resource)
    : st.notResource
      ? `all but ${list(st.notResource)}`
      : '*';
  return `${actions} on ${resources}${st.conditions.length > 0 ? ' (if conditions)' : ''}`;
}
