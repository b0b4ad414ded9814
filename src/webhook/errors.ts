/**
 * Typed failures of the admission webhook. Each has a stable `code`, so callers switch on
 * `err.code`; HTTP-facing ones carry the status the webhook answers with. (AWS error shapes in
 * `src/errors` do not apply: the webhook's client is the Kubernetes API server.)
 */

/** Stable codes of webhook failures, and the HTTP status of the ones a client sees. */
export const WEBHOOK_ERROR_STATUS = {
  /** The body is not an AdmissionReview the webhook can answer (no request or uid). */
  ERR_WEBHOOK_MALFORMED_REVIEW: 400,
  /** Content-Type other than `application/json`. */
  ERR_WEBHOOK_UNSUPPORTED_MEDIA_TYPE: 415,
  /** Body above `--max-request-bytes`. */
  ERR_WEBHOOK_BODY_TOO_LARGE: 413,
  /** `request.object` is not a Pod the webhook can decode (answered as allowed: false). */
  ERR_WEBHOOK_POD_DECODE: 200,
  /** Invalid options. */
  ERR_WEBHOOK_CONFIG: 0,
  /** A certificate or key that cannot be read or used. */
  ERR_WEBHOOK_TLS: 0,
  /** A service-account or association file that cannot be read or parsed. */
  ERR_WEBHOOK_SOURCE: 0,
} as const;

/** One of the webhook's error codes. */
export type WebhookErrorCode = keyof typeof WEBHOOK_ERROR_STATUS;

/** A webhook failure with a stable code. */
export class WebhookError extends Error {
  override readonly name = 'WebhookError';
  /** Stable code, e.g. `ERR_WEBHOOK_MALFORMED_REVIEW`. */
  readonly code: WebhookErrorCode;
  /** HTTP status for request failures; 0 for start-up and configuration failures. */
  readonly status: number;

  constructor(code: WebhookErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.status = WEBHOOK_ERROR_STATUS[code];
  }
}

/** True when `err` is a {@link WebhookError}, optionally with the given code. */
export function isWebhookError(err: unknown, code?: WebhookErrorCode): err is WebhookError {
  return err instanceof WebhookError && (code === undefined || err.code === code);
}

/** The message of anything thrown, for log lines. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
