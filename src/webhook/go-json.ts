/**
 * Go `encoding/json` semantics for Kubernetes API structs, driven by a small schema.
 *
 * The upstream webhook decodes the Pod into client-go types and patches `/spec/containers`
 * with the containers marshalled back from those types: unknown fields vanish, fields tagged
 * `omitempty` disappear when empty, non-`omitempty` ones appear even when absent (a container
 * always carries `"resources":{}`, a gRPC probe `"service":null`), and keys come in struct
 * order. {@link checkGoValue} rejects what Go's decoder would reject; {@link marshalGoValue}
 * produces what Go's encoder would produce.
 */

/** Any JSON value. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** The Go type of a field, as far as JSON is concerned. */
export type GoType =
  | { readonly kind: 'string' }
  | { readonly kind: 'bool' }
  | { readonly kind: 'int'; readonly bits: 32 | 64 }
  | { readonly kind: 'intOrString' }
  | { readonly kind: 'quantity' }
  | { readonly kind: 'slice'; readonly elem: GoType }
  | { readonly kind: 'map'; readonly elem: GoType }
  | { readonly kind: 'struct'; readonly name: string; readonly fields: readonly GoField[] };

/** One struct field: its JSON name, type and tag options. */
export interface GoField {
  readonly json: string;
  readonly type: GoType;
  /** `json:",omitempty"`. */
  readonly omitEmpty: boolean;
  /** A pointer (`*T`): nil when absent, kept when present even if empty. */
  readonly pointer: boolean;
}

/** Options of {@link marshalGoValue}. */
export interface MarshalOptions {
  /**
   * Keep fields the schema does not know (after the known ones) instead of dropping them as
   * Go does. Safer when the API server is newer than the schema.
   */
  preserveUnknownFields?: boolean;
}

