/**
 * Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and the escapes
 * `${*}`, `${?}`, `${$}`.
 *
 * Strings that may hold variables are parsed once into a template; evaluation resolves the
 * variables against the request context. A variable resolves to a single-valued context key
 * (multivalued keys cannot be variables), else to its default, else it is unresolved — AWS: "the
 * value is effectively null. There is no equal or like value."
 */
import { tokenizeGlob, type GlobToken } from './wildcard.js';

/** A `${key}` reference. */
export interface VariableRef {
  /** The key as written, for messages and missing-key reports. */
  name: string;
  /** Lower-cased key (context keys are case-insensitive). */
  key: string;
  /** The `'default'` value, when given. */
  fallback?: string;
}

/**
 * Part of a template: raw policy text (where `*` and `?` are wildcards for the matching
 * operators), a fixed literal (from `${*}`-style escapes, never a wildcard) or a variable.
 */
export type TemplatePart = string | { literal: string } | VariableRef;

/** A parsed string: its parts, and whether any is a variable. */
export interface Template {
  parts: TemplatePart[];
  variables: VariableRef[];
}

/** Looks a lower-cased key up in the request context. */
export type ContextLookup = (key: string) => string | readonly string[] | undefined;

/** Marks an unresolvable variable. */
export interface Unresolved {
  unresolved: VariableRef;
}

const ESCAPES: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };

/**
 * Parses `text` into a template. With `enabled` false (policies without Version 2012-10-17),
 * `${…}` is plain text, as AWS treats it.
 */
export function parseTemplate(text: string, enabled: boolean): Template {
  if (!enabled || !text.includes('${')) return { parts: [text], variables: [] };
  const parts: TemplatePart[] = [];
  const variables: VariableRef[] = [];
  let raw = '';
  let i = 0;
  while (i < text.length) {
    const start = text.indexOf('${', i);
    const end = start < 0 ? -1 : text.indexOf('}', start + 2);
    if (start < 0 || end < 0) {
      raw += text.slice(i);
      break;
    }
    raw += text.slice(i, start);
    if (raw !== '') parts.push(raw);
    raw = '';
    const inner = text.slice(start + 2, end);
    const escape = ESCAPES[inner];
    if (escape !== undefined) {
      parts.push({ literal: escape });
    } else {
      const ref = parseVariable(inner);
      parts.push(ref);
      variables.push(ref);
    }
    i = end + 1;
  }
  if (raw !== '') parts.push(raw);
  return { parts, variables };
}

function parseVariable(inner: string): VariableRef {
  const comma = inner.indexOf(', ');
  if (comma < 0) {
    const name = inner.trim();
    return { name, key: name.toLowerCase() };
  }
  const name = inner.slice(0, comma).trim();
  const rest = inner.slice(comma + 2).trim();
  const ref: VariableRef = { name, key: name.toLowerCase() };
  if (rest.length >= 2 && rest.startsWith("'") && rest.endsWith("'")) {
    ref.fallback = rest.slice(1, -1);
  }
  return ref;
}

/** The value of `ref` in the context: a single value, else its default, else unresolved. */
export function resolveVariable(ref: VariableRef, lookup: ContextLookup): string | undefined {
  const v = lookup(ref.key);
  if (typeof v === 'string') return v;
  return ref.fallback;
}

/**
 * The template as a plain string (wildcard characters kept as written), or the first variable
 * that could not be resolved.
 */
export function resolveString(template: Template, lookup: ContextLookup): string | Unresolved {
  if (template.variables.length === 0) return joinLiteral(template.parts);
  let out = '';
  for (const part of template.parts) {
    if (typeof part === 'string') out += part;
    else if ('literal' in part) out += part.literal;
    else {
      const v = resolveVariable(part, lookup);
      if (v === undefined) return { unresolved: part };
      out += v;
    }
  }
  return out;
}

/** The template as glob tokens: raw text keeps its wildcards, resolved values are literal. */
export function resolveGlob(
  template: Template,
  lookup: ContextLookup,
  ignoreCase = false,
): GlobToken[] | Unresolved {
  const out: GlobToken[] = [];
  for (const part of template.parts) {
    if (typeof part === 'string') {
      for (const t of tokenizeGlob(ignoreCase ? part.toLowerCase() : part)) out.push(t);
    } else if ('literal' in part) {
      out.push(part.literal);
    } else {
      const v = resolveVariable(part, lookup);
      if (v === undefined) return { unresolved: part };
      if (v !== '') out.push(ignoreCase ? v.toLowerCase() : v);
    }
  }
  return out;
}

function joinLiteral(parts: readonly TemplatePart[]): string {
  let out = '';
  for (const part of parts) {
    if (typeof part === 'string') out += part;
    else if ('literal' in part) out += part.literal;
  }
  return out;
}

/** Whether a value returned by the resolvers is the unresolved marker. */
export function isUnresolved(v: unknown): v is Unresolved {
  return typeof v === 'object' && v !== null && 'unresolved' in v;
}
