/**
 * The canonical request and string to sign, per the SigV4 specification. The canonical request
 * is built as a "byte string" (every character ≤ U+00FF is one byte) and must be hashed as
 * latin1: header values come from Node already in that form.
 */
import { sha256Latin1Hex } from './hash.js';
import type { SigV4Request } from './types.js';
import { uriEncode } from './uri-encode.js';

/** A header's value as one string: repeated values joined with `,` (how SigV4 reads them). */
export function headerValue(headers: SigV4Request['headers'], name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' || value === undefined ? value : value.join(',');
}

/**
 * Canonical URI. Non-S3 services remove empty, `.` and `..` segments and encode the wire path
 * once more (`%` → `%25`): the "double encoding" of the specification. S3 signs the path as
 * sent, so it is only brought to canonical form (`%7e` → `~`, `!` → `%21`), not re-encoded.
 */
export function canonicalUri(path: string, uriEscapePath: boolean): string {
  if (!uriEscapePath) return path === '' ? '/' : uriEncode(path, { decode: true, keepSlash: true });
  return uriEncode(removeDotSegments(path), { decode: false, keepSlash: true });
}

const DOT_SEGMENT = /(?:^|\/)\.\.?(?:\/|$)/;

function removeDotSegments(path: string): string {
  if (!path.includes('//') && !DOT_SEGMENT.test(path)) return path === '' ? '/' : path;
  const out: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  const lead = path.startsWith('/') ? '/' : '';
  const trail = out.length > 0 && path.endsWith('/') ? '/' : '';
  return lead + out.join('/') + trail || '/';
}

/**
 * Canonical query string: each name and value canonically encoded, sorted by name then value,
 * `X-Amz-Signature` left out for presigned requests. A name without `=` gets an empty value.
 */
export function canonicalQuery(query: string, presigned: boolean, plusAsSpace = false): string {
  if (query === '') return '';
  const options = { decode: true, keepSlash: false, plusAsSpace };
  const pairs: [string, string][] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = uriEncode(eq < 0 ? part : part.slice(0, eq), options);
    if (presigned && name === 'X-Amz-Signature') continue;
    pairs.push([name, eq < 0 ? '' : uriEncode(part.slice(eq + 1), options)]);
  }
  pairs.sort(byNameThenValue);
  let out = '';
  for (const [name, value] of pairs) out += (out === '' ? '' : '&') + name + '=' + value;
  return out;
}

function byNameThenValue(a: [string, string], b: [string, string]): number {
  // Encoded strings are ASCII, so code-unit order is byte order.
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  return a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0;
}

const NEEDS_TRIM = /[\t\r\n]| {2}|^ | $/;
const WIDE_CHAR = /[\u0100-\uffff]/;

/**
 * Canonical header lines (`name:value\n` each) for the signed header names. Values are trimmed
 * and runs of spaces collapsed; repeated headers are joined with `,`. A signed header absent
 * from the request contributes an empty value. `host` falls back to HTTP/2's `:authority`.
 */
export function canonicalHeaders(
  headers: SigV4Request['headers'],
  signed: readonly string[],
): string {
  let out = '';
  for (const name of signed) {
    let value = headers[name];
    if (value === undefined && name === 'host') value = headers[':authority'];
    const text =
      value === undefined
        ? ''
        : typeof value === 'string'
          ? normalizeValue(value)
          : value.map(normalizeValue).join(',');
    out += name + ':' + text + '\n';
  }
  return out;
}

function normalizeValue(value: string): string {
  // Not String.trim(): it also strips U+00A0, which here is a byte of a UTF-8 sequence.
  let v = NEEDS_TRIM.test(value) ? value.replace(/[ \t\r\n]+/g, ' ').replace(/^ | $/g, '') : value;
  // Characters beyond latin1 only come from hand-built requests: sign their UTF-8 bytes.
  if (WIDE_CHAR.test(v)) v = Buffer.from(v, 'utf8').toString('latin1');
  return v;
}

/** The parts of a canonical request other than the query string. */
export interface CanonicalParts {
  readonly method: string;
  readonly uri: string;
  readonly headers: string;
  readonly signedHeaders: string;
  readonly payloadHash: string;
}

/** Joins the canonical request. */
export function canonicalRequest(parts: CanonicalParts, query: string): string {
  return `${parts.method}\n${parts.uri}\n${query}\n${parts.headers}\n${parts.signedHeaders}\n${parts.payloadHash}`;
}

/** `AWS4-HMAC-SHA256\n<amzDate>\n<scope>\n<hex sha256(canonical request)>`. */
export function stringToSign(amzDate: string, scope: string, canonical: string): string {
  return `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256Latin1Hex(canonical)}`;
}
