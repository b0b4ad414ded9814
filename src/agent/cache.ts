/**
 * The credential cache: one entry per pod token, filed under `tokenIndex` and answered only for
 * the exact token, bounded in size with least-recently-used eviction (upstream:
 * `internal/cache/expiring`, 2000 entries). Each entry holds the ready-to-send body, so a hit
 * costs a lookup, a comparison and a write.
 */
import type { PodCredentials } from './credentials.js';
import type { TokenTimes } from './token.js';

/** One pod token's credentials. */
export interface CacheEntry {
  /** `tokenIndex` of the token: where the entry is filed. */
  readonly key: string;
  /** `tokenDigest` of the token: its flight key and log identifier. */
  readonly digest: string;
  /** The token itself: needed to refresh, and compared on every hit. Never logged. */
  readonly token: string;
  /** The token's `exp`/`nbf`, checked on every hit instead of parsing the token again. */
  readonly tokenTimes: TokenTimes;
  readonly credentials: PodCredentials;
  /** The response body for these credentials. */
  readonly body: Buffer;
  /** When these credentials were fetched, ms since the epoch. */
  readonly fetchedAtMs: number;
  /** When the background refresher should renew them, ms since the epoch. */
  refreshAtMs: number;
  /** The cache's use counter when the entry was last moved to the recent end (set by the cache). */
  usedAt?: number;
}

/** Why an entry left the cache (a metric label). */
export type EvictionReason = 'lru' | 'irrecoverable' | 'expired' | 'token_expired' | 'stale';

/** A size-bounded LRU map of {@link CacheEntry}. Size 0 keeps nothing. */
export class CredentialCache {
  // A Map iterates in insertion order: re-inserting on use keeps the least recent first.
  readonly #entries = new Map<string, CacheEntry>();
  readonly #maxSize: number;
  readonly #onEvict: (entry: CacheEntry, reason: EvictionReason) => void;
  /** Counts insertions and moves, to skip moving entries that are recent already. */
  #uses = 0;

  /**
   * @param maxSize entries kept at most.
   * @param onEvict told about every entry that leaves (not about replacements by a newer fetch).
   */
  constructor(maxSize: number, onEvict: (entry: CacheEntry, reason: EvictionReason) => void) {
    this.#maxSize = maxSize;
    this.#onEvict = onEvict;
  }

  /**
   * The entry filed under `key`, marked as most recently used. An entry moved within the last
   * `maxSize / 2` insertions and moves is left in place: fewer than `maxSize / 2` entries are
   * newer, so it cannot be the next evicted, and hits skip a Map delete and insert.
   */
  get(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (entry !== undefined && this.#uses - (entry.usedAt ?? 0) >= this.#maxSize / 2) {
      this.#entries.delete(key);
      this.#entries.set(key, entry);
      entry.usedAt = ++this.#uses;
    }
    return entry;
  }

  /** The entry filed under `key`, without marking it used. */
  peek(key: string): CacheEntry | undefined {
    return this.#entries.get(key);
  }

  /**
   * Stores `entry` as most recently used (replacing what was filed under its key), evicting the
   * least recently used beyond the bound.
   */
  set(entry: CacheEntry): void {
    if (this.#maxSize <= 0) return;
    this.#entries.delete(entry.key);
    this.#entries.set(entry.key, entry);
    entry.usedAt = ++this.#uses;
    while (this.#entries.size > this.#maxSize) {
      const oldest = this.#entries.values().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest.key);
      this.#onEvict(oldest, 'lru');
    }
  }

  /**
   * Removes the entry filed under `key`; with `only`, only if it is still that entry (a newer
   * fetch may have replaced it meanwhile). Returns whether something was removed.
   */
  delete(key: string, reason: EvictionReason, only?: CacheEntry): boolean {
    const entry = this.#entries.get(key);
    if (entry === undefined || (only !== undefined && entry !== only)) return false;
    this.#entries.delete(key);
    this.#onEvict(entry, reason);
    return true;
  }

  /** A snapshot of all entries, least recently used first. */
  entries(): CacheEntry[] {
    return [...this.#entries.values()];
  }

  /** Entries held. */
  get size(): number {
    return this.#entries.size;
  }

  /** Drops everything (at shutdown), without notifications. */
  clear(): void {
    this.#entries.clear();
  }
}
