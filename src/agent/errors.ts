/**
 * The agent's typed failures. Each one knows the HTTP status and text the pod sees, in the
 * upstream agent's words (`pkg/errors/errors.go`: `http.Error(resp, msg, code)`), so the request
 * handler renders every failure in one place ({@link failureResponse}).
 */

/** The four EKS Auth codes after which cached credentials are dropped (upstream `eksauth/errors.go`). */
export const IRRECOVERABLE_EKS_AUTH_CODES: ReadonlySet<string> = new Set([
  'ResourceNotFoundException',
  'ExpiredTokenException',
  'InvalidTokenException',
  'AccessDeniedException',
]);

/** EKS Auth's modelled errors and their fault side (botocore `eks-auth/2023-11-26`). */
const MODELLED_FAULTS: Readonly<Record<string, 'client' | 'server'>> = {
  AccessDeniedException: 'client',
  ExpiredTokenException: 'client',
  InvalidParameterException: 'client',
  InvalidRequestException: 'client',
  InvalidTokenException: 'client',
  ResourceNotFoundException: 'client',
  ThrottlingException: 'client',
  InternalServerException: 'server',
  ServiceUnavailableException: 'server',
};

/** A request the agent refuses before calling EKS Auth: bad token (400) or wrong Host (403). */
export class AgentRequestError extends Error {
  override readonly name = 'AgentRequestError';
  constructor(
    /** 400 for token problems, 403 for a Host that is not the agent's. */
    readonly status: 400 | 403,
    message: string,
  ) {
    super(message);
  }
}

/** An error answer from EKS Auth (`x-amzn-ErrorType` and `{__type, message}`). */
export class EksAuthError extends Error {
  override readonly name = 'EksAuthError';
  /** Which side EKS Auth blames, as the Go SDK prints it (`unknown` for unmodelled codes). */
  readonly fault: 'client' | 'server' | 'unknown';
  constructor(
    /** The error code, e.g. `ResourceNotFoundException`. */
    readonly code: string,
    message: string,
    /** EKS Auth's HTTP status. */
    readonly status: number,
    /** `x-amzn-RequestId`, when EKS Auth sent one. */
    readonly requestId = '',
  ) {
    super(message);
    this.fault = MODELLED_FAULTS[code] ?? 'unknown';
  }

  /** True for the errors after which credentials must be evicted rather than kept. */
  get irrecoverable(): boolean {
    return IRRECOVERABLE_EKS_AUTH_CODES.has(this.code);
  }
}

/** Why a call to EKS Auth produced no HTTP answer, or an answer that is not usable. */
export type EksAuthTransportFailure = 'timeout' | 'network' | 'invalid-response';

/** EKS Auth could not be reached in time, or answered 200 with something unusable. */
export class EksAuthTransportError extends Error {
  override readonly name = 'EksAuthTransportError';
  constructor(
    readonly kind: EksAuthTransportFailure,
    message: string,
  ) {
    super(message);
  }
}

/** Something the agent itself refuses to serve (e.g. credentials that are already too old). */
export class AgentInternalError extends Error {
  override readonly name = 'AgentInternalError';
}

/** The agent's configuration is unusable (bad flag values, missing credentials). */
export class AgentConfigError extends Error {
  override readonly name = 'AgentConfigError';
}

/** What a pod is answered for a failure, and how the request is counted. */
export interface FailureResponse {
  status: number;
  /** Plain-text body, without the trailing newline `http.Error` adds. */
  message: string;
  outcome: 'forbidden_host' | 'invalid_token' | 'upstream_error' | 'internal_error';
}

/**
 * Maps a failure to the pod's answer as upstream's `HandleCredentialFetchingError` does: its
 * own validation errors keep their status; an EKS Auth error passes its HTTP status through with
 * `[request-id]: (Code): message, fault: side`; anything else is a 500 with the error's text.
 */
export function failureResponse(err: unknown): FailureResponse {
  if (err instanceof AgentRequestError) {
    return {
      status: err.status,
      message: err.message,
      outcome: err.status === 403 ? 'forbidden_host' : 'invalid_token',
    };
  }
  if (err instanceof EksAuthError) {
    return {
      status: err.status >= 400 && err.status <= 599 ? err.status : 500,
      message: `[${err.requestId}]: (${err.code}): ${err.message}, fault: ${err.fault}`,
      outcome: 'upstream_error',
    };
  }
  if (err instanceof EksAuthTransportError) {
    return {
      status: 500,
      message: `error getting credentials to cache: unable to fetch credentials from EKS Auth: ${err.message}`,
      outcome: 'upstream_error',
    };
  }
  const text = err instanceof Error ? err.message : 'unknown error';
  return {
    status: 500,
    message: `error getting credentials to cache: ${text}`,
    outcome: 'internal_error',
  };
}
