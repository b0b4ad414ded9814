/**
 * `Bool`: `true` / `false`, case-insensitive. Policy variables are resolved (IAM's operator
 * reference lists Boolean among the operators that take them).
 */
import { isUnresolved, parseTemplate, resolveString } from '../variables.js';
import { INVALID, MATCH, NO_MATCH, type ValueSetMatcher } from './matcher.js';

function parseBool(s: string): boolean | undefined {
  const l = s.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

/** Compiles `Bool`'s policy values. */
export function boolMatcher(values: readonly string[], variables: boolean): ValueSetMatcher {
  const templates = values.map((v) => parseTemplate(v, variables));
  return (requestValue, lookup, unresolved) => {
    const a = parseBool(requestValue);
    if (a === undefined) return INVALID;
    let invalid = false;
    for (const t of templates) {
      const s = resolveString(t, lookup);
      if (isUnresolved(s)) {
        unresolved(s.unresolved);
        continue;
      }
      const b = parseBool(s);
      if (b === undefined) invalid = true;
      else if (a === b) return MATCH;
    }
    return invalid ? INVALID : NO_MATCH;
  };
}
