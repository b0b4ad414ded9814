/**
 * Pod identity association sources (upstream file format, cache with single-flight, timeout
 * and stale-on-error), the service-accounts YAML parser, and annotation value parsing.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import {
  parseCsvRecord,
  parseGoBool,
  parseTokenExpiration,
} from '../../src/webhook/annotations.js';
import {
  CachedAssociationSource,
  containerCredentialsConfig,
  FileAssociationSource,
  parseAssociationsFile,
  parseServiceAccountsYaml,
  type ContainerCredentialsConfig,
  type PodIdentityAssociationSource,
} from '../../src/webhook/index.js';
import { entriesFromConfigMap } from '../../src/webhook/service-accounts/config-map.js';
import { tempDir } from '../helpers/tmp.js';

const silent = pino({ level: 'silent' });
const CONFIG = containerCredentialsConfig();

async function eventually(check: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('FileAssociationSource', () => {
  it('reads the upstream format, follows edits, keeps the last good contents on a broken one', async () => {
    const dir = tempDir('latchkey-assoc-');
    const path = join(dir.path, 'config.json');
    writeFileSync(
      path,
      JSON.stringify({ identities: [{ namespace: 'app', serviceAccount: 'web' }] }),
    );
    const source = new FileAssociationSource({
      path,
      config: CONFIG,
      logger: silent,
      debounceMs: 20,
    });
    try {
      await source.start();
      expect(await source.lookup('app', 'web')).toEqual(CONFIG);
      expect(await source.lookup('app', 'other')).toBeUndefined();

      writeFileSync(path, 'identities:\n  - {namespace: app, serviceAccount: other}\n');
      await eventually(async () => (await source.lookup('app', 'other')) !== undefined);
      expect(await source.lookup('app', 'web')).toBeUndefined();

      writeFileSync(path, '{"identities": [');
      await new Promise((r) => setTimeout(r, 300));
      expect(await source.lookup('app', 'other')).toEqual(CONFIG);

      // An empty file means no associations, as upstream.
      writeFileSync(path, '');
      await eventually(async () => (await source.lookup('app', 'other')) === undefined);
    } finally {
      await source.close();
      dir.remove();
    }
  });

  it('refuses malformed files with a clear error', () => {
    expect(() => parseAssociationsFile('identities: {a: 1}', 'f')).toThrow(
      /"identities" must be a list/,
    );
    expect(() => parseAssociationsFile('identities: [{namespace: a}]', 'f')).toThrow(
      /identities\[0\] needs string/,
    );
    expect(() => parseAssociationsFile('[1]', 'f')).toThrow(/expected an object/);
    expect(parseAssociationsFile('{}', 'f').size).toBe(0);
  });
});

describe('CachedAssociationSource', () => {
  function counting(answer: () => Promise<ContainerCredentialsConfig | undefined>) {
    const calls: string[] = [];
    const source: PodIdentityAssociationSource = {
      lookup: (ns, sa) => {
        calls.push(`${ns}/${sa}`);
        return answer();
      },
    };
    return { source, calls };
  }

  it('makes one call for concurrent look-ups and reuses the answer for the TTL', async () => {
    let now = 0;
    const { source, calls } = counting(() => new Promise((r) => setTimeout(() => r(CONFIG), 20)));
    const cached = new CachedAssociationSource(source, { ttlMs: 1000, now: () => now });
    const answers = await Promise.all(Array.from({ length: 20 }, () => cached.lookup('a', 'b')));
    expect(answers.every((a) => a === CONFIG)).toBe(true);
    expect(calls).toEqual(['a/b']);
    now = 999;
    await cached.lookup('a', 'b');
    expect(calls).toHaveLength(1);
    now = 1000;
    await cached.lookup('a', 'b');
    expect(calls).toHaveLength(2);
  });

  it('serves the last answer when the source fails or hangs, and nothing when it never answered', async () => {
    let now = 0;
    let mode: 'ok' | 'fail' | 'hang' = 'ok';
    const { source } = counting(() =>
      mode === 'ok'
        ? Promise.resolve(CONFIG)
        : mode === 'fail'
          ? Promise.reject(new Error('503'))
          : new Promise(() => {}),
    );
    const cached = new CachedAssociationSource(source, {
      ttlMs: 10,
      timeoutMs: 50,
      now: () => now,
      logger: silent,
    });
    expect(await cached.lookup('a', 'b')).toBe(CONFIG);
    now = 100;
    mode = 'fail';
    expect(await cached.lookup('a', 'b')).toBe(CONFIG);
    mode = 'hang';
    now = 200;
    const started = performance.now();
    expect(await cached.lookup('a', 'b')).toBe(CONFIG);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await cached.lookup('x', 'y')).toBeUndefined();
  });

  it('bounds the number of keys', async () => {
    const { source, calls } = counting(() => Promise.resolve(undefined));
    const cached = new CachedAssociationSource(source, { maxEntries: 2 });
    for (const k of ['a', 'b', 'c', 'a']) await cached.lookup('ns', k);
    expect(calls).toEqual(['ns/a', 'ns/b', 'ns/c', 'ns/a']);
  });
});

describe('service-accounts YAML', () => {
  it('reads ServiceAccounts, Lists and the ConfigMap; defaults the namespace; skips other kinds', () => {
    const parsed = parseServiceAccountsYaml(
      [
        'kind: ServiceAccount',
        'metadata: {name: a, annotations: {eks.amazonaws.com/role-arn: r}}',
        '---',
        'kind: List',
        'items: [{kind: ServiceAccount, metadata: {name: b, namespace: x}}]',
        '---',
        'kind: ConfigMap',
        'metadata: {name: pod-identity-webhook}',
        'data: {config: \'{"x/c": {"roleArn": "r2", "TokenExpiration": 100}}\'}',
        '---',
        'kind: Secret',
        'metadata: {name: s}',
        '---',
      ].join('\n'),
      'sa.yaml',
      86400,
    );
    expect(
      parsed.serviceAccounts.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`),
    ).toEqual(['default/a', 'x/b']);
    // Go matches JSON field names case-insensitively; lifetimes are clamped.
    expect(parsed.configMapEntries.get('x/c')).toEqual({
      roleArn: 'r2',
      audience: '',
      useRegionalSts: false,
      tokenExpiration: 600,
    });
    expect(parsed.skipped).toEqual(['sa.yaml document 4 (Secret)']);
  });

  it.each([
    ['kind: ServiceAccount\nmetadata: {name: a\n', /sa\.yaml document 1: /],
    ['- 1\n', /not a Kubernetes object/],
    ['metadata: {name: a}\n', /no kind/],
    [
      'kind: ServiceAccount\nmetadata: {name: a, annotations: {x: [1]}}\n',
      /annotations must map strings to strings/,
    ],
    ['kind: List\nitems: 3\n', /items must be a list/],
  ])('refuses %j', (text, message) => {
    expect(() => parseServiceAccountsYaml(text, 'sa.yaml', 86400)).toThrow(message);
  });

  it('refuses a ConfigMap whose config is not JSON', () => {
    expect(() =>
      entriesFromConfigMap(
        { metadata: { name: 'pod-identity-webhook' }, data: { config: '{' } },
        86400,
      ),
    ).toThrow(/config is not JSON/);
  });
});

describe('annotation values, parsed as Go does', () => {
  it('reads the first CSV record like encoding/csv', () => {
    expect(parseCsvRecord('a,b')).toEqual(['a', 'b']);
    expect(parseCsvRecord(' a, b')).toEqual([' a', ' b']);
    expect(parseCsvRecord('"a,b",c')).toEqual(['a,b', 'c']);
    expect(parseCsvRecord('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
    expect(parseCsvRecord('\n\na,b\nc')).toEqual(['a', 'b']);
    expect(parseCsvRecord('a,')).toEqual(['a', '']);
    expect(parseCsvRecord('')).toBeUndefined();
    expect(parseCsvRecord('a"b')).toBeUndefined();
    expect(parseCsvRecord('"a"b')).toBeUndefined();
    expect(parseCsvRecord('"a')).toBeUndefined();
  });

  it('reads integers and booleans like strconv', () => {
    expect(parseTokenExpiration('+3600')).toBe(3600);
    expect(parseTokenExpiration('-5')).toBe(600);
    expect(parseTokenExpiration('99999999999999999999')).toBeUndefined();
    expect(parseTokenExpiration('3600 ')).toBeUndefined();
    expect(parseTokenExpiration('1e3')).toBeUndefined();
    expect(parseGoBool('T')).toBe(true);
    expect(parseGoBool('False')).toBe(false);
    expect(parseGoBool('yes')).toBeUndefined();
  });
});
