import type { LookupAddress } from 'node:dns';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyAddress, isFetchableAddress } from '../../src/oidc/address-policy.js';
import {
  GuardedFetchError,
  guardedGet,
  resolveFetchTarget,
  type ResolveAll,
} from '../../src/oidc/fetch-guard.js';

/** A loopback HTTP server whose handler and request log the tests control. */
interface TestServer {
  port: number;
  requests: { path: string; host: string | undefined }[];
  handle: (req: IncomingMessage, res: ServerResponse) => void;
  close(): Promise<void>;
}

async function startServer(): Promise<TestServer> {
  const state: TestServer = {
    port: 0,
    requests: [],
    handle: (_req, res) => res.end('{}'),
    close: () => Promise.resolve(),
  };
  const server = createServer((req, res) => {
    state.requests.push({ path: req.url ?? '', host: req.headers.host });
    state.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}

/** A resolver for made-up names: never touches DNS, answers from the table. */
function fakeResolver(table: Record<string, string[]>): ResolveAll {
  return (hostname) => {
    const addresses = table[hostname];
    if (addresses === undefined) {
      const err: NodeJS.ErrnoException = new Error('not found');
      err.code = 'ENOTFOUND';
      return Promise.reject(err);
    }
    return Promise.resolve(
      addresses.map((address): LookupAddress => ({
        address,
        family: address.includes(':') ? 6 : 4,
      })),
    );
  };
}

async function failure(promise: Promise<unknown>): Promise<GuardedFetchError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GuardedFetchError);
  return err as GuardedFetchError;
}

