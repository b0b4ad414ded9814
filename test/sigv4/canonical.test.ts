/** Edge cases of the canonical request that SDK-signed traffic rarely produces. */
import { describe, expect, it } from 'vitest';
import { canonicalHeaders, canonicalQuery, canonicalUri } from '../../src/sigv4/canonical.js';

describe('canonical URI', () => {
  it('non-S3: removes dot segments and empty segments, then encodes the wire path again', () => {
    expect(canonicalUri('/a%20b', true)).toBe('/a%2520b');
    expect(canonicalUri('/x/a%20b/../c/./d//', true)).toBe('/x/c/d/');
    expect(canonicalUri('/a!b*(c)', true)).toBe('/a%21b%2A%28c%29');
    expect(canonicalUri('', true)).toBe('/');
    expect(canonicalUri('/..', true)).toBe('/');
  });

  it('S3: keeps dot segments and encodes once, in canonical form', () => {
    expect(canonicalUri('/b/a/../k', false)).toBe('/b/a/../k');
    expect(canonicalUri('/b/a%7eb!c%2fd%e2%82%AC', false)).toBe('/b/a~b%21c%2Fd%E2%82%AC');
    expect(canonicalUri('/b//k', false)).toBe('/b//k');
    expect(canonicalUri('', false)).toBe('/');
  });
});

describe('canonical query', () => {
  it('sorts by name, then value; a bare name gets an empty value', () => {
    expect(canonicalQuery('b=2&a=1&a=&c', false)).toBe('a=&a=1&b=2&c=');
    // By name first: "a" < "a-b" although "a=" > "a-".
    expect(canonicalQuery('a-b=1&a=2', false)).toBe('a=2&a-b=1');
  });

  it('re-encodes each byte: escapes kept, raw bytes escaped, unreserved unescaped', () => {
    expect(canonicalQuery('k=%ff%7E%2b+é%zz', false)).toBe('k=%FF~%2B%2B%C3%A9%25zz');
    expect(canonicalQuery('k=a+b', false, true)).toBe('k=a%20b');
  });

  it('leaves X-Amz-Signature out of presigned requests only', () => {
    expect(canonicalQuery('X-Amz-Signature=abc&x=1', true)).toBe('x=1');
    expect(canonicalQuery('X-Amz-Signature=abc&x=1', false)).toBe('X-Amz-Signature=abc&x=1');
  });
});

describe('canonical headers', () => {
  it('trims, collapses runs of spaces and joins repeated headers with commas', () => {
    const headers = { 'x-a': ['  one   two ', 'three'], 'x-b': 'a\t\tb', host: 'h' };
    expect(canonicalHeaders(headers, ['host', 'x-a', 'x-b', 'x-missing'])).toBe(
      'host:h\nx-a:one two,three\nx-b:a b\nx-missing:\n',
    );
  });

  it('keeps a trailing U+00A0: it is a byte of a UTF-8 character, not a space', () => {
    const value = Buffer.from('à', 'utf8').toString('latin1'); // "\u00c3\u00a0", as node gives it
    expect(canonicalHeaders({ 'x-a': value }, ['x-a'])).toBe(`x-a:${value}\n`);
  });

  it('reads HTTP/2 :authority as host', () => {
    expect(canonicalHeaders({ ':authority': 'h2.example' }, ['host'])).toBe('host:h2.example\n');
  });
});
