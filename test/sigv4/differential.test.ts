/**
 * Differential test against the AWS SDK's signer: 10,000 random requests signed by
 * @smithy/signature-v4 all verify, and changing one byte of any signed part of each makes it fail.
 */
import { describe, expect, it } from 'vitest';
import {
  parseSignatureV4,
  SigV4Error,
  verifySignatureV4,
  type SigV4Request,
  type VerifyOptions,
} from '../../src/sigv4/index.js';
import {
  escapeUri,
  prng,
  sdkSign,
  sha256Hex,
  type Credentials,
  type SdkRequest,
} from './helpers.js';

const COUNT = 10_000;
const SEED = 20150830;

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];
const SERVICES = ['s3', 's3', 'sts', 'iam', 'service', 'execute-api'];
const REGIONS = ['us-east-1', 'eu-west-3', 'ap-southeast-2', 'local'];
/** Characters to build path segments, query names/values and header values from. */
const ALPHABET =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~ !"#$%&\'()*+,/:;<=>?@[\\]^`{|}';
const UNICODE = ['é', 'ሴ', '😀', 'ß', '\u00a0', '中文', 'Ω'];

type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
const int = (r: Rand, lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo + 1));

function text(r: Rand, max: number, allowUnicode = true): string {
  let s = '';
  for (let n = int(r, 0, max); n > 0; n--) {
    s += allowUnicode && r() < 0.08 ? pick(r, UNICODE) : pick(r, [...ALPHABET]);
  }
  return s;
}

/** A wire path. Its last segment is plain, so a changed byte there is never normalised away. */
function path(r: Rand, s3: boolean): string {
  const segments: string[] = [];
  for (let n = int(r, 0, 4); n > 0; n--) {
    const kind = r();
    if (!s3 && kind < 0.1) segments.push(pick(r, ['.', '..', '']));
    else if (!s3 && kind < 0.2) segments.push(pick(r, ["a!b$c'(d)*+,;=:@", 'x%7ey', '%41%2f%2F']));
    else segments.push(escapeUri(text(r, 8)));
  }
  segments.push(`k${int(r, 0, 999)}`);
  return '/' + segments.join('/') + (r() < 0.2 ? '/' : '');
}