describe('classifyAddress', () => {
  const cases: [string, string][] = [
    ['8.8.8.8', 'public'],
    ['93.184.216.34', 'public'],
    ['1.1.1.1', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.1', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'link-local'],
    ['169.254.170.23', 'link-local'],
    ['169.254.170.2', 'link-local'],
    ['100.64.0.1', 'shared'],
    ['100.127.255.255', 'shared'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['255.255.255.255', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.170', 'reserved'],
    ['192.0.2.1', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['198.51.100.7', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf:ffff::1', 'link-local'],
    ['fc00::1', 'private'],
    ['fd00:ec2::254', 'private'],
    ['fd00:ec2::23', 'private'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link-local'],
    ['::ffff:a9fe:a9fe', 'link-local'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:0a00:0001', 'private'],
    ['0:0:0:0:0:ffff:192.168.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:10.0.0.1', 'reserved'],
    ['::10.0.0.1', 'reserved'],
    ['::127.0.0.1', 'reserved'],
    ['64:ff9b::10.0.0.1', 'private'],
    ['64:ff9b::169.254.169.254', 'link-local'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:a9fe:a9fe::1', 'link-local'],
    ['2002:0a00:0001::', 'private'],
    ['2002:0808:0808::1', 'public'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'],
    ['100::1', 'reserved'],
    ['2001:4860:4860::8888', 'public'],
    ['2606:4700:4700::1111', 'public'],
    ['4000::1', 'reserved'],
    ['localhost', 'invalid'],
    ['1.2.3', 'invalid'],
    ['', 'invalid'],
    ['::ffff:999.0.0.1', 'invalid'],
  ];
  it.each(cases)('%s is %s', (address, expected) => {
    expect(classifyAddress(address)).toBe(expected);
  });

  it('allows only public addresses, and loopback on request', () => {
    expect(isFetchableAddress('8.8.8.8')).toBe(true);
    expect(isFetchableAddress('127.0.0.1')).toBe(false);
    expect(isFetchableAddress('127.0.0.1', { allowLoopback: true })).toBe(true);
    expect(isFetchableAddress('::ffff:127.0.0.1', { allowLoopback: true })).toBe(true);
    expect(isFetchableAddress('169.254.169.254', { allowLoopback: true })).toBe(false);
    expect(isFetchableAddress('10.0.0.1', { allowLoopback: true })).toBe(false);
  });
});

describe('resolveFetchTarget (no connection is made)', () => {
  const resolve = fakeResolver({
    'metadata.test': ['169.254.169.254'],
    'private.test': ['10.0.0.1'],
    'mixed.test': ['93.184.216.34', '10.0.0.1'],
    'v6loop.test': ['::1'],
    'mapped.test': ['::ffff:169.254.169.254'],
    'ula.test': ['fd00:ec2::254'],
    'public.test': ['93.184.216.34', '2606:4700:4700::1111'],
    'loop.test': ['127.0.0.1'],
  });

  it('refuses names resolving to link-local, private, loopback or mapped addresses', async () => {
    for (const host of ['metadata', 'private', 'mixed', 'v6loop', 'mapped', 'ula', 'loop']) {
      const err = await failure(
        resolveFetchTarget(new URL(`https://${host}.test/keys`), { resolve }),
      );
      expect(err.failure).toBe('forbidden-address');
      expect(err.transient).toBe(false);
    }
  });

  it('refuses address literals without resolving', async () => {
    for (const url of [
      'https://169.254.169.254/latest/meta-data/',
      'https://10.0.0.1/keys',
      'https://[::1]/keys',
      'https://[::ffff:a9fe:a9fe]/keys',
      'https://[fe80::1]/keys',
      'https://0x7f.1/keys',
      'https://2130706433/keys',
    ]) {
      const err = await failure(resolveFetchTarget(new URL(url), { resolve }));
      expect(err.failure).toBe('forbidden-address');
    }
  });

  it('accepts public names and keeps every checked address', async () => {
    const target = await resolveFetchTarget(new URL('https://public.test/keys'), { resolve });
    expect(target.addresses.map((a) => a.address)).toEqual([
      '93.184.216.34',
      '2606:4700:4700::1111',
    ]);
  });

  it('refuses http (except to loopback when allowed), credentials and other schemes', async () => {
    expect(
      (await failure(resolveFetchTarget(new URL('http://public.test/'), { resolve }))).failure,
    ).toBe('url');
    const httpPublic = resolveFetchTarget(new URL('http://public.test/'), {
      resolve,
      allowLoopback: true,
    });
    expect((await failure(httpPublic)).failure).toBe('url');
    const creds = resolveFetchTarget(new URL('https://u:p@public.test/'), { resolve });
    expect((await failure(creds)).failure).toBe('url');
    const file = resolveFetchTarget(new URL('file:///etc/passwd'), { resolve });
    expect((await failure(file)).failure).toBe('url');
    const ok = await resolveFetchTarget(new URL('http://loop.test/'), {
      resolve,
      allowLoopback: true,
    });
    expect(ok.addresses).toEqual([{ address: '127.0.0.1', family: 4 }]);
  });

  it('reports resolution failures as transient', async () => {
    const err = await failure(resolveFetchTarget(new URL('https://missing.test/'), { resolve }));
    expect(err.failure).toBe('dns');
    expect(err.transient).toBe(true);
  });
});

describe('guardedGet against a loopback server', () => {
  let server: TestServer;
  let target: TestServer;
  beforeAll(async () => {
    server = await startServer();
    target = await startServer();
  });
  afterAll(async () => {
    await server.close();
    await target.close();
  });
  const base = (): string => `http://127.0.0.1:${server.port}`;

  it('fetches a 200 body', async () => {
    server.handle = (_req, res) => res.end('{"ok":true}');
    const res = await guardedGet(`${base()}/doc`, { allowLoopback: true });
    expect(res.body.toString()).toBe('{"ok":true}');
  });

  it('refuses localhost without allowLoopback: the server is never contacted', async () => {
    const before = server.requests.length;
    const err = await failure(guardedGet(`https://localhost:${server.port}/doc`));
    expect(err.failure).toBe('forbidden-address');
    const viaHttp = await failure(guardedGet(`http://localhost:${server.port}/doc`));
    expect(viaHttp.failure).toBe('url');
    expect(server.requests.length).toBe(before);
  });

  it('connects to the checked address only (no second resolution: DNS rebinding)', async () => {
    let calls = 0;
    const rebinding: ResolveAll = () => {
      calls += 1;
      // First answer passes the check; any later answer would point inside the network.
      const address = calls === 1 ? '127.0.0.1' : '10.0.0.1';
      return Promise.resolve([{ address, family: 4 }]);
    };
    server.handle = (_req, res) => res.end('pinned');
    const res = await guardedGet(`http://idp.test:${server.port}/doc`, {
      allowLoopback: true,
      resolve: rebinding,
    });
    expect(res.body.toString()).toBe('pinned');
    expect(calls).toBe(1);
    expect(server.requests.at(-1)?.host).toBe(`idp.test:${server.port}`);
  });

  it('refuses redirects and never follows them', async () => {
    for (const status of [301, 302, 307, 308]) {
      server.handle = (_req, res) => {
        res.statusCode = status;
        res.setHeader('location', `http://127.0.0.1:${target.port}/keys`);
        res.end();
      };
      const err = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true }));
      expect(err.failure).toBe('redirect');
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(target.requests).toHaveLength(0);
  });

  it('caps the body, with and without Content-Length', async () => {
    const big = 'x'.repeat(300 * 1024);
    server.handle = (_req, res) => res.end(big);
    const declared = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true }));
    expect(declared.failure).toBe('too-large');
    server.handle = (_req, res) => {
      res.setHeader('transfer-encoding', 'chunked');
      for (let i = 0; i < 30; i += 1) res.write('y'.repeat(10 * 1024));
      res.end();
    };
    const streamed = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true }));
    expect(streamed.failure).toBe('too-large');
    const small = await guardedGet(`${base()}/doc`, { allowLoopback: true, maxBytes: 400 * 1024 });
    expect(small.body.length).toBe(300 * 1024);
  });

  it('refuses compressed bodies', async () => {
    server.handle = (_req, res) => {
      res.setHeader('content-encoding', 'gzip');
      res.end('not really gzip');
    };
    const err = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true }));
    expect(err.failure).toBe('encoding');
  });

  it('classifies statuses: 5xx and 429 transient, 4xx not', async () => {
    for (const [status, transient] of [
      [500, true],
      [503, true],
      [429, true],
      [404, false],
      [403, false],
    ] as const) {
      server.handle = (_req, res) => {
        res.statusCode = status;
        res.end();
      };
      const err = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true }));
      expect(err.failure).toBe('status');
      expect(err.transient).toBe(transient);
    }
  });

  it('times out a hanging server within the deadline', async () => {
    server.handle = () => undefined; // never answers
    const started = Date.now();
    const err = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true, timeoutMs: 300 }));
    expect(err.failure).toBe('timeout');
    expect(err.transient).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('times out a body that trickles forever', async () => {
    server.handle = (_req, res) => {
      res.write('{');
    };
    const err = await failure(guardedGet(`${base()}/doc`, { allowLoopback: true, timeoutMs: 300 }));
    expect(err.failure).toBe('timeout');
  });

  it('reports a refused connection as a transient network failure', async () => {
    const gone = await startServer();
    const port = gone.port;
    await gone.close();
    const err = await failure(guardedGet(`http://127.0.0.1:${port}/doc`, { allowLoopback: true }));
    expect(err.failure).toBe('network');
    expect(err.transient).toBe(true);
  });
});
