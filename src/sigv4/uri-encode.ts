/**
 * The URI encoding of SigV4 canonical requests: RFC 3986 unreserved characters
 * (`A-Z a-z 0-9 - . _ ~`) stay, every other byte becomes `%XY` with upper-case hex.
 *
 * Works on what came on the wire: with `decode`, existing `%XY` escapes are first turned back
 * into their byte, so `%7e`, `~` and `%7E` all canonicalise to `~` and `%2f` to `%2F`. Bytes are
 * handled one by one, so escapes of invalid UTF-8 (`%FF`) survive unchanged. Characters above
 * U+007F (never on a Node.js wire, but in hand-built requests) are UTF-8 encoded.
 */

const HEX = '0123456789ABCDEF';
const UNRESERVED = new Uint8Array(128);
for (const c of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~') {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const ALL_UNRESERVED = /^[A-Za-z0-9\-._~]*$/;
const ALL_UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-._~/]*$/;

/** How {@link uriEncode} treats its input. */
export interface UriEncodeOptions {
  /** Turn `%XY` escapes back into bytes before encoding (single encoding of a wire string). */
  readonly decode: boolean;
  /** Leave `/` as is (paths). An escaped `%2F` stays escaped either way. */
  readonly keepSlash: boolean;
  /** Read a raw `+` as a space (form encoding) instead of a literal plus. */
  readonly plusAsSpace?: boolean;
}

/** Canonical SigV4 encoding of one path or query component. */
export function uriEncode(value: string, options: UriEncodeOptions): string {
  const fast = options.keepSlash ? ALL_UNRESERVED_OR_SLASH : ALL_UNRESERVED;
  if (fast.test(value)) return value;
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 128 && UNRESERVED[c] === 1) {
      out += value[i];
    } else if (c === 0x2f && options.keepSlash) {
      out += '/';
    } else if (c === 0x25 && options.decode && isHex(value, i + 1) && isHex(value, i + 2)) {
      const byte = parseInt(value.slice(i + 1, i + 3), 16);
      out += byte < 128 && UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : escapeByte(byte);
      i += 2;
    } else if (c === 0x2b && options.plusAsSpace === true) {
      out += '%20';
    } else if (c < 128) {
      out += escapeByte(c);
    } else {
      const cp = value.codePointAt(i) ?? c;
      if (cp > 0xffff) i++;
      for (const byte of Buffer.from(String.fromCodePoint(cp), 'utf8')) out += escapeByte(byte);
    }
  }
  return out;
}

function escapeByte(byte: number): string {
  return '%' + HEX[byte >> 4]! + HEX[byte & 15]!;
}

function isHex(s: string, i: number): boolean {
  const c = s.charCodeAt(i); // NaN past the end
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}
