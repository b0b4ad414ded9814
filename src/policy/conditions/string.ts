/**
 * String operators: `StringEquals`, `StringEqualsIgnoreCase`, `StringLike` (and negations).
 * Values are case-sensitive except for the `IgnoreCase` pair; `StringLike` takes `*` and `?`.
 * Policy variables are allowed.
 */
import {
  isUnresolved,
  parseTemplate,
  resolveGlob,
  resolveString,
  type Template,
} from '../variables.js';
import { compileGlob, matchTokens, type Glob } from '../wildcard.js';
import { MATCH, NO_MATCH, type ValueSetMatcher } from './matcher.js';
import type { OperatorTest } from './operators.js';

interface PolicyString {
  template: Template;
  /** Pre-compiled when the value has no variables. */
  fixed?: string;
  glob?: Glob;
}

/** Compiles a string operator's policy values. */
export function stringMatcher(
  test: OperatorTest,
  values: readonly string[],
  variables: boolean,
): ValueSetMatcher {
  const ignoreCase = test === 'equalsIgnoreCase';
  const like = test === 'like';
  const compiled: PolicyString[] = values.map((raw) => {
    const template = parseTemplate(raw, variables);
    const entry: PolicyString = { template };
    if (template.variables.length === 0) {
      const s = resolveString(template, () => undefined) as string;
      if (like) {
        // Escapes such as ${*} are literal: only templates of plain text use the fast paths.
        const tokens = resolveGlob(template, () => undefined);
        entry.glob = template.parts.every((p) => typeof p === 'string')
          ? compileGlob(s)
          : { test: (v: string) => !isUnresolved(tokens) && matchTokens(tokens, v) };
      } else {
        entry.fixed = ignoreCase ? s.toLowerCase() : s;
      }
    }
    return entry;
  });
  return (requestValue, lookup, unresolved) => {
    const v = ignoreCase ? requestValue.toLowerCase() : requestValue;
    for (const p of compiled) {
      if (like) {
        if (p.glob !== undefined) {
          if (p.glob.test(v)) return MATCH;
          continue;
        }
        const tokens = resolveGlob(p.template, lookup);
        if (isUnresolved(tokens)) unresolved(tokens.unresolved);
        else if (matchTokens(tokens, v)) return MATCH;
        continue;
      }
      if (p.fixed !== undefined) {
        if (p.fixed === v) return MATCH;
        continue;
      }
      const s = resolveString(p.template, lookup);
      if (isUnresolved(s)) unresolved(s.unresolved);
      else if ((ignoreCase ? s.toLowerCase() : s) === v) return MATCH;
    }
    return NO_MATCH;
  };
}
