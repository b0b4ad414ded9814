/**
 * SigV4 failures: an {@link AwsError} with the Query-protocol (IAM, STS) code and message AWS
 * uses, plus a typed `reason` so other protocol layers (S3) can pick their own code and wording
 * without parsing messages.
 */
import { AwsError, type AwsErrorCode } from '../errors/index.js';

/** Why SigV4 authentication failed. Stable: protocol layers switch on it. */
export type SigV4FailureReason =
  /** `Authorization` is not `AWS4-HMAC-SHA256` (Bearer, Basic, SigV2, SigV4a, …). */
  | 'unsupported-authorization'
  /** An `AWS4-HMAC-SHA256` header with missing or unparsable components. */
  | 'malformed-authorization'
  /** Both an `Authorization` header and presigned query parameters. */
  | 'multiple-auth'
  /** Presigned query parameters missing or invalid (other than those below). */
  | 'malformed-presign'
  /** Neither `X-Amz-Date` nor `Date` (header form). */
  | 'missing-date'
  /** `X-Amz-Date` / `Date` not in the expected format. */
  | 'malformed-date'
  /** The credential is not `AKID/YYYYMMDD/region/service/aws4_request`. */
  | 'malformed-credential'
  /** `X-Amz-Expires` not a number, negative, or above 604 800. */
  | 'invalid-expires'
  /** `host` is not among the signed headers. */
  | 'host-not-signed'
  /** The credential scope names another region than the caller accepts. */
  | 'scope-region'
  /** The credential scope names another service than the caller serves. */
  | 'scope-service'
  /** The credential scope does not end in `aws4_request`. */
  | 'scope-terminator'
  /** The credential scope date differs from the request date. */
  | 'scope-date'
  /** Header form: the request time is older than the allowed skew. */
  | 'skew-past'
  /** Header form: the request time is further ahead than the allowed skew. */
  | 'skew-future'
  /** Presigned: `X-Amz-Date` is further ahead than the allowed skew. */
  | 'presign-not-yet-valid'
  /** Presigned: now is past `X-Amz-Date` + `X-Amz-Expires` (or the caller's cap). */
  | 'presign-expired'
  /** The request signature does not match. */
  | 'signature-mismatch'
  /** An aws-chunked chunk (or trailer) signature does not match. */
  | 'chunk-signature-mismatch'
  /** aws-chunked framing that cannot be parsed. */
  | 'malformed-chunk'
  /** The aws-chunked body ended before its final chunk. */
  | 'incomplete-body'
  /** Decoded bytes differ from `x-amz-decoded-content-length`. */
  | 'decoded-length-mismatch';

/** Facts a protocol layer may echo in its error body (S3 does), all optional. */
export interface SigV4ErrorDetails {
  /** The request's signing time as sent (`YYYYMMDDTHHMMSSZ`). */
  readonly requestTime?: string;
  /** Server time, ms since the epoch. */
  readonly serverTimeMs?: number;
  /** The allowed skew, ms. */
  readonly maxSkewMs?: number;
  /** Presigned: `X-Amz-Expires` as sent. */
  readonly expiresSeconds?: number;
  /** Presigned: when the request stopped being valid, ms since the epoch. */
  readonly expiresAtMs?: number;
  /** The access key id the request was signed with. */
  readonly accessKeyId?: string;
  /** The signature the client sent. */
  readonly signatureProvided?: string;
  /** The string to sign the server computed (holds only a hash of the request). */
  readonly stringToSign?: string;
}

/**
 * A SigV4 authentication failure. `code`/`status`/`message` are what IAM and STS answer;
 * `reason` says what failed. `canonicalRequest` (on signature mismatches) is non-enumerable so
 * that loggers which walk an error's fields do not copy request headers (session tokens
 * included) into logs.
 */
export class SigV4Error extends AwsError {
  /** What failed. */
  readonly reason: SigV4FailureReason;
  /** Values a protocol layer may echo back (e.g. S3's `RequestTime`, `ServerTime`). */
  readonly details: SigV4ErrorDetails;
  /** The canonical request the server computed (signature mismatches only). */
  declare readonly canonicalRequest?: string;

  constructor(
    code: AwsErrorCode,
    message: string,
    reason: SigV4FailureReason,
    details: SigV4ErrorDetails = {},
    canonicalRequest?: string,
  ) {
    super(code, message);
    this.reason = reason;
    this.details = details;
    if (canonicalRequest !== undefined) {
      Object.defineProperty(this, 'canonicalRequest', {
        value: canonicalRequest,
        enumerable: false,
      });
    }
  }
}

/** IAM/STS wording of a signature mismatch. */
export const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Shorthand for the many `IncompleteSignature` (400) failures of parsing. */
export function incomplete(message: string, reason: SigV4FailureReason): SigV4Error {
  return new SigV4Error('IncompleteSignature', message, reason);
}
