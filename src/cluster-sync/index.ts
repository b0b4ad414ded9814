/**
 * Cache invalidation across replicas. Each server caches what it reads on every request (policy
 * sets, access keys, the revocation list, the sealing keyring, S3 buckets) for a short, bounded
 * time. When one replica changes one of them it applies the change to its own caches at once
 * and *publishes* a topic here; the other replicas drop the matching cache entries as soon as
 * the message arrives, instead of waiting for the time bound.
 *
 * On PostgreSQL the messages are `NOTIFY`s on one channel, received on a dedicated `LISTEN`
 * connection that reconnects by itself. While it is down (or a message is lost) the caches'
 * own time bounds still hold; after a reconnect every cache is dropped once, since messages may
 * have been missed. The embedded SQLite store has one server per data directory, so there is
 * nothing to tell anyone: {@link LocalClusterSync}.
 */
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Database } from '../store/index.js';

/** What changed. */
export type SyncTopic =
  /** IAM users, keys, roles, policies or accounts: policy sets and resolved access keys. */
  | 'iam'
  /** A session revocation: the revocation list. */
  | 'revocations'
  /** The sealing keyring (a rotation). */
  | 'sealing-keys'
  /** An S3 bucket created, deleted or given another policy; the key is the bucket's name. */
  | 'buckets';

const TOPICS: ReadonlySet<string> = new Set<SyncTopic>([
  'iam',
  'revocations',
  'sealing-keys',
  'buckets',
]);

/** The PostgreSQL channel the replicas talk on. */
export const SYNC_CHANNEL = 'latchkey_cache_sync';

/** Longest wait between two attempts to re-establish the LISTEN connection. */
const MAX_RECONNECT_DELAY_MS = 1_000;

/** A handler for one topic; `key` narrows what changed (e.g. an access key id) when given. */
export type SyncHandler = (key: string | undefined) => void;

/** Tells the other replicas what changed, and hears what they changed. */
export interface ClusterSync {
  /** `postgres` when messages really travel; `local` for a single server. */
  readonly mode: 'local' | 'postgres';
  /** True while messages from other replicas can arrive. */
  readonly listening: boolean;
  /**
   * Tells the other replicas that `topic` changed. Never rejects: a message that cannot be
   * sent is logged, and the other replicas' caches expire within their time bounds anyway.
   */
  publish(topic: SyncTopic, key?: string): Promise<void>;
  /** Calls `handler` when another replica publishes `topic`. */
  on(topic: SyncTopic, handler: SyncHandler): void;
  /** Calls `handler` after the listener reconnected (messages may have been missed). */
  onResync(handler: () => void): void;
  close(): Promise<void>;
}

/** The single-server case: nothing to tell, nothing to hear. */
export class LocalClusterSync implements ClusterSync {
  readonly mode = 'local';
  readonly listening = false;

  async publish(): Promise<void> {}
  on(): void {}
  onResync(): void {}
  async close(): Promise<void> {}
}

/** Where the PostgreSQL sync connects and publishes. */
export interface PostgresSyncOptions {
  /** The store's `postgres://` URL (the listener has its own connection). */
  databaseUrl: string;
  /** The store, to publish through its pool. */
  db: Kysely<Database>;
  logger: Logger;
}

/** LISTEN/NOTIFY between the replicas sharing one PostgreSQL database. */
export class PostgresClusterSync implements ClusterSync {
  readonly mode = 'postgres';
  /** Identifies this replica's messages, which it ignores. */
  readonly #sender = randomUUID();
  readonly #handlers = new Map<SyncTopic, SyncHandler[]>();
  readonly #resync: (() => void)[] = [];
  #client: pg.Client | undefined;
  #listening = false;
  #closed = false;
  /** Set once `start()` returned: any later (re)connection may have missed messages. */
  #started = false;
  #delay = 100;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: PostgresSyncOptions) {}

  get listening(): boolean {
    return this.#listening;
  }

  /** Connects the listener; resolves once it listens (or after its first attempt failed). */
  async start(): Promise<void> {
    await this.#connect();
    this.#started = true;
  }

