import { sql, type Kysely } from 'kysely';
import type { Database } from '../store/index.js';

/** A record as written to `audit_events` (every column given). */
export type AuditRow = Omit<Database['audit_events'], 'data_event'> & { data_event: number };

/** Commits batches of audit rows; a batch is one transaction. */
export interface AuditRowWriter {
  /** Resolves once every row of the batch is committed; rejects if none was. */
  write(rows: AuditRow[]): Promise<void>;
  /** Releases what the writer holds; later writes reject. */
  close(): Promise<void>;
}

/** The columns of `audit_events`, in the order every insert gives them. */
const AUDIT_COLUMNS = [
  'event_id',
  'event_time',
  'event_source',
  'event_name',
  'account_id',
  'principal_arn',
  'user_name',
  'access_key_id',
  'read_only',
  'error_code',
  'denied',
  'status',
  'data_event',
  'record',
] as const satisfies readonly (keyof AuditRow)[];

/** A record seen again (pending, then complete) replaces what the first write said. */
const ON_CONFLICT = `ON CONFLICT (event_id) DO UPDATE SET status = excluded.status,
  error_code = excluded.error_code, denied = excluded.denied, record = excluded.record`;

/**
 * Writes through the store's query layer: a multi-row upsert in SQL both engines accept, built
 * directly rather than through the query builder, whose cost showed in profiles (bench/). The
 * writer of PostgreSQL stores, whose driver never blocks the event loop.
 */
export class StoreRowWriter implements AuditRowWriter {
  constructor(private readonly db: Kysely<Database>) {}

  async write(rows: AuditRow[]): Promise<void> {
    const values = sql.join(
      rows.map((row) => sql`(${sql.join(AUDIT_COLUMNS.map((c) => row[c]))})`),
    );
    await sql`INSERT INTO audit_events (${sql.raw(AUDIT_COLUMNS.join(', '))}) VALUES ${values}
      ${sql.raw(ON_CONFLICT)}`.execute(this.db);
  }

  async close(): Promise<void> {}
}

/** The same upsert for one row, with `?` placeholders (SQLite). */
export const UPSERT_ONE = `INSERT INTO audit_events (${AUDIT_COLUMNS.join(', ')}) VALUES (${AUDIT_COLUMNS.map(
  () => '?',
).join(', ')}) ${ON_CONFLICT}`;

/** A row's values in {@link AUDIT_COLUMNS} order, for {@link UPSERT_ONE}. */
export function upsertParameters(row: AuditRow): (string | number | null)[] {
  return AUDIT_COLUMNS.map((column) => row[column]);
}
