/**
 * Checks a parsed SigV4 signature with the secret: time window, credential scope against the
 * serving service/region, then the signature itself, compared in constant time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { formatAmzDate, parseAmzDate } from './amz-date.js';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalRequest,
  canonicalUri,
  stringToSign,
  type CanonicalParts,
} from './canonical.js';
import { SIGNATURE_MISMATCH_MESSAGE, SigV4Error, type SigV4FailureReason } from './errors.js';
import { signingKey } from './signing-key.js';
import type {
  ParsedSignatureV4,
  SigV4Request,
  VerifiedSignatureV4,
  VerifyOptions,
} from './types.js';

const HEX_SHA256 = /^[0-9a-f]{64}$/;
const PAYLOAD_MARKERS = new Set([
  'UNSIGNED-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD',
  'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER',
  'STREAMING-UNSIGNED-PAYLOAD-TRAILER',
]);

/**
 * Verifies a parsed signature; throws {@link SigV4Error} unless it is valid and within its time
 * limits. Returns what aws-chunked verification needs.
 *
 * Order of checks: request time (header form: ±`maxSkewSeconds`, `SignatureDoesNotMatch`
 * "Signature expired: …"; presigned: not before `X-Amz-Date` − skew, not after `X-Amz-Date` +
 * `X-Amz-Expires`, `RequestExpired`), credential scope (`service`/`region` options), signature.
 *
 * @example
 * ```ts
 * const verified = verifySignatureV4(req, parsed, secret, {
 *   maxSkewSeconds: 300,
 *   payloadHash: createHash('sha256').update(body).digest('hex'),
 * });
 * ```
 */
export function verifySignatureV4(
  req: SigV4Request,
  parsed: ParsedSignatureV4,
  secretAccessKey: string,
  options: VerifyOptions,
): VerifiedSignatureV4 {
  const { payloadHash } = options;
  if (!HEX_SHA256.test(payloadHash) && !PAYLOAD_MARKERS.has(payloadHash)) {
    throw new TypeError('payloadHash must be a hex SHA-256 or a SigV4 payload marker');
  }
  checkTime(parsed, options);
  checkScope(parsed, options);

  const scope = `${parsed.date}/${parsed.region}/${parsed.service}/aws4_request`;
  const key = signingKey(secretAccessKey, parsed.date, parsed.region, parsed.service);
  const presigned = parsed.kind === 'presigned';
  const parts: CanonicalParts = {
    method: req.method,
    uri: canonicalUri(req.path, options.uriEscapePath ?? true),
    headers: canonicalHeaders(req.headers, parsed.signedHeaders),
    signedHeaders: parsed.signedHeaders.join(';'),
    payloadHash,
  };

  let canonical = canonicalRequest(parts, canonicalQuery(req.query, presigned));
  let toSign = stringToSign(parsed.amzDate, scope, canonical);
  let expected = hmacHex(key, toSign);
  let matches = signaturesEqual(parsed.signature, expected);
  if (!matches && req.query.includes('+')) {
    // A raw '+' is a literal plus in RFC 3986 but a space in form encoding; clients that build
    // URLs with URLSearchParams sign it as %20. AWS accepts both readings, so do we.
    const alternative = canonicalRequest(parts, canonicalQuery(req.query, presigned, true));
    const altToSign = stringToSign(parsed.amzDate, scope, alternative);
    const altExpected = hmacHex(key, altToSign);
    if (signaturesEqual(parsed.signature, altExpected)) {
      [canonical, toSign, expected, matches] = [alternative, altToSign, altExpected, true];
    }
  }
  if (!matches) {
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      SIGNATURE_MISMATCH_MESSAGE,
      'signature-mismatch',
      {
        accessKeyId: parsed.accessKeyId,
        signatureProvided: parsed.signature,
        stringToSign: toSign,
      },
      canonical,
    );
  }

  return new Verified(key, expected, scope, parsed.amzDate, payloadHash);
}

