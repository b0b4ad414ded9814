/**
 * The service-account cache the mutation reads (upstream `pkg/cache`): entries from
 * ServiceAccount annotations, entries from the `pod-identity-webhook` ConfigMap, and
 * notification of callers waiting for a service account that is not cached yet. Sources (a
 * YAML file, a Kubernetes informer) fill it.
 */
import type { Logger } from 'pino';
import { TokenExpiration } from '../constants.js';
import {
  entryFromServiceAccount,
  type EntryDefaults,
  type ServiceAccountEntry,
  type ServiceAccountLike,
} from './entry.js';

/** Result of {@link ServiceAccountCache.get}. */
export interface ServiceAccountLookup {
  /** Whether the service account (or a ConfigMap entry for it) is known. */
  found: boolean;
  /** Its settings when it has a role ARN (from annotations or the ConfigMap). */
  entry?: ServiceAccountEntry;
}

/** Settings that also apply to Pod Identity pods (upstream `GetCommonConfigurations`). */
export interface CommonConfiguration {
  useRegionalSts: boolean;
  tokenExpiration: number;
}

/** Options of {@link ServiceAccountCache}. */
export interface ServiceAccountCacheOptions {
  defaults: EntryDefaults;
  logger?: Logger;
  /** Called when a service account is first stored (drives the `used` gauge). */
  onServiceAccount?: () => void;
}

const key = (namespace: string, name: string) => `${namespace}/${name}`;

/** In-memory service-account cache with waiters. */
export class ServiceAccountCache {
  readonly #defaults: EntryDefaults;
  readonly #logger: Logger | undefined;
  readonly #onServiceAccount: (() => void) | undefined;
  #accounts = new Map<string, ServiceAccountEntry>();
  #configMap = new Map<string, ServiceAccountEntry>();
  readonly #waiters = new Map<string, Set<(found: boolean) => void>>();
  /**
   * Called once per key when a first caller starts waiting for a missing service account, so a
   * source can fetch it directly (upstream fetches it from the API server).
   */
  onMiss: ((namespace: string, name: string) => void) | undefined;

  constructor(options: ServiceAccountCacheOptions) {
    this.#defaults = options.defaults;
    this.#logger = options.logger;
    this.#onServiceAccount = options.onServiceAccount;
  }

  /** The flag-level defaults entries are built with. */
  get defaults(): EntryDefaults {
    return this.#defaults;
  }

  /** Number of cached service accounts. */
  get size(): number {
    return this.#accounts.size;
  }

  /** Stores (or replaces) a service account and wakes its waiters. */
  upsert(sa: ServiceAccountLike): void {
    const namespace = sa.metadata?.namespace ?? '';
    const name = sa.metadata?.name ?? '';
    if (name === '') return;
    const k = key(namespace, name);
    this.#accounts.set(k, entryFromServiceAccount(sa, this.#defaults, this.#logger));
    this.#onServiceAccount?.();
    this.#wake(k, true);
  }

  /** Forgets a service account. */
  remove(namespace: string, name: string): void {
    this.#accounts.delete(key(namespace, name));
  }

  /** Replaces all service accounts at once (a file reload), waking waiters of new ones. */
  replaceAll(accounts: readonly ServiceAccountLike[]): void {
    const next = new Map<string, ServiceAccountEntry>();
    for (const sa of accounts) {
      const name = sa.metadata?.name ?? '';
      if (name === '') continue;
      next.set(
        key(sa.metadata?.namespace ?? '', name),
        entryFromServiceAccount(sa, this.#defaults, this.#logger),
      );
    }
    this.#accounts = next;
    if (next.size > 0) this.#onServiceAccount?.();
    for (const k of next.keys()) this.#wake(k, true);
  }

  /** Replaces the ConfigMap entries (keyed `namespace/name`, namespace `*` for any). */
  setConfigMapEntries(entries: Map<string, ServiceAccountEntry>): void {
    this.#configMap = entries;
  }

  /**
   * Looks a service account up: annotations first, then the ConfigMap (this namespace, then namespace `*`).
   *
   * @example
   * const { found, entry } = cache.get('default', 'app');
   * if (entry) console.log(entry.roleArn);
   */
  get(namespace: string, name: string): ServiceAccountLookup {
    const account = this.#accounts.get(key(namespace, name));
    if (account && account.roleArn !== '') return { found: true, entry: account };
    const fromConfigMap =
      this.#configMap.get(key(namespace, name)) ?? this.#configMap.get(key('*', name));
    if (fromConfigMap) return { found: true, entry: fromConfigMap };
    return { found: account !== undefined };
  }

  /**
   * Regional-STS and lifetime settings for a Pod Identity pod: from the service account, else
   * from its exact ConfigMap entry, else upstream's fixed fallback (false, 86400).
   */
  commonConfig(namespace: string, name: string): CommonConfiguration {
    const entry =
      this.#accounts.get(key(namespace, name)) ?? this.#configMap.get(key(namespace, name));
    if (entry)
      return { useRegionalSts: entry.useRegionalSts, tokenExpiration: entry.tokenExpiration };
    return { useRegionalSts: false, tokenExpiration: TokenExpiration.default };
  }

  /**
   * Waits up to `timeoutMs` for a service account to be stored. Resolves true when it was,
   * false on timeout; resolves at once when it is already cached.
   */
  waitFor(namespace: string, name: string, timeoutMs: number): Promise<boolean> {
    const k = key(namespace, name);
    if (this.#accounts.has(k)) return Promise.resolve(true);
    return new Promise((resolve) => {
      let waiters = this.#waiters.get(k);
      const first = waiters === undefined;
      if (!waiters) {
        waiters = new Set();
        this.#waiters.set(k, waiters);
      }
      const done = (found: boolean) => {
        clearTimeout(timer);
        resolve(found);
      };
      const timer = setTimeout(() => {
        const set = this.#waiters.get(k);
        set?.delete(done);
        if (set?.size === 0) this.#waiters.delete(k);
        resolve(false);
      }, timeoutMs);
      waiters.add(done);
      if (first) this.onMiss?.(namespace, name);
    });
  }

  /** Cache contents for the debug handler. */
  toJSON(): {
    serviceAccounts: Record<string, ServiceAccountEntry>;
    configMap: Record<string, ServiceAccountEntry>;
  } {
    return {
      serviceAccounts: Object.fromEntries(this.#accounts),
      configMap: Object.fromEntries(this.#configMap),
    };
  }

  #wake(k: string, found: boolean): void {
    const waiters = this.#waiters.get(k);
    if (!waiters) return;
    this.#waiters.delete(k);
    for (const done of waiters) done(found);
  }
}
