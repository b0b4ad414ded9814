/**
 * Parsing of annotation values with the rules of the upstream webhook (Go's `strconv` and
 * `encoding/csv`), so odd values are accepted or ignored exactly as there.
 */
import { TokenExpiration } from './constants.js';

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Go's `strconv.ParseInt(s, 10, 64)`: an optional sign and decimal digits, within int64.
 * Returns undefined where Go returns an error.
 */
export function parseGoInt64(value: string): bigint | undefined {
  if (!/^[+-]?\d+$/.test(value)) return undefined;
  const n = BigInt(value);
  return n < INT64_MIN || n > INT64_MAX ? undefined : n;
}

/** Go's `strconv.ParseBool`. Returns undefined where Go returns an error. */
export function parseGoBool(value: string): boolean | undefined {
  switch (value) {
    case '1':
    case 't':
    case 'T':
    case 'true':
    case 'TRUE':
    case 'True':
      return true;
    case '0':
    case 'f':
    case 'F':
    case 'false':
    case 'FALSE':
    case 'False':
      return false;
    default:
      return undefined;
  }
}

/**
 * Clamps a token lifetime to [600, 86400] seconds. (Upstream raises values below 600 and keeps
 * larger ones; the API server would cap them anyway, so Latchkey states the cap here.)
 */
export function clampTokenExpiration(seconds: bigint | number): number {
  const n = typeof seconds === 'bigint' ? seconds : BigInt(Math.trunc(seconds));
  if (n < BigInt(TokenExpiration.min)) return TokenExpiration.min;
  if (n > BigInt(TokenExpiration.max)) return TokenExpiration.max;
  return Number(n);
}

/**
 * Reads a `token-expiration` annotation: the clamped lifetime, or undefined when the value is
 * not an integer (the caller keeps its default, as upstream does).
 *
 * @example
 * parseTokenExpiration('0'); // 600
 * parseTokenExpiration('200000'); // 86400
 * parseTokenExpiration('1h'); // undefined
 */
export function parseTokenExpiration(value: string): number | undefined {
  const n = parseGoInt64(value);
  return n === undefined ? undefined : clampTokenExpiration(n);
}

/**
 * The first record of `value` read as CSV by Go's `encoding/csv` with default settings: comma
 * separated, double-quoted fields with `""` escapes, no trimming, blank lines skipped. Returns
 * undefined where Go's reader returns an error (a bare or misplaced quote, or no record).
 *
 * @example
 * parseCsvRecord('sidecar,"istio-proxy"'); // ['sidecar', 'istio-proxy']
 */
export function parseCsvRecord(value: string): string[] | undefined {
  const text = value.replace(/\r\n/g, '\n');
  let i = 0;
  // Blank lines before the first record are skipped.
  while (i < text.length && text[i] === '\n') i++;
  if (i >= text.length) return undefined;
  const fields: string[] = [];
  for (;;) {
    if (text[i] === '"') {
      let field = '';
      i++;
      for (;;) {
        if (i >= text.length) return undefined; // unterminated quoted field
        const ch = text[i] as string;
        if (ch === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += ch;
        i++;
      }
      fields.push(field);
      if (i >= text.length || text[i] === '\n') return fields;
      if (text[i] !== ',') return undefined; // extraneous character after a quoted field
      i++;
    } else {
      let end = i;
      while (end < text.length && text[end] !== ',' && text[end] !== '\n') end++;
      const field = text.slice(i, end);
      if (field.includes('"')) return undefined; // bare quote
      fields.push(field);
      if (end >= text.length || text[end] === '\n') return fields;
      i = end + 1;
    }
  }
}
