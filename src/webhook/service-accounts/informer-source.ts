/**
 * Service accounts from the Kubernetes API: a list-and-watch informer on ServiceAccounts in
 * all namespaces (`@kubernetes/client-node`), optionally one on the `pod-identity-webhook`
 * ConfigMap, and a direct, rate-limited GET for a service account a pod names before the
 * watch has delivered it (upstream `pkg/cache`). Informers that fail are restarted with
 * backoff; the webhook keeps answering meanwhile.
 */
import {
  CoreV1Api,
  ListWatch,
  Watch,
  type KubeConfig,
  type KubernetesObject,
  type V1ConfigMap,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.js';
import type { ServiceAccountCache } from './cache.js';
import { CONFIG_MAP_NAME, entriesFromConfigMap } from './config-map.js';
import type { ServiceAccountSource } from './source.js';

/** Options of {@link InformerServiceAccountSource}. */
export interface InformerServiceAccountSourceOptions {
  kubeConfig: KubeConfig;
  cache: ServiceAccountCache;
  logger: Logger;
  /** Also watch the `pod-identity-webhook` ConfigMap in this namespace (`--watch-config-map`). */
  configMapNamespace?: string;
  /** GET a service account the cache misses (default true), at most 10/s with bursts of 20. */
  fetchOnMiss?: boolean;
  /** First and longest delay before restarting a failed informer, in milliseconds. */
  restartDelayMs?: { initial: number; max: number };
}

/** A token bucket: `rate` tokens per second, at most `burst` saved up. */
class TokenBucket {
  #tokens: number;
  #last = performance.now();
  constructor(
    private readonly rate: number,
    private readonly burst: number,
  ) {
    this.#tokens = burst;
  }
  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#last) / 1000) * this.rate);
    this.#last = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

interface Supervised {
  name: string;
  informer: ListWatch<KubernetesObject>;
  listed: boolean;
  delay: number;
  timer: NodeJS.Timeout | undefined;
}

/** Service accounts from the API server through a watch cache. */
export class InformerServiceAccountSource implements ServiceAccountSource {
  readonly #options: InformerServiceAccountSourceOptions;
  readonly #api: CoreV1Api;
  readonly #supervised: Supervised[] = [];
  readonly #fetchLimit = new TokenBucket(10, 20);
  readonly #starting = new Set<Promise<void>>();
  #closed = false;

  constructor(options: InformerServiceAccountSourceOptions) {
    this.#options = options;
    this.#api = options.kubeConfig.makeApiClient(CoreV1Api);
  }

  /** True once every informer has completed a first list. */
  get synced(): boolean {
    return this.#supervised.length > 0 && this.#supervised.every((s) => s.listed);
  }

  /**
   * Starts the informers and waits for their first list (or its failure, which is logged and
   * retried in the background).
   */
  async start(): Promise<void> {
    const { kubeConfig, cache, logger, configMapNamespace } = this.#options;
    const watch = new Watch(kubeConfig);

    const accounts = this.#supervise(
      'serviceaccounts',
      (s) =>
        new ListWatch<KubernetesObject>(
          '/api/v1/serviceaccounts',
          watch,
          async () => {
            const list = await this.#api.listServiceAccountForAllNamespaces();
            s.listed = true;
            return list;
          },
          false, // started below, once the handlers are attached
        ),
    );
    const onAccount = (obj: KubernetesObject) => cache.upsert(obj as V1ServiceAccount);
    accounts.informer.on('add', onAccount);
    accounts.informer.on('update', onAccount);
    accounts.informer.on('delete', (obj) =>
      cache.remove(obj.metadata?.namespace ?? '', obj.metadata?.name ?? ''),
    );

    if (configMapNamespace !== undefined) {
      const fieldSelector = `metadata.name=${CONFIG_MAP_NAME}`;
      const maps = this.#supervise(
        'configmap',
        (s) =>
          new ListWatch<KubernetesObject>(
            `/api/v1/namespaces/${encodeURIComponent(configMapNamespace)}/configmaps`,
            watch,
            async () => {
              const list = await this.#api.listNamespacedConfigMap({
                namespace: configMapNamespace,
                fieldSelector,
              });
              s.listed = true;
              return list;
            },
            false,
            undefined,
            fieldSelector,
          ),
      );
      const onMap = (obj: KubernetesObject) => {
        if (obj.metadata?.name !== CONFIG_MAP_NAME) return;
        try {
          cache.setConfigMapEntries(
            entriesFromConfigMap(obj as V1ConfigMap, cache.defaults.tokenExpiration),
          );
        } catch (err) {
          logger.error({ err: errorMessage(err) }, 'ConfigMap pod-identity-webhook ignored');
        }
      };
      maps.informer.on('add', onMap);
      maps.informer.on('update', onMap);
      maps.informer.on('delete', () => cache.setConfigMapEntries(new Map()));
    }

    if (this.#options.fetchOnMiss ?? true)
      cache.onMiss = (namespace, name) => this.#fetch(namespace, name);

    await Promise.all(this.#supervised.map((s) => this.#run(s)));
    if (this.synced) logger.info({ serviceAccounts: cache.size }, 'service account cache synced');
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#options.cache.onMiss = undefined;
    for (const s of this.#supervised) clearTimeout(s.timer);
    const stopAll = () => Promise.all(this.#supervised.map((s) => s.informer.stop()));
    await stopAll();
    // A start in flight (list done, watch being opened) is not cancelled by stop(): let it
    // settle, then stop again so no watch outlives close().
    await Promise.race([
      Promise.allSettled(this.#starting),
      new Promise((r) => setTimeout(r, 2000).unref()),
    ]);
    await stopAll();
  }

  /** Starts (or restarts) one informer, remembering the attempt until it settles. */
  #run(s: Supervised): Promise<void> {
    const attempt = s.informer.start();
    this.#starting.add(attempt);
    void attempt.finally(() => this.#starting.delete(attempt)).catch(() => {});
    return attempt;
  }

  #supervise(name: string, make: (s: Supervised) => ListWatch<KubernetesObject>): Supervised {
    const { logger } = this.#options;
    const delays = this.#options.restartDelayMs ?? { initial: 1000, max: 30_000 };
    const s = { name, listed: false, delay: delays.initial, timer: undefined } as Supervised;
    s.informer = make(s);
    // Any event means the connection works again.
    const healthy = () => {
      s.delay = delays.initial;
    };
    s.informer.on('add', healthy);
    s.informer.on('update', healthy);
    s.informer.on('error', (err: unknown) => {
      if (this.#closed) return;
      logger.error(
        { informer: name, err: errorMessage(err), retryInMs: s.delay },
        'informer failed; restarting',
      );
      clearTimeout(s.timer);
      s.timer = setTimeout(() => {
        if (!this.#closed) void this.#run(s).catch(() => {});
      }, s.delay);
      s.timer.unref();
      s.delay = Math.min(delays.max, s.delay * 2);
    });
    this.#supervised.push(s);
    return s;
  }

  #fetch(namespace: string, name: string): void {
    const { cache, logger } = this.#options;
    if (!this.#fetchLimit.take()) {
      logger.debug(
        { serviceAccount: `${namespace}/${name}` },
        'service account fetch rate-limited',
      );
      return;
    }
    this.#api.readNamespacedServiceAccount({ name, namespace }).then(
      (sa) => {
        if (!this.#closed) cache.upsert(sa);
      },
      (err: unknown) => {
        logger.warn(
          { serviceAccount: `${namespace}/${name}`, err: errorMessage(err) },
          'service account fetch failed',
        );
      },
    );
  }
}
