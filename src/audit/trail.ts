import type { Kysely } from 'kysely';
import type { Logger } from 'pino';
import { AwsError } from '../errors/index.js';
import type { Database } from '../store/index.js';
import type { JsonlExporter } from './export.js';
import type { CloudTrailRecord } from './record.js';
import { StoreRowWriter, type AuditRow, type AuditRowWriter } from './row-writer.js';

/** Error codes that mean "denied", so `latchkey audit --denied` can find them. */
const DENIAL_CODES = new Set(['AccessDenied', 'AccessDeniedException', 'IDPRejectedClaim']);

/** Most records written in one transaction. */
const BATCH_LIMIT = 500;

/**
 * How long records of read-only calls may wait to be written. They are not fail-closed (the
 * call changed nothing), so they are batched: one commit (one fsync) per interval instead of
 * one per call. Records of state-changing and credential-issuing calls never wait.
 */
const LAZY_FLUSH_MS = 100;

/**
 * Most records of read-only calls kept for another attempt while the store cannot be written;
 * past it the oldest are dropped (and counted in the log).
 */
const RETAINED_LIMIT = 10_000;

/** How long records kept after a failed write wait before the next attempt. */
const RETRY_MS = 1_000;

interface QueuedWrite {
  row: AuditRow;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** The error a call answers with when its record cannot be written: it is not carried out. */
export function auditUnavailable(): AwsError {
  return new AwsError(
    'ServiceUnavailable',
    'The audit trail cannot be written, so the request was not carried out. Retry later.',
  );
}

/** Where a trail's records go besides the store's query layer. */
export interface AuditTrailOptions {
  /** Also appends every complete record to rotating JSONL files. */
  exporter?: JsonlExporter | undefined;
  /** Commits the records; by default through the store's query layer. */
  writer?: AuditRowWriter | undefined;
}

/**
 * The audit trail: one CloudTrail record per call, in the store. Writes are group-committed —
 * records from concurrent calls share one transaction, and the records of calls made while one
 * commit is under way share the next — and a call that must be durable waits for its record's
 * commit before it answers.
 */
export class AuditTrail {
  readonly #queue: QueuedWrite[] = [];
  #lazy: QueuedWrite[] = [];
  #lazyTimer: NodeJS.Timeout | undefined;
  /** Records of read-only calls whose write failed, waiting for the next attempt. */
  #retained: QueuedWrite[] = [];
  #retryTimer: NodeJS.Timeout | undefined;
  #closing = false;
  #flushing: Promise<void> | undefined;
  readonly #writer: AuditRowWriter;
  readonly #exporter: JsonlExporter | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly logger: Logger,
    options: AuditTrailOptions = {},
  ) {
    this.#writer = options.writer ?? new StoreRowWriter(db);
    this.#exporter = options.exporter;
  }

