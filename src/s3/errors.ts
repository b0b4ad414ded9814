/**
 * S3's errors, in one place: the codes S3 answers with (they differ from IAM/STS's), their HTTP
 * statuses and AWS's messages, the mapping from Latchkey's shared errors (authentication,
 * authorization, SigV4) to them, and the `<Error>` XML document.
 */
import { isAwsError } from '../errors/index.js';
import { SigV4Error } from '../sigv4/index.js';
import { escapeXml } from './xml.js';
import { randomBytesPooled } from '../secrets/index.js';

/** S3 error codes Latchkey answers with: HTTP status and AWS's default message. */
const S3_ERRORS = {
  AccessDenied: [403, 'Access Denied'],
  AccessControlListNotSupported: [400, 'The bucket does not allow ACLs'],
  AuthorizationHeaderMalformed: [400, 'The authorization header is malformed.'],
  AuthorizationQueryParametersError: [400, 'Error parsing the query-string authentication.'],
  BadDigest: [400, 'The Content-MD5 you specified did not match what we received.'],
  BucketAlreadyExists: [
    409,
    'The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.',
  ],
  BucketAlreadyOwnedByYou: [
    409,
    'Your previous request to create the named bucket succeeded and you already own it.',
  ],
  BucketNotEmpty: [409, 'The bucket you tried to delete is not empty'],
  EntityTooLarge: [400, 'Your proposed upload exceeds the maximum allowed size'],
  EntityTooSmall: [400, 'Your proposed upload is smaller than the minimum allowed object size.'],
  ExpiredToken: [400, 'The provided token has expired.'],
  IllegalLocationConstraintException: [
    400,
    'The unspecified location constraint is incompatible for the region specific endpoint this request was sent to.',
  ],
  IncompleteBody: [
    400,
    'You did not provide the number of bytes specified by the Content-Length HTTP header',
  ],
  InternalError: [500, 'We encountered an internal error. Please try again.'],
  InvalidAccessKeyId: [403, 'The AWS Access Key Id you provided does not exist in our records.'],
  InvalidArgument: [400, 'Invalid Argument'],
  InvalidBucketAclWithObjectOwnership: [
    400,
    "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting",
  ],
  InvalidBucketName: [400, 'The specified bucket is not valid.'],
  InvalidDigest: [400, 'The Content-MD5 you specified is not valid.'],
  InvalidLocationConstraint: [400, 'The specified location-constraint is not valid'],
  InvalidPart: [
    400,
    "One or more of the specified parts could not be found.  The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
  ],
  InvalidPartOrder: [
    400,
    'The list of parts was not in ascending order. Parts must be ordered by part number.',
  ],
  InvalidPartNumber: [416, 'The requested partnumber is not satisfiable'],
  InvalidRange: [416, 'The requested range is not satisfiable'],
  InvalidRequest: [400, 'Invalid Request'],
  InvalidToken: [400, 'The provided token is malformed or otherwise invalid.'],
  InvalidURI: [400, "Couldn't parse the specified URI."],
  KeyTooLongError: [400, 'Your key is too long'],
  MalformedPolicy: [400, "Policies must be valid JSON and the first byte must be '{'"],
  MalformedTrailerError: [
    400,
    'The request contained trailing data that was not well-formed or did not conform to our published schema.',
  ],
  MalformedXML: [
    400,
    'The XML you provided was not well-formed or did not validate against our published schema',
  ],
  MaxMessageLengthExceeded: [400, 'Your request was too big.'],
  MetadataTooLarge: [400, 'Your metadata headers exceed the maximum allowed metadata size.'],
  MethodNotAllowed: [405, 'The specified method is not allowed against this resource.'],
  MissingContentLength: [411, 'You must provide the Content-Length HTTP header.'],
  MissingRequestBodyError: [400, 'Request Body is empty'],
  NoSuchBucket: [404, 'The specified bucket does not exist'],
  NoSuchBucketPolicy: [404, 'The bucket policy does not exist'],
  NoSuchKey: [404, 'The specified key does not exist.'],
  NoSuchUpload: [
    404,
    'The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.',
  ],
  NotImplemented: [501, 'A header you provided implies functionality that is not implemented'],
  NotModified: [304, 'Not Modified'],
  PreconditionFailed: [412, 'At least one of the pre-conditions you specified did not hold'],
  RequestTimeTooSkewed: [
    403,
    'The difference between the request time and the current time is too large.',
  ],
  ServiceUnavailable: [503, 'Please reduce your request rate.'],
  SignatureDoesNotMatch: [
    403,
    'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
  ],
  SlowDown: [503, 'Please reduce your request rate.'],
  XAmzContentSHA256Mismatch: [
    400,
    "The provided 'x-amz-content-sha256' header does not match what was computed.",
  ],
} as const satisfies Record<string, readonly [number, string]>;

/** One of the S3 error codes Latchkey knows. */
export type S3ErrorCode = keyof typeof S3_ERRORS;

