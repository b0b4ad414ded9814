import type { JWTPayload } from 'jose';
import { AwsError } from '../errors/index.js';
import { verifyJwsSignature } from './jws-signature.js';
import {
  SUPPORTED_WEB_IDENTITY_ALGORITHMS,
  type KeySetSource,
  type WebIdentityAlgorithm,
} from './key-set.js';
import {
  expiredError,
  invalidToken,
  keyNotFoundError,
  noProviderError,
  notYetValidError,
  WebIdentityMessages,
} from './web-identity-errors.js';

/**
 * The algorithms AWS STS accepts for web identity tokens: "Tokens must be signed using either
 * RSA keys (RS256, RS384, or RS512) or ECDSA keys (ES256, ES384, or ES512)" (STS API reference).
 */
export const AWS_WEB_IDENTITY_ALGORITHMS: readonly WebIdentityAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
];

/** IAM allows five minutes past `exp` for clock skew; we apply the same to `iat` and `nbf`. */
export const DEFAULT_CLOCK_TOLERANCE_SECONDS = 300;

/** STS bounds on the `WebIdentityToken` parameter (`clientTokenType`). */
export const WEB_IDENTITY_TOKEN_MIN_LENGTH = 4;
export const WEB_IDENTITY_TOKEN_MAX_LENGTH = 20_000;

/** Options of {@link verifyWebIdentityToken}. */
export interface VerifyWebIdentityOptions {
  /**
   * The keys of an issuer the caller trusts, or undefined when it trusts no such issuer. Called
   * with the token's `iss` before any signature check; the caller decides which issuers count
   * (Latchkey's own cluster issuers, registered OIDC providers of the role's account…).
   */
  keysFor(issuer: string): Promise<KeySetSource | undefined>;
  /** When given, at least one of the token's audiences must be in this list. */
  audiences?: readonly string[];
  /** Current time in epoch seconds (default: the system clock). */
  now?: number;
  /** Allowed clock skew for `exp`, `iat` and `nbf`, in seconds (default 300). */
  clockToleranceSeconds?: number;
  /** Algorithm allow-list (default {@link AWS_WEB_IDENTITY_ALGORITHMS}). */
  algorithms?: readonly WebIdentityAlgorithm[];
}

/** A token whose signature, issuer, times and (optionally) audience have been verified. */
export interface VerifiedWebIdentity {
  issuer: string;
  subject: string;
  /** `aud` as a list, whether the token carried a string or an array. */
  audiences: string[];
  /** The whole verified payload. */
  claims: Readonly<JWTPayload>;
  expiresAt: Date;
  issuedAt: Date | undefined;
  notBefore: Date | undefined;
  header: { alg: WebIdentityAlgorithm; kid: string | undefined };
}

/**
 * Checks the length bounds STS puts on `WebIdentityToken` (4–20,000 characters), throwing
 * `ValidationError` as STS does. The token itself is not echoed in the message.
 *
 * @example
 * checkWebIdentityTokenLength(params.require('WebIdentityToken'));
 */
export function checkWebIdentityTokenLength(token: string): void {
  const constraint =
    token.length < WEB_IDENTITY_TOKEN_MIN_LENGTH
      ? `Member must have length greater than or equal to ${WEB_IDENTITY_TOKEN_MIN_LENGTH}`
      : token.length > WEB_IDENTITY_TOKEN_MAX_LENGTH
        ? `Member must have length less than or equal to ${WEB_IDENTITY_TOKEN_MAX_LENGTH}`
        : undefined;
  if (constraint !== undefined) {
    throw new AwsError(
      'ValidationError',
      `1 validation error detected: Value at 'webIdentityToken' failed to satisfy constraint: ${constraint}`,
    );
  }
}

interface ParsedToken {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
}

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

function decodeJsonObject(segment: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(utf8.decode(Buffer.from(segment, 'base64url')));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // Not base64url JSON: reported as "not a valid JWT" below.
  }
  return undefined;
}

/** Splits a compact JWS into its decoded header and payload; rejects JWE and anything else. */
function parseCompactJws(token: string): ParsedToken {
  const parts = token.split('.');
  // Exactly three non-empty segments: JWE (5 segments) and unsigned tokens never get further.
  if (parts.length !== 3 || !parts.every((p) => SEGMENT.test(p))) {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }
  const header = decodeJsonObject(parts[0] ?? '');
  const payload = decodeJsonObject(parts[1] ?? '');
  if (header === undefined || payload === undefined) {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }
  return { header, payload };
}

