/**
 * S3's metadata in the store: buckets (owner, policy), the current version of each object
 * (size, ETag, type, user metadata, checksum, which blob holds its bytes) and multipart uploads
 * with their parts. Every change that swaps a blob returns the blob it replaced, to be removed
 * once the change is committed.
 */
import type { Kysely, Transaction } from 'kysely';
import type { ChecksumAlgorithm } from './checksums.js';
import { S3Error } from './errors.js';
import { isPostgres, type S3ObjectTable, type S3Tables, type S3UploadTable } from './schema.js';

/**
 * Buckets are re-read at least this often. Changes made through this instance apply at once;
 * other replicas' changes apply when their message arrives (see {@link S3MetadataOptions}), and
 * within this bound whether or not it does.
 */
const BUCKET_TTL_MS = 1_000;
const MAX_CACHED_BUCKETS = 10_000;

/** A bucket. */
export interface BucketRecord {
  name: string;
  ownerAccount: string;
  region: string;
  createdAt: string;
  policy: string | null;
}

/** An object's full-object or composite checksum. */
export interface StoredChecksum {
  algorithm: ChecksumAlgorithm;
  value: string;
  type: 'FULL_OBJECT' | 'COMPOSITE';
}

/** The current version of an object. */
export interface ObjectRecord {
  bucket: string;
  key: string;
  blob: string;
  size: number;
  /** Without quotes. */
  etag: string;
  contentType: string;
  /** Representation headers kept with the object (lower-case names). */
  headers: Record<string, string>;
  /** User metadata, names lower-cased without `x-amz-meta-`. */
  metadata: Record<string, string>;
  checksum?: StoredChecksum;
  /** Part sizes, for multipart objects. */
  partSizes?: number[];
  ownerAccount: string;
  /** ISO-8601 with milliseconds. */
  lastModified: string;
}

/** A row of a listing. */
export interface ObjectSummary {
  key: string;
  size: number;
  etag: string;
  lastModified: string;
  ownerAccount: string;
  checksumAlgorithm: string | null;
  checksumType: string | null;
}

/** A multipart upload in progress. */
export interface UploadRecord {
  uploadId: string;
  bucket: string;
  key: string;
  ownerAccount: string;
  initiatorArn: string;
  contentType: string;
  headers: Record<string, string>;
  metadata: Record<string, string>;
  checksumAlgorithm: ChecksumAlgorithm | null;
  checksumType: 'FULL_OBJECT' | 'COMPOSITE' | null;
  createdAt: string;
}

/** A conditional write (`If-None-Match: *`, `If-Match: "etag"`). */
export interface WriteCondition {
  ifNoneMatch?: boolean;
  /** The ETag the current version must have (unquoted). */
  ifMatch?: string;
}

/** An uploaded part. */
export interface PartRecord {
  partNumber: number;
  blob: string;
  size: number;
  etag: string;
  checksumValue: string | null;
  lastModified: string;
}

/** Which keys a listing query covers. */
export interface KeyRange {
  /** Keys strictly after this one. */
  after?: string;
  /** Keys from this one on (inclusive). */
  from?: string;
  /** Keys strictly before this one. */
  before?: string;
  limit: number;
}

/** How the bucket cache is kept fresh across replicas. */
export interface S3MetadataOptions {
  /**
   * Called after a bucket was created, deleted or had its policy changed through this instance
   * (once the change is committed), so other replicas can drop their cached copy.
   */
  onBucketChanged?: (name: string) => void;
  /** How long a bucket read stays cached (default {@link BUCKET_TTL_MS}). */
  bucketTtlMs?: number;
}

/** The S3 tables behind typed operations. */
export class S3Metadata {
  readonly #db: Kysely<S3Tables>;
  readonly #pg: boolean;
  readonly #buckets = new Map<string, { record: BucketRecord; at: number }>();
  readonly #ttlMs: number;
  readonly #onBucketChanged: (name: string) => void;
  /**
   * Bumped by every invalidation: a read that was in flight meanwhile may carry the old row, so
   * it is answered but not cached.
   */
  #generation = 0;

