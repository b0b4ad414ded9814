/**
 * `Principal` / `NotPrincipal` matching for resource-based and trust policies.
 *
 * A statement can name the caller in three ways, which AWS weighs differently (see
 * {@link PrincipalMatchKind}): the caller itself (`direct`), the role behind a session or the
 * user behind a federated-user session (`entity`), or the caller's account (`account`).
 */
import { splitArn } from './arn.js';
import type { PrincipalElement, PrincipalMatchKind, RequestPrincipal } from './types.js';

interface RolePrincipal {
  arn: string;
  partition: string;
  account: string;
  name: string;
}

const AWS_CALLERS = new Set(['IAMUser', 'AssumedRole', 'FederatedUser', 'Root']);

/** A compiled `Principal` or `NotPrincipal` element. */
export class PrincipalSet {
  wildcard = false;
  readonly accounts = new Set<string>();
  /** Exact ARNs naming a caller directly (users, sessions, federated users). */
  readonly arns = new Set<string>();
  /** Role ARNs, lower-cased (role names are case-insensitive). */
  readonly roles: RolePrincipal[] = [];
  readonly services = new Set<string>();
  readonly federated = new Set<string>();
  readonly canonical = new Set<string>();
  readonly uniqueIds = new Set<string>();

  constructor(element: PrincipalElement) {
    if (element === '*') {
      this.wildcard = true;
      return;
    }
    for (const v of element.AWS ?? []) this.#addAws(v);
    for (const v of element.Service ?? []) {
      if (v === '*') this.wildcard = true;
      else this.services.add(v);
    }
    for (const v of element.Federated ?? []) this.federated.add(v);
    for (const v of element.CanonicalUser ?? []) this.canonical.add(v);
  }

  #addAws(v: string): void {
    if (v === '*') {
      this.wildcard = true;
      return;
    }
    if (/^\d{12}$/.test(v)) {
      this.accounts.add(v);
      return;
    }
    const arn = v.startsWith('arn:') ? splitArn(v) : undefined;
    if (arn === undefined) {
      this.uniqueIds.add(v);
      return;
    }
    if (arn.service === 'iam' && arn.resource === 'root') {
      this.accounts.add(arn.account);
      return;
    }
    if (arn.service === 'iam' && arn.resource.startsWith('role/')) {
      const name = arn.resource.slice(arn.resource.lastIndexOf('/') + 1);
      this.roles.push({
        arn: v.toLowerCase(),
        partition: arn.partition,
        account: arn.account,
        name: name.toLowerCase(),
      });
      return;
    }
    this.arns.add(v);
  }

  #roleMatches(p: RequestPrincipal): boolean {
    if (this.roles.length === 0) return false;
    if (p.sessionIssuerArn !== undefined) {
      const issuer = p.sessionIssuerArn.toLowerCase();
      if (this.roles.some((r) => r.arn === issuer)) return true;
    }
    // Session ARNs carry the role's name but not its path: match by partition, account, name.
    const arn = splitArn(p.arn);
    if (arn === undefined || !arn.resource.startsWith('assumed-role/')) return false;
    const name = (arn.resource.split('/')[1] ?? '').toLowerCase();
    return this.roles.some(
      (r) => r.partition === arn.partition && r.account === arn.account && r.name === name,
    );
  }

  /** How the element names the caller, or undefined when it does not. */
  match(p: RequestPrincipal): PrincipalMatchKind | undefined {
    if (this.wildcard) return 'direct';
    if (p.canonicalUserId !== undefined && this.canonical.has(p.canonicalUserId)) return 'direct';
    switch (p.type) {
      case 'Service':
        return this.services.has(p.arn) ? 'direct' : undefined;
      case 'WebIdentity':
      case 'SAMLUser':
        return this.federated.has(p.arn) ? 'direct' : undefined;
      case 'Anonymous':
        return undefined;
    }
    if (!AWS_CALLERS.has(p.type)) return undefined;
    if (this.arns.has(p.arn)) return 'direct';
    if (p.type === 'Root') return this.accounts.has(p.accountId) ? 'direct' : undefined;
    if (p.principalId !== undefined && this.uniqueIds.size > 0) {
      if (this.uniqueIds.has(p.principalId)) return 'direct';
      const colon = p.principalId.indexOf(':');
      if (colon > 0 && this.uniqueIds.has(p.principalId.slice(0, colon))) return 'entity';
    }
    if (p.type === 'AssumedRole' && this.#roleMatches(p)) return 'entity';
    if (p.type === 'FederatedUser') {
      const issuer = sessionIssuer(p);
      if (issuer !== undefined && this.arns.has(issuer)) return 'entity';
    }
    if (this.accounts.has(p.accountId)) return 'account';
    return undefined;
  }
}

/** The ARN of the identity behind a session: the role (assumed role) or user (federated user). */
export function sessionIssuer(p: RequestPrincipal): string | undefined {
  if (p.sessionIssuerArn !== undefined) return p.sessionIssuerArn;
  const arn = splitArn(p.arn);
  if (arn === undefined) return undefined;
  if (p.type === 'AssumedRole' && arn.resource.startsWith('assumed-role/')) {
    const role = arn.resource.split('/')[1] ?? '';
    return `arn:${arn.partition}:iam::${arn.account}:role/${role}`;
  }
  if (p.type === 'FederatedUser' && arn.resource.startsWith('federated-user/')) {
    return `arn:${arn.partition}:iam::${arn.account}:user/${arn.resource.slice('federated-user/'.length)}`;
  }
  return undefined;
}