/** The header's algorithm and key id, after the allow-list. Header key material is ignored. */
function readHeader(
  header: Record<string, unknown>,
  allowed: readonly WebIdentityAlgorithm[],
): { alg: WebIdentityAlgorithm; kid: string | undefined } {
  const { alg, kid } = header;
  if (typeof alg !== 'string' || !(allowed as readonly string[]).includes(alg)) {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }
  // We implement no JWS extensions; `b64: false` or a nested JWT are not ID tokens.
  if (header.crit !== undefined || header.b64 !== undefined) {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }
  if (typeof header.cty === 'string' && header.cty.toUpperCase() === 'JWT') {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }
  if (kid !== undefined && typeof kid !== 'string') {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }
  return { alg: alg as WebIdentityAlgorithm, kid };
}

/** A NumericDate claim: absent, or an integer number of seconds. */
function numericDate(payload: Record<string, unknown>, claim: string): number | undefined {
  const value = payload[claim];
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value)) {
    throw invalidToken(WebIdentityMessages.timestamps);
  }
  return value;
}

function readAudiences(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud) && aud.every((a) => typeof a === 'string')) return [...aud] as string[];
  if (aud === undefined) return [];
  throw invalidToken(WebIdentityMessages.notAJwt);
}

/**
 * Verifies a web identity token (an OIDC ID token such as a projected service-account token) the
 * way AWS STS `AssumeRoleWithWebIdentity` does, with AWS's error codes and messages:
 *
 * 1. compact JWS with three segments, JSON header and payload; `alg` on the allow-list
 *    (asymmetric only); header `jwk`/`jku`/`x5u`/`x5c` are ignored, `kid` is an opaque lookup;
 * 2. `iss` names an issuer the caller trusts (`keysFor`), and a key with the token's `kid`;
 * 3. the signature;
 * 4. `exp` present, `exp`/`iat`/`nbf` integers; `exp` not more than the tolerance in the past,
 *    `iat`/`nbf` not more than the tolerance in the future; `sub` a string, `aud` a string or
 *    list of strings, and one of them in `audiences` when given.
 *
 * There is no replay cache: SDKs present the same token many times over its lifetime.
 *
 * @example
 * const identity = await verifyWebIdentityToken(token, {
 *   keysFor: async (iss) => (iss === ownIssuerUrl ? new LocalKeySet(await keys.publishedKeys(id)) : undefined),
 *   audiences: ['pods.eks.amazonaws.com'],
 * });
 * identity.subject; // 'system:serviceaccount:default:web'
 */
export async function verifyWebIdentityToken(
  token: string,
  options: VerifyWebIdentityOptions,
): Promise<VerifiedWebIdentity> {
  const allowed = (options.algorithms ?? AWS_WEB_IDENTITY_ALGORITHMS).filter((a) =>
    SUPPORTED_WEB_IDENTITY_ALGORITHMS.includes(a),
  );
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  if (!Number.isFinite(tolerance) || tolerance < 0) {
    throw new TypeError('clockToleranceSeconds must be a non-negative number');
  }

  const { header, payload } = parseCompactJws(token);
  const { alg, kid } = readHeader(header, allowed);
  const issuer = payload.iss;
  if (typeof issuer !== 'string' || issuer === '') {
    throw invalidToken(WebIdentityMessages.notAJwt);
  }

  const source = await options.keysFor(issuer);
  if (source === undefined) throw noProviderError(issuer);
  const candidates = await source.selectKeys({ alg, kid });
  if (candidates.length === 0) {
    throw keyNotFoundError(kid === undefined ? 'no key for the algorithm' : 'unknown kid');
  }
  if (!verifyJwsSignature(token, alg, candidates)) {
    throw invalidToken(WebIdentityMessages.invalidSignature);
  }

  // Claims are only judged once the signature is good, so forged tokens learn nothing.
  const exp = numericDate(payload, 'exp');
  const iat = numericDate(payload, 'iat');
  const nbf = numericDate(payload, 'nbf');
  if (exp === undefined) {
    throw invalidToken('The web identity token is missing the required exp claim');
  }
  if (typeof payload.sub !== 'string' || payload.sub === '') {
    throw invalidToken('The web identity token is missing the required sub claim');
  }
  const audiences = readAudiences(payload.aud);

  const now = options.now ?? Math.floor(Date.now() / 1000);
  if (now > exp + tolerance) throw expiredError(now, exp);
  if (nbf !== undefined && nbf > now + tolerance) throw notYetValidError('nbf', now, nbf);
  if (iat !== undefined && iat > now + tolerance) throw notYetValidError('iat', now, iat);

  if (audiences.length === 0) throw invalidToken(WebIdentityMessages.audience);
  if (options.audiences !== undefined && !audiences.some((a) => options.audiences?.includes(a))) {
    throw invalidToken(WebIdentityMessages.audience);
  }

  return {
    issuer,
    subject: payload.sub,
    audiences,
    claims: payload as JWTPayload,
    expiresAt: new Date(exp * 1000),
    issuedAt: iat === undefined ? undefined : new Date(iat * 1000),
    notBefore: nbf === undefined ? undefined : new Date(nbf * 1000),
    header: { alg, kid },
  };
}
