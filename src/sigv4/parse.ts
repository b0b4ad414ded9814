/**
 * Reads a SigV4 signature out of a request — `Authorization` header or presigned query — and
 * checks everything that needs no key: syntax, the request date, `host` being signed and the
 * credential scope's terminator and date. Messages are IAM/STS's (header form) and S3's
 * (presigned form, which is mostly an S3 feature).
 */
import { httpDateToAmzDate, parseAmzDate } from './amz-date.js';
import { headerValue } from './canonical.js';
import { SigV4Error, incomplete, type SigV4FailureReason } from './errors.js';
import type { ParsedSignatureV4, SigV4Request } from './types.js';

const ALGORITHM = 'AWS4-HMAC-SHA256';
const TERMINATOR = 'aws4_request';
/** A week: the longest a presigned URL may live (the signing key's own lifetime). */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;
/** Query parameters whose presence makes a request presigned. */
const PRESIGN_MARKERS = [
  'X-Amz-Algorithm',
  'X-Amz-Credential',
  'X-Amz-Signature',
  'X-Amz-SignedHeaders',
];

const MULTIPLE_AUTH =
  'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query ' +
  'string parameter or the Authorization header should be specified';
const PRESIGN_REQUIRES =
  'Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, ' +
  'X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.';

/**
 * Parses a request's SigV4 signature. Returns null when the request carries no SigV4
 * authentication at all (anonymous: the caller decides, e.g. `MissingAuthenticationToken`).
 * Throws {@link SigV4Error} (`IncompleteSignature`, or `SignatureDoesNotMatch` for a bad
 * credential scope or an unsigned `host`) when it is malformed. Does not need the secret.
 *
 * @example
 * ```ts
 * const parsed = parseSignatureV4(req);
 * if (parsed === null) throw new AwsError('MissingAuthenticationToken', 'Request is missing Authentication Token');
 * const secret = await lookUp(parsed.accessKeyId, parsed.securityToken);
 * ```
 */
export function parseSignatureV4(req: SigV4Request): ParsedSignatureV4 | null {
  const authorization = headerValue(req.headers, 'authorization');
  const params = req.query === '' ? undefined : authQueryParams(req.query);
  if (params !== undefined && PRESIGN_MARKERS.some((name) => params.has(name))) {
    if (authorization !== undefined) throw incomplete(MULTIPLE_AUTH, 'multiple-auth');
    return parsePresigned(req, params);
  }
  if (authorization === undefined) return null;
  return parseAuthorizationHeader(req, authorization);
}

function parseAuthorizationHeader(req: SigV4Request, authorization: string): ParsedSignatureV4 {
  const space = authorization.search(/\s/);
  const algorithm = space < 0 ? authorization : authorization.slice(0, space);
  const xAmzDate = headerValue(req.headers, 'x-amz-date');
  const rawDate = xAmzDate ?? headerValue(req.headers, 'date');

  if (algorithm !== ALGORITHM) {
    if (algorithm.startsWith('AWS4-')) {
      throw incomplete(`Unsupported AWS 'algorithm': '${algorithm}'.`, 'unsupported-authorization');
    }
    // Bearer, Basic, SigV2 (`AWS key:sig`), a bare token: AWS lists what a SigV4 header needs.
    const missing = requirements(new Map(), rawDate);
    throw incomplete(
      `${missing.join(' ')} Authorization=${authorization}`,
      'unsupported-authorization',
    );
  }

  const components = new Map<string, string>();
  const rest = space < 0 ? '' : authorization.slice(space + 1);
  for (const token of rest.split(/[\s,]+/)) {
    if (token === '') continue;
    const eq = token.indexOf('=');
    if (eq < 0) {
      throw incomplete(
        `'${token}' not a valid key=value pair (missing equal-sign) in Authorization header: '${authorization}'`,
        'malformed-authorization',
      );
    }
    const name = token.slice(0, eq);
    if (!components.has(name)) components.set(name, token.slice(eq + 1));
  }
  const missing = requirements(components, rawDate);
  if (missing.length > 0) {
    const onlyDate = missing.length === 1 && rawDate === undefined;
    throw incomplete(
      `${missing.join(' ')} Authorization=${authorization}`,
      onlyDate ? 'missing-date' : 'malformed-authorization',
    );
  }

  const credentialText = components.get('Credential')!;
  const credential = splitCredential(credentialText);
  if (credential === undefined) {
    throw incomplete(
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credentialText}'`,
      'malformed-credential',
    );
  }
  const signedHeaders = splitSignedHeaders(components.get('SignedHeaders')!);
  requireHost(signedHeaders);

  const amzDate = xAmzDate !== undefined ? xAmzDate : (httpDateToAmzDate(rawDate!) ?? rawDate!);
  if (Number.isNaN(parseAmzDate(amzDate))) {
    throw incomplete(
      `Date must be in ISO-8601 'basic format'. Got '${rawDate!}'. See http://en.wikipedia.org/wiki/ISO_8601`,
      'malformed-date',
    );
  }
  checkScope(credential, amzDate);

  const parsed: ParsedSignatureV4 = {
    kind: 'header',
    accessKeyId: credential.accessKeyId,
    date: credential.date,
    region: credential.region,
    service: credential.service,
    signedHeaders,
    signature: components.get('Signature')!,
    amzDate,
  };
  const token = headerValue(req.headers, 'x-amz-security-token');
  if (token !== undefined) parsed.securityToken = token;
  const declared = headerValue(req.headers, 'x-amz-content-sha256');
  if (declared !== undefined) parsed.declaredPayloadHash = declared;
  return parsed;
}