  /**
   * Writes a record and resolves once it is committed. Used before the response of calls that
   * change state or issue credentials; a rejection means the call must fail.
   */
  write(record: CloudTrailRecord, status: 'pending' | 'complete' = 'complete'): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ row: toRow(record, status), resolve, reject });
      this.#scheduleFlush();
    });
  }

  /**
   * Writes a record of a read-only call within {@link LAZY_FLUSH_MS}, without making the call
   * wait; never throws. While the store cannot be written (an outage, a full disk) the record
   * is kept in memory, up to {@link RETAINED_LIMIT} records, and written once it can be.
   */
  writeLater(record: CloudTrailRecord): void {
    const write: QueuedWrite = {
      row: toRow(record, 'complete'),
      resolve: () => {},
      reject: (err: unknown) => this.#retain(write, err),
    };
    this.#lazy.push(write);
    if (this.#lazy.length >= BATCH_LIMIT) this.#promoteLazy();
    else this.#lazyTimer ??= setTimeout(() => this.#promoteLazy(), LAZY_FLUSH_MS);
  }

  #retain(write: QueuedWrite, err: unknown): void {
    if (this.#closing) {
      this.logger.error({ err, eventId: write.row.event_id }, 'audit records lost at shutdown');
      return;
    }
    if (this.#retained.length === 0) {
      this.logger.warn({ err }, 'audit records cannot be written; keeping them to retry');
    }
    this.#retained.push(write);
    if (this.#retained.length > RETAINED_LIMIT) {
      const dropped = this.#retained.splice(0, this.#retained.length - RETAINED_LIMIT);
      this.logger.error({ dropped: dropped.length }, 'audit records lost: too many kept');
    }
    this.#retryTimer ??= setTimeout(() => {
      this.#requeueRetained();
      this.#scheduleFlush();
    }, RETRY_MS);
  }

  /** Puts the records kept after a failed write back in the queue (no retry is then pending). */
  #requeueRetained(): void {
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    this.#queue.push(...this.#retained);
    this.#retained = [];
  }

  #promoteLazy(): void {
    if (this.#lazyTimer) clearTimeout(this.#lazyTimer);
    this.#lazyTimer = undefined;
    this.#queue.push(...this.#lazy);
    this.#lazy = [];
    this.#scheduleFlush();
  }

  #scheduleFlush(): void {
    // Records queued in the same turn of the event loop share one transaction.
    this.#flushing ??= new Promise((r) => setImmediate(r)).then(() => this.#flush());
  }

  async #flush(): Promise<void> {
    try {
      while (this.#queue.length > 0) {
        // Lazy records ride along with a durable commit that happens anyway.
        if (this.#lazy.length > 0) this.#promoteLazy();
        const batch = this.#queue.splice(0, BATCH_LIMIT);
        // The same event may be written twice in one batch (pending, then complete): keep the last.
        const rows = [...new Map(batch.map((w) => [w.row.event_id, w.row])).values()];
        try {
          await this.#writer.write(rows);
        } catch (err) {
          for (const w of batch) w.reject(err);
          continue;
        }
        for (const w of batch) w.resolve();
        if (this.#exporter) {
          for (const row of rows) if (row.status === 'complete') this.#exporter.append(row.record);
        }
      }
    } finally {
      this.#flushing = undefined;
      if (this.#queue.length > 0) this.#flushing = this.#flush();
    }
  }

  /** Deletes records older than `days` days; returns how many. */
  async prune(days: number, now = Date.now()): Promise<number> {
    const cutoff = new Date(now - days * 86_400_000).toISOString();
    const result = await this.db
      .deleteFrom('audit_events')
      .where('event_time', '<', cutoff)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * Waits until every queued record, lazy ones included, is written (records kept after a
   * failed write are tried once more).
   */
  async drain(): Promise<void> {
    this.#requeueRetained();
    if (this.#lazy.length > 0) this.#promoteLazy();
    else if (this.#queue.length > 0) this.#scheduleFlush();
    while (this.#flushing) await this.#flushing;
  }

  /** Writes what is queued (a last attempt), then releases the writer. */
  async close(): Promise<void> {
    this.#closing = true;
    await this.drain();
    await this.#writer.close();
  }
}

/**
 * A trail that records nothing: calls still build their records, which are then dropped. For
 * benchmarks only (`ServerOptions.audit: false`), to measure what writing the trail costs.
 */
export class DiscardingAuditTrail extends AuditTrail {
  override write(): Promise<void> {
    return Promise.resolve();
  }

  override writeLater(): void {}
}

function toRow(record: CloudTrailRecord, status: 'pending' | 'complete'): AuditRow {
  return {
    event_id: record.eventID,
    event_time: record.eventTime,
    event_source: record.eventSource,
    event_name: record.eventName,
    account_id: record.recipientAccountId,
    principal_arn: record.userIdentity.arn ?? record.userIdentity.principalId ?? null,
    user_name: userNameOf(record),
    access_key_id: record.userIdentity.accessKeyId ?? null,
    read_only: record.readOnly ? 1 : 0,
    error_code: record.errorCode ?? null,
    denied: record.errorCode !== undefined && DENIAL_CODES.has(record.errorCode) ? 1 : 0,
    status,
    data_event: record.managementEvent ? 0 : 1,
    record: JSON.stringify(record),
  };
}

/** CloudTrail's Username of a record: the user name, or the role session's name. */
function userNameOf(record: CloudTrailRecord): string | null {
  const identity = record.userIdentity;
  if (identity.userName !== undefined) return identity.userName;
  if (identity.type === 'AssumedRole' && identity.arn !== undefined) {
    return identity.arn.slice(identity.arn.lastIndexOf('/') + 1);
  }
  return null;
}
