/**
 * Condition operator names: the base operators AWS defines, the `ForAllValues:` /
 * `ForAnyValue:` set qualifiers and the `IfExists` suffix.
 *
 * Names are case-sensitive, as IAM's validator treats them.
 */

/** The families of base operators; each has its own value type. */
export type OperatorFamily =
  'string' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn' | 'null';

/** What a base operator compares. */
export interface BaseOperator {
  name: string;
  family: OperatorFamily;
  /** Negated operators (`StringNotEquals`, …): values combine by NOR, missing keys match. */
  negated: boolean;
  /** The comparison within the family, e.g. `equals`, `like`, `lessThan`. */
  test: OperatorTest;
}

/** Comparisons the families implement. */
export type OperatorTest =
  | 'equals'
  | 'equalsIgnoreCase'
  | 'like'
  | 'lessThan'
  | 'lessThanEquals'
  | 'greaterThan'
  | 'greaterThanEquals'
  | 'inRange'
  | 'null';

function op(
  name: string,
  family: OperatorFamily,
  negated: boolean,
  test: OperatorTest,
): BaseOperator {
  return { name, family, negated, test };
}

/** Every base operator AWS defines. */
export const BASE_OPERATORS: ReadonlyMap<string, BaseOperator> = new Map(
  [
    op('StringEquals', 'string', false, 'equals'),
    op('StringNotEquals', 'string', true, 'equals'),
    op('StringEqualsIgnoreCase', 'string', false, 'equalsIgnoreCase'),
    op('StringNotEqualsIgnoreCase', 'string', true, 'equalsIgnoreCase'),
    op('StringLike', 'string', false, 'like'),
    op('StringNotLike', 'string', true, 'like'),
    op('NumericEquals', 'numeric', false, 'equals'),
    op('NumericNotEquals', 'numeric', true, 'equals'),
    op('NumericLessThan', 'numeric', false, 'lessThan'),
    op('NumericLessThanEquals', 'numeric', false, 'lessThanEquals'),
    op('NumericGreaterThan', 'numeric', false, 'greaterThan'),
    op('NumericGreaterThanEquals', 'numeric', false, 'greaterThanEquals'),
    op('DateEquals', 'date', false, 'equals'),
    op('DateNotEquals', 'date', true, 'equals'),
    op('DateLessThan', 'date', false, 'lessThan'),
    op('DateLessThanEquals', 'date', false, 'lessThanEquals'),
    op('DateGreaterThan', 'date', false, 'greaterThan'),
    op('DateGreaterThanEquals', 'date', false, 'greaterThanEquals'),
    op('Bool', 'bool', false, 'equals'),
    op('BinaryEquals', 'binary', false, 'equals'),
    op('IpAddress', 'ip', false, 'inRange'),
    op('NotIpAddress', 'ip', true, 'inRange'),
    // ArnEquals and ArnLike behave identically (both take wildcards), as do their negations.
    op('ArnEquals', 'arn', false, 'like'),
    op('ArnLike', 'arn', false, 'like'),
    op('ArnNotEquals', 'arn', true, 'like'),
    op('ArnNotLike', 'arn', true, 'like'),
    op('Null', 'null', false, 'null'),
  ].map((o) => [o.name, o]),
);

/** A parsed operator name. */
export interface ParsedOperator {
  /** The name as written. */
  name: string;
  base: BaseOperator;
  setOperator?: 'ForAllValues' | 'ForAnyValue';
  ifExists: boolean;
}

/**
 * Parses an operator name such as `ForAnyValue:StringLikeIfExists`; undefined when IAM would not
 * recognise it (IAM strips one set prefix and one `IfExists` suffix, then looks the rest up).
 */
export function parseOperator(name: string): ParsedOperator | undefined {
  let rest = name;
  let setOperator: ParsedOperator['setOperator'];
  if (rest.startsWith('ForAllValues:')) {
    setOperator = 'ForAllValues';
    rest = rest.slice('ForAllValues:'.length);
  } else if (rest.startsWith('ForAnyValue:')) {
    setOperator = 'ForAnyValue';
    rest = rest.slice('ForAnyValue:'.length);
  }
  let ifExists = false;
  if (rest.endsWith('IfExists')) {
    ifExists = true;
    rest = rest.slice(0, -'IfExists'.length);
  }
  const base = BASE_OPERATORS.get(rest);
  if (base === undefined) return undefined;
  const parsed: ParsedOperator = { name, base, ifExists };
  if (setOperator !== undefined) parsed.setOperator = setOperator;
  return parsed;
}
