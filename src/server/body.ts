import type { IncomingMessage } from 'node:http';
import { AwsError } from '../errors/index.js';

/**
 * Reads a whole request body, refusing more than `limit` bytes: a declared Content-Length
 * over the limit is refused before reading, and a stream that runs past it is cut off.
 */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume(); // drain and discard the rest so the connection can answer
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size);
}

function tooLarge(limit: number): AwsError {
  return new AwsError('RequestEntityTooLarge', `Request body is larger than ${limit} bytes.`);
}
