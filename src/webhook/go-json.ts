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
  if (value === undefined || value === null) return;
  switch (type.kind) {
    case 'string':
      if (typeof value !== 'string') throw new GoDecodeError(path, 'string', jsonTypeName(value));
      return;
    case 'bool':
      if (typeof value !== 'boolean') throw new GoDecodeError(path, 'boolean', jsonTypeName(value));
      return;
    case 'int': {
      const [min, max] = INT_RANGE[type.bits];
      if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
        throw new GoDecodeError(path, `int${type.bits}`, JSON.stringify(value));
      }
      return;
    }
    case 'intOrString':
      if (typeof value === 'string') return;
      checkGoValue({ kind: 'int', bits: 32 }, value, path);
      return;
    case 'quantity':
      if (typeof value === 'number' && Number.isFinite(value)) return;
      if (typeof value !== 'string' || !QUANTITY.test(value)) {
        throw new GoDecodeError(path, 'a quantity', JSON.stringify(value));
      }
      return;
    case 'slice':
      if (!Array.isArray(value)) throw new GoDecodeError(path, 'array', jsonTypeName(value));
      for (let i = 0; i < value.length; i++) checkGoValue(type.elem, value[i], `${path}[${i}]`);
      return;
    case 'map':
      if (!isObject(value)) throw new GoDecodeError(path, 'object', jsonTypeName(value));
      for (const key of Object.keys(value)) checkGoValue(type.elem, value[key], `${path}.${key}`);
      return;
    case 'struct':
      if (!isObject(value)) throw new GoDecodeError(path, 'object', jsonTypeName(value));
      for (const field of type.fields) {
        checkGoValue(field.type, value[field.json], `${path}.${field.json}`);
      }
      return;
  }
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
export function marshalGoValue(type: GoType, value: JsonValue, options: MarshalOptions = {}): JsonValue {
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
      if (!(key in out) && !type.fields.some((f) => f.json === key)) out[key] = obj[key] ?? null;
    }
  }
  return out;
}
