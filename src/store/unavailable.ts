/**
 * Store outages as AWS's `ServiceUnavailable` (503): a dialect wrapper that turns the errors of
 * an unreachable PostgreSQL (refused or cut connections, server shutting down, too many
 * connections) and of a SQLite file that cannot be written (disk full, I/O error, locked) into
 * one typed {@link StoreUnavailableError}. Clients then see a clear, retryable 503 instead of an
 * opaque 500; every other error (constraint violations included) passes through unchanged.
 */
import type {
  CompiledQuery,
  DatabaseConnection,
  Dialect,
  DialectAdapter,
  Driver,
  Kysely,
  QueryCompiler,
  QueryResult,
  TransactionSettings,
  DatabaseIntrospector,
} from 'kysely';
import { AwsError } from '../errors/index.js';

/** Why the store cannot serve a query right now. */
export type StoreUnavailableReason = 'unreachable' | 'disk-full' | 'io-error' | 'busy';

/** The store cannot be read or written right now; answered as a retryable 503. */
export class StoreUnavailableError extends AwsError {
  readonly reason: StoreUnavailableReason;

  constructor(reason: StoreUnavailableReason, cause: unknown) {
    super('ServiceUnavailable', MESSAGES[reason]);
    this.reason = reason;
    this.cause = cause;
  }
}

const MESSAGES: Record<StoreUnavailableReason, string> = {
  unreachable: 'The store is unreachable, so the request was not carried out. Retry later.',
  'disk-full': 'The data directory is full, so the request was not carried out.',
  'io-error': 'The store could not be written, so the request was not carried out.',
  busy: 'The store is busy, so the request was not carried out. Retry later.',
};

/** Network error codes of a connection that could not be made or was cut. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** Messages node-postgres uses, without a code, for a connection lost or never made. */
const NETWORK_MESSAGES = [
  'Connection terminated',
  'connection timeout',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error',
  'Connection ended unexpectedly',
  'is not queryable',
];

/**
 * Why `err` means the store is unavailable, or undefined when it is an ordinary query error.
 *
 * @example
 * storeUnavailableReason(Object.assign(new Error('x'), { code: 'ECONNREFUSED' })); // 'unreachable'
 */
export function storeUnavailableReason(err: unknown): StoreUnavailableReason | undefined {
  if (err instanceof StoreUnavailableError) return err.reason;
  if (!(err instanceof Error)) return undefined;
  const code = 'code' in err ? String((err as { code: unknown }).code) : '';
  if (NETWORK_CODES.has(code)) return 'unreachable';
  // PostgreSQL SQLSTATEs: 08 connection exception, 57P admin shutdown / cannot connect now,
  // 53300 too many connections, 53100 disk full.
  if (code === '53100') return 'disk-full';
  if (/^08/.test(code) || /^57P0[1-4]$/.test(code) || code === '53300') return 'unreachable';
  // SQLite (better-sqlite3 codes).
  if (code === 'SQLITE_FULL') return 'disk-full';
  if (code.startsWith('SQLITE_IOERR') || code.startsWith('SQLITE_CANTOPEN')) return 'io-error';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'busy';
  if (code === '' && NETWORK_MESSAGES.some((m) => err.message.includes(m))) return 'unreachable';
  return undefined;
}

function mapped(err: unknown): unknown {
  const reason = storeUnavailableReason(err);
  return reason === undefined || err instanceof StoreUnavailableError
    ? err
    : new StoreUnavailableError(reason, err);
}

async function guard<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw mapped(err);
  }
}

/**
 * Wraps a dialect so that store outages surface as {@link StoreUnavailableError}.
 *
 * @example
 * new Kysely<Database>({ dialect: withUnavailableErrors(new PostgresDialect({ pool })) });
 */
export function withUnavailableErrors(dialect: Dialect): Dialect {
  return {
    createAdapter: (): DialectAdapter => dialect.createAdapter(),
    createQueryCompiler: (): QueryCompiler => dialect.createQueryCompiler(),
    createIntrospector: (db: Kysely<unknown>): DatabaseIntrospector =>
      dialect.createIntrospector(db),
    createDriver: (): Driver => new GuardedDriver(dialect.createDriver()),
  };
}

/** A connection whose queries map outage errors; it remembers the driver's own connection. */
class GuardedConnection implements DatabaseConnection {
  constructor(readonly inner: DatabaseConnection) {}

  executeQuery<R>(compiledQuery: CompiledQuery): Promise<QueryResult<R>> {
    return guard(() => this.inner.executeQuery<R>(compiledQuery));
  }

  async *streamQuery<R>(
    compiledQuery: CompiledQuery,
    chunkSize?: number,
  ): AsyncIterableIterator<QueryResult<R>> {
    try {
      yield* this.inner.streamQuery<R>(compiledQuery, chunkSize);
    } catch (err) {
      throw mapped(err);
    }
  }
}

function innerOf(connection: DatabaseConnection): DatabaseConnection {
  return connection instanceof GuardedConnection ? connection.inner : connection;
}

class GuardedDriver implements Driver {
  constructor(private readonly inner: Driver) {}

  init(): Promise<void> {
    return guard(() => this.inner.init());
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new GuardedConnection(await guard(() => this.inner.acquireConnection()));
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return guard(() => this.inner.beginTransaction(innerOf(connection), settings));
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return guard(() => this.inner.commitTransaction(innerOf(connection)));
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return guard(() => this.inner.rollbackTransaction(innerOf(connection)));
  }

  releaseConnection(connection: DatabaseConnection): Promise<void> {
    return this.inner.releaseConnection(innerOf(connection));
  }

  destroy(): Promise<void> {
    return this.inner.destroy();
  }
}
