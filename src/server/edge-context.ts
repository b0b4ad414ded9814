import type { AuditTrail } from '../audit/index.js';
import type { CredentialResolver } from '../auth/index.js';
import type { SigV4Request } from '../sigv4/index.js';
import type { RequestThrottle } from '../throttle/index.js';

/** What every protocol dispatcher at the edge shares. */
export interface EdgeContext {
  resolver: CredentialResolver;
  trail: AuditTrail;
  region: string;
  onInternalError: (err: unknown) => void;
  /** Per-account request limits, checked once the caller's account is known; none when unset. */
  throttle?: RequestThrottle | undefined;
}

/** The caller's User-Agent, for the audit trail. */
export function userAgentOf(req: SigV4Request): string {
  const ua = req.headers['user-agent'];
  return (Array.isArray(ua) ? ua.join(',') : ua) ?? '';
}
