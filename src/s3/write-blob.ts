/**
 * Receiving a request body into a new blob: stream it to a temporary file, verify it, and only
 * then make it a blob. On any failure the temporary file is removed and nothing else changed.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { finished } from 'node:stream/promises';
import { receiveBody, type ReceivedBody, type ReceiveOptions } from './body.js';
import type { S3Call } from './call.js';

/** A body received into a committed blob. */
export interface ReceivedBlob {
  blob: string;
  body: ReceivedBody;
}

/**
 * Streams the call's body into a new blob (see {@link receiveBody} for what is verified).
 *
 * @example
 * const { blob, body } = await receiveToBlob(call, { maxSize: MAX_PUT_SIZE, contentMd5 });
 */
export async function receiveToBlob(
  call: S3Call,
  options: Omit<ReceiveOptions, 'mode'>,
): Promise<ReceivedBlob> {
  const objects = call.env.objects;
  const temp = await objects.createTemp();
  let body: ReceivedBody;
  try {
    body = await receiveBody(call.req, temp.stream, { ...options, mode: call.payload });
  } catch (err) {
    await objects.discard(temp);
    throw err;
  }
  const blob = await objects.commit(temp);
  return { blob, body };
}

/**
 * Copies blobs, concatenated, into a new blob, computing the MD5 of the result (and feeding
 * each byte to `observe`, e.g. a checksum). Rejects with ENOENT when a source blob vanished.
 *
 * @example
 * const { blob, md5 } = await copyToBlob(call, [source.blob]);
 */
export async function copyToBlob(
  call: S3Call,
  sources: readonly string[],
  observe?: (chunk: Buffer) => void,
): Promise<{ blob: string; md5: Buffer; size: number }> {
  const objects = call.env.objects;
  const temp = await objects.createTemp();
  const md5 = createHash('md5');
  let size = 0;
  try {
    for (const source of sources) {
      const handle = await objects.openBlob(source);
      const stream = objects.readStream(handle);
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        md5.update(chunk);
        observe?.(chunk);
        size += chunk.length;
        if (!temp.stream.write(chunk)) await once(temp.stream, 'drain');
      }
    }
    temp.stream.end();
    await finished(temp.stream);
  } catch (err) {
    await objects.discard(temp);
    throw err;
  }
  const blob = await objects.commit(temp);
  return { blob, md5: md5.digest(), size };
}
