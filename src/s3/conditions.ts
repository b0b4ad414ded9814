/**
 * HTTP conditional requests and byte ranges as S3 applies them: `If-Match`,
 * `If-Unmodified-Since` (412), `If-None-Match`, `If-Modified-Since` (304), the copy-source
 * variants, `Range` (206, or 416 `InvalidRange`) and write conditions.
 */
import type { IncomingMessage } from 'node:http';
import { S3Error } from './errors.js';
import type { WriteCondition } from './metadata.js';

/** Whether an `If-Match` / `If-None-Match` list names `etag` (`*` names any). */
function etagListMatches(list: string, etag: string): boolean {
  return list
    .split(',')
    .map((t) => t.trim().replace(/^W\//, '').replace(/^"|"$/g, ''))
    .some((t) => t === '*' || t === etag);
}

/** An HTTP date in whole seconds, or undefined when unparsable (and then ignored, as S3 does). */
function httpDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 1000);
}

/** The object facts conditions compare with. */
export interface ConditionTarget {
  etag: string;
  lastModified: string;
}

/**
 * Evaluates GET/HEAD preconditions. Returns `'not-modified'` for a 304; throws
 * `PreconditionFailed` for a 412. If-Match wins over If-Unmodified-Since, If-None-Match over
 * If-Modified-Since (RFC 9110, as S3 documents).
 */
export function evaluateReadConditions(
  headers: IncomingMessage['headers'],
  object: ConditionTarget,
  prefix = 'if-',
): 'ok' | 'not-modified' {
  const modified = Math.floor(Date.parse(object.lastModified) / 1000);
  const ifMatch = headers[`${prefix}match`];
  if (typeof ifMatch === 'string') {
    if (!etagListMatches(ifMatch, object.etag)) {
      throw new S3Error('PreconditionFailed', undefined, {
        Condition: headerName(prefix, 'If-Match'),
      });
    }
  } else {
    const since = httpDate(headers[`${prefix}unmodified-since`] as string | undefined);
    if (since !== undefined && modified > since) {
      throw new S3Error('PreconditionFailed', undefined, {
        Condition: headerName(prefix, 'If-Unmodified-Since'),
      });
    }
  }
  const ifNoneMatch = headers[`${prefix}none-match`];
  if (typeof ifNoneMatch === 'string') {
    if (etagListMatches(ifNoneMatch, object.etag)) return 'not-modified';
  } else {
    const since = httpDate(headers[`${prefix}modified-since`] as string | undefined);
    if (since !== undefined && modified <= since) return 'not-modified';
  }
  return 'ok';
}

function headerName(prefix: string, name: string): string {
  return prefix === 'if-' ? name : `x-amz-copy-source-${name}`;
}

/**
 * CopyObject's source conditions (`x-amz-copy-source-if-*`): any failure is a 412, including
 * the ones that would be a 304 on GET.
 */
export function evaluateCopySourceConditions(
  headers: IncomingMessage['headers'],
  object: ConditionTarget,
): void {
  if (evaluateReadConditions(headers, object, 'x-amz-copy-source-if-') === 'not-modified') {
    throw new S3Error('PreconditionFailed', undefined, {
      Condition:
        headers['x-amz-copy-source-if-none-match'] !== undefined
          ? 'x-amz-copy-source-If-None-Match'
          : 'x-amz-copy-source-If-Modified-Since',
    });
  }
}

/**
 * A write's conditions: `If-None-Match: *` (create only) and `If-Match: "etag"` (replace that
 * version only). Other If-None-Match values are not supported by S3 writes.
 */
export function writeConditionOf(headers: IncomingMessage['headers']): WriteCondition | undefined {
  const ifNoneMatch = headers['if-none-match'];
  const ifMatch = headers['if-match'];
  if (ifNoneMatch === undefined && ifMatch === undefined) return undefined;
  const condition: WriteCondition = {};
  if (typeof ifNoneMatch === 'string') {
    if (ifNoneMatch.trim() !== '*') {
      throw new S3Error('NotImplemented', undefined, { Header: 'If-None-Match' });
    }
    condition.ifNoneMatch = true;
  }
  if (typeof ifMatch === 'string') condition.ifMatch = ifMatch.trim().replace(/^"|"$/g, '');
  return condition;
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * The range a `Range` header asks for within `size` bytes: undefined for the whole object (no
 * header, or one S3 ignores: another unit, several ranges, bad syntax); `InvalidRange` (416)
 * when it starts past the end.
 *
 * @example
 * rangeOf('bytes=0-99', 1000); // { start: 0, end: 99 }
 * rangeOf('bytes=-100', 1000); // { start: 900, end: 999 }
 */
export function rangeOf(header: string | undefined, size: number): ByteRange | undefined {
  if (header === undefined) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (m === null || (m[1] === '' && m[2] === '')) return undefined;
  let range: ByteRange;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) throw invalidRange(header, size);
    range = { start: Math.max(0, size - suffix), end: size - 1 };
  } else {
    const start = Number(m[1]);
    const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
    if (m[2] !== '' && Number(m[2]) < start) return undefined;
    if (start >= size) throw invalidRange(header, size);
    range = { start, end };
  }
  return range;
}

function invalidRange(requested: string, size: number): S3Error {
  return new S3Error('InvalidRange', undefined, {
    RangeRequested: requested,
    ActualObjectSize: String(size),
  });
}