/** AWS's sentences for what an `Authorization` header lacks (empty when complete). */
function requirements(components: ReadonlyMap<string, string>, date: string | undefined): string[] {
  const missing: string[] = [];
  for (const name of ['Credential', 'Signature', 'SignedHeaders']) {
    if (!components.get(name)) missing.push(`Authorization header requires '${name}' parameter.`);
  }
  if (date === undefined) {
    missing.push(
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  return missing;
}

function parsePresigned(req: SigV4Request, params: ReadonlyMap<string, string>): ParsedSignatureV4 {
  const algorithm = params.get('X-Amz-Algorithm');
  const credentialText = params.get('X-Amz-Credential');
  const signature = params.get('X-Amz-Signature');
  const amzDate = params.get('X-Amz-Date');
  const signedHeadersText = params.get('X-Amz-SignedHeaders');
  const expiresText = params.get('X-Amz-Expires');
  if (
    algorithm === undefined ||
    credentialText === undefined ||
    signature === undefined ||
    amzDate === undefined ||
    signedHeadersText === undefined ||
    expiresText === undefined
  ) {
    throw incomplete(PRESIGN_REQUIRES, 'malformed-presign');
  }
  if (algorithm !== ALGORITHM) {
    throw incomplete(`X-Amz-Algorithm only supports "${ALGORITHM}"`, 'malformed-presign');
  }
  const credential = splitCredential(credentialText);
  if (credential === undefined) {
    throw incomplete(
      'Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; ' +
        'expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request".',
      'malformed-credential',
    );
  }
  if (Number.isNaN(parseAmzDate(amzDate))) {
    throw incomplete(
      `X-Amz-Date must be in the ISO8601 Long Format "yyyyMMdd'T'HHmmss'Z'"`,
      'malformed-date',
    );
  }
  const expiresSeconds = parseExpires(expiresText);
  const signedHeaders = splitSignedHeaders(signedHeadersText);
  requireHost(signedHeaders);
  checkScope(credential, amzDate);

  const parsed: ParsedSignatureV4 = {
    kind: 'presigned',
    accessKeyId: credential.accessKeyId,
    date: credential.date,
    region: credential.region,
    service: credential.service,
    signedHeaders,
    signature,
    amzDate,
    declaredPayloadHash:
      params.get('X-Amz-Content-Sha256') ??
      headerValue(req.headers, 'x-amz-content-sha256') ??
      'UNSIGNED-PAYLOAD',
    expiresSeconds,
  };
  const token = params.get('X-Amz-Security-Token');
  if (token !== undefined) parsed.securityToken = token;
  return parsed;
}

function parseExpires(text: string): number {
  if (!/^-?\d+$/.test(text)) {
    throw incomplete('X-Amz-Expires should be a number', 'invalid-expires');
  }
  const seconds = Number(text);
  if (seconds < 0) throw incomplete('X-Amz-Expires must be non-negative', 'invalid-expires');
  if (seconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw incomplete(
      'X-Amz-Expires must be less than a week (in seconds); that is, the given X-Amz-Expires ' +
        `must be less than ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds`,
      'invalid-expires',
    );
  }
  return seconds;
}

/**
 * The `X-Amz-*` query parameters, percent-decoded (`+` stays a plus: SDKs encode a space as
 * `%20`). The first occurrence of a name wins; every occurrence is still signed.
 */
function authQueryParams(query: string): Map<string, string> | undefined {
  let params: Map<string, string> | undefined;
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const name = decode(eq < 0 ? part : part.slice(0, eq));
    if (!name.startsWith('X-Amz-')) continue;
    params ??= new Map();
    if (!params.has(name)) params.set(name, eq < 0 ? '' : decode(part.slice(eq + 1)));
  }
  return params;
}

function decode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a broken escape: keep the raw text, the signature check decides
  }
}

interface Credential {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  terminator: string;
}

function splitCredential(text: string): Credential | undefined {
  const parts = text.split('/');
  if (parts.length !== 5 || parts[0] === '') return undefined;
  const [accessKeyId = '', date = '', region = '', service = '', terminator = ''] = parts;
  return { accessKeyId, date, region, service, terminator };
}

function splitSignedHeaders(text: string): string[] {
  return text.split(';').map((name) => name.toLowerCase());
}

function requireHost(signedHeaders: readonly string[]): void {
  if (!signedHeaders.includes('host') && !signedHeaders.includes(':authority')) {
    throw new SigV4Error(
      'SignatureDoesNotMatch',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
      'host-not-signed',
    );
  }
}

/** Terminator and date of the scope; region and service are the verifier's (it knows them). */
function checkScope(credential: Credential, amzDate: string): void {
  const problems: string[] = [];
  let reason: SigV4FailureReason | undefined;
  if (credential.terminator !== TERMINATOR) {
    problems.push(
      `Credential should be scoped with a valid terminator: '${TERMINATOR}', not '${credential.terminator}'.`,
    );
    reason = 'scope-terminator';
  }
  const day = amzDate.slice(0, 8);
  if (credential.date !== day) {
    problems.push(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: ` +
        `'${credential.date}' != '${day}', from '${amzDate}'.`,
    );
    reason ??= 'scope-date';
  }
  if (reason !== undefined) {
    throw new SigV4Error('SignatureDoesNotMatch', problems.join(' '), reason);
  }
}
