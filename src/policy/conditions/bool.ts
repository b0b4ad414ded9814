/**
 * `Bool`: `true` / `false`, case-insensitive. Policy variables are resolved (IAM's operator
 * reference lists Boolean among the operators that take them).
 */
import { StringTemplate } from '../variables.js';
import type { ValueSetMatcher } from './matcher.js';

function parseBool(s: string): boolean | undefined {
  if (s === 'true') return true;
  if (s === 'false') return false;
  const l = s.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : undefined;
}

/** Compiles `Bool`'s policy values. */
export function boolMatcher(values: readonly string[], variables: boolean): ValueSetMatcher {
  const templates = values.map((v) => new StringTemplate(v, variables));
  if (templates.every((t) => t.fixed !== undefined)) {
    const policy = templates.map((t) => parseBool(t.fixed!));
    const invalid = policy.includes(undefined);
    return (requestValue) => {
      const a = parseBool(requestValue);
      if (a === undefined) return undefined;
      return policy.includes(a) ? true : invalid ? undefined : false;
    };
  }
  return (requestValue, context, sink) => {
    const a = parseBool(requestValue);
    if (a === undefined) return undefined;
    let invalid = false;
    for (const t of templates) {
      const s = t.resolve(context);
      if (typeof s !== 'string') {
        sink.unresolved(s);
        continue;
      }
      const b = parseBool(s);
      if (b === undefined) invalid = true;
      else if (a === b) return true;
    }
    return invalid ? undefined : false;
  };
}
