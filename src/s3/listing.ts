/**
 * Listing a bucket's keys as S3 does: in UTF-8 byte order, under a prefix, rolled up into
 * common prefixes at a delimiter, one page after a marker. Keys are read from the store in
 * batches; a rolled-up prefix is skipped with one range jump, not key by key.
 */
import type { ObjectSummary, S3Metadata } from './metadata.js';

/** What to list. */
export interface ListRequest {
  bucket: string;
  prefix: string;
  /** '' for none. */
  delimiter: string;
  /** List after this key (exclusive): a marker, start-after or continuation token. */
  after?: string;
  maxKeys: number;
}

/** One page. */
export interface ListPage {
  contents: ObjectSummary[];
  commonPrefixes: string[];
  truncated: boolean;
  /** The last key or common prefix of the page (the next page starts after it). */
  last?: string;
}

const BATCH = 1000;

/**
 * Compares two strings by their UTF-8 bytes (S3's order), which JavaScript's `<` (UTF-16 code
 * units) gets wrong for characters beyond U+FFFF against U+E000–U+FFFF.
 *
 * @example
 * compareKeys('\uFF01', '\u{1F600}'); // < 0, although '\uFF01' > '\u{1F600}' in UTF-16
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Surrogates (U+D800–U+DFFF) encode code points above every BMP character.
    if (x >= 0xd800) x += x <= 0xdfff ? 0x2000 : -0x800;
    if (y >= 0xd800) y += y <= 0xdfff ? 0x2000 : -0x800;
    return x - y;
  }
  return a.length - b.length;
}

/**
 * The smallest string greater than every string that starts with `prefix` (in UTF-8 order),
 * or undefined when there is none (a prefix of U+10FFFF only).
 *
 * @example
 * prefixEnd('photos/'); // 'photos0'
 */
export function prefixEnd(prefix: string): string | undefined {
  const points = [...prefix];
  while (points.length > 0) {
    const last = points.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return points.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/**
 * Lists one page.
 *
 * @example
 * const page = await listPage(meta, { bucket: 'b', prefix: 'photos/', delimiter: '/', maxKeys: 1000 });
 * page.commonPrefixes; // ['photos/2023/', 'photos/2024/']
 */
export async function listPage(meta: S3Metadata, request: ListRequest): Promise<ListPage> {
  const { prefix, delimiter, maxKeys } = request;
  const page: ListPage = { contents: [], commonPrefixes: [], truncated: false };
  if (maxKeys === 0) return page;
  const before = prefix === '' ? undefined : prefixEnd(prefix);
  let after: string | undefined;
  let from: string | undefined;
  if (request.after !== undefined && compareKeys(request.after, prefix) >= 0) after = request.after;
  else if (prefix !== '') from = prefix;
  let count = 0;
  let skipPrefix: string | undefined;

  scan: for (;;) {
    const batch = await meta.listObjects(request.bucket, {
      limit: BATCH,
      ...(after !== undefined ? { after } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(before !== undefined ? { before } : {}),
    });
    for (const object of batch) {
      const key = object.key;
      if (!key.startsWith(prefix)) break scan;
      after = key;
      from = undefined;
      if (skipPrefix !== undefined && key.startsWith(skipPrefix)) continue;
      const cut = delimiter === '' ? -1 : key.indexOf(delimiter, prefix.length);
      if (cut < 0) {
        if (count === maxKeys) {
          page.truncated = true;
          break scan;
        }
        page.contents.push(object);
        page.last = key;
        count++;
        continue;
      }
      const common = key.slice(0, cut + delimiter.length);
      // A prefix at or before the marker was listed on an earlier page: skip its keys.
      if (request.after === undefined || compareKeys(common, request.after) > 0) {
        if (count === maxKeys) {
          page.truncated = true;
          break scan;
        }
        page.commonPrefixes.push(common);
        page.last = common;
        count++;
      }
      const end = prefixEnd(common);
      if (end === undefined) {
        skipPrefix = common;
        continue;
      }
      after = undefined;
      from = end;
      continue scan;
    }
    if (batch.length < BATCH) break;
  }
  return page;
}

/**
 * S3's `encoding-type=url` form of a key: UTF-8 percent-encoded, a space as `+`, letters, digits,
 * `-_.*` and `/` kept (as measured against AWS).
 *
 * @example
 * urlEncodeKey('run books/a+b.txt'); // 'run+books/a%2Bb.txt'
 */
export function urlEncodeKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.*/]/.test(c)) out += c;
    else if (byte === 0x20) out += '+';
    else out += `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}
