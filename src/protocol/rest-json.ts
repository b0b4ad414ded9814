/**
 * REST-JSON (EKS, EKS Auth, Latchkey's own API): routes by method and path template, JSON in
 * and out; errors as the `x-amzn-ErrorType` header and a `{ "__type", "message" }` body, the
 * way the AWS SDKs read them. The one place REST-JSON errors become bytes.
 */
import type { AuditNotes } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { AwsError } from '../errors/index.js';

/** Query-protocol authentication codes and their REST-JSON names. */
const JSON_ERROR_CODES: Partial<Record<string, string>> = {
  InvalidClientTokenId: 'UnrecognizedClientException',
  MissingAuthenticationToken: 'MissingAuthenticationTokenException',
  SignatureDoesNotMatch: 'InvalidSignatureException',
  IncompleteSignature: 'IncompleteSignatureException',
  AccessDenied: 'AccessDeniedException',
  ExpiredToken: 'ExpiredTokenException',
  RequestExpired: 'InvalidSignatureException',
  InternalFailure: 'ServerException',
  ValidationError: 'InvalidParameterException',
};

/** What a REST-JSON handler is given. */
export interface RestCall {
  principal: Principal;
  /** Path parameters, decoded. */
  params: Readonly<Record<string, string>>;
  query: URLSearchParams;
  /** The JSON body ({} when empty). */
  body: Readonly<Record<string, unknown>>;
  requestId: string;
  sourceIp: string;
  /** What the handler adds to its call's audit record. */
  audit: AuditNotes;
}

/**
 * One operation: a method, a path template such as `/clusters/{name}`, and its handler. For
 * the AWS JSON protocol (CloudTrail), the operation is named by the `X-Amz-Target` header
 * instead: `POST /` with `target` set.
 */
export interface RestRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** `X-Amz-Target` of an AWS JSON protocol operation, e.g. `CloudTrail_20131101.LookupEvents`. */
  target?: string;
  operation: string;
  handler: (call: RestCall) => Promise<unknown>;
}

/** A REST-JSON service, selected by its SigV4 signing name. */
export interface RestService {
  signingName: string;
  routes: RestRoute[];
}

/** A route and the path parameters it matched. */
export interface RouteMatch {
  route: RestRoute;
  params: Record<string, string>;
}

/** Finds the route for a method, raw (percent-encoded) path and `X-Amz-Target`, if any. */
export function matchRoute(
  service: RestService,
  method: string,
  rawPath: string,
  target?: string,
): RouteMatch | undefined {
  const parts = rawPath.split('/');
  for (const route of service.routes) {
    if (route.method !== method) continue;
    if (route.target !== undefined) {
      // AWS JSON: the target names the operation; SDKs send the full shape id or its tail.
      const named = target === route.target || target?.endsWith(`.${route.target}`) === true;
      if (named && rawPath === '/') return { route, params: {} };
      continue;
    }
    const template = route.path.split('/');
    if (template.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < template.length && ok; i++) {
      const t = template[i] ?? '';
      const p = parts[i] ?? '';
      if (t.startsWith('{') && t.endsWith('}')) {
        try {
          params[t.slice(1, -1)] = decodeURIComponent(p);
        } catch {
          ok = false;
        }
        ok &&= p !== '';
      } else ok = t === p;
    }
    if (ok) return { route, params };
  }
  return undefined;
}

/** Parses a JSON object body; an empty body is `{}`. */
export function parseJsonBody(body: Buffer): Record<string, unknown> {
  if (body.length === 0) return {};
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      return value as Record<string, unknown>;
    }
  } catch {
    // fall through
  }
  throw new AwsError('ValidationError', 'The request body must be a JSON object.');
}

/** Headers and body of a REST-JSON error response. */
export function renderJsonError(
  err: AwsError,
  requestId: string,
): { status: number; headers: Record<string, string>; body: string } {
  const code = JSON_ERROR_CODES[err.code] ?? err.code;
  return {
    status: err.status,
    headers: {
      'content-type': 'application/json',
      'x-amzn-errortype': code,
      'x-amzn-requestid': requestId,
    },
    body: JSON.stringify({ __type: code, message: err.message }),
  };
}