  constructor(db: Kysely<S3Tables>, options: S3MetadataOptions = {}) {
    this.#db = db;
    this.#pg = isPostgres(db as Kysely<unknown>);
    this.#ttlMs = options.bucketTtlMs ?? BUCKET_TTL_MS;
    this.#onBucketChanged = options.onBucketChanged ?? (() => {});
  }

  // ---- buckets ----

  /**
   * Drops a bucket's cached record, or every one without a name: another replica changed it
   * (or messages from other replicas may have been missed).
   *
   * @example
   * sync.on('buckets', (name) => meta.forgetBucket(name));
   */
  forgetBucket(name?: string): void {
    this.#generation++;
    if (name === undefined) this.#buckets.clear();
    else this.#buckets.delete(name);
  }

  /** After a committed change to bucket `name`: drops it here and tells the other replicas. */
  #changed(name: string): void {
    this.forgetBucket(name);
    this.#onBucketChanged(name);
  }

  /** A bucket, or undefined when it does not exist. */
  async bucket(name: string): Promise<BucketRecord | undefined> {
    const now = Date.now();
    const cached = this.#buckets.get(name);
    if (cached && now - cached.at < this.#ttlMs) return cached.record;
    const generation = this.#generation;
    const row = await this.#db
      .selectFrom('s3_buckets')
      .selectAll()
      .where('name', '=', name)
      .executeTakeFirst();
    if (row === undefined) {
      this.#buckets.delete(name);
      return undefined;
    }
    const record: BucketRecord = {
      name: row.name,
      ownerAccount: row.owner_account,
      region: row.region,
      createdAt: row.created_at,
      policy: row.policy,
    };
    if (generation === this.#generation) {
      if (this.#buckets.size >= MAX_CACHED_BUCKETS) this.#buckets.clear();
      this.#buckets.set(name, { record, at: now });
    }
    return record;
  }

  /** Creates a bucket; when the name is taken, returns the owner of the existing one. */
  async createBucket(
    record: Omit<BucketRecord, 'policy'>,
  ): Promise<{ created: true } | { created: false; ownerAccount: string }> {
    const result = await this.#db
      .insertInto('s3_buckets')
      .values({
        name: record.name,
        owner_account: record.ownerAccount,
        region: record.region,
        created_at: record.createdAt,
        policy: null,
      })
      .onConflict((oc) => oc.column('name').doNothing())
      .executeTakeFirst();
    if (Number(result.numInsertedOrUpdatedRows ?? 0) > 0) {
      // Another replica may still hold a bucket of this name deleted meanwhile.
      this.#changed(record.name);
      return { created: true };
    }
    this.forgetBucket(record.name);
    const existing = await this.bucket(record.name);
    return { created: false, ownerAccount: existing?.ownerAccount ?? '' };
  }

  /**
   * Deletes an empty bucket (and its abandoned multipart uploads, whose part blobs are
   * returned for removal). `not-empty` when it holds objects; the foreign key makes this safe
   * against a concurrent PutObject.
   */
  async deleteBucket(
    name: string,
  ): Promise<{ result: 'deleted'; partBlobs: string[] } | { result: 'not-empty' | 'missing' }> {
    // Unchanged unless deleted — or unknown, when the store failed mid-way.
    let unchanged = false;
    try {
      const outcome = await this.#db.transaction().execute(async (trx) => {
        const one = await trx
          .selectFrom('s3_objects')
          .select('object_key')
          .where('bucket', '=', name)
          .limit(1)
          .executeTakeFirst();
        if (one !== undefined) return { result: 'not-empty' as const };
        const uploads = trx.selectFrom('s3_uploads').select('upload_id').where('bucket', '=', name);
        const parts = await trx
          .deleteFrom('s3_parts')
          .where('upload_id', 'in', uploads)
          .returning('blob')
          .execute();
        await trx.deleteFrom('s3_uploads').where('bucket', '=', name).execute();
        const deleted = await trx
          .deleteFrom('s3_buckets')
          .where('name', '=', name)
          .executeTakeFirst();
        if (Number(deleted.numDeletedRows) === 0) return { result: 'missing' as const };
        return { result: 'deleted' as const, partBlobs: parts.map((p) => p.blob) };
      });
      unchanged = outcome.result !== 'deleted';
      return outcome;
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        unchanged = true;
        return { result: 'not-empty' };
      }
      throw err;
    } finally {
      if (unchanged) this.forgetBucket(name);
      else this.#changed(name);
    }
  }

  /** Sets (or, with null, removes) a bucket's policy. */
  async setBucketPolicy(name: string, policy: string | null): Promise<void> {
    try {
      await this.#db.updateTable('s3_buckets').set({ policy }).where('name', '=', name).execute();
    } finally {
      // Also after a failure: the store may have gone away after committing.
      this.#changed(name);
    }
  }

  /** The buckets an account owns, by name. */
  async listBuckets(
    ownerAccount: string,
    options: { prefix?: string; after?: string; limit: number },
  ): Promise<BucketRecord[]> {
    let q = this.#db
      .selectFrom('s3_buckets')
      .selectAll()
      .where('owner_account', '=', ownerAccount)
      .orderBy('name')
      .limit(options.limit);
    if (options.after !== undefined) q = q.where('name', '>', options.after);
    if (options.prefix) q = q.where('name', '>=', options.prefix);
    const rows = await q.execute();
    return rows
      .filter((r) => !options.prefix || r.name.startsWith(options.prefix))
      .map((r) => ({
        name: r.name,
        ownerAccount: r.owner_account,
        region: r.region,
        createdAt: r.created_at,
        policy: r.policy,
      }));
  }

  // ---- objects ----

  /** The current version of an object, or undefined. */
  async object(bucket: string, key: string): Promise<ObjectRecord | undefined> {
    const row = await this.#db
      .selectFrom('s3_objects')
      .selectAll()
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .executeTakeFirst();
    return row === undefined ? undefined : toObjectRecord(row);
  }

  /**
   * Makes `record` the current version of its key. Returns the blob of the version it replaced.
   * `NoSuchBucket` when the bucket was deleted meanwhile.
   */
  async putObject(record: ObjectRecord, condition?: WriteCondition): Promise<string | undefined> {
    try {
      return await this.#db
        .transaction()
        .execute((trx) => this.#upsertObject(trx, record, condition));
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new S3Error('NoSuchBucket', undefined, { BucketName: record.bucket });
      }
      throw err;
    }
  }

  /**
   * Insert or replace, returning the replaced blob exactly once even under concurrent writers:
   * on PostgreSQL an existing row is locked first, and a racing insert is retried as an update.
   */
  async #upsertObject(
    trx: Transaction<S3Tables>,
    record: ObjectRecord,
    condition?: WriteCondition,
  ): Promise<string | undefined> {
    const values = objectRow(record);
    for (;;) {
      let select = trx
        .selectFrom('s3_objects')
        .select(['blob', 'etag'])
        .where('bucket', '=', record.bucket)
        .where('object_key', '=', record.key);
      if (this.#pg) select = select.forUpdate();
      const existing = await select.executeTakeFirst();
      checkWriteCondition(condition, existing?.etag, record.key);
      if (existing !== undefined) {
        await trx
          .updateTable('s3_objects')
          .set(values)
          .where('bucket', '=', record.bucket)
          .where('object_key', '=', record.key)
          .execute();
        return existing.blob;
      }
      const inserted = await trx
        .insertInto('s3_objects')
        .values(values)
        .onConflict((oc) => oc.columns(['bucket', 'object_key']).doNothing())
        .executeTakeFirst();
      if (Number(inserted.numInsertedOrUpdatedRows ?? 0) > 0) return undefined;
    }
  }

  /** Deletes an object's current version; returns its blob, or undefined when there was none. */
  async deleteObject(bucket: string, key: string): Promise<string | undefined> {
    const row = await this.#db
      .deleteFrom('s3_objects')
      .where('bucket', '=', bucket)
      .where('object_key', '=', key)
      .returning('blob')
      .executeTakeFirst();
    return row?.blob;
  }

  /** Objects of a bucket in key order (UTF-8 bytes) within `range`. */
  async listObjects(bucket: string, range: KeyRange): Promise<ObjectSummary[]> {
    let q = this.#db
      .selectFrom('s3_objects')
      .select([
        'object_key',
        'size',
        'etag',
        'last_modified',
        'owner_account',
        'checksum_algorithm',
        'checksum_type',
      ])
      .where('bucket', '=', bucket)
      .orderBy('object_key')
      .limit(range.limit);
    if (range.after !== undefined) q = q.where('object_key', '>', range.after);
    if (range.from !== undefined) q = q.where('object_key', '>=', range.from);
    if (range.before !== undefined) q = q.where('object_key', '<', range.before);
    const rows = await q.execute();
    return rows.map((r) => ({
      key: r.object_key,
      size: Number(r.size),
      etag: r.etag,
      lastModified: r.last_modified,
      ownerAccount: r.owner_account,
      checksumAlgorithm: r.checksum_algorithm,
      checksumType: r.checksum_type,
    }));
  }

  // ---- multipart uploads ----

  /** Records a new multipart upload. `NoSuchBucket` when the bucket is gone. */
  async createUpload(upload: UploadRecord): Promise<void> {
    try {
      await this.#db
        .insertInto('s3_uploads')
        .values({
          upload_id: upload.uploadId,
          bucket: upload.bucket,
          object_key: upload.key,
          owner_account: upload.ownerAccount,
          initiator_arn: upload.initiatorArn,
          content_type: upload.contentType,
          headers: JSON.stringify(upload.headers),
          user_metadata: JSON.stringify(upload.metadata),
          checksum_algorithm: upload.checksumAlgorithm,
          checksum_type: upload.checksumType,
          created_at: upload.createdAt,
        })
        .execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new S3Error('NoSuchBucket', undefined, { BucketName: upload.bucket });
      }
      throw err;
    }
  }

  /** An upload in progress, or undefined. */
  async upload(uploadId: string): Promise<UploadRecord | undefined> {
    const row = await this.#db
      .selectFrom('s3_uploads')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .executeTakeFirst();
    return row === undefined ? undefined : toUploadRecord(row);
  }

  /** Uploads in progress in a bucket, by key then upload id. */
  async listUploads(
    bucket: string,
    options: { prefix: string; keyMarker?: string; uploadIdMarker?: string; limit: number },
  ): Promise<UploadRecord[]> {
    let q = this.#db
      .selectFrom('s3_uploads')
      .selectAll()
      .where('bucket', '=', bucket)
      .orderBy('object_key')
      .orderBy('upload_id')
      .limit(options.limit);
    if (options.prefix !== '') q = q.where('object_key', '>=', options.prefix);
    const marker = options.keyMarker;
    if (marker !== undefined && marker !== '') {
      const idMarker = options.uploadIdMarker;
      q =
        idMarker !== undefined && idMarker !== ''
          ? q.where((eb) =>
              eb.or([
                eb('object_key', '>', marker),
                eb.and([eb('object_key', '=', marker), eb('upload_id', '>', idMarker)]),
              ]),
            )
          : q.where('object_key', '>', marker);
    }
    const rows = await q.execute();
    return rows.map(toUploadRecord);
  }

  /**
   * Locks an upload's row for the transaction (PostgreSQL; SQLite's writer lock serialises
   * anyway); `NoSuchUpload` when it was completed or aborted meanwhile.
   */
  async #lockUpload(trx: Transaction<S3Tables>, uploadId: string): Promise<void> {
    let lock = trx.selectFrom('s3_uploads').select('upload_id').where('upload_id', '=', uploadId);
    if (this.#pg) lock = lock.forUpdate();
    if ((await lock.executeTakeFirst()) === undefined) throw noSuchUpload(uploadId);
  }

  /**
   * Records an uploaded part (replacing one with the same number); returns the replaced part's
   * blob. `NoSuchUpload` when the upload was completed or aborted meanwhile.
   */
  async putPart(uploadId: string, part: PartRecord): Promise<string | undefined> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        await this.#lockUpload(trx, uploadId);
        const existing = await trx
          .selectFrom('s3_parts')
          .select('blob')
          .where('upload_id', '=', uploadId)
          .where('part_number', '=', part.partNumber)
          .executeTakeFirst();
        const values = {
          blob: part.blob,
          size: part.size,
          etag: part.etag,
          checksum_value: part.checksumValue,
          last_modified: part.lastModified,
        };
        if (existing === undefined) {
          await trx
            .insertInto('s3_parts')
            .values({ upload_id: uploadId, part_number: part.partNumber, ...values })
            .execute();
        } else {
          await trx
            .updateTable('s3_parts')
            .set(values)
            .where('upload_id', '=', uploadId)
            .where('part_number', '=', part.partNumber)
            .execute();
        }
        return existing?.blob;
      });
    } catch (err) {
      if (isForeignKeyViolation(err)) throw noSuchUpload(uploadId);
      throw err;
    }
  }

  /** Parts of an upload by number, after `afterPart`. */
  async listParts(uploadId: string, afterPart: number, limit: number): Promise<PartRecord[]> {
    const rows = await this.#db
      .selectFrom('s3_parts')
      .selectAll()
      .where('upload_id', '=', uploadId)
      .where('part_number', '>', afterPart)
      .orderBy('part_number')
      .limit(limit)
      .execute();
    return rows.map(toPartRecord);
  }

  /**
   * Completes an upload: the object row points at the assembled blob, the upload and its parts
   * are gone — in one transaction, and only if the upload still exists and its listed parts are
   * still the ones assembled (`used`: part number → blob). Returns the replaced object blob and
   * every part blob, for removal.
   */
  async completeUpload(
    uploadId: string,
    record: ObjectRecord,
    used: ReadonlyMap<number, string>,
    condition?: WriteCondition,
  ): Promise<{ replaced: string | undefined; partBlobs: string[] }> {
    try {
      return await this.#db.transaction().execute(async (trx) => {
        await this.#lockUpload(trx, uploadId);
        const parts = await trx
          .selectFrom('s3_parts')
          .select(['part_number', 'blob'])
          .where('upload_id', '=', uploadId)
          .execute();
        const current = new Map(parts.map((p) => [p.part_number, p.blob]));
        for (const [n, blob] of used) {
          if (current.get(n) !== blob) throw new S3Error('InvalidPart');
        }
        const replaced = await this.#upsertObject(trx, record, condition);
        await trx.deleteFrom('s3_parts').where('upload_id', '=', uploadId).execute();
        await trx.deleteFrom('s3_uploads').where('upload_id', '=', uploadId).execute();
        return { replaced, partBlobs: parts.map((p) => p.blob) };
      });
    } catch (err) {
      if (isForeignKeyViolation(err)) {
        throw new S3Error('NoSuchBucket', undefined, { BucketName: record.bucket });
      }
      throw err;
    }
  }

  /** Aborts an upload; returns its part blobs, or undefined when there was no such upload. */
  async abortUpload(uploadId: string): Promise<string[] | undefined> {
    return this.#db.transaction().execute(async (trx) => {
      const parts = await trx
        .deleteFrom('s3_parts')
        .where('upload_id', '=', uploadId)
        .returning('blob')
        .execute();
      const deleted = await trx
        .deleteFrom('s3_uploads')
        .where('upload_id', '=', uploadId)
        .executeTakeFirst();
      if (Number(deleted.numDeletedRows) === 0) return undefined;
      return parts.map((p) => p.blob);
    });
  }
}

