/**
 * SigV4 signing keys — `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
 * "aws4_request")` — behind a bounded LRU cache, so that repeated requests with one key on one
 * day skip the four HMACs.
 *
 * Entries are keyed by a SHA-256 digest of (secret, date, region, service), never by the
 * secret itself, and the cache is module-private: nothing here can end up in a log line.
 */
import { createHmac } from 'node:crypto';
import { sha256 } from './hash.js';

const MAX_ENTRIES = 1024;
const cache = new Map<string, Buffer>();

/** The signing key for one credential scope; derived once, then served from the cache. */
export function signingKey(secret: string, date: string, region: string, service: string): Buffer {
  // Length prefixes: region and service come from the client and may contain any separator.
  const id = sha256(
    `${date.length}:${date}${region.length}:${region}${service.length}:${service}${secret}`,
    'base64',
  );
  const hit = cache.get(id);
  if (hit !== undefined) {
    cache.delete(id); // re-insert: Map iteration order is the recency order
    cache.set(id, hit);
    return hit;
  }
  const key = deriveSigningKey(secret, date, region, service);
  cache.set(id, key);
  if (cache.size > MAX_ENTRIES) cache.delete(cache.keys().next().value as string);
  return key;
}

/** The four HMACs, uncached. */
export function deriveSigningKey(
  secret: string,
  date: string,
  region: string,
  service: string,
): Buffer {
  const kDate = hmac('AWS4' + secret, date);
  return hmac(hmac(hmac(kDate, region), service), 'aws4_request');
}

/** HMAC-SHA256 of a UTF-8 string. */
export function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

/** Number of cached keys (for tests). */
export function signingKeyCacheSize(): number {
  return cache.size;
}
