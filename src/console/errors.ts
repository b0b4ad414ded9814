import { isAwsError } from '../errors/index.js';

/** Why a console request was refused, each with its HTTP status. */
export const CONSOLE_ERROR_STATUS = {
  /** No session, an expired or forged session cookie, or a key that no longer works. */
  Unauthenticated: 401,
  /** Wrong access key or secret, or a one-time link that is unknown, used or expired. */
  SignInFailed: 401,
  /** A POST without the console's CSRF header or from another origin. */
  CrossSiteRequest: 403,
  /** The signed-in principal's policies do not allow what the page shows. */
  AccessDenied: 403,
  BadRequest: 400,
  NotFound: 404,
  MethodNotAllowed: 405,
  PayloadTooLarge: 413,
  /** Too many failed sign-ins from one address. */
  TooManyRequests: 429,
  InternalError: 500,
  /** The store cannot answer (e.g. whether a session was signed out): retry later. */
  ServiceUnavailable: 503,
} as const;

/** A console error code. */
export type ConsoleErrorCode = keyof typeof CONSOLE_ERROR_STATUS;

/** A console failure: a stable code, its HTTP status, and a message safe to show. */
export class ConsoleError extends Error {
  override readonly name = 'ConsoleError';
  readonly status: number;

  constructor(
    readonly code: ConsoleErrorCode,
    message: string,
  ) {
    super(message);
    this.status = CONSOLE_ERROR_STATUS[code];
  }
}

/**
 * Any failure as a ConsoleError: AWS errors of the services the console asks keep their
 * meaning (a denial stays a denial, a bad parameter a bad request); the rest is internal.
 */
export function toConsoleError(err: unknown): ConsoleError {
  if (err instanceof ConsoleError) return err;
  if (isAwsError(err)) {
    if (err.code === 'AccessDenied' || err.code === 'AccessDeniedException') {
      return new ConsoleError('AccessDenied', err.message);
    }
    if (err.status === 404) return new ConsoleError('NotFound', err.message);
    if (err.status === 503) return new ConsoleError('ServiceUnavailable', err.message);
    if (err.status >= 400 && err.status < 500) return new ConsoleError('BadRequest', err.message);
  }
  return new ConsoleError('InternalError', 'An internal error occurred.');
}
