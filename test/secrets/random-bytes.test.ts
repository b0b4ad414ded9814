import { describe, expect, it } from 'vitest';
import { randomBytesPooled } from '../../src/secrets/index.js';

describe('randomBytesPooled', () => {
  it('gives the length asked for, never the same bytes twice, across refills', () => {
    const seen = new Set<string>();
    // 3,000 × 16 bytes crosses the 4 KiB buffer's refill a dozen times.
    for (let i = 0; i < 3000; i++) {
      const bytes = randomBytesPooled(16);
      expect(bytes.length).toBe(16);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(3000);
  });

  it('hands out copies: later draws do not change earlier results', () => {
    const first = randomBytesPooled(32);
    const kept = Buffer.from(first);
    for (let i = 0; i < 500; i++) randomBytesPooled(24);
    expect(first.equals(kept)).toBe(true);
    expect(first.equals(Buffer.alloc(32))).toBe(false);
  });

  it('looks uniform: every byte value appears in 64 KiB', () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 1024; i++) for (const b of randomBytesPooled(64)) counts[b]!++;
    // 256 expected per value; a stuck or zeroed source would leave values at 0 or far off.
    expect(Math.min(...counts)).toBeGreaterThan(150);
    expect(Math.max(...counts)).toBeLessThan(370);
  });

  it('serves large requests straight from the CSPRNG', () => {
    const a = randomBytesPooled(8192);
    const b = randomBytesPooled(8192);
    expect(a.length).toBe(8192);
    expect(a.equals(b)).toBe(false);
  });
});
