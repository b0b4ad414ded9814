/**
 * Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'default'}`, and the escapes
 * `${*}`, `${?}`, `${$}`.
 *
 * Strings that may hold variables are compiled once: as a string template (for equality
 * operators) or a glob template (for `…Like` operators and resources), whose raw text is split
 * into wildcard tokens up front. Evaluation only resolves the variables against the request
 * context, without building strings or patterns. A variable resolves to a single-valued context
 * key (multivalued keys cannot be variables), else to its default, else it is unresolved — AWS:
 * "the value is effectively null. There is no equal or like value."
 */
import { globFromTokens, tokenizeGlob, type Glob, type GlobToken } from './wildcard.js';

/** A `${key}` reference. */
export interface VariableRef {
  /** The key as written, for messages and missing-key reports. */
  readonly name: string;
  /** Lower-cased key (context keys are case-insensitive). */
  readonly key: string;
  /** The `'default'` value, when given. */
  readonly fallback?: string;
}

/**
 * The request context's values by lower-cased key; `spelled` is the key as the policy writes
 * it, which lets a raw context be read without normalising it first.
 */
export interface ContextValues {
  get(key: string, spelled?: string): string | readonly string[] | undefined;
}

/**
 * Part of a parsed string: raw policy text (where `*` and `?` are wildcards for the matching
 * operators), a fixed literal (from `${*}`-style escapes, never a wildcard) or a variable.
 */
export type TemplatePart = string | { literal: string } | VariableRef;

const ESCAPES: Readonly<Record<string, string>> = { '*': '*', '?': '?', $: '$' };

function isRef(p: TemplatePart): p is VariableRef {
  return typeof p === 'object' && 'key' in p;
}

/**
 * Splits `text` into parts. With `enabled` false (policies without Version 2012-10-17), `${…}`
 * is plain text, as AWS treats it.
 */
export function parseParts(text: string, enabled: boolean): TemplatePart[] {
  if (!enabled || !text.includes('${')) return text === '' ? [] : [text];
  const parts: TemplatePart[] = [];
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
    parts.push(escape !== undefined ? { literal: escape } : parseVariable(inner));
    i = end + 1;
  }
  if (raw !== '') parts.push(raw);
  return parts;
}

function parseVariable(inner: string): VariableRef {
  const comma = inner.indexOf(', ');
  if (comma < 0) {
    const name = inner.trim();
    return { name, key: name.toLowerCase() };
  }
  const name = inner.slice(0, comma).trim();
  const rest = inner.slice(comma + 2).trim();
  if (rest.length >= 2 && rest.startsWith("'") && rest.endsWith("'")) {
    return { name, key: name.toLowerCase(), fallback: rest.slice(1, -1) };
  }
  return { name, key: name.toLowerCase() };
}

/** The variables among `parts`. */
export function variablesOf(parts: readonly TemplatePart[]): VariableRef[] {
  return parts.filter(isRef);
}

/** The value of `ref` in the context: a single value, else its default, else undefined. */
export function resolveVariable(ref: VariableRef, values: ContextValues): string | undefined {
  const v = values.get(ref.key, ref.name);
  if (typeof v === 'string') return v;
  return ref.fallback;
}

/** A string that may hold variables, for the equality operators. */
export class StringTemplate {
  readonly variables: readonly VariableRef[];
  /** The value when it has no variables. */
  readonly fixed: string | undefined;
  readonly #parts: readonly TemplatePart[];

  constructor(text: string, variables: boolean) {
    this.#parts = parseParts(text, variables);
    this.variables = variablesOf(this.#parts);
    this.fixed = this.variables.length === 0 ? (this.#join(undefined) as string) : undefined;
  }

  /** The text with variables substituted, or the first variable without a value. */
  resolve(values: ContextValues): string | VariableRef {
    if (this.fixed !== undefined) return this.fixed;
    return this.#join(values);
  }

  #join(values: ContextValues | undefined): string | VariableRef {
    let out = '';
    for (const part of this.#parts) {
      if (typeof part === 'string') out += part;
      else if (!isRef(part)) out += part.literal;
      else {
        const v = values === undefined ? undefined : resolveVariable(part, values);
        if (v === undefined) return part;
        out += v;
      }
    }
    return out;
  }
}

/** A glob token, or a variable resolved (to a literal) at match time. */
type TemplateToken = GlobToken | VariableRef;

/**
 * A wildcard pattern that may hold variables, for `…Like` operators, ARN operators and
 * resources. Substituted values are literal: their `*` and `?` are not wildcards.
 */
export class GlobTemplate {
  readonly variables: readonly VariableRef[];
  readonly #tokens: readonly TemplateToken[];
  /** The compiled matcher when there are no variables. */
  readonly #glob: Glob | undefined;

  constructor(text: string, variables: boolean) {
    const parts = parseParts(text, variables);
    this.variables = variablesOf(parts);
    const tokens: TemplateToken[] = [];
    for (const part of parts) {
      if (typeof part === 'string') tokens.push(...tokenizeGlob(part));
      else if (isRef(part)) tokens.push(part);
      else tokens.push(part.literal);
    }
    this.#tokens = tokens;
    if (this.variables.length === 0) {
      // Escapes became literal tokens, so they never act as wildcards.
      this.#glob = globFromTokens(tokens as GlobToken[]);
    }
  }

  /** Patterns compiled for variable values seen before (bounded). */
  readonly #byValues = new Map<string, Glob>();

  /** Whether `input` matches, or the first variable without a value. */
  match(input: string, values: ContextValues): boolean | VariableRef {
    return this.matchAt(input, 0, input.length, values);
  }

  /** Whether `input[start, end)` matches, or the first variable without a value. */
  matchAt(input: string, start: number, end: number, values: ContextValues): boolean | VariableRef {
    if (this.#glob !== undefined) return this.#glob.testAt(input, start, end);
    // Compile the pattern once per set of variable values: users, tags and the like repeat.
    const vars = this.variables;
    let key = '';
    for (let i = 0; i < vars.length; i++) {
      const v = resolveVariable(vars[i]!, values);
      if (v === undefined) return vars[i]!;
      key = i === 0 ? v : `${key}\u0000${v}`;
    }
    let glob = this.#byValues.get(key);
    if (glob === undefined) {
      const tokens: GlobToken[] = [];
      for (const t of this.#tokens) tokens.push(typeof t === 'object' ? literalOf(t, values) : t);
      glob = globFromTokens(tokens);
      if (this.#byValues.size >= VALUE_CACHE_LIMIT) this.#byValues.clear();
      this.#byValues.set(key, glob);
    }
    return glob.testAt(input, start, end);
  }
}

const VALUE_CACHE_LIMIT = 256;

/** The value a variable token stands for here ('' when unresolved; callers check first). */
function literalOf(tok: VariableRef, values: ContextValues): string {
  return resolveVariable(tok, values) ?? '';
}
