/**
 * The contract between condition families and the condition evaluator.
 */
import type { ContextLookup, VariableRef } from '../variables.js';

/** Some policy value matched the request value. */
export const MATCH = 1;
/** No policy value matched, and every comparison was well-typed. */
export const NO_MATCH = 0;
/** The request value, or a policy value it was compared with, is not of the operator's type. */
export const INVALID = 2;

/** Outcome of comparing one request value with all of a condition's policy values. */
export type ValueOutcome = typeof MATCH | typeof NO_MATCH | typeof INVALID;

/**
 * Compares one request value with a condition's policy values. Policy variables without a value
 * are reported through `unresolved` and count as matching nothing (AWS: "the value is effectively
 * null. There is no equal or like value").
 */
export type ValueSetMatcher = (
  requestValue: string,
  lookup: ContextLookup,
  unresolved: (ref: VariableRef) => void,
) => ValueOutcome;
