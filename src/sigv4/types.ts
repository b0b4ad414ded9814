/** The data SigV4 verification reads and returns. */

/**
 * The parts of an HTTP request SigV4 signs, exactly as they came on the wire.
 *
 * @example
 * ```ts
 * const q = req.url.indexOf('?');
 * const sigReq: SigV4Request = {
 *   method: req.method,
 *   path: q < 0 ? req.url : req.url.slice(0, q),
 *   query: q < 0 ? '' : req.url.slice(q + 1),
 *   headers: req.headersDistinct, // keeps repeated headers apart; see `headers`
 * };
 * ```
 */
export interface SigV4Request {
  /** HTTP method as sent (`GET`, `POST`, …). */
  method: string;
  /** Raw request path exactly as on the wire (percent-encoded), without the query string. */
  path: string;
  /** Raw query string without '?', as on the wire ('' if none). */
  query: string;
  /**
   * Header names lower-cased → values, as node:http gives them. Each character of a value up to
   * U+00FF is read as one byte (Node decodes header bytes as latin1). Prefer
   * `IncomingMessage.headersDistinct`: a repeated header must be signed as its values joined by
   * `,`, and `IncomingMessage.headers` has already joined them with `, `.
   */
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** A SigV4 signature as sent, before any key is known. */
export interface ParsedSignatureV4 {
  /** `header`: `Authorization: AWS4-HMAC-SHA256 …`; `presigned`: `X-Amz-*` query parameters. */
  kind: 'header' | 'presigned';
  /** Access key id from the credential. */
  accessKeyId: string;
  /** Credential scope date, `YYYYMMDD`. */
  date: string;
  /** Credential scope region. */
  region: string;
  /** Credential scope service (signing name), e.g. `sts`, `s3`. */
  service: string;
  /** Signed header names, lower-cased, in the order sent. */
  signedHeaders: string[];
  /** The signature as sent. */
  signature: string;
  /** Request time, `YYYYMMDDTHHMMSSZ` (from `X-Amz-Date`, or the `Date` header converted). */
  amzDate: string;
  /** `X-Amz-Security-Token` (header or query), when sent. */
  securityToken?: string;
  /**
   * Declared payload hash: the `x-amz-content-sha256` header; for presigned requests the
   * `X-Amz-Content-Sha256` query parameter, else `UNSIGNED-PAYLOAD` (S3's rule — other services
   * sign the body's hash, so they should pass that to {@link VerifyOptions.payloadHash}).
   */
  declaredPayloadHash?: string;
  /** Presigned only: `X-Amz-Expires` in seconds (0…604 800). */
  expiresSeconds?: number;
}

/** How {@link ParsedSignatureV4} is checked. */
export interface VerifyOptions {
  /** Current time, ms since the epoch (default `Date.now()`). */
  now?: number;
  /** Allowed clock skew either way, seconds: 300 for IAM and STS, 900 for S3. */
  maxSkewSeconds: number;
  /**
   * Payload hash to put in the canonical request: hex SHA-256 of the body, or a literal marker
   * (`UNSIGNED-PAYLOAD`, `STREAMING-AWS4-HMAC-SHA256-PAYLOAD`, `…-TRAILER`,
   * `STREAMING-UNSIGNED-PAYLOAD-TRAILER`) when the request declared it and the service allows it.
   */
  payloadHash: string;
  /** Normalise and encode the path again (default true); false for S3, which signs the path once. */
  uriEscapePath?: boolean;
  /** When set, a credential scoped to another service fails as AWS does. */
  service?: string;
  /** When set, a credential scoped to another region fails as AWS does. */
  region?: string;
  /**
   * Caps a presigned request's lifetime below its `X-Amz-Expires`. AWS S3 honours
   * `X-Amz-Expires`; AWS STS and other Query services ignore it and accept a presigned request
   * for about 15 minutes (pass 900 to behave alike). Default: no cap.
   */
  maxPresignedAgeSeconds?: number;
}

/** What a verified signature yields: enough to check aws-chunked chunk signatures. */
export interface VerifiedSignatureV4 {
  /**
   * The derived signing key; each read returns a fresh copy. A getter, not an own property, so
   * logging or serialising this object prints no key material (and `{ ...verified }` drops it).
   */
  readonly signingKey: Buffer;
  /** The request's signature; the first chunk signature chains from it. */
  readonly seedSignature: string;
  /** Credential scope, `YYYYMMDD/region/service/aws4_request`. */
  readonly scope: string;
  /** Request time, `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
  /** The payload hash the signature covered (selects the aws-chunked variant). */
  readonly payloadHash: string;
}
