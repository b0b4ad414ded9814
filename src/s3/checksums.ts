/**
 * S3's additional checksums (`x-amz-checksum-*`): CRC32, CRC32C, CRC64NVME, SHA1, SHA256,
 * computed incrementally over streamed bytes. Values are base64 of the big-endian digest, as
 * S3 sends them.
 */
import { createHash, type Hash } from 'node:crypto';
import { crc32 } from 'node:zlib';

/** The checksum algorithms S3 accepts. */
export const CHECKSUM_ALGORITHMS = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'] as const;

/** One of {@link CHECKSUM_ALGORITHMS}. */
export type ChecksumAlgorithm = (typeof CHECKSUM_ALGORITHMS)[number];

/** An incremental digest. */
export interface Checksum {
  update(data: Buffer): void;
  /** The digest, base64 (S3's form). Call once, at the end. */
  digest(): string;
}

/** `x-amz-checksum-crc32` for `CRC32`, etc. */
export function checksumHeader(algorithm: ChecksumAlgorithm): string {
  return `x-amz-checksum-${algorithm.toLowerCase()}`;
}

/** The algorithm a checksum header or `x-amz-sdk-checksum-algorithm` value names, if any. */
export function checksumAlgorithmOf(name: string): ChecksumAlgorithm | undefined {
  const upper = name.toUpperCase().replace(/^X-AMZ-CHECKSUM-/, '');
  return (CHECKSUM_ALGORITHMS as readonly string[]).includes(upper)
    ? (upper as ChecksumAlgorithm)
    : undefined;
}

const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = {
  CRC32: 4,
  CRC32C: 4,
  CRC64NVME: 8,
  SHA1: 20,
  SHA256: 32,
};

/** True when `value` is base64 of a digest of the algorithm's length. */
export function isValidChecksumValue(algorithm: ChecksumAlgorithm, value: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) return false;
  return Buffer.from(value, 'base64').length === DIGEST_BYTES[algorithm];
}

/**
 * A fresh incremental checksum.
 *
 * @example
 * const c = newChecksum('CRC32C');
 * c.update(Buffer.from('123456789'));
 * c.digest(); // '4waSgw==' (0xE3069283)
 */
export function newChecksum(algorithm: ChecksumAlgorithm): Checksum {
  switch (algorithm) {
    case 'CRC32':
      return new Crc32Checksum();
    case 'CRC32C':
      return new Crc32cChecksum();
    case 'CRC64NVME':
      return new Crc64NvmeChecksum();
    case 'SHA1':
      return new HashChecksum(createHash('sha1'));
    case 'SHA256':
      return new HashChecksum(createHash('sha256'));
  }
}

class HashChecksum implements Checksum {
  constructor(private readonly hash: Hash) {}
  update(data: Buffer): void {
    this.hash.update(data);
  }
  digest(): string {
    return this.hash.digest('base64');
  }
}

function uint32Base64(value: number): string {
  const out = Buffer.allocUnsafe(4);
  out.writeUInt32BE(value >>> 0);
  return out.toString('base64');
}

class Crc32Checksum implements Checksum {
  #crc = 0;
  update(data: Buffer): void {
    this.#crc = crc32(data, this.#crc);
  }
  digest(): string {
    return uint32Base64(this.#crc);
  }
}

/** Slice-by-8 tables of a reflected 32-bit CRC. */
function crc32Tables(poly: number): Uint32Array[] {
  const tables = [new Uint32Array(256)];
  const t0 = tables[0]!;
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t0[i] = c >>> 0;
  }
  for (let j = 1; j < 8; j++) {
    const prev = tables[j - 1]!;
    const t = new Uint32Array(256);
    for (let i = 0; i < 256; i++) t[i] = (prev[i]! >>> 8) ^ t0[prev[i]! & 0xff]!;
    tables.push(t);
  }
  return tables;
}

let crc32cTables: Uint32Array[] | undefined;

/** CRC-32C (Castagnoli), which node:zlib does not offer. */
class Crc32cChecksum implements Checksum {
  #state = 0xffffffff;
  update(data: Buffer): void {
    const [t0, t1, t2, t3, t4, t5, t6, t7] = (crc32cTables ??= crc32Tables(0x82f63b78)) as [
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
      Uint32Array,
    ];
    let crc = this.#state;
    let i = 0;
    const n = data.length;
    while (n - i >= 8) {
      const a =
        (data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)) ^ crc;
      const b = data[i + 4]! | (data[i + 5]! << 8) | (data[i + 6]! << 16) | (data[i + 7]! << 24);
      crc =
        t7[a & 0xff]! ^
        t6[(a >>> 8) & 0xff]! ^
        t5[(a >>> 16) & 0xff]! ^
        t4[a >>> 24]! ^
        t3[b & 0xff]! ^
        t2[(b >>> 8) & 0xff]! ^
        t1[(b >>> 16) & 0xff]! ^
        t0[b >>> 24]!;
      i += 8;
    }
    for (; i < n; i++) crc = t0[(crc ^ data[i]!) & 0xff]! ^ (crc >>> 8);
    this.#state = crc >>> 0;
  }
  digest(): string {
    return uint32Base64(~this.#state);
  }
}

let crc64Tables: { lo: Uint32Array; hi: Uint32Array } | undefined;

function crc64NvmeTables(): { lo: Uint32Array; hi: Uint32Array } {
  // Reflected polynomial of CRC-64/NVME, 0x9A6C9329AC4BC9B5, as two 32-bit halves.
  const polyHi = 0x9a6c9329;
  const polyLo = 0xac4bc9b5;
  const lo = new Uint32Array(256);
  const hi = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let l = i;
    let h = 0;
    for (let k = 0; k < 8; k++) {
      const carry = l & 1;
      l = ((l >>> 1) | ((h & 1) << 31)) >>> 0;
      h = h >>> 1;
      if (carry) {
        l = (l ^ polyLo) >>> 0;
        h = (h ^ polyHi) >>> 0;
      }
    }
    lo[i] = l;
    hi[i] = h;
  }
  return { lo, hi };
}

/** CRC-64/NVME (the SDKs' newest default), in 32-bit halves: no BigInt on the hot path. */
class Crc64NvmeChecksum implements Checksum {
  #lo = 0xffffffff;
  #hi = 0xffffffff;
  update(data: Buffer): void {
    const t = (crc64Tables ??= crc64NvmeTables());
    const tLo = t.lo;
    const tHi = t.hi;
    let lo = this.#lo;
    let hi = this.#hi;
    for (let i = 0; i < data.length; i++) {
      const idx = (lo ^ data[i]!) & 0xff;
      lo = (((lo >>> 8) | (hi << 24)) ^ tLo[idx]!) >>> 0;
      hi = ((hi >>> 8) ^ tHi[idx]!) >>> 0;
    }
    this.#lo = lo;
    this.#hi = hi;
  }
  digest(): string {
    const out = Buffer.allocUnsafe(8);
    out.writeUInt32BE(~this.#hi >>> 0, 0);
    out.writeUInt32BE(~this.#lo >>> 0, 4);
    return out.toString('base64');
  }
}