/**
 * An error in S3's vocabulary. `fields` are the extra elements S3 puts in `<Error>` (e.g.
 * `BucketName`, `Key`, `ArgumentName`), in order.
 *
 * @example
 * throw new S3Error('NoSuchKey', undefined, { Key: 'photos/cat.jpg' });
 */
export class S3Error extends Error {
  override readonly name = 'S3Error';
  readonly code: S3ErrorCode;
  readonly status: number;
  readonly fields: Readonly<Record<string, string>>;
  /** Why, for the audit trail (e.g. a policy decision's trace); never sent. */
  readonly explanation?: Record<string, unknown>;

  constructor(
    code: S3ErrorCode,
    message?: string,
    fields: Record<string, string> = {},
    explanation?: Record<string, unknown>,
  ) {
    const [status, defaultMessage] = S3_ERRORS[code];
    super(message ?? defaultMessage);
    this.code = code;
    this.status = status;
    this.fields = fields;
    if (explanation !== undefined) this.explanation = explanation;
  }
}

/** True when `err` is an {@link S3Error}, optionally with the given code. */
export function isS3Error(err: unknown, code?: S3ErrorCode): err is S3Error {
  return err instanceof S3Error && (code === undefined || err.code === code);
}

/** `InvalidArgument` naming the argument, as S3 does. */
export function invalidArgument(message: string, name: string, value: string): S3Error {
  return new S3Error('InvalidArgument', message, { ArgumentName: name, ArgumentValue: value });
}

/** S3's time format in error fields: `2015-08-30T12:36:00Z`. */
function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function amzDateIso(amzDate: string | undefined): string {
  const m = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(amzDate ?? '');
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : (amzDate ?? '');
}

const MALFORMED_HEADER = 'The authorization header is malformed;';

/**
 * S3's answer for a SigV4 failure, from its typed reason. `presigned` says which form the
 * request used (S3 words header and query-string failures differently).
 */
export function s3ErrorFromSigV4(err: SigV4Error, presigned: boolean): S3Error {
  const d = err.details;
  const parsing = presigned ? 'Error parsing the X-Amz-Credential parameter;' : MALFORMED_HEADER;
  const malformed = presigned
    ? 'AuthorizationQueryParametersError'
    : 'AuthorizationHeaderMalformed';
  switch (err.reason) {
    case 'unsupported-authorization':
      if (err.message.includes("Unsupported AWS 'algorithm'")) {
        return new S3Error('AuthorizationHeaderMalformed', `${MALFORMED_HEADER} ${err.message}`);
      }
      return /Authorization=AWS /.test(err.message)
        ? new S3Error(
            'InvalidRequest',
            'The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256.',
          )
        : new S3Error('InvalidArgument', 'Unsupported Authorization Type', {
            ArgumentName: 'Authorization',
            ArgumentValue: err.message.replace(/^.* Authorization=/, ''),
          });
    case 'malformed-authorization':
      return new S3Error('AuthorizationHeaderMalformed', `${MALFORMED_HEADER} ${err.message}`);
    case 'multiple-auth':
      return new S3Error('InvalidArgument', err.message);
    case 'malformed-presign':
    case 'invalid-expires':
      return new S3Error('AuthorizationQueryParametersError', err.message);
    case 'missing-date':
      return new S3Error('AccessDenied', MISSING_DATE);
    case 'malformed-date':
      return presigned
        ? new S3Error('AuthorizationQueryParametersError', err.message)
        : new S3Error('AccessDenied', MISSING_DATE);
    case 'malformed-credential':
      return new S3Error(
        malformed,
        `${parsing} the Credential is mal-formed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".`,
      );
    case 'host-not-signed':
      return new S3Error(
        'AccessDenied',
        'There were headers present in the request which were not signed',
        { HeadersNotSigned: 'host' },
      );
    case 'scope-region':
    case 'scope-service':
    case 'scope-terminator':
      return new S3Error(malformed, `${parsing} ${err.message}`);
    case 'scope-date':
      return new S3Error(
        malformed,
        `${parsing} Invalid credential date. Date is not the same as X-Amz-Date.`,
      );
    case 'skew-past':
    case 'skew-future':
      return new S3Error('RequestTimeTooSkewed', undefined, {
        RequestTime: amzDateIso(d.requestTime),
        ServerTime: isoSeconds(d.serverTimeMs ?? Date.now()),
        MaxAllowedSkewMilliseconds: String(d.maxSkewMs ?? 900_000),
      });
    case 'presign-not-yet-valid':
      return new S3Error('AccessDenied', 'Request is not valid yet');
    case 'presign-expired':
      return new S3Error('AccessDenied', 'Request has expired', {
        'X-Amz-Expires': String(d.expiresSeconds ?? ''),
        Expires: d.expiresAtMs === undefined ? '' : isoSeconds(d.expiresAtMs),
        ServerTime: isoSeconds(d.serverTimeMs ?? Date.now()),
      });
    case 'signature-mismatch':
    case 'chunk-signature-mismatch': {
      const fields: Record<string, string> = {};
      if (d.accessKeyId !== undefined) fields.AWSAccessKeyId = d.accessKeyId;
      if (d.stringToSign !== undefined) {
        fields.StringToSign = d.stringToSign;
        fields.StringToSignBytes = hexBytes(d.stringToSign);
      }
      if (d.signatureProvided !== undefined) fields.SignatureProvided = d.signatureProvided;
      if (err.canonicalRequest !== undefined) {
        fields.CanonicalRequest = err.canonicalRequest;
        fields.CanonicalRequestBytes = hexBytes(err.canonicalRequest);
      }
      return new S3Error('SignatureDoesNotMatch', undefined, fields);
    }
    case 'malformed-chunk':
    case 'incomplete-body':
    case 'decoded-length-mismatch':
      return new S3Error('IncompleteBody');
  }
}

