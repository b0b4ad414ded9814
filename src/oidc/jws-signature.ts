/**
 * The signature check of a compact JWS, with node:crypto's one-shot `verify` on public keys
 * imported once per JWK. jose verifies through WebCrypto, which hands each check to the thread
 * pool: three times the CPU of a synchronous RSA-2048 check (bench/), on the path of every
 * AssumeRoleWithWebIdentity. What jose would refuse is refused here too: a key whose type,
 * curve or size does not fit the algorithm, or whose `alg` names another one.
 */
import {
  constants,
  createPublicKey,
  verify,
  type JsonWebKey,
  type KeyObject,
  type VerifyKeyObjectInput,
} from 'node:crypto';
import type { JWK } from 'jose';
import type { WebIdentityAlgorithm } from './key-set.js';

interface AlgorithmParameters {
  hash: 'sha256' | 'sha384' | 'sha512';
  /** node:crypto's key type, and for EC its curve (OpenSSL's name). */
  keyType: 'rsa' | 'ec';
  curve?: 'prime256v1' | 'secp384r1' | 'secp521r1';
  /** RSASSA-PSS (PS*), with a salt as long as the hash (RFC 7518 §3.5). */
  pss?: true;
}

const PARAMETERS: Record<WebIdentityAlgorithm, AlgorithmParameters> = {
  RS256: { hash: 'sha256', keyType: 'rsa' },
  RS384: { hash: 'sha384', keyType: 'rsa' },
  RS512: { hash: 'sha512', keyType: 'rsa' },
  ES256: { hash: 'sha256', keyType: 'ec', curve: 'prime256v1' },
  ES384: { hash: 'sha384', keyType: 'ec', curve: 'secp384r1' },
  ES512: { hash: 'sha512', keyType: 'ec', curve: 'secp521r1' },
  PS256: { hash: 'sha256', keyType: 'rsa', pss: true },
  PS384: { hash: 'sha384', keyType: 'rsa', pss: true },
  PS512: { hash: 'sha512', keyType: 'rsa', pss: true },
};

/** RSA keys shorter than this are refused (as jose and RFC 7518 do). */
const MIN_RSA_BITS = 2048;

/** Imported keys by the (cached, long-lived) verification JWK they come from. */
const imported = new WeakMap<JWK, KeyObject | null>();

function publicKeyOf(jwk: JWK): KeyObject | undefined {
  let key = imported.get(jwk);
  if (key === undefined) {
    try {
      key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
    } catch {
      key = null;
    }
    imported.set(jwk, key);
  }
  return key ?? undefined;
}

function fits(jwk: JWK, key: KeyObject, alg: WebIdentityAlgorithm): boolean {
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  const expected = PARAMETERS[alg];
  if (key.asymmetricKeyType !== expected.keyType) return false;
  const details = key.asymmetricKeyDetails;
  return expected.keyType === 'rsa'
    ? (details?.modulusLength ?? 0) >= MIN_RSA_BITS
    : details?.namedCurve === expected.curve;
}

/**
 * True when one of `keys` signed the compact JWS `token` with `alg` (the header's algorithm,
 * already on the allow-list). Keys that do not fit `alg` are skipped.
 *
 * @example
 * verifyJwsSignature(token, 'RS256', keySet.keys); // true or false, never throws
 */
export function verifyJwsSignature(
  token: string,
  alg: WebIdentityAlgorithm,
  keys: readonly JWK[],
): boolean {
  const dot = token.lastIndexOf('.');
  const signingInput = Buffer.from(token.slice(0, dot), 'ascii');
  const signature = Buffer.from(token.slice(dot + 1), 'base64url');
  const { hash, keyType, pss } = PARAMETERS[alg];
  for (const jwk of keys) {
    const key = publicKeyOf(jwk);
    if (key === undefined || !fits(jwk, key, alg)) continue;
    // JWS carries ECDSA signatures as r || s (IEEE P1363), not DER.
    const verifier: VerifyKeyObjectInput =
      keyType === 'ec'
        ? { key, dsaEncoding: 'ieee-p1363' }
        : pss
          ? {
              key,
              padding: constants.RSA_PKCS1_PSS_PADDING,
              saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
            }
          : { key };
    try {
      if (verify(hash, signingInput, verifier, signature)) return true;
    } catch {
      // A malformed signature for this key: try the next one.
    }
  }
  return false;
}
