/**
 * The contract between condition families and the condition evaluator.
 */
import type { ContextValues, VariableRef } from '../variables.js';

/**
 * Outcome of comparing one request value with all of a condition's policy values: `true` when
 * some policy value matched, `false` when none did (every comparison well-typed), `undefined`
 * when the request value, or a policy value it was compared with, is not of the operator's type.
 */
export type ValueOutcome = boolean | undefined;

/** Told about policy variables that had no value. */
export interface VariableSink {
  unresolved(ref: VariableRef): void;
}

/**
 * Compares one request value with a condition's policy values. Policy variables without a value
 * are reported to `sink` and count as matching nothing (AWS: "the value is effectively null.
 * There is no equal or like value").
 */
export type ValueSetMatcher = (
  requestValue: string,
  values: ContextValues,
  sink: VariableSink,
) => ValueOutcome;
