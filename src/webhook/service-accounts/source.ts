/**
 * Where service accounts come from. A source fills a {@link ServiceAccountCache}; the mutation
 * only ever reads the cache.
 */

/** A running supplier of service accounts. */
export interface ServiceAccountSource {
  /** Loads the first snapshot (throws when that is impossible) and starts following changes. */
  start(): Promise<void>;
  /** Whether the first full snapshot is in the cache (the webhook's readiness). */
  readonly synced: boolean;
  /** Stops following changes. */
  close(): Promise<void>;
}
