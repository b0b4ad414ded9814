import { createHash, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import type { IssuerSigningKey } from './issuer-keys.js';

/** Kubernetes' bounds on a projected token's lifetime (`expirationSeconds`). */
export const MIN_TOKEN_SECONDS = 600;
export const MAX_TOKEN_SECONDS = 86_400;

/** What a projected service-account token is issued for. */
export interface ServiceAccountTokenRequest {
  issuerUrl: string;
  namespace: string;
  serviceAccount: string;
  /** The service account's uid; derived from the names when not recorded. */
  serviceAccountUid?: string;
  audiences: string[];
  /** Lifetime in seconds, 600…86,400 (Kubernetes' bounds). */
  expirationSeconds: number;
  pod?: { name: string; uid?: string };
  /** Issue time, epoch seconds (default now). */
  now?: number;
}

/**
 * Mints a token with exactly the claims of a Kubernetes projected service-account token:
 * iss, `sub = system:serviceaccount:NS:SA`, aud as a list, exp, iat, nbf, jti, and the
 * `kubernetes.io` claim.
 */
export async function mintServiceAccountToken(
  key: IssuerSigningKey,
  request: ServiceAccountTokenRequest,
): Promise<string> {
  const iat = request.now ?? Math.floor(Date.now() / 1000);
  const saUid =
    request.serviceAccountUid ??
    stableUid(`${request.issuerUrl}|${request.namespace}|${request.serviceAccount}`);
  const kubernetes: Record<string, unknown> = {
    namespace: request.namespace,
    serviceaccount: { name: request.serviceAccount, uid: saUid },
  };
  if (request.pod !== undefined) {
    kubernetes.pod = { name: request.pod.name, uid: request.pod.uid ?? randomUUID() };
  }
  return new SignJWT({ 'kubernetes.io': kubernetes })
    .setProtectedHeader({ alg: key.alg, kid: key.kid })
    .setIssuer(request.issuerUrl)
    .setSubject(`system:serviceaccount:${request.namespace}:${request.serviceAccount}`)
    .setAudience(request.audiences)
    .setIssuedAt(iat)
    .setNotBefore(iat)
    .setExpirationTime(iat + request.expirationSeconds)
    .setJti(randomUUID())
    .sign(key.privateKey);
}

/** A UUID-shaped id that is the same every time for the same input. */
function stableUid(input: string): string {
  const h = createHash('sha256').update(input).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