/** A value Go's decoder would refuse, with the JSON path of the offending field. */
export class GoDecodeError extends Error {
  override readonly name = 'GoDecodeError';
  constructor(
    readonly path: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${path}: expected ${expected}, got ${got}`);
  }
}

const INT_RANGE = {
  32: [-(2 ** 31), 2 ** 31 - 1],
  64: [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
} as const;

// The quantity grammar of k8s.io/apimachinery (resource.ParseQuantity's regular expression).
const QUANTITY = /^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$/;

function jsonTypeName(value: JsonValue): string {
  if (Array.isArray(value)) return 'array';
  if (value === null) return 'null';
  return typeof value;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const INT32: GoType = { kind: 'int', bits: 32 };

/**
 * Where `value` does not decode into `type`, as [path suffix, expected, got]; undefined when
 * it decodes. Path strings are only built on the way out of a failure, so the common case
 * allocates nothing.
 */
function findDecodeError(
  type: GoType,
  value: JsonValue | undefined,
): [string, string, string] | undefined {
  if (value === undefined || value === null) return undefined;
  switch (type.kind) {
    case 'string':
      return typeof value === 'string' ? undefined : ['', 'string', jsonTypeName(value)];
    case 'bool':
      return typeof value === 'boolean' ? undefined : ['', 'boolean', jsonTypeName(value)];
    case 'int': {
      const [min, max] = INT_RANGE[type.bits];
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max)
        return undefined;
      return ['', `int${type.bits}`, JSON.stringify(value)];
    }
    case 'intOrString':
      return typeof value === 'string' ? undefined : findDecodeError(INT32, value);
    case 'quantity':
      if (
        (typeof value === 'number' && Number.isFinite(value)) ||
        (typeof value === 'string' && QUANTITY.test(value))
      ) {
        return undefined;
      }
      return ['', 'a quantity', JSON.stringify(value)];
    case 'slice': {
      if (!Array.isArray(value)) return ['', 'array', jsonTypeName(value)];
      for (let i = 0; i < value.length; i++) {
        const err = findDecodeError(type.elem, value[i]);
        if (err) return [`[${i}]${err[0]}`, err[1], err[2]];
      }
      return undefined;
    }
    case 'map': {
      if (!isObject(value)) return ['', 'object', jsonTypeName(value)];
      for (const key in value) {
        const err = findDecodeError(type.elem, value[key]);
        if (err) return [`.${key}${err[0]}`, err[1], err[2]];
      }
      return undefined;
    }
    case 'struct': {
      if (!isObject(value)) return ['', 'object', jsonTypeName(value)];
      for (const field of type.fields) {
        const err = findDecodeError(field.type, value[field.json]);
        if (err) return [`.${field.json}${err[0]}`, err[1], err[2]];
      }
      return undefined;
    }
  }
}

/**
 * Throws {@link GoDecodeError} when Go's `encoding/json` would fail to decode `value` into
 * `type`. `null` and absent values always decode (to Go's zero value); unknown fields are
 * ignored, as Go ignores them.
 *
 * @example
 * checkGoValue(CONTAINER, { name: 'app', env: 'x' }, 'spec.containers[0]');
 * // throws: spec.containers[0].env: expected array, got string
 */
export function checkGoValue(type: GoType, value: JsonValue | undefined, path: string): void {
  const err = findDecodeError(type, value);
  if (err) throw new GoDecodeError(`${path}${err[0]}`, err[1], err[2]);
}

/** Go's zero value of a non-pointer scalar, as marshalled. */
function zeroValue(type: GoType): JsonValue {
  switch (type.kind) {
    case 'string':
      return '';
    case 'bool':
      return false;
    case 'int':
    case 'intOrString':
      return 0;
    case 'quantity':
      return '0';
    case 'slice':
    case 'map':
      return null;
    case 'struct':
      return marshalStruct(type, {}, {});
  }
}

function isZero(type: GoType, value: JsonValue): boolean {
  switch (type.kind) {
    case 'string':
      return value === '';
    case 'bool':
      return value === false;
    case 'int':
      return value === 0;
    default:
      // Structs (IntOrString, Quantity and API structs) are never "empty" to encoding/json.
      return false;
  }
}

// Quantities arrive canonical from the API server; numbers (hand-written YAML) get the
// canonical form for the common cases: integers as is, fractions in milli-units.
function marshalQuantity(value: JsonValue): JsonValue {
  if (typeof value !== 'number') return value;
  if (Number.isInteger(value)) return String(value);
  const milli = value * 1000;
  return Number.isInteger(milli) ? `${milli}m` : String(value);
}

/**
 * Marshals an already-checked `value` the way Go's `encoding/json` marshals the decoded struct:
 * struct field order, `omitempty`, zero values for absent non-`omitempty` fields, sorted map
 * keys, unknown fields dropped (unless {@link MarshalOptions.preserveUnknownFields}).
 *
 * @example
 * marshalGoValue(CONTAINER, { image: 'x', name: 'app', extra: 1 });
 * // → { name: 'app', image: 'x', resources: {} }
 */
export function marshalGoValue(
  type: GoType,
  value: JsonValue,
  options: MarshalOptions = {},
): JsonValue {
  if (value === null) return zeroValue(type);
  switch (type.kind) {
    case 'quantity':
      return marshalQuantity(value);
    case 'slice':
      return (value as JsonValue[]).map((v) => marshalGoValue(type.elem, v, options));
    case 'map': {
      const out: JsonObject = {};
      const obj = value as JsonObject;
      for (const key of Object.keys(obj).sort()) {
        out[key] = marshalGoValue(type.elem, obj[key] ?? null, options);
      }
      return out;
    }
    case 'struct':
      return marshalStruct(type, value as JsonObject, options);
    default:
      return value;
  }
}

function marshalStruct(
  type: Extract<GoType, { kind: 'struct' }>,
  obj: JsonObject,
  options: MarshalOptions,
): JsonObject {
  const out: JsonObject = {};
  for (const field of type.fields) {
    const raw = obj[field.json];
    const present = raw !== undefined && raw !== null;
    if (field.type.kind === 'struct' && !field.pointer) {
      // Non-pointer structs are always encoded, omitempty or not.
      out[field.json] = marshalStruct(field.type, present ? (raw as JsonObject) : {}, options);
      continue;
    }
    if (!present) {
      if (field.omitEmpty) continue;
      out[field.json] = field.pointer ? null : zeroValue(field.type);
      continue;
    }
    if (field.omitEmpty && !field.pointer) {
      if (isZero(field.type, raw)) continue;
      if (field.type.kind === 'slice' && (raw as JsonValue[]).length === 0) continue;
      if (field.type.kind === 'map' && Object.keys(raw as JsonObject).length === 0) continue;
    }
    out[field.json] = marshalGoValue(field.type, raw, options);
  }
  if (options.preserveUnknownFields) {
    for (const key of Object.keys(obj)) {
      if (!type.fields.some((f) => f.json === key)) out[key] = obj[key] ?? null;
    }
  }
  return out;
}

const GO_ESCAPE = /[<>&\u2028\u2029]/;
const GO_ESCAPE_ALL = /[<>&\u2028\u2029]/g;
const GO_ESCAPES: Record<string, string> = {
  '<': '\\u003c',
  '>': '\\u003e',
  '&': '\\u0026',
  '\u2028': '\\u2028',
  '\u2029': '\\u2029',
};

/**
 * `JSON.stringify` with Go's `json.Marshal` escaping of `<`, `>`, `&`, U+2028 and U+2029, so
 * output is byte-identical to Go's for the same key order.
 */
export function goJsonStringify(value: unknown): string {
  const json = JSON.stringify(value);
  return GO_ESCAPE.test(json) ? json.replace(GO_ESCAPE_ALL, (ch) => GO_ESCAPES[ch] ?? ch) : json;
}
