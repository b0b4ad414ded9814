/**
 * One condition (operator, key, values) compiled for evaluation, with AWS's rules for missing
 * keys, `IfExists`, negated operators and the `ForAllValues` / `ForAnyValue` set operators:
 *
 * - A missing key fails the condition, except for negated operators and `…IfExists`, where it
 *   passes; `Null` tests presence itself.
 * - Several values for one key: any must match (negated operators: none may match).
 * - `ForAllValues`: every request value must match; true when the key is missing or empty.
 * - `ForAnyValue`: some request value must match; false when the key is missing or empty
 *   (true with `IfExists`).
 * - A multivalued key with an operator without a set qualifier does not match.
 */
import type { ConditionEntry, Mismatch } from '../types.js';
import type { ContextValues, VariableRef } from '../variables.js';
import { arnMatcher } from './arn.js';
import { ipMatcher } from './address.js';
import { binaryMatcher } from './binary.js';
import { boolMatcher } from './bool.js';
import { parseDate } from './date.js';
import type { ValueSetMatcher, VariableSink } from './matcher.js';
import { numericMatcher, orderedMatcher } from './numeric.js';
import { parseOperator, type ParsedOperator } from './operators.js';
import { stringMatcher } from './string.js';

/** Why a condition did not hold. */
export type FailureReason = 'missing' | 'multivalued' | 'mismatch' | 'null';

/** What evaluation reports back: missing keys, and the first unresolved variable. */
export interface ConditionScope extends VariableSink {
  /** A condition key or variable the context lacks. */
  missing(name: string): void;
  /** The first unresolved variable of the condition being evaluated (reset per condition). */
  firstUnresolved: VariableRef | undefined;
}

function familyMatcher(
  entry: ConditionEntry,
  op: ParsedOperator,
  variables: boolean,
): ValueSetMatcher {
  const { test, family } = op.base;
  switch (family) {
    case 'string':
      return stringMatcher(test, entry.values, variables);
    case 'numeric':
      return numericMatcher(test, entry.values);
    case 'date':
      return orderedMatcher(test, entry.values, parseDate);
    case 'bool':
      return boolMatcher(entry.values, variables);
    case 'binary':
      return binaryMatcher(entry.values);
    case 'ip':
      return ipMatcher(entry.values);
    case 'arn':
      return arnMatcher(entry.values, variables);
    case 'null':
      return () => false;
  }
}

function describeAll(entry: ConditionEntry): Record<FailureReason, Mismatch> {
  const what = `${entry.operator} on ${entry.key}`;
  const shown = entry.values.slice(0, 5).map((v) => JSON.stringify(v));
  const more = entry.values.length > 5 ? ', …' : '';
  const wantsAbsent = entry.values.some((v) => v.toLowerCase() === 'true');
  const m = (detail: string): Mismatch =>
    Object.freeze({ element: 'Condition', operator: entry.operator, key: entry.key, detail });
  return {
    missing: m(`${what}: the key is not in the request context`),
    multivalued: m(
      `${what}: the key has several values and the operator has no ForAllValues/ForAnyValue qualifier`,
    ),
    null: m(`${what}: the key is ${wantsAbsent ? 'present' : 'absent'}`),
    mismatch: m(`${what}: the request value does not satisfy [${shown.join(', ')}${more}]`),
  };
}

/**
 * A compiled condition. `variables` says whether policy variables are active (Version
 * 2012-10-17); unknown operators were rejected by validation and are an error here.
 */
export class CompiledCondition {
  /** The operator as written. */
  readonly operator: string;
  /** The key as written. */
  readonly key: string;
  /** The key lower-cased, for context look-ups. */
  readonly lookupKey: string;
  readonly op: ParsedOperator;
  /** The values as written. */
  readonly values: readonly string[];
  /** The trace's explanation of each failure, built once. */
  readonly mismatches: Readonly<Record<FailureReason, Mismatch>>;
  readonly #matcher: ValueSetMatcher;
  readonly #negated: boolean;

  constructor(entry: ConditionEntry, variables: boolean) {
    const op = parseOperator(entry.operator);
    if (op === undefined) throw new Error(`unknown condition operator ${entry.operator}`);
    this.operator = entry.operator;
    this.key = entry.key;
    this.lookupKey = entry.key.toLowerCase();
    this.op = op;
    this.values = entry.values;
    this.mismatches = describeAll(entry);
    this.#matcher = familyMatcher(entry, op, variables);
    this.#negated = op.base.negated;
  }

  /** Whether one request value satisfies the operator (with its polarity). */
  #holds(value: string, context: ContextValues, scope: ConditionScope): boolean {
    const outcome = this.#matcher(value, context, scope);
    return this.#negated ? outcome === false : outcome === true;
  }

  /**
   * Evaluates the condition: undefined when it holds, else why not. Missing keys and
   * unresolved variables are reported to `scope`.
   */
  evaluate(context: ContextValues, scope: ConditionScope): FailureReason | undefined {
    const raw = context.get(this.lookupKey, this.key);
    const op = this.op;
    scope.firstUnresolved = undefined;
    if (op.base.family === 'null') {
      // Null: "true" means the key must be absent, "false" that it must be present.
      const goal = raw === undefined ? 'true' : 'false';
      for (const v of this.values) if (v.toLowerCase() === goal) return undefined;
      return 'null';
    }
    if (raw === undefined) {
      scope.missing(this.key);
      if (op.setOperator === 'ForAllValues' || op.ifExists) return undefined;
      if (op.setOperator === 'ForAnyValue') return 'missing';
      return this.#negated ? undefined : 'missing';
    }
    if (typeof raw === 'string') {
      // A single value; with a set operator it is a one-element set.
      return this.#holds(raw, context, scope) ? undefined : 'mismatch';
    }
    if (op.setOperator === undefined) return 'multivalued';
    if (op.setOperator === 'ForAllValues') {
      for (const v of raw) if (!this.#holds(v, context, scope)) return 'mismatch';
      return undefined;
    }
    for (const v of raw) if (this.#holds(v, context, scope)) return undefined;
    return 'mismatch';
  }
}

/** Compiles a condition entry (see {@link CompiledCondition}). */
export function compileCondition(entry: ConditionEntry, variables: boolean): CompiledCondition {
  return new CompiledCondition(entry, variables);
}

/** Evaluates `c` (see {@link CompiledCondition.evaluate}). */
export function evaluateCondition(
  c: CompiledCondition,
  context: ContextValues,
  scope: ConditionScope,
): FailureReason | undefined {
  return c.evaluate(context, scope);
}
