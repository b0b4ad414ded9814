/** Making a written blob an object's current version, and removing what it replaced. */
import type { S3Call } from '../call.js';
import type { ObjectRecord, WriteCondition } from '../metadata.js';

/**
 * Points the object's row at `record.blob` (in one store transaction), then removes the blob it
 * replaced. If the row cannot be written the new blob is removed, so nothing is left behind.
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
    await objects.remove(record.blob).catch(() => {});
    throw err;
  }
  if (replaced !== undefined) await removeQuietly(call, [replaced]);
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
