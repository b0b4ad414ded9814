import { randomUUID } from 'node:crypto';

/**
 * A new CloudTrail `eventID`: a UUID of version 7 (RFC 9562), whose first 48 bits are the
 * Unix time in milliseconds and the rest random. Clients see an opaque GUID as from AWS; the
 * store sees keys that grow with time, so each record is appended at the right edge of the
 * `audit_events` primary-key index instead of at a random page of it — with random (version 4)
 * ids, each insert dirtied a page of its own and the cost grew with the trail (bench/audit.ts).
 *
 * @example
 * newEventId(); // '019ab6c2-5e1d-7f3a-9b2e-4c1d2e3f4a5b'
 */
export function newEventId(now = Date.now()): string {
  const time = now.toString(16).padStart(12, '0');
  // randomUUID supplies 74 random bits and the variant; only the version nibble changes.
  const random = randomUUID();
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15)}`;
}