/** Throws unless the current version (its ETag, or undefined when absent) meets `condition`. */
export function checkWriteCondition(
  condition: WriteCondition | undefined,
  currentEtag: string | undefined,
  key: string,
): void {
  if (condition === undefined) return;
  if (condition.ifNoneMatch && currentEtag !== undefined) {
    throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-None-Match' });
  }
  if (condition.ifMatch !== undefined) {
    if (currentEtag === undefined) throw new S3Error('NoSuchKey', undefined, { Key: key });
    if (currentEtag !== condition.ifMatch) {
      throw new S3Error('PreconditionFailed', undefined, { Condition: 'If-Match' });
    }
  }
}

function toUploadRecord(row: S3UploadTable): UploadRecord {
  return {
    uploadId: row.upload_id,
    bucket: row.bucket,
    key: row.object_key,
    ownerAccount: row.owner_account,
    initiatorArn: row.initiator_arn,
    contentType: row.content_type,
    headers: parseJsonObject(row.headers),
    metadata: parseJsonObject(row.user_metadata),
    checksumAlgorithm: row.checksum_algorithm as ChecksumAlgorithm | null,
    checksumType:
      row.checksum_type === 'FULL_OBJECT' || row.checksum_type === 'COMPOSITE'
        ? row.checksum_type
        : null,
    createdAt: row.created_at,
  };
}

