/**
 * Numeric operators: integers and decimals. Policy variables are not allowed (AWS: "You can not
 * use a policy variable with the Numeric condition operator"), so `${…}` never parses as a number.
 */
import type { ValueSetMatcher } from './matcher.js';
import type { OperatorTest } from './operators.js';

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

/** A number, or undefined when `s` is not a decimal number. */
export function parseNumber(s: string): number | undefined {
  return NUMBER.test(s) ? Number(s) : undefined;
}

/** Compares `a` (request) against `b` (policy) with `test`. */
export function compareOrdered(test: OperatorTest, a: number, b: number): boolean {
  switch (test) {
    case 'equals':
      return a === b;
    case 'lessThan':
      return a < b;
    case 'lessThanEquals':
      return a <= b;
    case 'greaterThan':
      return a > b;
    case 'greaterThanEquals':
      return a >= b;
    default:
      return false;
  }
}

/** Builds a matcher for ordered families (numbers, dates) given a value parser. */
export function orderedMatcher(
  test: OperatorTest,
  values: readonly string[],
  parse: (s: string) => number | undefined,
): ValueSetMatcher {
  const policy = values.map(parse);
  return (requestValue) => {
    const a = parse(requestValue);
    if (a === undefined) return undefined;
    let invalid = false;
    for (const b of policy) {
      if (b === undefined) invalid = true;
      else if (compareOrdered(test, a, b)) return true;
    }
    return invalid ? undefined : false;
  };
}

/** Compiles a numeric operator's policy values. */
export function numericMatcher(test: OperatorTest, values: readonly string[]): ValueSetMatcher {
  return orderedMatcher(test, values, parseNumber);
}
