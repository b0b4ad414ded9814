import { isIPv4, isIPv6 } from 'node:net';

/**
 * What kind of network an IP address belongs to, as far as fetching an identity provider's keys
 * is concerned. Only `public` addresses may be fetched, plus `loopback` when a caller explicitly
 * allows it (tests, a dev issuer on 127.0.0.1). Everything else is refused: it is either inside
 * the operator's network (metadata services, pod and service CIDRs, link-local) or not a
 * unicast destination at all.
 */
export type AddressClass =
  | 'public'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared'
  | 'unspecified'
  | 'multicast'
  | 'reserved'
  | 'invalid';

interface Range {
  base: number;
  bits: number;
  cls: AddressClass;
}

/** IPv4 special-purpose ranges (RFC 6890 and the IANA registry), most specific first. */
const IPV4_RANGES: Range[] = [
  r4('0.0.0.0', 8, 'unspecified'),
  r4('10.0.0.0', 8, 'private'),
  r4('100.64.0.0', 10, 'shared'),
  r4('127.0.0.0', 8, 'loopback'),
  r4('169.254.0.0', 16, 'link-local'),
  r4('172.16.0.0', 12, 'private'),
  r4('192.0.0.0', 24, 'reserved'),
  r4('192.0.2.0', 24, 'reserved'),
  r4('192.88.99.0', 24, 'reserved'),
  r4('192.168.0.0', 16, 'private'),
  r4('198.18.0.0', 15, 'reserved'),
  r4('198.51.100.0', 24, 'reserved'),
  r4('203.0.113.0', 24, 'reserved'),
  r4('224.0.0.0', 4, 'multicast'),
  r4('240.0.0.0', 4, 'reserved'),
];

function r4(base: string, bits: number, cls: AddressClass): Range {
  return { base: parseIPv4(base) ?? 0, bits, cls };
}

/** An IPv4 address as an unsigned 32-bit number; undefined when not dotted-quad IPv4. */
function parseIPv4(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  return text.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function classifyIPv4(value: number): AddressClass {
  for (const { base, bits, cls } of IPV4_RANGES) {
    const size = 2 ** (32 - bits);
    if (value >= base && value < base + size) return cls;
  }
  return 'public';
}

/** An IPv6 address as eight 16-bit groups; undefined when not IPv6. Zone ids are dropped. */
function parseIPv6(text: string): number[] | undefined {
  const zone = text.indexOf('%');
  let s = zone >= 0 ? text.slice(0, zone) : text;
  if (!isIPv6(s)) return undefined;
  // A dotted IPv4 tail (`::ffff:10.0.0.1`) becomes two hex groups.
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = parseIPv4(tail);
    if (v4 === undefined) return undefined;
    s = `${s.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = s.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const missing = 8 - headGroups.length - restGroups.length;
  if (rest === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...headGroups, ...Array<string>(missing).fill('0'), ...restGroups];
  return groups.map((g) => parseInt(g, 16));
}

/** The IPv4 address in the last 32 bits of an IPv6 address. */
function embeddedIPv4(groups: number[], from = 6): number {
  return (groups[from] ?? 0) * 65536 + (groups[from + 1] ?? 0);
}

function classifyIPv6(g: number[]): AddressClass {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = g;
  const firstFiveZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (firstFiveZero && g5 === 0 && g6 === 0) {
    if (g7 === 0) return 'unspecified';
    if (g7 === 1) return 'loopback';
  }
  // IPv4-mapped (::ffff:a.b.c.d): the socket really talks to the IPv4 address.
  if (firstFiveZero && g5 === 0xffff) return classifyIPv4(embeddedIPv4(g));
  // IPv4-compatible (deprecated) and IPv4-translated (::ffff:0:a.b.c.d): never legitimate.
  if (firstFiveZero || (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0xffff)) {
    return 'reserved';
  }
  // NAT64 well-known prefix 64:ff9b::/96 reaches the embedded IPv4 address.
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) {
    return classifyIPv4(embeddedIPv4(g));
  }
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'private'; // local-use NAT64 (RFC 8215)
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // discard-only
  // 6to4 (2002::/16) carries an IPv4 address in bits 16–47.
  if (g0 === 0x2002) return classifyIPv4(embeddedIPv4(g, 1));
  if (g0 === 0x2001 && g1 < 0x0200) return 'reserved'; // IETF protocol assignments, Teredo
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved'; // documentation
  if ((g0 & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((g0 & 0xffc0) === 0xfec0) return 'private'; // deprecated site-local fec0::/10
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if ((g0 & 0xe000) === 0x2000) return 'public'; // global unicast 2000::/3
  return 'reserved';
}

/**
 * Classifies an IP address literal (IPv4 dotted quad or IPv6, brackets and zone id allowed).
 *
 * @example
 * classifyAddress('169.254.169.254'); // 'link-local'
 * classifyAddress('::ffff:10.0.0.1'); // 'private'
 * classifyAddress('93.184.216.34');   // 'public'
 */
export function classifyAddress(address: string): AddressClass {
  const text = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  const v4 = parseIPv4(text);
  if (v4 !== undefined) return classifyIPv4(v4);
  const v6 = parseIPv6(text);
  if (v6 !== undefined) return classifyIPv6(v6);
  return 'invalid';
}

/**
 * True when Latchkey may open a connection to this address to fetch an identity provider's
 * discovery document or keys: public unicast only, plus loopback when `allowLoopback` is set.
 *
 * @example
 * isFetchableAddress('127.0.0.1');                          // false
 * isFetchableAddress('127.0.0.1', { allowLoopback: true }); // true
 */
export function isFetchableAddress(
  address: string,
  options: { allowLoopback?: boolean } = {},
): boolean {
  const cls = classifyAddress(address);
  return cls === 'public' || (cls === 'loopback' && options.allowLoopback === true);
}