function query(r: Rand): Record<string, string | string[]> {
  const q: Record<string, string | string[]> = {};
  for (let n = int(r, 0, 5); n > 0; n--) {
    const name = r() < 0.3 ? pick(r, ['a', 'A', 'a-b', 'list-type', 'Param1']) : text(r, 6) || 'p';
    const value = r() < 0.2 ? '' : text(r, 10);
    const prev = q[name];
    q[name] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return q;
}

interface Case {
  req: SigV4Request;
  secret: string;
  options: VerifyOptions;
}

async function randomCase(r: Rand, pool: Credentials[]): Promise<Case> {
  const service = pick(r, SERVICES);
  const s3 = service === 's3';
  const presign = r() < 0.35;
  const base = pick(r, pool);
  const credentials: Credentials =
    r() < 0.3 ? { ...base, sessionToken: `IQoJ${text(r, 40, false)}==/+` } : base;
  const headers: Record<string, string> = { host: pick(r, ['example.com', 'localhost:4566']) };
  const repeated = new Set<string>();
  for (let n = int(r, 0, 4); n > 0; n--) {
    const name = pick(r, ['x-amz-meta-a', 'x-custom', 'my-header1', 'content-type', 'x-odd']);
    // No leading/trailing whitespace: node:http strips it before anyone sees the value.
    const values = Array.from(
      { length: int(r, 1, 3) },
      () =>
        text(r, 12)
          .replace(/,/g, ';')
          .replace(/^\s+|\s+$/g, '') || 'v',
    );
    headers[name] = values.join(',');
    if (values.length > 1 && !name.startsWith('x-amz-')) repeated.add(name);
    else headers[name] = values.join(', ');
  }
  if (r() < 0.3) headers['user-agent'] = 'aws-sdk-js/3 ua'; // present, never signed
  const body = r() < 0.5 ? undefined : r() < 0.5 ? text(r, 200) : Buffer.from(text(r, 64));
  const unsigned = s3 && (presign || r() < 0.3);
  if (unsigned) headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
  const request: SdkRequest = {
    method: pick(r, METHODS),
    path: path(r, s3),
    query: query(r),
    headers,
    ...(body === undefined ? {} : { body }),
  };
  // Whole seconds: SigV4 timestamps have no milliseconds.
  const signingDate = new Date(Date.UTC(2015, 0, 1) + int(r, 0, 20 * 365 * 86_400) * 1000);
  const maxSkewSeconds = s3 ? 900 : 300;
  const expiresIn = int(r, 1, 604_800);
  const req = await sdkSign(request, {
    service,
    region: pick(r, REGIONS),
    credentials,
    signingDate,
    repeatedHeaders: repeated,
    ...(presign
      ? {
          presign: {
            expiresIn,
            ...(unsigned ? { unhoistableHeaders: new Set(['x-amz-content-sha256']) } : {}),
          },
        }
      : {}),
  });
  const offset = presign ? int(r, 0, expiresIn) : int(r, -maxSkewSeconds, maxSkewSeconds);
  return {
    req,
    secret: credentials.secretAccessKey,
    options: {
      now: signingDate.getTime() + offset * 1000,
      maxSkewSeconds,
      payloadHash: unsigned ? 'UNSIGNED-PAYLOAD' : sha256Hex(body ?? ''),
      uriEscapePath: !s3,
    },
  };
}

function verify(c: Case): void {
  const parsed = parseSignatureV4(c.req);
  if (parsed === null) throw new Error('not signed');
  verifySignatureV4(c.req, parsed, c.secret, c.options);
}

/** Changes one alphanumeric character (or appends one to an empty string). */
function changeOneByte(s: string, r: Rand, from = 0): string {
  const positions: number[] = [];
  for (let i = from; i < s.length; i++) if (/[A-Za-z0-9]/.test(s[i]!)) positions.push(i);
  if (positions.length === 0) return s + 'x';
  const i = pick(r, positions);
  const c = s[i]!;
  const next =
    c === '9' ? '0' : c === 'z' ? 'a' : c === 'Z' ? 'A' : String.fromCharCode(c.charCodeAt(0) + 1);
  return s.slice(0, i) + next + s.slice(i + 1);
}

/** Changes one hex digit, staying hex. */
function changeOneHexDigit(s: string, r: Rand): string {
  const i = int(r, 0, s.length - 1);
  const next = '0123456789abcdef'[(parseInt(s[i]!, 16) + 1) % 16]!;
  return s.slice(0, i) + next + s.slice(i + 1);
}

type Mutation = (c: Case, r: Rand) => Case | undefined;

const withHeaders = (c: Case, headers: SigV4Request['headers']): Case => ({
  ...c,
  req: { ...c.req, headers },
});

const MUTATIONS: Record<string, Mutation> = {
  method: (c) => ({ ...c, req: { ...c.req, method: c.req.method === 'GET' ? 'PUT' : 'GET' } }),
  path: (c, r) => ({
    ...c,
    req: { ...c.req, path: changeOneByte(c.req.path, r, c.req.path.lastIndexOf('/k')) },
  }),
  'query value': (c, r) => {
    const parts = c.req.query === '' ? [] : c.req.query.split('&');
    const candidates = parts
      .map((p, i) => [p, i] as const)
      .filter(([p]) => !p.startsWith('X-Amz-Signature='));
    if (candidates.length === 0) return { ...c, req: { ...c.req, query: 'x=1' } };
    const [part, i] = pick(r, candidates);
    const eq = part.indexOf('=');
    parts[i] = eq < 0 ? part + '=x' : part.slice(0, eq + 1) + changeOneByte(part.slice(eq + 1), r);
    return { ...c, req: { ...c.req, query: parts.join('&') } };
  },
  'signed header': (c, r) => {
    const parsed = parseSignatureV4(c.req)!;
    const name = pick(r, parsed.signedHeaders);
    const value = c.req.headers[name];
    const changed = Array.isArray(value)
      ? value.map((v, i) => (i === 0 ? changeOneByte(v, r) : v))
      : changeOneByte(value ?? '', r);
    return withHeaders(c, { ...c.req.headers, [name]: changed });
  },
  payload: (c, r) => ({
    ...c,
    options: {
      ...c.options,
      payloadHash:
        c.options.payloadHash === 'UNSIGNED-PAYLOAD'
          ? sha256Hex('')
          : changeOneHexDigit(c.options.payloadHash, r),
    },
  }),
  signature: (c, r) => {
    const parsed = parseSignatureV4(c.req)!;
    const bad = changeOneHexDigit(parsed.signature, r);
    if (parsed.kind === 'presigned') {
      return { ...c, req: { ...c.req, query: c.req.query.replace(parsed.signature, bad) } };
    }
    const auth = String(c.req.headers.authorization).replace(parsed.signature, bad);
    return withHeaders(c, { ...c.req.headers, authorization: auth });
  },
  date: (c) => {
    const parsed = parseSignatureV4(c.req)!;
    const later = parsed.amzDate.replace(/(\d)Z$/, (_m, d: string) => `${(Number(d) + 1) % 10}Z`);
    if (parsed.kind === 'presigned') {
      return { ...c, req: { ...c.req, query: c.req.query.replace(parsed.amzDate, later) } };
    }
    return withHeaders(c, { ...c.req.headers, 'x-amz-date': later });
  },
};

describe('differential: @smithy/signature-v4 signs, we verify', () => {
  it(`verifies ${COUNT} random SDK-signed requests and rejects every one-byte change`, async () => {
    const r = prng(SEED);
    const pool: Credentials[] = Array.from({ length: 64 }, (_, i) => ({
      accessKeyId: `AKIA${String(i).padStart(16, '0')}`,
      secretAccessKey: text(r, 40, false).padEnd(40, 'k'),
    }));
    const kinds = { header: 0, presigned: 0, s3: 0, token: 0 };
    const rejected: Record<string, number> = {};
    for (let i = 0; i < COUNT; i++) {
      const c = await randomCase(r, pool);
      const parsed = parseSignatureV4(c.req)!;
      kinds[parsed.kind]++;
      if (c.options.uriEscapePath === false) kinds.s3++;
      if (parsed.securityToken !== undefined) kinds.token++;
      try {
        verify(c);
      } catch (err) {
        throw new Error(`case ${i} did not verify: ${JSON.stringify(c)}`, { cause: err });
      }
      for (const [name, mutate] of Object.entries(MUTATIONS)) {
        const bad = mutate(c, r);
        if (bad === undefined) continue;
        let error: unknown;
        try {
          verify(bad);
        } catch (err) {
          error = err;
        }
        if (!(error instanceof SigV4Error)) {
          throw new Error(`case ${i}: changed ${name} was accepted: ${JSON.stringify(bad)}`, {
            cause: error,
          });
        }
        rejected[name] = (rejected[name] ?? 0) + 1;
      }
    }
    // Every kind of request and every mutation was exercised.
    expect(kinds.header).toBeGreaterThan(COUNT * 0.5);
    expect(kinds.presigned).toBeGreaterThan(COUNT * 0.25);
    expect(kinds.s3).toBeGreaterThan(COUNT * 0.25);
    expect(kinds.token).toBeGreaterThan(COUNT * 0.2);
    for (const name of Object.keys(MUTATIONS)) expect(rejected[name]).toBe(COUNT);
  });
});
