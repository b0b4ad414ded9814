import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import * as http from 'node:http';
import * as https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress } from './address-policy.js';

/** Resolves a host name to every address it has (the shape of `dns.lookup` with `all: true`). */
export type ResolveAll = (hostname: string) => Promise<LookupAddress[]>;

/** Why a guarded fetch failed. */
export type GuardedFetchFailure =
  | 'url'
  | 'forbidden-address'
  | 'dns'
  | 'redirect'
  | 'status'
  | 'encoding'
  | 'too-large'
  | 'timeout'
  | 'tls'
  | 'network';

/**
 * A guarded fetch failed. `transient` is true for failures worth retrying later (network,
 * timeout, DNS, 5xx/429); policy refusals (forbidden address, redirect, size cap…) are not.
 */
export class GuardedFetchError extends Error {
  override readonly name = 'GuardedFetchError';

  constructor(
    readonly failure: GuardedFetchFailure,
    message: string,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

/** Options shared by target resolution and the fetch. */
export interface FetchTargetOptions {
  /** Permit loopback addresses, and plain `http:` to them only. For tests and dev issuers. */
  allowLoopback?: boolean;
  /** Name resolution; defaults to `dns.lookup(host, { all: true, verbatim: true })`. */
  resolve?: ResolveAll;
}

/** A URL whose addresses have all been checked; connections go to these addresses only. */
export interface FetchTarget {
  url: URL;
  /** Host name without IPv6 brackets. */
  host: string;
  addresses: LookupAddress[];
}

const defaultResolve: ResolveAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses);
    });
  });

/**
 * Checks a URL and resolves its host, refusing anything but public addresses (plus loopback
 * when allowed). Every resolved address must pass: one private answer among public ones is
 * enough to refuse, since the socket could pick it.
 *
 * @example
 * const target = await resolveFetchTarget(new URL('https://oidc.example.com/keys'));
 * target.addresses; // [{ address: '93.184.216.34', family: 4 }]
 */
export async function resolveFetchTarget(
  url: URL,
  options: FetchTargetOptions = {},
): Promise<FetchTarget> {
  const allowLoopback = options.allowLoopback === true;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowLoopback)) {
    throw new GuardedFetchError('url', `scheme ${url.protocol} is not allowed`, false);
  }
  if (url.username !== '' || url.password !== '') {
    throw new GuardedFetchError('url', 'URLs with credentials are not allowed', false);
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  if (host === '') throw new GuardedFetchError('url', 'URL has no host', false);

  let addresses: LookupAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await (options.resolve ?? defaultResolve)(host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? 'error';
      throw new GuardedFetchError('dns', `cannot resolve ${host}: ${code}`, true);
    }
    if (addresses.length === 0) {
      throw new GuardedFetchError('dns', `${host} has no addresses`, true);
    }
  }
  for (const { address } of addresses) {
    const cls = classifyAddress(address);
    const allowed = cls === 'public' || (cls === 'loopback' && allowLoopback);
    if (!allowed) {
      throw new GuardedFetchError(
        'forbidden-address',
        `${host} resolves to ${address} (${cls}), which may not be fetched`,
        false,
      );
    }
    // Plain HTTP is only the dev/test allowance for loopback, never for a public address.
    if (url.protocol === 'http:' && cls !== 'loopback') {
      throw new GuardedFetchError('url', `http is only allowed to loopback, not ${address}`, false);
    }
  }
  return { url, host, addresses };
}

