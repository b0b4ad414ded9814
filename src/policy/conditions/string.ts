/**
 * String operators: `StringEquals`, `StringEqualsIgnoreCase`, `StringLike` (and negations).
 * Values are case-sensitive except for the `IgnoreCase` pair; `StringLike` takes `*` and `?`.
 * Policy variables are allowed.
 */
import { GlobTemplate, StringTemplate } from '../variables.js';
import type { ValueSetMatcher } from './matcher.js';
import type { OperatorTest } from './operators.js';

/** Compiles a string operator's policy values. */
export function stringMatcher(
  test: OperatorTest,
  values: readonly string[],
  variables: boolean,
): ValueSetMatcher {
  if (test === 'like') {
    const globs = values.map((v) => new GlobTemplate(v, variables));
    return (requestValue, context, sink) => {
      for (const g of globs) {
        const m = g.match(requestValue, context);
        if (m === true) return true;
        if (m !== false) sink.unresolved(m);
      }
      return false;
    };
  }
  const ignoreCase = test === 'equalsIgnoreCase';
  const templates = values.map((v) => new StringTemplate(v, variables));
  if (templates.every((t) => t.fixed !== undefined)) {
    // The common case: a set of constant strings.
    const set = new Set(templates.map((t) => (ignoreCase ? t.fixed!.toLowerCase() : t.fixed!)));
    return ignoreCase ? (v) => set.has(v.toLowerCase()) : (v) => set.has(v);
  }
  return (requestValue, context, sink) => {
    const v = ignoreCase ? requestValue.toLowerCase() : requestValue;
    for (const t of templates) {
      const s = t.resolve(context);
      if (typeof s !== 'string') sink.unresolved(s);
      else if ((ignoreCase ? s.toLowerCase() : s) === v) return true;
    }
    return false;
  };
}
