/**
 * Per-account request limits: one token bucket per (account, service), refilled at a steady
 * rate up to a burst. A call over the limit is refused before it does any work (no store read or
 * write, no audit record) with the throttling error of its protocol: `Throttling` (IAM, STS;
 * HTTP 400), `ThrottlingException` (EKS, EKS Auth and other REST-JSON APIs; 429) or `SlowDown`
 * (S3; 503). Every AWS SDK retries those with backoff.
 *
 * Limits are per replica: with N replicas behind a load balancer an account gets up to N times
 * the rate in total.
 */

/** A request limit. */
export interface RequestLimit {
  /** Requests per second each account may make to each service (refill rate), > 0. */
  ratePerSecond: number;
  /** Requests an idle account may make at once (bucket size); default: `ratePerSecond`, at least 1. */
  burst?: number | undefined;
}

/** Buckets kept before idle (full) ones are dropped. */
const MAX_BUCKETS = 100_000;

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms, monotonic). */
  at: number;
}

/**
 * Token buckets per account and service.
 *
 * @example
 * const throttle = new RequestThrottle({ ratePerSecond: 50, burst: 100 });
 * if (!throttle.admit('111122223333', 'sts')) throw new AwsError('Throttling', 'Rate exceeded');
 */
export class RequestThrottle {
  readonly rate: number;
  readonly burst: number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(
    limit: RequestLimit,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(limit.ratePerSecond > 0) || !Number.isFinite(limit.ratePerSecond)) {
      throw new RangeError(`request limit must be a positive number, not ${limit.ratePerSecond}`);
    }
    const burst = limit.burst ?? Math.max(1, limit.ratePerSecond);
    if (!(burst >= 1) || !Number.isFinite(burst)) {
      throw new RangeError(`request burst must be at least 1, not ${burst}`);
    }
    this.rate = limit.ratePerSecond;
    this.burst = burst;
  }

  /** Takes one request from the account's bucket for `service`; false when it is empty. */
  admit(accountId: string, service: string): boolean {
    const key = `${service}\u0000${accountId}`;
    const now = this.now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      if (this.#buckets.size >= MAX_BUCKETS) this.#sweep(now);
      bucket = { tokens: this.burst, at: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
      bucket.at = now;
    }
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /** How many buckets are held (for tests and metrics). */
  get size(): number {
    return this.#buckets.size;
  }

  /** Drops buckets that have refilled completely (their accounts are idle). */
  #sweep(now: number): void {
    for (const [key, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.burst) this.#buckets.delete(key);
    }
    // Every account busy at once: start over rather than grow without bound.
    if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.clear();
  }
}

/**
 * Parses a `--request-limit` value: `RATE` or `RATE:BURST` (requests per second per account and
 * service, e.g. `50` or `50:200`).
 *
 * @example
 * parseRequestLimit('50:200'); // { ratePerSecond: 50, burst: 200 }
 */
export function parseRequestLimit(value: string): RequestLimit {
  const m = /^\s*(\d+(?:\.\d+)?)(?::(\d+))?\s*$/.exec(value);
  const rate = Number(m?.[1]);
  const burst = m?.[2] === undefined ? undefined : Number(m[2]);
  if (m === null || !(rate > 0) || (burst !== undefined && burst < 1)) {
    throw new RangeError(
      `--request-limit takes RATE or RATE:BURST (requests per second per account and service, e.g. 50 or 50:200), not '${value}'`,
    );
  }
  return burst === undefined ? { ratePerSecond: rate } : { ratePerSecond: rate, burst };
}
