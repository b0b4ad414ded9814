/**
 * The pod's service-account token as the agent sees it: parsed but never verified (EKS Auth
 * verifies it), checked only for `exp` and `nbf`, as upstream does with golang-jwt's
 * `ParseUnverified` + `Validator.Validate` (`internal/validation/request.go`). Tokens are secrets:
 * only a digest prefix ({@link tokenId}) is ever logged.
 */
import * as crypto from 'node:crypto';
import { AgentRequestError } from './errors.js';

/** The times read from a token that passed the parse. */
export interface TokenTimes {
  /** `exp` in ms since the epoch, truncated to whole seconds as golang-jwt does. */
  expiresAtMs?: number;
  /** `nbf` in ms since the epoch, truncated to whole seconds. */
  notBeforeMs?: number;
}

/** `alg` values golang-jwt v5 knows; any other makes `ParseUnverified` fail. */
const KNOWN_ALGORITHMS: ReadonlySet<string> = new Set([
  'HS256',
  'HS384',
  'HS512',
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'none',
]);

const BASE64URL = /^[A-Za-z0-9_-]*$/;
/** What Go's `json.Number` accepts (a JSON number, possibly given as a string). */
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

const CANNOT_PARSE = 'Service account token cannot be parsed: ';
const FAILED_CLAIMS = 'Service account token failed basic claim validations: ';

/**
 * Parses a token the way the agent must before calling EKS Auth, and returns its `exp`/`nbf`.
 * Throws {@link AgentRequestError} (400) with upstream's message when the token is empty or
 * cannot be parsed (three base64url segments, a JSON object header with a known `alg`, JSON
 * claims of the registered types).
 *
 * @example
 * ```ts
 * const times = parsePodToken(req.headers.authorization ?? '');
 * checkTokenTimes(times, Date.now()); // throws 400 "… token is expired"
 * ```
 */
export function parsePodToken(token: string): TokenTimes {
  if (token === '') throw new AgentRequestError(400, 'Service account token cannot be empty');
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw malformed('token contains an invalid number of segments');
  }
  const header = decodeJsonSegment(token.slice(0, first), 'header');
  const times = readRegisteredClaims(decodeJsonSegment(token.slice(first + 1, second), 'claim'));
  // golang-jwt looks the signing method up after decoding the claims.
  const alg = isObject(header) ? header.alg : undefined;
  if (typeof alg !== 'string') throw unverifiable('signing method (alg) is unspecified');
  if (!KNOWN_ALGORITHMS.has(alg)) throw unverifiable('signing method (alg) is unavailable');
  return times;
}

/**
 * Throws {@link AgentRequestError} (400) when `now` is at or past `exp`, or before `nbf` (no
 * leeway, as golang-jwt's default validator).
 */
export function checkTokenTimes(times: TokenTimes, nowMs: number): void {
  const problems: string[] = [];
  if (times.expiresAtMs !== undefined && !(nowMs < times.expiresAtMs)) {
    problems.push('token is expired');
  }
  if (times.notBeforeMs !== undefined && nowMs < times.notBeforeMs) {
    problems.push('token is not valid yet');
  }
  if (problems.length > 0) throw new AgentRequestError(400, FAILED_CLAIMS + problems.join(', '));
}

/** True when {@link checkTokenTimes} would pass (the cache-hit fast path). */
export function tokenTimesValid(times: TokenTimes, nowMs: number): boolean {
  return (
    (times.expiresAtMs === undefined || nowMs < times.expiresAtMs) &&
    (times.notBeforeMs === undefined || nowMs >= times.notBeforeMs)
  );
}

/** `crypto.hash` (Node ≥ 20.12): half the cost of `createHash` on the hot path. */
const oneShotHash = (crypto as { hash?: (alg: string, data: string, enc: 'base64url') => string })
  .hash;

