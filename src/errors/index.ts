/**
 * Typed errors carrying AWS's error code and HTTP status.
 *
 * Every failure a client can see is an {@link AwsError}. Services throw them; the protocol
 * layer (`src/protocol`) is the one place that turns them into each wire format (Query XML
 * `ErrorResponse`, REST-JSON, S3 XML). Anything else that escapes a handler is reported as
 * `InternalFailure` without details.
 */

/** AWS error codes Latchkey answers with, and the HTTP status AWS uses for each. */
export const AWS_ERROR_STATUS = {
  // Authentication (Query protocol names; S3 names are mapped in src/protocol/s3)
  IncompleteSignature: 400,
  InvalidClientTokenId: 403,
  MissingAuthenticationToken: 403,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
  ExpiredToken: 400,
  InvalidSignatureException: 400,
  // Generic Query-protocol errors
  AccessDenied: 403,
  InvalidAction: 400,
  InvalidParameterValue: 400,
  MissingParameter: 400,
  MissingAction: 400,
  ValidationError: 400,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  Throttling: 400,
  // IAM
  NoSuchEntity: 404,
  EntityAlreadyExists: 409,
  LimitExceeded: 409,
  DeleteConflict: 409,
  MalformedPolicyDocument: 400,
  InvalidInput: 400,
  // STS web identity
  InvalidIdentityToken: 400,
  IDPRejectedClaim: 403,
  IDPCommunicationError: 400,
  PackedPolicyTooLarge: 400,
  RegionDisabledException: 403,
  // EKS and EKS Auth (REST-JSON)
  InvalidParameterException: 400,
  InvalidRequestException: 400,
  ResourceInUseException: 409,
  ResourceNotFoundException: 404,
  ResourceLimitExceededException: 400,
  ClientException: 400,
  ServerException: 500,
  AccessDeniedException: 403,
  InvalidTokenException: 400,
  ExpiredTokenException: 400,
  ThrottlingException: 429,
  ServiceUnavailableException: 503,
  // S3 (REST-XML)
  IncompleteBody: 400,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  RequestTimeTooSkewed: 403,
  InvalidArgument: 400,
  XAmzContentSHA256Mismatch: 400,
  // CloudTrail (JSON 1.1)
  InvalidLookupAttributesException: 400,
  InvalidTimeRangeException: 400,
  InvalidNextTokenException: 400,
  InvalidMaxResultsException: 400,
  InvalidEventCategoryException: 400,
  // Transport
  RequestEntityTooLarge: 413,
  NotFound: 404,
} as const;

/** One of the AWS error codes Latchkey knows. */
export type AwsErrorCode = keyof typeof AWS_ERROR_STATUS;

/** An error a client sees, with AWS's code, HTTP status and message. */
export class AwsError extends Error {
  override readonly name = 'AwsError';
  /** AWS's error code, e.g. `NoSuchEntity`. */
  readonly code: AwsErrorCode;
  /** HTTP status AWS answers this error with. */
  readonly status: number;

  /**
   * Why, in data, for the audit trail (e.g. a policy decision's trace); never sent to the
   * client.
   */
  readonly explanation?: Record<string, unknown>;

  constructor(
    code: AwsErrorCode,
    message: string,
    status: number = AWS_ERROR_STATUS[code],
    explanation?: Record<string, unknown>,
  ) {
    super(message);
    this.code = code;
    this.status = status;
    if (explanation !== undefined) this.explanation = explanation;
  }

  /** `Sender` for client errors, `Receiver` for server faults, as in the Query `ErrorResponse`. */
  get faultType(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender';
  }
}

/** True when `err` is an {@link AwsError}, optionally with the given code. */
export function isAwsError(err: unknown, code?: AwsErrorCode): err is AwsError {
  return err instanceof AwsError && (code === undefined || err.code === code);
}

/** Wraps anything thrown by a handler: AWS errors pass through, the rest become InternalFailure. */
export function toAwsError(err: unknown): AwsError {
  if (err instanceof AwsError) return err;
  return new AwsError('InternalFailure', 'An internal error occurred.');
}
