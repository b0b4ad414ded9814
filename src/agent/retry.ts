/**
 * Retries of EKS Auth calls, as the Go SDK's standard retryer makes them for upstream: up to 3
 * attempts; throttling codes, 500/502/503/504 and transport failures are retried after an
 * exponential, fully jittered delay (`rand × 2^attempt` s, at most 20 s); a retry quota (500
 * tokens, 5 per retry, 10 per timeout retry, refunded on success) stops retry storms.
 */
import { EksAuthError, EksAuthTransportError } from './errors.js';

/** Error codes the Go SDK retries as throttling or transient. */
const RETRYABLE_CODES: ReadonlySet<string> = new Set([
  'Throttling',
  'ThrottlingException',
  'ThrottledException',
  'RequestThrottledException',
  'TooManyRequestsException',
  'ProvisionedThroughputExceededException',
  'TransactionInProgressException',
  'RequestLimitExceeded',
  'BandwidthLimitExceeded',
  'LimitExceededException',
  'RequestThrottled',
  'SlowDown',
  'PriorRequestNotComplete',
  'EC2ThrottledException',
  'RequestTimeout',
  'RequestTimeoutException',
]);

const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([500, 502, 503, 504]);

/** True when the Go SDK's standard retryer would try again after `err`. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof EksAuthError) {
    return RETRYABLE_CODES.has(err.code) || RETRYABLE_STATUSES.has(err.status);
  }
  return err instanceof EksAuthTransportError && err.kind !== 'invalid-response';
}

/**
 * Delay before retry number `attempt` (1 for the first retry): `random() × 2^attempt × baseMs`,
 * capped at `maxMs`.
 */
export function backoffDelayMs(
  attempt: number,
  random: () => number,
  baseMs = 1000,
  maxMs = 20_000,
): number {
  return Math.min(maxMs, random() * 2 ** attempt * baseMs);
}

/** The Go SDK's client-side retry token bucket. */
export class RetryQuota {
  static readonly CAPACITY = 500;
  static readonly RETRY_COST = 5;
  static readonly TIMEOUT_RETRY_COST = 10;
  static readonly SUCCESS_INCREMENT = 1;
  #available = RetryQuota.CAPACITY;

  /** Takes the cost of one retry after `err`; returns the cost taken, or 0 when refused. */
  acquire(err: unknown): number {
    const timeout = err instanceof EksAuthTransportError && err.kind === 'timeout';
    const cost = timeout ? RetryQuota.TIMEOUT_RETRY_COST : RetryQuota.RETRY_COST;
    if (this.#available < cost) return 0;
    this.#available -= cost;
    return cost;
  }

  /** After a success: refunds what its retries took, or adds a little when it needed none. */
  release(taken: number): void {
    const refund = taken > 0 ? taken : RetryQuota.SUCCESS_INCREMENT;
    this.#available = Math.min(RetryQuota.CAPACITY, this.#available + refund);
  }

  /** Tokens left. */
  get available(): number {
    return this.#available;
  }
}
