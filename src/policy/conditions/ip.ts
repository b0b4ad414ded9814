/**
 * IP addresses and CIDR ranges (IPv4 and IPv6) for `IpAddress` / `NotIpAddress`.
 *
 * Addresses are read as bigints with their family. A policy value without a prefix length is a
 * single address (IAM: "If you specify an IP address without the associated routing prefix, IAM
 * uses the default prefix value of /32"; for IPv6 a lone address means that address, /128).
 */

/** A parsed address. */
export interface IpAddr {
  v6: boolean;
  value: bigint;
}

/** A parsed range. */
export interface CidrRange {
  v6: boolean;
  /** Network bits, masked. */
  network: bigint;
  mask: bigint;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseV4(s: string): bigint | undefined {
  if (!V4.test(s)) return undefined;
  let v = 0n;
  for (const part of s.split('.')) v = (v << 8n) | BigInt(Number(part));
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length < 2) return undefined;
  const double = s.indexOf('::');
  if (double !== s.lastIndexOf('::')) return undefined;
  const groups: bigint[] = [];
  const parseSide = (side: string): bigint[] | undefined => {
    if (side === '') return [];
    const out: bigint[] = [];
    const parts = side.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i] as string;
      if (i === parts.length - 1 && p.includes('.')) {
        // Embedded IPv4 in the last 32 bits (e.g. ::ffff:192.0.2.1).
        const v4 = parseV4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >> 16n, v4 & 0xffffn);
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
      out.push(BigInt(parseInt(p, 16)));
    }
    return out;
  };
  if (double >= 0) {
    const head = parseSide(s.slice(0, double));
    const tail = parseSide(s.slice(double + 2));
    if (head === undefined || tail === undefined || head.length + tail.length > 7) return undefined;
    groups.push(...head, ...new Array<bigint>(8 - head.length - tail.length).fill(0n), ...tail);
  } else {
    const all = parseSide(s);
    if (all === undefined || all.length !== 8) return undefined;
    groups.push(...all);
  }
  let v = 0n;
  for (const g of groups) v = (v << 16n) | g;
  return v;
}

/** Parses an IPv4 or IPv6 address. */
export function parseIp(s: string): IpAddr | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { v6: false, value: v4 };
  if (!s.includes(':')) return undefined;
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { v6: true, value: v6 };
}

/** Parses `address/prefix` or a lone address. */
export function parseCidr(s: string): CidrRange | undefined {
  const slash = s.indexOf('/');
  const addr = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (addr === undefined) return undefined;
  const bits = addr.v6 ? 128 : 32;
  let prefix = bits;
  if (slash >= 0) {
    const p = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p)) return undefined;
    prefix = Number(p);
    if (prefix > bits) return undefined;
  }
  const all = (1n << BigInt(bits)) - 1n;
  const mask = prefix === 0 ? 0n : (all << BigInt(bits - prefix)) & all;
  return { v6: addr.v6, network: addr.value & mask, mask };
}

/** Whether `ip` is in `range` (addresses of the other family never are). */
export function inCidr(ip: IpAddr, range: CidrRange): boolean {
  return ip.v6 === range.v6 && (ip.value & range.mask) === range.network;
}
