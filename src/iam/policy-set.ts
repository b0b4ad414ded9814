import { isAwsError } from '../errors/index.js';
import type { Principal } from '../auth/index.js';
import type { ManagedPolicyDirectory } from './managed-policies.js';
import type { PrincipalPolicies } from './principal-policies.js';
import type { RoleDirectory } from './roles.js';

/** A policy document with a stable identifier for traces (`arn:…:policy/X`, `role/R/inline/P`). */
export interface NamedPolicy {
  id: string;
  document: string;
}

/** Everything that decides what a principal may do, read at request time as AWS does. */
export interface PrincipalPolicySet {
  /** Inline and attached managed policies of the user or role. */
  identity: NamedPolicy[];
  /** The role's (or user's) permissions boundary, when set. */
  boundary?: NamedPolicy;
  /** Session policies (inline and managed) of a role session. */
  session: NamedPolicy[];
  /** Principal tags: the role's tags, overridden by session tags. */
  tags: Record<string, string>;
}

/** Reads a principal's policies: the user's, or the role's behind a session. */
export class PolicySetLoader {
  constructor(
    private readonly roles: RoleDirectory,
    private readonly policies: ManagedPolicyDirectory,
    private readonly principalPolicies: PrincipalPolicies,
  ) {}

  /** The policy set of `principal`; a session whose role is gone has no permissions. */
  async load(principal: Principal): Promise<PrincipalPolicySet> {
    if (principal.session !== undefined) {
      const session = principal.session;
      const roleName = session.roleArn.slice(session.roleArn.lastIndexOf('/') + 1);
      const role = await this.roles.find(session.accountId, roleName);
      // A deleted (or deleted and re-created) role leaves its sessions without permissions.
      if (role === undefined || role.roleId !== session.roleId)
        return { identity: [], session: [], tags: {} };
      const holder = { kind: 'role' as const, accountId: role.accountId, name: role.roleName };
      const sessionPolicies: NamedPolicy[] = [];
      if (session.sessionPolicy !== undefined) {
        sessionPolicies.push({
          id: `session-policy/${session.sessionName}`,
          document: session.sessionPolicy,
        });
      }
      for (const arn of session.sessionPolicyArns) sessionPolicies.push(await this.#managed(arn));
      return {
        identity: await this.#identity(holder, `role/${role.roleName}`),
        ...(role.permissionsBoundary === undefined
          ? {}
          : { boundary: await this.#managed(role.permissionsBoundary) }),
        session: sessionPolicies,
        tags: { ...role.tags, ...session.tags },
      };
    }
    if (principal.userName === undefined) return { identity: [], session: [], tags: {} };
    const holder = {
      kind: 'user' as const,
      accountId: principal.accountId,
      name: principal.userName,
    };
    return {
      identity: await this.#identity(holder, `user/${principal.userName}`),
      session: [],
      tags: {},
    };
  }

  async #identity(
    holder: Parameters<PrincipalPolicies['attached']>[0],
    prefix: string,
  ): Promise<NamedPolicy[]> {
    const out: NamedPolicy[] = [];
    for (const inline of await this.principalPolicies.listInline(holder)) {
      out.push({ id: `${prefix}/inline/${inline.policyName}`, document: inline.document });
    }
    for (const arn of await this.principalPolicies.attached(holder))
      out.push(await this.#managed(arn));
    return out;
  }

  async #managed(arn: string): Promise<NamedPolicy> {
    try {
      return { id: arn, document: await this.policies.defaultDocument(arn) };
    } catch (err) {
      if (!isAwsError(err, 'NoSuchEntity')) throw err;
      // A policy deleted since it was named (e.g. a session policy ARN) grants nothing.
      return { id: arn, document: '{"Version":"2012-10-17","Statement":[]}' };
    }
  }
}
