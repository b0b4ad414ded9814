import { describe, expect, it } from 'vitest';
import { newEventId } from '../../src/audit/event-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newEventId', () => {
  it('is a version-7 UUID carrying the time in milliseconds', () => {
    const now = Date.UTC(2026, 10, 23, 14, 0, 0, 123);
    const id = newEventId(now);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sorts by time, so the trail appends to its index', () => {
    const ids = [0, 1, 2, 1000, 86_400_000].map((d) => newEventId(Date.UTC(2026, 0, 1) + d));
    expect([...ids].sort()).toEqual(ids);
  });

  it('is random within a millisecond', () => {
    const now = Date.now();
    const ids = new Set(Array.from({ length: 10_000 }, () => newEventId(now)));
    expect(ids.size).toBe(10_000);
    for (const id of ids) expect(id).toMatch(UUID_V7);
  });
});
