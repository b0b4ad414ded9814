/**
 * Console sessions: a sealed cookie (AES-256-GCM under a key derived from the master key)
 * naming the access key the user signed in with, when the session ends and a random session
 * id. Any replica opens it; every request re-resolves the key, so a deleted or deactivated key
 * ends its sessions, and checks the store's list of signed-out session ids, so sign-out ends
 * the session everywhere, copies of the cookie included.
 */
import { createHash, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CredentialResolver, Principal } from '../auth/index.js';
import { openSecret, sealSecret } from '../secrets/index.js';
import type { SessionRevocationList } from './revoked-sessions.js';

/** The session cookie's name. */
export const SESSION_COOKIE = 'latchkey_console';

/** How long a console session lasts. */
export const SESSION_SECONDS = 8 * 3600;

/** Additional data bound to every sealed session (a value sealed for anything else fails). */
const SESSION_CONTEXT = 'latchkey-console-session/v1';

interface SessionClaims {
  /** Access key id. */
  k: string;
  /** Account. */
  a: string;
  /** Expiry, ms since the epoch. */
  e: number;
  /** The session id: 16 random bytes (base64url), what sign-out revokes. */
  n: string;
}

/** Issues, opens and checks console sessions. */
export class ConsoleSessions {
  readonly #key: Buffer;

  constructor(
    masterKey: Buffer,
    private readonly resolver: CredentialResolver,
    private readonly revocations: SessionRevocationList,
    private readonly now: () => number = Date.now,
  ) {
    this.#key = Buffer.from(
      hkdfSync('sha256', masterKey, Buffer.alloc(0), 'latchkey console session key', 32),
    );
  }

  /** A sealed cookie value for a session of `principal` (an IAM user's access key). */
  seal(principal: Principal): { value: string; maxAgeSeconds: number } {
    const claims: SessionClaims = {
      k: principal.accessKeyId,
      a: principal.accountId,
      e: this.now() + SESSION_SECONDS * 1000,
      n: randomBytes(16).toString('base64url'),
    };
    const sealed = sealSecret(this.#key, JSON.stringify(claims), SESSION_CONTEXT);
    return { value: Buffer.from(sealed).toString('base64url'), maxAgeSeconds: SESSION_SECONDS };
  }

  /**
   * The principal of a session cookie, or undefined when it is missing, forged, expired,
   * signed out, or its access key no longer resolves to the same account. Throws when the
   * store cannot say whether the session was signed out.
   */
  async open(cookie: string | undefined): Promise<Principal | undefined> {
    const claims = this.#claims(cookie);
    if (claims === undefined) return undefined;
    if (await this.revocations.isRevoked(claims.n)) return undefined;
    const resolved = await this.resolver.resolve(claims.k, undefined).catch(() => null);
    if (resolved === null || resolved.principal.accountId !== claims.a) return undefined;
    return resolved.principal;
  }

  /**
   * Signs a session out: its id is recorded as revoked in the store until it would have
   * expired. A missing, forged or expired cookie needs nothing recorded.
   *
   * @example
   * await sessions.revoke(readCookie(request.headers.cookie, SESSION_COOKIE));
   */
  async revoke(cookie: string | undefined): Promise<void> {
    const claims = this.#claims(cookie);
    if (claims !== undefined) await this.revocations.revoke(claims.n, claims.e);
  }

  /** The claims of a genuine, unexpired cookie. */
  #claims(cookie: string | undefined): SessionClaims | undefined {
    if (cookie === undefined || cookie === '' || cookie.length > 2048) return undefined;
    let claims: SessionClaims;
    try {
      const sealed = Buffer.from(cookie, 'base64url').toString('utf8');
      claims = JSON.parse(openSecret(this.#key, sealed, SESSION_CONTEXT)) as SessionClaims;
    } catch {
      return undefined;
    }
    if (typeof claims !== 'object' || claims === null) return undefined;
    if (typeof claims.e !== 'number' || claims.e <= this.now()) return undefined;
    if (typeof claims.k !== 'string' || typeof claims.a !== 'string') return undefined;
    if (typeof claims.n !== 'string' || claims.n === '') return undefined;
    return claims;
  }

  /**
   * The principal of a long-term access key whose secret is `secret`, or undefined. The secret
   * is compared in constant time, and an unknown key costs the same comparison.
   */
  async verifyAccessKey(accessKeyId: string, secret: string): Promise<Principal | undefined> {
    const known = /^AKIA[A-Z0-9]{12,124}$/.test(accessKeyId)
      ? await this.resolver.resolve(accessKeyId, undefined).catch(() => null)
      : null;
    const expected = digest(known?.secretAccessKey ?? randomBytes(30).toString('base64'));
    const same = timingSafeEqual(expected, digest(secret));
    return known !== null && same ? known.principal : undefined;
  }

  /** The principal an access key id resolves to (for one-time links), or undefined. */
  async principalOf(accessKeyId: string): Promise<Principal | undefined> {
    const known = await this.resolver.resolve(accessKeyId, undefined).catch(() => null);
    return known?.principal;
  }
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