/** A lookup that always answers with the already-checked addresses (no second resolution). */
function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const family = options.family === 4 || options.family === 6 ? options.family : undefined;
    const usable = addresses.filter((a) => family === undefined || a.family === family);
    const first = usable[0];
    if (first === undefined) {
      const err: NodeJS.ErrnoException = new Error('no checked address of the requested family');
      err.code = 'ENOTFOUND';
      callback(err, '', undefined);
    } else if (options.all === true) {
      callback(null, usable);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

/** Options of {@link guardedGet}. */
export interface GuardedGetOptions extends FetchTargetOptions {
  /** Deadline for resolution, connection and the whole body, in milliseconds (default 5000). */
  timeoutMs?: number;
  /** Largest body accepted, in bytes (default 256 KiB). */
  maxBytes?: number;
  /** Extra trusted CA certificates (PEM) for HTTPS, e.g. a self-hosted cluster's CA. */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** A successful (HTTP 200) response of {@link guardedGet}. */
export interface GuardedResponse {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

export const DEFAULT_FETCH_TIMEOUT_MS = 5_000;
export const DEFAULT_MAX_BODY_BYTES = 256 * 1024;

/** Codes of certificate verification failures (OpenSSL verify codes and Node's TLS codes). */
const TLS_FAILURE = /CERT|SELF_SIGNED|ERR_TLS|ERR_SSL|UNABLE_TO_(GET|VERIFY)/;

/**
 * GETs a URL for an identity provider document with SSRF guards: https only (http to loopback
 * when allowed), DNS resolved and checked here and the connection pinned to the checked
 * addresses (no DNS-rebinding window), no redirects, no compression, a size cap and one deadline
 * for the whole exchange. Only HTTP 200 is a success.
 *
 * @example
 * const { body, headers } = await guardedGet('https://oidc.example.com/keys', { timeoutMs: 5000 });
 * const jwks = JSON.parse(body.toString('utf8'));
 */
export function guardedGet(
  input: string | URL,
  options: GuardedGetOptions = {},
): Promise<GuardedResponse> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BODY_BYTES;
  return new Promise<GuardedResponse>((resolve, reject) => {
    let settled = false;
    let request: http.ClientRequest | undefined;
    const fail = (err: GuardedFetchError): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request?.destroy();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        fail(new GuardedFetchError('timeout', `no complete response within ${timeoutMs} ms`, true)),
      timeoutMs,
    );

    let url: URL;
    try {
      url = new URL(input);
    } catch {
      fail(new GuardedFetchError('url', 'not an absolute URL', false));
      return;
    }
    resolveFetchTarget(url, options).then(
      (target) => {
        if (settled) return;
        const transport = url.protocol === 'https:' ? https : http;
        request = transport.request({
          protocol: url.protocol,
          host: target.host,
          port: url.port === '' ? undefined : Number(url.port),
          path: `${url.pathname}${url.search}`,
          method: 'GET',
          headers: {
            accept: 'application/json',
            'accept-encoding': 'identity',
            'user-agent': 'latchkey-oidc',
          },
          lookup: pinnedLookup(target.addresses),
          agent: false,
          ...(options.ca !== undefined ? { ca: options.ca } : {}),
        });
        request.on('response', (response) =>
          readBody(response, maxBytes, fail, (res) => {
            if (settled) return;
            settled = true;
            clearTimeout(timer);
            resolve(res);
          }),
        );
        request.on('error', (err: NodeJS.ErrnoException) => {
          const code = err.code ?? err.message;
          // A certificate that does not verify is a configuration problem, not an outage.
          if (TLS_FAILURE.test(code)) {
            fail(new GuardedFetchError('tls', `TLS verification failed: ${code}`, false));
          } else {
            fail(new GuardedFetchError('network', `request failed: ${code}`, true));
          }
        });
        request.end();
      },
      (err: unknown) =>
        fail(
          err instanceof GuardedFetchError
            ? err
            : new GuardedFetchError('network', 'resolution failed', true),
        ),
    );
  });
}

function readBody(
  response: IncomingMessage,
  maxBytes: number,
  fail: (err: GuardedFetchError) => void,
  done: (res: GuardedResponse) => void,
): void {
  const status = response.statusCode ?? 0;
  if (status >= 300 && status < 400) {
    // Never follow: a redirect could lead anywhere, including inside the network.
    fail(new GuardedFetchError('redirect', `redirect (HTTP ${status}) refused`, false));
    return;
  }
  if (status !== 200) {
    const transient = status >= 500 || status === 429 || status === 408;
    fail(new GuardedFetchError('status', `HTTP ${status}`, transient));
    return;
  }
  const encoding = response.headers['content-encoding'];
  if (encoding !== undefined && encoding.toLowerCase() !== 'identity') {
    // We asked for identity; a compressed body could be a decompression bomb.
    fail(new GuardedFetchError('encoding', `content-encoding ${encoding} refused`, false));
    return;
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    fail(
      new GuardedFetchError('too-large', `body of ${declared} bytes exceeds ${maxBytes}`, false),
    );
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > maxBytes) {
      fail(new GuardedFetchError('too-large', `body exceeds ${maxBytes} bytes`, false));
      return;
    }
    chunks.push(chunk);
  });
  response.on('end', () => done({ headers: response.headers, body: Buffer.concat(chunks) }));
  response.on('error', () => fail(new GuardedFetchError('network', 'response aborted', true)));
}
