import type { SealingKeyStore } from './keyring-store.js';
import type { SealingKeyring } from './seal.js';

/** Fewest milliseconds between two reloads caused by tokens naming an unknown key. */
const MISS_RELOAD_MS = 1_000;
/** How often the keyring is re-read anyway (drops keys past their overlap). */
const REFRESH_MS = 300_000;

/**
 * A replica's sealing keyring, kept current: reloaded when another replica rotates (a cluster
 * sync message), when a token names a key this replica has not loaded yet (at most once a
 * second, so forged key ids cannot make it hammer the store), and every 5 minutes.
 */
export class LiveKeyring {
  #keyring: SealingKeyring;
  #lastMissReload = 0;
  #reloading: Promise<void> | undefined;
  readonly #timer: NodeJS.Timeout;

  private constructor(
    private readonly store: SealingKeyStore,
    keyring: SealingKeyring,
    private readonly onRotated: () => void,
  ) {
    this.#keyring = keyring;
    this.#timer = setInterval(() => void this.reload().catch(() => {}), REFRESH_MS);
    this.#timer.unref();
  }

  /**
   * Loads the keyring from the store (creating the first key on first use).
   *
   * @param onRotated called after this replica rotated, to tell the others.
   */
  static async open(
    store: SealingKeyStore,
    onRotated: () => void = () => {},
  ): Promise<LiveKeyring> {
    return new LiveKeyring(store, await store.load(), onRotated);
  }

  /** The keys as last loaded. */
  get(): SealingKeyring {
    return this.#keyring;
  }

  /** Re-reads the keyring from the store (concurrent callers share one read). */
  reload(): Promise<void> {
    this.#reloading ??= this.store
      .load()
      .then((keyring) => {
        this.#keyring = keyring;
      })
      .finally(() => {
        this.#reloading = undefined;
      });
    return this.#reloading;
  }

  /**
   * True when key `kid` is loaded, reloading once first if it is not (rate-limited). A token
   * sealed by a replica that just rotated opens here without waiting for the sync message.
   */
  async knows(kid: string): Promise<boolean> {
    if (this.#keyring.byId.has(kid)) return true;
    const now = Date.now();
    if (now - this.#lastMissReload < MISS_RELOAD_MS) {
      if (this.#reloading) await this.#reloading;
      return this.#keyring.byId.has(kid);
    }
    this.#lastMissReload = now;
    await this.reload();
    return this.#keyring.byId.has(kid);
  }

  /** Starts sealing with a new key here, and tells the other replicas. */
  async rotate(): Promise<SealingKeyring> {
    this.#keyring = await this.store.rotate();
    this.onRotated();
    return this.#keyring;
  }

  /** Stops the periodic refresh. */
  close(): void {
    clearInterval(this.#timer);
  }
}
