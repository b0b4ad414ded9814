/**
 * The AWS Query protocol (IAM, STS): form-encoded parameters in, XML out. This module is the
 * one place that turns results and {@link AwsError}s into Query XML.
 */
import type { AuditNotes } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import { AwsError } from '../errors/index.js';

/** A value a Query result may hold. Arrays render as `<member>` lists, Dates as ISO-8601. */
export type XmlValue = string | number | boolean | Date | XmlObject | XmlValue[] | undefined;
/** An XML element's children by name, in document order. */
export interface XmlObject {
  [name: string]: XmlValue;
}

/** Request parameters of a Query call, with AWS's list and map encodings. */
export class QueryParams {
  readonly #params: URLSearchParams;

  constructor(params: URLSearchParams) {
    this.#params = params;
  }

  /** Parses a form-encoded body merged over the URL's query string (the body wins). */
  static parse(queryString: string, body: string): QueryParams {
    const params = new URLSearchParams(queryString);
    for (const [k, v] of new URLSearchParams(body)) params.set(k, v);
    return new QueryParams(params);
  }

  /** The operation name. */
  get action(): string | undefined {
    return this.#params.get('Action') ?? undefined;
  }

  /** A scalar parameter, or undefined when absent. */
  get(name: string): string | undefined {
    return this.#params.get(name) ?? undefined;
  }

  /** A required scalar parameter; missing → ValidationError as AWS words it. */
  require(name: string): string {
    const value = this.get(name);
    if (value === undefined) {
      throw new AwsError(
        'ValidationError',
        `1 validation error detected: Value null at '${lowerFirst(name)}' failed to satisfy constraint: Member must not be null`,
      );
    }
    return value;
  }

  /** A list parameter encoded as `Name.member.1`, `Name.member.2`, …, in index order. */
  list(name: string): string[] {
    return this.#indexed(`${name}.member.`).map(([, v]) => v);
  }

  /** A list of structures: `Name.member.N.Field` → one object per N. */
  structList(name: string): Record<string, string>[] {
    const prefix = `${name}.member.`;
    const byIndex = new Map<number, Record<string, string>>();
    for (const [key, value] of this.#params) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const dot = rest.indexOf('.');
      const index = Number(rest.slice(0, dot));
      if (dot < 0 || !Number.isInteger(index)) continue;
      const entry = byIndex.get(index) ?? {};
      entry[rest.slice(dot + 1)] = value;
      byIndex.set(index, entry);
    }
    return [...byIndex.entries()].sort((a, b) => a[0] - b[0]).map(([, v]) => v);
  }

  /**
   * The parameters as a plain object, the way CloudTrail records them: keys in camelCase,
   * `X.member.N` lists as arrays, without Action, Version and signature parameters.
   */
  toRecord(): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [key, value] of this.#params) {
      if (key === 'Action' || key === 'Version' || key.startsWith('X-Amz-')) continue;
      const parts = key.split('.');
      let node: Record<string, unknown> = out;
      for (let i = 0; i < parts.length; i++) {
        const part = parts[i] ?? '';
        const last = i === parts.length - 1;
        if (part === 'member') continue;
        const name = /^\d+$/.test(part) ? String(Number(part) - 1) : lowerFirst(part);
        if (last) {
          node[name] = value;
        } else {
          const next = parts[i + 1] === 'member' ? [] : {};
          node[name] ??= next;
          node = node[name] as Record<string, unknown>;
        }
      }
    }
    return out;
  }

  #indexed(prefix: string): [number, string][] {
    const out: [number, string][] = [];
    for (const [key, value] of this.#params) {
      if (!key.startsWith(prefix)) continue;
      const index = Number(key.slice(prefix.length));
      if (Number.isInteger(index)) out.push([index, value]);
    }
    return out.sort((a, b) => a[0] - b[0]);
  }
}

/** Renders a successful Query response: `<ActionResponse><ActionResult>…`. */
export function renderQueryResult(
  action: string,
  namespace: string,
  result: XmlObject | undefined,
  requestId: string,
): string {
  const inner = result === undefined ? '' : element(`${action}Result`, result);
  return (
    `<${action}Response xmlns="${escapeXml(namespace)}">${inner}` +
    `<ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></${action}Response>`
  );
}

/** Renders AWS's Query `ErrorResponse` for an error. */
export function renderQueryError(err: AwsError, namespace: string, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${escapeXml(namespace)}">` +
    element('Error', { Type: err.faultType, Code: err.code, Message: err.message }) +
    `<RequestId>${escapeXml(requestId)}</RequestId></ErrorResponse>`
  );
}

/**
 * One element and its children. Written by hand rather than with an XML library: the shapes
 * are fixed and small, and this is on every response's path (measured in bench/).
 */
function element(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  return `<${name}>${content(value)}</${name}>`;
}

function content(value: XmlValue): string {
  if (value === undefined) return '';
  // AWS writes timestamps to the second: 2024-01-02T03:04:05Z.
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
  if (Array.isArray(value)) return value.map((v) => element('member', v)).join('');
  if (typeof value === 'object') {
    let out = '';
    for (const key in value) out += element(key, value[key]);
    return out;
  }
  return escapeXml(String(value));
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** Escapes text for XML content and attribute values. */
export function escapeXml(text: string): string {
  return /[&<>"']/.test(text) ? text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c] ?? c) : text;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** What a Query handler is given: the parameters and the authenticated caller. */
export interface QueryCall {
  params: QueryParams;
  principal: Principal;
  requestId: string;
  /** The caller's address, for aws:SourceIp and the audit trail. */
  sourceIp: string;
  /** What the handler adds to its call's audit record. */
  audit: AuditNotes;
}

/** One Query operation: returns the `…Result` element's children (or nothing). */
export type QueryHandler = (call: QueryCall) => Promise<XmlObject | undefined>;

/** What an unauthenticated Query handler is given (e.g. AssumeRoleWithWebIdentity). */
export type AnonymousQueryCall = Omit<QueryCall, 'principal'>;

/** An operation that takes no AWS credentials: the request itself carries its proof. */
export type AnonymousQueryHandler = (call: AnonymousQueryCall) => Promise<XmlObject | undefined>;

/** A service speaking the Query protocol (IAM, STS), as the edge server routes to it. */
export interface QueryService {
  /** The SigV4 signing name, e.g. `iam`. */
  signingName: string;
  /** The XML namespace of its responses. */
  namespace: string;
  actions: Readonly<Record<string, QueryHandler>>;
  /** Operations called without a signature; any signature sent with them is ignored, as AWS does. */
  anonymousActions?: Readonly<Record<string, AnonymousQueryHandler>>;
}
