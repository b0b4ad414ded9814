/**
 * A token bucket, like Go's `golang.org/x/time/rate.Limiter` with `Allow()`: it starts full,
 * refills continuously at `rate` per second up to `burst`, and never waits. Used for incoming
 * requests (upstream: 1000/s, burst 500) and for background refreshes (upstream: 3/s).
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  /**
   * @param ratePerSecond tokens added per second.
   * @param burst bucket size; 0 refuses everything, as Go's limiter does with a finite rate.
   * @param now a monotonic clock in ms (default `performance.now`).
   *
   * @example
   * ```ts
   * const limiter = new TokenBucket(1000, 500);
   * if (!limiter.tryTake()) reply(429, 'Too Many Requests');
   * ```
   */
  constructor(ratePerSecond: number, burst: number, now: () => number = () => performance.now()) {
    this.#ratePerMs = ratePerSecond / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  /** Takes one token if there is one; false when the caller must be refused. */
  tryTake(): boolean {
    const now = this.#now();
    const elapsed = now - this.#last;
    this.#last = now;
    if (elapsed > 0) this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