/**
 * A token's SHA-256 (base64url): the key of its EKS Auth call in flight, and the source of the
 * only token identifier ever logged ({@link tokenId}).
 */
export function tokenDigest(token: string): string {
  return oneShotHash === undefined
    ? crypto.createHash('sha256').update(token, 'utf8').digest('base64url')
    : oneShotHash('sha256', token, 'base64url');
}

/** A short, stable identifier of a token for logs: the first 12 characters of its digest. */
export function tokenId(digest: string): string {
  return digest.slice(0, 12);
}

/** Length of {@link tokenIndex}: 43 base64url characters, 258 bits of a signature. */
const INDEX_LENGTH = 43;

/**
 * Where a token's entry is filed in the cache: its last 43 characters, the end of its signature.
 * A hit is then confirmed by comparing the whole token, so the index only has to be cheap and
 * spread well: hashing a 1 KB header value (V8's string hash or SHA-256) costs 2–3 µs, a cache
 * hit's whole budget.
 */
export function tokenIndex(token: string): string {
  return token.length <= INDEX_LENGTH ? token : token.slice(-INDEX_LENGTH);
}

function decodeJsonSegment(segment: string, what: 'header' | 'claim'): unknown {
  // Go's RawURLEncoding skips CR and LF, refuses padding and any other character.
  const clean = segment.replace(/[\r\n]/g, '');
  if (!BASE64URL.test(clean) || clean.length % 4 === 1) {
    const bad = clean.search(/[^A-Za-z0-9_-]/);
    const at = bad >= 0 ? bad : clean.length - 1;
    throw malformed(`could not base64 decode ${what}: illegal base64 data at input byte ${at}`);
  }
  const text = Buffer.from(clean, 'base64url').toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed(`could not JSON decode ${what}: invalid JSON`);
  }
}

/**
 * Reads the claims golang-jwt's `RegisteredClaims` decodes, with its type rules: `iss`, `sub`,
 * `jti` strings; `aud` a string or an array of strings; `exp`, `nbf`, `iat` numbers (a numeric
 * string is accepted, as Go's `json.Number` does). Go matches field names case-insensitively.
 */
function readRegisteredClaims(claims: unknown): TokenTimes {
  if (claims === null) return {};
  if (!isObject(claims)) throw malformed('could not JSON decode claim: not an object');
  const times: TokenTimes = {};
  for (const [name, value] of Object.entries(claims)) {
    const field = name.toLowerCase();
    if (value === null) continue;
    switch (field) {
      case 'iss':
      case 'sub':
      case 'jti':
        if (typeof value !== 'string') throw wrongType(field);
        break;
      case 'aud':
        if (
          typeof value !== 'string' &&
          !(Array.isArray(value) && value.every((v) => typeof v === 'string'))
        ) {
          throw wrongType(field);
        }
        break;
      case 'exp':
        times.expiresAtMs = numericDateMs(value, field);
        break;
      case 'nbf':
        times.notBeforeMs = numericDateMs(value, field);
        break;
      case 'iat':
        numericDateMs(value, field);
        break;
    }
  }
  return times;
}

function numericDateMs(value: unknown, field: string): number {
  let seconds: number;
  if (typeof value === 'number') seconds = value;
  else if (typeof value === 'string' && JSON_NUMBER.test(value)) seconds = Number(value);
  else throw wrongType(field);
  if (!Number.isFinite(seconds)) throw wrongType(field);
  // golang-jwt truncates NumericDate to whole seconds.
  return Math.trunc(seconds) * 1000;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function malformed(detail: string): AgentRequestError {
  return new AgentRequestError(400, `${CANNOT_PARSE}token is malformed: ${detail}`);
}

function unverifiable(detail: string): AgentRequestError {
  return new AgentRequestError(400, `${CANNOT_PARSE}token is unverifiable: ${detail}`);
}

function wrongType(field: string): AgentRequestError {
  return malformed(`could not JSON decode claim: invalid type for claim ${field}`);
}
