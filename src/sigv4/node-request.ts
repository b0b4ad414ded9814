import type { IncomingMessage } from 'node:http';
import type { SigV4Request } from './types.js';

/**
 * The parts of a Node request SigV4 signs, exactly as they came on the wire.
 *
 * @example
 * const parsed = parseSignatureV4(sigV4RequestOf(req));
 */
export function sigV4RequestOf(req: IncomingMessage): SigV4Request {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return {
    method: req.method ?? 'GET',
    path: q < 0 ? url : url.slice(0, q),
    query: q < 0 ? '' : url.slice(q + 1),
    // Distinct values: a repeated header is signed as its values joined by ',', not ', '.
    headers: req.headersDistinct,
  };
}
