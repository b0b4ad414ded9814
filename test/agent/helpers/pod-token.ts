/**
 * Projected service-account tokens as the kubelet mounts them for EKS Pod Identity (audience
 * `pods.eks.amazonaws.com`, `kubernetes.io` claims), signed HS256 by a test key: the agent never
 * verifies signatures, the EKS Auth stand-in does.
 */
import { createHmac, randomUUID } from 'node:crypto';

/** A pod, as named in its token. */
export interface PodRef {
  namespace: string;
  serviceAccount: string;
  /** Pod name (default: `<serviceAccount>-pod`). */
  pod?: string;
}

/** Claims of a minted token. */
export interface PodTokenClaims {
  iss: string;
  sub: string;
  aud: string[];
  exp: number;
  iat: number;
  nbf: number;
  'kubernetes.io': {
    namespace: string;
    pod: { name: string; uid: string };
    serviceaccount: { name: string; uid: string };
  };
}

/** Mints tokens of one issuer. */
export class PodTokenIssuer {
  constructor(
    readonly issuer: string,
    private readonly key: Buffer,
  ) {}

  /** A token for `pod`, valid from `nowMs` for `lifetimeSeconds` (default 24 h). */
  mint(
    pod: PodRef,
    options: { nowMs?: number; lifetimeSeconds?: number; audience?: string } = {},
  ): string {
    const now = Math.floor((options.nowMs ?? Date.now()) / 1000);
    const name = pod.pod ?? `${pod.serviceAccount}-pod`;
    const claims: PodTokenClaims = {
      iss: this.issuer,
      sub: `system:serviceaccount:${pod.namespace}:${pod.serviceAccount}`,
      aud: [options.audience ?? 'pods.eks.amazonaws.com'],
      exp: now + (options.lifetimeSeconds ?? 86_400),
      iat: now,
      nbf: now,
      'kubernetes.io': {
        namespace: pod.namespace,
        pod: { name, uid: randomUUID() },
        serviceaccount: { name: pod.serviceAccount, uid: randomUUID() },
      },
    };
    return this.sign({ alg: 'HS256', typ: 'JWT' }, claims);
  }

  /** Signs any header and claims (for hostile tokens). */
  sign(header: unknown, claims: unknown): string {
    const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
    return `${input}.${createHmac('sha256', this.key).update(input).digest('base64url')}`;
  }

  /** True when `token` was signed by this issuer. */
  verify(token: string): boolean {
    const [h, c, s] = token.split('.');
    if (h === undefined || c === undefined || s === undefined) return false;
    return createHmac('sha256', this.key).update(`${h}.${c}`).digest('base64url') === s;
  }
}

/** base64url of a UTF-8 string. */
export function b64(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** The claims of a token (no verification). */
export function claimsOf(token: string): PodTokenClaims {
  return JSON.parse(
    Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'),
  ) as PodTokenClaims;
}