/**
 * The key sits in a private field behind a prototype getter: logging or serialising the object
 * shows no key material, and callers get a copy they may mutate without spoiling the cache.
 */
class Verified implements VerifiedSignatureV4 {
  readonly #key: Buffer;
  readonly seedSignature: string;
  readonly scope: string;
  readonly amzDate: string;
  readonly payloadHash: string;

  constructor(key: Buffer, seed: string, scope: string, amzDate: string, payloadHash: string) {
    this.#key = key;
    this.seedSignature = seed;
    this.scope = scope;
    this.amzDate = amzDate;
    this.payloadHash = payloadHash;
  }

  get signingKey(): Buffer {
    return Buffer.from(this.#key);
  }
}

function hmacHex(key: Buffer, data: string): string {
  return createHmac('sha256', key).update(data, 'utf8').digest('hex');
}

/**
 * Constant-time comparison. Lengths differ only for a malformed signature, whose length the
 * sender already knows; the comparison still runs so both paths cost the same.
 */
function signaturesEqual(provided: string, expected: string): boolean {
  const a = Buffer.from(provided, 'utf8');
  const b = Buffer.from(expected, 'utf8');
  if (a.length !== b.length) {
    timingSafeEqual(b, b);
    return false;
  }
  return timingSafeEqual(a, b);
}

function checkTime(parsed: ParsedSignatureV4, options: VerifyOptions): void {
  // Whole seconds, like the timestamps themselves.
  const now = Math.floor((options.now ?? Date.now()) / 1000) * 1000;
  const requestTime = parseAmzDate(parsed.amzDate);
  const skewMs = options.maxSkewSeconds * 1000;
  const details = { requestTime: parsed.amzDate, serverTimeMs: now, maxSkewMs: skewMs };
  const minutes = `${options.maxSkewSeconds / 60} min.`;
  const notYet = (reason: SigV4FailureReason): SigV4Error =>
    new SigV4Error(
      'SignatureDoesNotMatch',
      `Signature not yet current: ${parsed.amzDate} is still later than ` +
        `${formatAmzDate(now + skewMs)} (${formatAmzDate(now)} + ${minutes})`,
      reason,
      details,
    );

  if (Number.isNaN(requestTime)) {
    throw new SigV4Error(
      'IncompleteSignature',
      `Date must be in ISO-8601 'basic format'. Got '${parsed.amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      'malformed-date',
    );
  }
  if (parsed.kind === 'header') {
    if (requestTime < now - skewMs) {
      throw new SigV4Error(
        'SignatureDoesNotMatch',
        `Signature expired: ${parsed.amzDate} is now earlier than ` +
          `${formatAmzDate(now - skewMs)} (${formatAmzDate(now)} - ${minutes})`,
        'skew-past',
        details,
      );
    }
    if (requestTime > now + skewMs) throw notYet('skew-future');
    return;
  }

  if (requestTime > now + skewMs) throw notYet('presign-not-yet-valid');
  const expires = parsed.expiresSeconds ?? 0;
  const lifetime = Math.min(expires, options.maxPresignedAgeSeconds ?? Infinity);
  const expiresAtMs = requestTime + lifetime * 1000;
  if (now > expiresAtMs) {
    throw new SigV4Error('RequestExpired', 'Request has expired.', 'presign-expired', {
      ...details,
      expiresSeconds: expires,
      expiresAtMs,
    });
  }
}

function checkScope(parsed: ParsedSignatureV4, options: VerifyOptions): void {
  const problems: string[] = [];
  let reason: SigV4FailureReason | undefined;
  if (options.region !== undefined && parsed.region !== options.region) {
    problems.push(`Credential should be scoped to a valid region, not '${parsed.region}'.`);
    reason = 'scope-region';
  }
  if (options.service !== undefined && parsed.service !== options.service) {
    problems.push(`Credential should be scoped to correct service: '${options.service}'.`);
    reason ??= 'scope-service';
  }
  if (reason !== undefined) {
    throw new SigV4Error('SignatureDoesNotMatch', problems.join(' '), reason);
  }
}
