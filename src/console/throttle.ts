/** Failed sign-ins allowed per address in one window. */
export const MAX_FAILURES = 10;
/** The window failed sign-ins are counted over. */
export const FAILURE_WINDOW_MS = 5 * 60_000;
const MAX_ADDRESSES = 10_000;

/** Counts failed sign-ins per client address, to slow down guessing. */
export class SignInThrottle {
  readonly #failures = new Map<string, { count: number; since: number }>();

  constructor(private readonly now: () => number = Date.now) {}

  /** Whether `address` has failed too often lately. */
  blocked(address: string): boolean {
    const entry = this.#failures.get(address);
    if (entry === undefined) return false;
    if (this.now() - entry.since > FAILURE_WINDOW_MS) {
      this.#failures.delete(address);
      return false;
    }
    return entry.count >= MAX_FAILURES;
  }

  /** Notes a failed sign-in from `address`. */
  fail(address: string): void {
    const now = this.now();
    const entry = this.#failures.get(address);
    if (entry === undefined || now - entry.since > FAILURE_WINDOW_MS) {
      if (this.#failures.size >= MAX_ADDRESSES) this.#failures.clear();
      this.#failures.set(address, { count: 1, since: now });
    } else {
      entry.count += 1;
    }
  }

  /** Forgets an address's failures (after it signs in). */
  succeed(address: string): void {
    this.#failures.delete(address);
  }
}
