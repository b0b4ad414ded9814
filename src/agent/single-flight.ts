/**
 * Single-flight: concurrent callers asking for the same key share one in-flight promise, so N
 * cold requests for one pod's token make one EKS Auth call. Upstream polls for an in-flight
 * request (9 × 200 ms) and then calls again; sharing the promise is exact and never re-calls.
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  /**
   * Runs `fn` for `key` unless a run for `key` is already in flight, in which case its result
   * (or failure) is shared.
   *
   * @example
   * ```ts
   * const flights = new SingleFlight<string, Credentials>();
   * const creds = await flights.run(key, () => client.assumeRoleForPodIdentity(token));
   * ```
   */
  run(key: K, fn: () => Promise<V>): Promise<V> {
    const existing = this.#inFlight.get(key);
    if (existing !== undefined) return existing;
    const flight = fn().finally(() => {
      this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, flight);
    return flight;
  }

  /** True while a run for `key` is in flight. */
  has(key: K): boolean {
    return this.#inFlight.has(key);
  }

  /** Runs in flight. */
  get size(): number {
    return this.#inFlight.size;
  }
}