  async publish(topic: SyncTopic, key?: string): Promise<void> {
    const payload = JSON.stringify({ s: this.#sender, t: topic, ...(key ? { k: key } : {}) });
    try {
      await sql`select pg_notify(${SYNC_CHANNEL}, ${payload})`.execute(this.options.db);
    } catch (err) {
      this.options.logger.warn({ err, topic }, 'cache invalidation could not be published');
    }
  }

  on(topic: SyncTopic, handler: SyncHandler): void {
    const list = this.#handlers.get(topic) ?? [];
    list.push(handler);
    this.#handlers.set(topic, list);
  }

  onResync(handler: () => void): void {
    this.#resync.push(handler);
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#listening = false;
    await client?.end().catch(() => {});
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      connectionTimeoutMillis: 5_000,
      keepAlive: true,
    });
    const lost = (err?: unknown) => {
      if (this.#client !== client) return;
      this.#client = undefined;
      this.#listening = false;
      if (!this.#closed) {
        this.options.logger.warn({ err }, 'cache sync listener lost; reconnecting');
        client.end().catch(() => {});
        this.#schedule();
      }
    };
    client.on('error', lost);
    client.on('end', () => lost());
    client.on('notification', (msg) => {
      if (msg.channel === SYNC_CHANNEL) this.#deliver(msg.payload);
    });
    this.#client = client;
    try {
      await client.connect();
      await client.query(`LISTEN ${SYNC_CHANNEL}`);
    } catch (err) {
      if (this.#client === client) {
        this.#client = undefined;
        client.end().catch(() => {});
        if (!this.#closed) {
          this.options.logger.warn({ err }, 'cache sync listener cannot connect; retrying');
          this.#schedule();
        }
      }
      return;
    }
    if (this.#closed || this.#client !== client) {
      await client.end().catch(() => {});
      return;
    }
    this.#listening = true;
    this.#delay = 100;
    if (this.#started) {
      this.options.logger.info('cache sync listener (re)connected; caches dropped once');
      for (const handler of this.#resync) handler();
    }
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#closed) return;
    const delay = this.#delay;
    this.#delay = Math.min(this.#delay * 2, MAX_RECONNECT_DELAY_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#connect();
    }, delay);
    this.#timer.unref();
  }

  #deliver(payload: string | undefined): void {
    let message: unknown;
    try {
      message = JSON.parse(payload ?? '');
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const { s, t, k } = message as { s?: unknown; t?: unknown; k?: unknown };
    if (s === this.#sender || typeof t !== 'string' || !TOPICS.has(t)) return;
    for (const handler of this.#handlers.get(t as SyncTopic) ?? []) {
      try {
        handler(typeof k === 'string' ? k : undefined);
      } catch (err) {
        this.options.logger.error({ err, topic: t }, 'cache invalidation handler failed');
      }
    }
  }
}

/**
 * The sync a store needs: LISTEN/NOTIFY on PostgreSQL, nothing on SQLite.
 *
 * @example
 * const sync = await openClusterSync({ databaseUrl, db: store.db, logger });
 * sync.on('iam', () => authorizer.invalidate());
 */
export async function openClusterSync(options: {
  databaseUrl?: string | undefined;
  db: Kysely<Database>;
  logger: Logger;
}): Promise<ClusterSync> {
  if (options.databaseUrl === undefined) return new LocalClusterSync();
  const sync = new PostgresClusterSync({
    databaseUrl: options.databaseUrl,
    db: options.db,
    logger: options.logger,
  });
  await sync.start();
  return sync;
}

/** The caches of one replica that other replicas' changes make stale. */
export interface ReplicaCaches {
  /** Policy sets (the authorizer's cache). */
  policies: { invalidate(): void };
  /** Resolved access keys. */
  accessKeys: { forget(accessKeyId?: string): void };
  /** The session revocation list. */
  revocations: { refresh(): Promise<void> };
  /** The sealing keyring. */
  keyring: { reload(): Promise<void> };
}

/**
 * Subscribes a replica's caches to the other replicas' changes: each topic drops (or re-reads)
 * the caches it concerns, and a listener reconnect drops them all.
 *
 * @example
 * bindCaches(sync, { policies: authorizer, accessKeys, revocations, keyring }, logger);
 */
export function bindCaches(sync: ClusterSync, caches: ReplicaCaches, logger: Logger): void {
  const reread = (what: string, work: Promise<void>) => {
    work.catch((err: unknown) => logger.warn({ err, what }, 'cache re-read failed'));
  };
  const iam = () => {
    caches.policies.invalidate();
    caches.accessKeys.forget();
  };
  sync.on('iam', iam);
  sync.on('revocations', () => reread('revocations', caches.revocations.refresh()));
  sync.on('sealing-keys', () => reread('sealing keys', caches.keyring.reload()));
  sync.onResync(() => {
    iam();
    reread('revocations', caches.revocations.refresh());
    reread('sealing keys', caches.keyring.reload());
  });
}

/** A cache of S3 buckets (the S3 service's bucket records). */
export interface BucketCache {
  /** Drops one bucket's record, or every one without a name. */
  forgetBucket(name?: string): void;
}

/**
 * Subscribes a replica's bucket cache to the other replicas' bucket changes: a bucket named in
 * a message is dropped (a message without a name drops them all, as does a listener
 * reconnect).
 *
 * @example
 * bindBucketCache(sync, meta);
 * // and after a change through this replica:
 * void sync.publish('buckets', name);
 */
export function bindBucketCache(sync: ClusterSync, cache: BucketCache): void {
  sync.on('buckets', (name) => cache.forgetBucket(name));
  sync.onResync(() => cache.forgetBucket());
}
