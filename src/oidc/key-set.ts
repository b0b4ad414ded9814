import type { JWK } from 'jose';

/** JWS algorithms a web identity token may be signed with (asymmetric only; never none/HS*). */
export type WebIdentityAlgorithm =
  'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384' | 'PS512' | 'ES256' | 'ES384' | 'ES512';

/** Every algorithm this module can verify; callers choose an allow-list among these. */
export const SUPPORTED_WEB_IDENTITY_ALGORITHMS: readonly WebIdentityAlgorithm[] = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
];

/** AWS fails to find a `kid` in a JWKS of more than 100 keys; we refuse such a JWKS outright. */
export const MAX_JWKS_KEYS = 100;

/** What a token asks for: the algorithm of its header and, usually, a key id. */
export interface KeySelector {
  alg: WebIdentityAlgorithm;
  /** Opaque: compared for equality only, never parsed or used as a path. */
  kid: string | undefined;
}

/**
 * Where the public keys of one trusted issuer come from: Latchkey's own issuer keys, a JWKS
 * file, or a remote JWKS endpoint. `selectKeys` returns the keys that may have signed a token
 * with this header (matching `kid` and algorithm family); an empty list means "no such key".
 * It throws an `AwsError` when the keys cannot be obtained at all.
 */
export interface KeySetSource {
  selectKeys(selector: KeySelector): Promise<readonly JWK[]>;
}

/** A JWKS document that cannot be used as a whole (not JSON, no `keys` array, too many keys). */
export class JwksFormatError extends Error {
  override readonly name = 'JwksFormatError';
}

const CURVE_OF: Partial<Record<WebIdentityAlgorithm, string>> = {
  ES256: 'P-256',
  ES384: 'P-384',
  ES512: 'P-521',
};

/** True when `jwk` may verify a token with this selector: same kid, right key type and curve. */
export function keyMatches(jwk: JWK, selector: KeySelector): boolean {
  if (selector.kid !== undefined && jwk.kid !== selector.kid) return false;
  if (jwk.alg !== undefined && jwk.alg !== selector.alg) return false;
  const curve = CURVE_OF[selector.alg];
  if (curve !== undefined) return jwk.kty === 'EC' && jwk.crv === curve;
  return jwk.kty === 'RSA';
}

const B64URL = /^[A-Za-z0-9_-]+$/;

function b64(value: unknown): value is string {
  return typeof value === 'string' && B64URL.test(value);
}

/**
 * Reduces one JWKS entry to a clean public verification key, or undefined when it cannot verify
 * signatures (other key types, `use` ≠ sig, no `verify` in `key_ops`, malformed members).
 * Private members, certificates and unknown members are dropped, so nothing but the public key
 * ever reaches the crypto layer.
 */
export function toVerificationKey(entry: unknown): JWK | undefined {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return undefined;
  const e = entry as Record<string, unknown>;
  if (e.use !== undefined && e.use !== 'sig') return undefined;
  if (e.key_ops !== undefined) {
    if (!Array.isArray(e.key_ops) || !e.key_ops.includes('verify')) return undefined;
  }
  if (e.kid !== undefined && typeof e.kid !== 'string') return undefined;
  if (e.alg !== undefined) {
    if (typeof e.alg !== 'string') return undefined;
    if (!(SUPPORTED_WEB_IDENTITY_ALGORITHMS as readonly string[]).includes(e.alg)) return undefined;
  }
  const meta: JWK = {};
  if (e.kid !== undefined) meta.kid = e.kid;
  if (e.alg !== undefined) meta.alg = e.alg as string;
  if (e.kty === 'RSA' && b64(e.n) && b64(e.e)) return { kty: 'RSA', n: e.n, e: e.e, ...meta };
  if (
    e.kty === 'EC' &&
    (e.crv === 'P-256' || e.crv === 'P-384' || e.crv === 'P-521') &&
    b64(e.x) &&
    b64(e.y)
  ) {
    return { kty: 'EC', crv: e.crv, x: e.x, y: e.y, ...meta };
  }
  return undefined;
}

/**
 * Parses a JWKS document (JSON text or an already parsed value) into verification keys.
 * Throws {@link JwksFormatError} when the document is not a JWKS or has more than
 * {@link MAX_JWKS_KEYS} entries; unusable entries are skipped.
 *
 * @example
 * const keys = parseJwks('{"keys":[{"kty":"RSA","kid":"a","n":"…","e":"AQAB"}]}');
 */
export function parseJwks(document: unknown): JWK[] {
  let value = document;
  if (typeof document === 'string' || Buffer.isBuffer(document)) {
    try {
      value = JSON.parse(document.toString());
    } catch {
      throw new JwksFormatError('JWKS is not valid JSON');
    }
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new JwksFormatError('JWKS is not a JSON object');
  }
  const keys = (value as { keys?: unknown }).keys;
  if (!Array.isArray(keys)) throw new JwksFormatError('JWKS has no "keys" array');
  if (keys.length > MAX_JWKS_KEYS) {
    throw new JwksFormatError(`JWKS has ${keys.length} keys; at most ${MAX_JWKS_KEYS} are allowed`);
  }
  return keys.map(toVerificationKey).filter((k): k is JWK => k !== undefined);
}

/**
 * A fixed set of public keys: Latchkey's own issuer keys, or a JWKS uploaded from a file.
 *
 * @example
 * const own = new LocalKeySet(await issuerKeys.publishedKeys(issuerId));
 * const fromFile = LocalKeySet.fromJwksDocument(await readFile('jwks.json', 'utf8'));
 */
export class LocalKeySet implements KeySetSource {
  readonly #keys: readonly JWK[];

  constructor(keys: readonly JWK[]) {
    if (keys.length > MAX_JWKS_KEYS) {
      throw new JwksFormatError(`at most ${MAX_JWKS_KEYS} keys are allowed`);
    }
    this.#keys = keys.map(toVerificationKey).filter((k): k is JWK => k !== undefined);
  }

  /** A key set from a JWKS document (JSON text or parsed); see {@link parseJwks}. */
  static fromJwksDocument(document: unknown): LocalKeySet {
    return new LocalKeySet(parseJwks(document));
  }

  /** The usable verification keys of this set. */
  get keys(): readonly JWK[] {
    return this.#keys;
  }

  selectKeys(selector: KeySelector): Promise<readonly JWK[]> {
    return Promise.resolve(this.#keys.filter((k) => keyMatches(k, selector)));
  }
}