function noSuchUpload(uploadId: string): S3Error {
  return new S3Error('NoSuchUpload', undefined, { UploadId: uploadId });
}

function objectRow(r: ObjectRecord): S3ObjectTable {
  return {
    bucket: r.bucket,
    object_key: r.key,
    blob: r.blob,
    size: r.size,
    etag: r.etag,
    content_type: r.contentType,
    headers: JSON.stringify(r.headers),
    user_metadata: JSON.stringify(r.metadata),
    checksum_algorithm: r.checksum?.algorithm ?? null,
    checksum_value: r.checksum?.value ?? null,
    checksum_type: r.checksum?.type ?? null,
    part_sizes: r.partSizes === undefined ? null : JSON.stringify(r.partSizes),
    owner_account: r.ownerAccount,
    last_modified: r.lastModified,
  };
}

function toObjectRecord(row: S3ObjectTable): ObjectRecord {
  const record: ObjectRecord = {
    bucket: row.bucket,
    key: row.object_key,
    blob: row.blob,
    size: Number(row.size),
    etag: row.etag,
    contentType: row.content_type,
    headers: parseJsonObject(row.headers),
    metadata: parseJsonObject(row.user_metadata),
    ownerAccount: row.owner_account,
    lastModified: row.last_modified,
  };
  if (row.checksum_algorithm !== null && row.checksum_value !== null) {
    record.checksum = {
      algorithm: row.checksum_algorithm as ChecksumAlgorithm,
      value: row.checksum_value,
      type: row.checksum_type === 'COMPOSITE' ? 'COMPOSITE' : 'FULL_OBJECT',
    };
  }
  if (row.part_sizes !== null) record.partSizes = JSON.parse(row.part_sizes) as number[];
  return record;
}

function toPartRecord(row: {
  part_number: number;
  blob: string;
  size: number | string;
  etag: string;
  checksum_value: string | null;
  last_modified: string;
}): PartRecord {
  return {
    partNumber: Number(row.part_number),
    blob: row.blob,
    size: Number(row.size),
    etag: row.etag,
    checksumValue: row.checksum_value,
    lastModified: row.last_modified,
  };
}

function parseJsonObject(text: string): Record<string, string> {
  const value: unknown = JSON.parse(text);
  return typeof value === 'object' && value !== null ? (value as Record<string, string>) : {};
}

/** A foreign-key violation on either engine (the bucket or upload a row refers to is gone). */
function isForeignKeyViolation(err: unknown): boolean {
  if (typeof err !== 'object' || err === null || !('code' in err)) return false;
  const code = String((err as { code: unknown }).code);
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** Every part of an upload, in order (for completion). */
export async function allParts(meta: S3Metadata, uploadId: string): Promise<PartRecord[]> {
  const out: PartRecord[] = [];
  let after = 0;
  for (;;) {
    const page = await meta.listParts(uploadId, after, 1000);
    out.push(...page);
    if (page.length < 1000) return out;
    after = page[page.length - 1]!.partNumber;
  }
}
