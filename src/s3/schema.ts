/**
 * The S3 store's tables and their migrations. The store merges them into its one ordered list
 * (src/store/migrations.ts), so their names continue its numbering. Only text, integer and bigint columns
 * are used (portable to SQLite and PostgreSQL); sizes are bigint, which PostgreSQL's driver
 * returns as a string — read them with `Number()`.
 */
import { PostgresAdapter, sql, type Kysely, type Migration } from 'kysely';

/** A bucket. Names are global across accounts, as in AWS. */
export interface S3BucketTable {
  name: string;
  /** The account that created it. */
  owner_account: string;
  region: string;
  created_at: string;
  /** The bucket policy as the owner sent it (JSON text), or null. */
  policy: string | null;
}

/** The current version of an object. Its bytes are the blob file `blob` (see object-store.ts). */
export interface S3ObjectTable {
  bucket: string;
  /** Compared byte-wise (UTF-8) on both engines, which is S3's listing order. */
  object_key: string;
  blob: string;
  size: number | string;
  /** MD5 hex, or `md5-of-md5s-N` for multipart objects; without quotes. */
  etag: string;
  content_type: string;
  /** Stored representation headers (Content-Encoding, Cache-Control, …) as a JSON object. */
  headers: string;
  /** `x-amz-meta-*` (names without the prefix, lower-cased) as a JSON object. */
  user_metadata: string;
  checksum_algorithm: string | null;
  /** Base64 checksum; composite checksums carry their `-N` suffix. */
  checksum_value: string | null;
  checksum_type: string | null;
  /** JSON array of part sizes for multipart objects, else null. */
  part_sizes: string | null;
  owner_account: string;
  last_modified: string;
}

/** A multipart upload in progress. */
export interface S3UploadTable {
  upload_id: string;
  bucket: string;
  object_key: string;
  owner_account: string;
  initiator_arn: string;
  content_type: string;
  headers: string;
  user_metadata: string;
  checksum_algorithm: string | null;
  /** `FULL_OBJECT` or `COMPOSITE`, as asked at creation (null: the algorithm's default). */
  checksum_type: string | null;
  created_at: string;
}

/** One uploaded part of a multipart upload. */
export interface S3PartTable {
  upload_id: string;
  part_number: number;
  blob: string;
  size: number | string;
  etag: string;
  checksum_value: string | null;
  last_modified: string;
}

/** The S3 tables, to merge into the store's `Database` type. */
export interface S3Tables {
  s3_buckets: S3BucketTable;
  s3_objects: S3ObjectTable;
  s3_uploads: S3UploadTable;
  s3_parts: S3PartTable;
}

/** True when `db` talks to PostgreSQL (the only engine whose text ordering needs a collation). */
export function isPostgres(db: Kysely<unknown>): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/** S3's migrations, to merge into the store's list (they sort after the core ones). */
export const s3Migrations: Record<string, Migration> = {
  '0009_s3_store': {
    async up(db: Kysely<unknown>) {
      // Object keys list in UTF-8 byte order: SQLite's default (BINARY) already compares so;
      // PostgreSQL needs the "C" collation or it sorts by the database's locale.
      const keyType = isPostgres(db) ? sql`text collate "C"` : sql`text`;
      await db.schema
        .createTable('s3_buckets')
        .addColumn('name', 'text', (c) => c.primaryKey())
        .addColumn('owner_account', 'text', (c) => c.notNull())
        .addColumn('region', 'text', (c) => c.notNull())
        .addColumn('created_at', 'text', (c) => c.notNull())
        .addColumn('policy', 'text')
        .execute();
      await db.schema
        .createIndex('s3_buckets_by_owner')
        .on('s3_buckets')
        .columns(['owner_account', 'name'])
        .execute();
      await db.schema
        .createTable('s3_objects')
        .addColumn('bucket', 'text', (c) => c.notNull().references('s3_buckets.name'))
        .addColumn('object_key', keyType, (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('user_metadata', 'text', (c) => c.notNull())
        .addColumn('checksum_algorithm', 'text')
        .addColumn('checksum_value', 'text')
        .addColumn('checksum_type', 'text')
        .addColumn('part_sizes', 'text')
        .addColumn('owner_account', 'text', (c) => c.notNull())
        .addColumn('last_modified', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_objects_pk', ['bucket', 'object_key'])
        .execute();
      await db.schema
        .createTable('s3_uploads')
        .addColumn('upload_id', 'text', (c) => c.primaryKey())
        .addColumn('bucket', 'text', (c) => c.notNull().references('s3_buckets.name'))
        .addColumn('object_key', keyType, (c) => c.notNull())
        .addColumn('owner_account', 'text', (c) => c.notNull())
        .addColumn('initiator_arn', 'text', (c) => c.notNull())
        .addColumn('content_type', 'text', (c) => c.notNull())
        .addColumn('headers', 'text', (c) => c.notNull())
        .addColumn('user_metadata', 'text', (c) => c.notNull())
        .addColumn('checksum_algorithm', 'text')
        .addColumn('checksum_type', 'text')
        .addColumn('created_at', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('s3_uploads_by_key')
        .on('s3_uploads')
        .columns(['bucket', 'object_key', 'upload_id'])
        .execute();
      await db.schema
        .createTable('s3_parts')
        .addColumn('upload_id', 'text', (c) => c.notNull().references('s3_uploads.upload_id'))
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('blob', 'text', (c) => c.notNull())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('checksum_value', 'text')
        .addColumn('last_modified', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('s3_parts_pk', ['upload_id', 'part_number'])
        .execute();
    },
  },
};