const MISSING_DATE = 'AWS authentication requires a valid Date or x-amz-date header';

function hexBytes(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => b.toString(16).padStart(2, '0')).join(' ');
}

/**
 * Turns anything a request's handling threw into S3's vocabulary: S3 errors pass through,
 * SigV4 failures map by reason, the shared authentication and authorization codes to S3's
 * names; anything else is `InternalError` (its details stay in the log).
 *
 * @example
 * const e = toS3Error(err); // InvalidClientTokenId → InvalidAccessKeyId (403)
 */
export function toS3Error(err: unknown): S3Error {
  if (err instanceof S3Error) return err;
  if (err instanceof SigV4Error) return s3ErrorFromSigV4(err, false);
  const fsCode = err instanceof Error ? (err as { code?: unknown }).code : undefined;
  if (fsCode === 'ENOSPC' || fsCode === 'EDQUOT') {
    // The object could not be written whole; nothing of it is visible. Retryable once there is room.
    return new S3Error(
      'ServiceUnavailable',
      'The data directory is full, so the request was not carried out.',
    );
  }
  if (isAwsError(err)) {
    switch (err.code) {
      case 'AccessDenied':
        return new S3Error('AccessDenied', err.message, {}, err.explanation);
      case 'InvalidClientTokenId':
        return new S3Error('InvalidAccessKeyId');
      case 'MissingAuthenticationToken':
        return new S3Error('AccessDenied');
      case 'ExpiredToken':
        return new S3Error('ExpiredToken');
      case 'RequestExpired':
        return new S3Error('AccessDenied', 'Request has expired');
      case 'SignatureDoesNotMatch':
        return new S3Error('SignatureDoesNotMatch');
      case 'IncompleteSignature':
        return new S3Error('AuthorizationHeaderMalformed', `${MALFORMED_HEADER} ${err.message}`);
      case 'IncompleteBody':
        return new S3Error('IncompleteBody');
      case 'XAmzContentSHA256Mismatch':
        return new S3Error('XAmzContentSHA256Mismatch');
      case 'RequestTimeTooSkewed':
        return new S3Error('RequestTimeTooSkewed');
      case 'InvalidArgument':
        return new S3Error('InvalidArgument', err.message);
      case 'ServiceUnavailable':
        return new S3Error('ServiceUnavailable', err.message);
      case 'Throttling':
        return new S3Error('SlowDown');
      default:
        if (err.status === 400) return new S3Error('InvalidRequest', err.message);
        if (err.status === 403) return new S3Error('AccessDenied', err.message);
        if (err.status === 503) return new S3Error('ServiceUnavailable');
        return new S3Error('InternalError');
    }
  }
  return new S3Error('InternalError');
}

/** A 16-character request id, the form S3's have. */
export function newRequestId(): string {
  return randomBytesPooled(8).toString('hex').toUpperCase();
}

/** An opaque host id (S3's `x-amz-id-2`). */
export function hostIdOf(requestId: string): string {
  return Buffer.from(`latchkey/${requestId}`).toString('base64');
}

/**
 * S3's error document.
 *
 * @example
 * renderS3Error(new S3Error('NoSuchBucket', undefined, { BucketName: 'b' }), '/b', id);
 * // <?xml …?><Error><Code>NoSuchBucket</Code><Message>…</Message><BucketName>b</BucketName>
 * //   <Resource>/b</Resource><RequestId>…</RequestId><HostId>…</HostId></Error>
 */
export function renderS3Error(err: S3Error, resource: string, requestId: string): string {
  let fields = '';
  for (const [name, value] of Object.entries(err.fields)) {
    fields += `<${name}>${escapeXml(value)}</${name}>`;
  }
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n' +
    `<Error><Code>${err.code}</Code><Message>${escapeXml(err.message)}</Message>${fields}` +
    `<Resource>${escapeXml(resource)}</Resource><RequestId>${requestId}</RequestId>` +
    `<HostId>${hostIdOf(requestId)}</HostId></Error>`
  );
}
