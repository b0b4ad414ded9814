/**
 * IAM wildcard matching: `*` (any run of characters, possibly empty) and `?` (one character).
 *
 * Patterns are tokenised once into literal runs and wildcards and matched without building
 * regular expressions, so matching allocates nothing and needs no escaping.
 */

/** `*`: any run of characters. */
export const STAR = 0;
/** `?`: exactly one character. */
export const ONE = 1;

/** A pattern token: a literal run, {@link STAR} or {@link ONE}. */
export type GlobToken = string | typeof STAR | typeof ONE;

/** Splits `pattern` into literal runs and wildcard tokens (adjacent stars collapse). */
export function tokenizeGlob(pattern: string): GlobToken[] {
  const out: GlobToken[] = [];
  let literal = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*' || c === '?') {
      if (literal !== '') out.push(literal);
      literal = '';
      if (c === '?') out.push(ONE);
      else if (out[out.length - 1] !== STAR) out.push(STAR);
    } else {
      literal += c;
    }
  }
  if (literal !== '') out.push(literal);
  return out;
}

/**
 * Whether `input` matches the tokens. Greedy with backtracking to the last star: linear for the
 * common shapes and never exponential.
 */
export function matchTokens(tokens: readonly GlobToken[], input: string): boolean {
  let ti = 0;
  let si = 0;
  let starTi = -1;
  let starSi = 0;
  const n = tokens.length;
  const len = input.length;
  for (;;) {
    if (ti < n) {
      const tok = tokens[ti] as GlobToken;
      if (tok === STAR) {
        starTi = ti++;
        starSi = si;
        continue;
      }
      if (tok === ONE) {
        if (si < len) {
          ti++;
          si++;
          continue;
        }
      } else if (input.startsWith(tok, si)) {
        ti++;
        si += tok.length;
        continue;
      }
    } else if (si === len) {
      return true;
    }
    // Mismatch: let the last star swallow one more character, or fail.
    if (starTi < 0 || starSi >= len) return false;
    starSi++;
    si = starSi;
    ti = starTi + 1;
  }
}

/** A compiled wildcard pattern with fast paths for the common shapes. */
export interface Glob {
  test(input: string): boolean;
}

const ANY: Glob = { test: () => true };

/**
 * Compiles `pattern` (`*` and `?` wildcards). With `ignoreCase`, pattern and input are compared
 * lower-cased (callers pass lower-cased input to {@link Glob.test}).
 */
export function compileGlob(pattern: string, ignoreCase = false): Glob {
  const p = ignoreCase ? pattern.toLowerCase() : pattern;
  const tokens = tokenizeGlob(p);
  if (tokens.length === 0) return { test: (s) => s === '' };
  if (tokens.length === 1) {
    const t = tokens[0] as GlobToken;
    if (t === STAR) return ANY;
    if (typeof t === 'string') return { test: (s) => s === t };
  }
  if (tokens.length === 2 && tokens[1] === STAR && typeof tokens[0] === 'string') {
    const prefix = tokens[0];
    return { test: (s) => s.startsWith(prefix) };
  }
  if (tokens.length === 2 && tokens[0] === STAR && typeof tokens[1] === 'string') {
    const suffix = tokens[1];
    return { test: (s) => s.endsWith(suffix) };
  }
  return { test: (s) => matchTokens(tokens, s) };
}

/** Whether `pattern` contains a wildcard character. */
export function hasWildcard(pattern: string): boolean {
  return pattern.includes('*') || pattern.includes('?');
}
