/** Making a written blob an object's current version, and removing what it replaced. */
import { storeUnavailableReason } from '../../store/index.js';
import type { S3Call } from '../call.js';
import type { ObjectRecord, WriteCondition } from '../metadata.js';

/** How often, and how long, a blob whose commit outcome is unknown is checked again. */
const SETTLE_EVERY_MS = 1_000;
const SETTLE_FOR_MS = 10 * 60_000;

/**
 * Points the object's row at `record.blob` (in one store transaction), then removes the blob it
 * replaced. If the row was not written the new blob is removed, so nothing is left behind. When
 * the store went away mid-way the transaction may still have committed (its COMMIT reached
 * PostgreSQL, the answer did not): the blob is then kept until the store answers again and shows
 * whether the row names it.
 */
export async function commitObject(
  call: S3Call,
  record: ObjectRecord,
  condition?: WriteCondition,
): Promise<void> {
  const { meta, objects } = call.env;
  let replaced: string | undefined;
  try {
    replaced = await meta.putObject(record, condition);
  } catch (err) {
    if (storeUnavailableReason(err) === undefined) {
      await objects.remove(record.blob).catch(() => {});
    } else {
      settleLater(call, record);
    }
    throw err;
  }
  if (replaced !== undefined) await removeQuietly(call, [replaced]);
}

/** Removes `record.blob` once the store shows its row was not committed (or was replaced). */
function settleLater(call: S3Call, record: ObjectRecord): void {
  const started = Date.now();
  const attempt = () => {
    call.env.meta.object(record.bucket, record.key).then(
      async (current) => {
        if (current?.blob !== record.blob) await removeQuietly(call, [record.blob]);
      },
      () => {
        if (Date.now() - started < SETTLE_FOR_MS) setTimeout(attempt, SETTLE_EVERY_MS).unref();
        else call.env.logger.warn({ blob: record.blob }, 'blob of an unsettled write kept');
      },
    );
  };
  setTimeout(attempt, SETTLE_EVERY_MS).unref();
}

/**
 * Removes blobs nothing refers to any more. A failure here loses nothing (the blob is only
 * garbage), so it is logged, not answered.
 */
export async function removeQuietly(call: S3Call, blobs: readonly string[]): Promise<void> {
  await Promise.all(
    blobs.map((blob) =>
      call.env.objects.remove(blob).catch((err: unknown) => {
        call.env.logger.warn({ err, blob }, 'could not remove an unreferenced blob');
      }),
    ),
  );
}
