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
 * Whether `input[start, end)` (all of it by default) matches the tokens. Greedy with
 * backtracking to the last star: linear for the common shapes and never exponential.
 */
export function matchTokens(
  tokens: readonly GlobToken[],
  input: string,
  start = 0,
  end = input.length,
): boolean {
  let ti = 0;
  let si = start;
  let starTi = -1;
  let starSi = start;
  const n = tokens.length;
  for (;;) {
    if (ti < n) {
      const tok = tokens[ti] as GlobToken;
      if (tok === STAR) {
        starTi = ti++;
        starSi = si;
        continue;
      }
      if (tok === ONE) {
        if (si < end) {
          ti++;
          si++;
          continue;
        }
      } else if (si + tok.length <= end && input.startsWith(tok, si)) {
        ti++;
        si += tok.length;
        continue;
      }
    } else if (si === end) {
      return true;
    }
    // Mismatch: let the last star swallow one more character, or fail.
    if (starTi < 0 || starSi >= end) return false;
    starSi++;
    si = starSi;
    ti = starTi + 1;
  }
}

/** A compiled wildcard pattern with fast paths for the common shapes. */
export interface Glob {
  test(input: string): boolean;
  /** Whether `input[start, end)` matches (no substring is made). */
  testAt(input: string, start: number, end: number): boolean;
}

const ANY: Glob = { test: () => true, testAt: () => true };
const EMPTY: Glob = { test: (s) => s === '', testAt: (_s, start, end) => start === end };

/**
 * Compiles `pattern` (`*` and `?` wildcards). With `ignoreCase`, pattern and input are compared
 * lower-cased (callers pass lower-cased input to {@link Glob.test}).
 */
export function compileGlob(pattern: string, ignoreCase = false): Glob {
  return globFromTokens(tokenizeGlob(ignoreCase ? pattern.toLowerCase() : pattern));
}

/** Compiles tokens (adjacent literals are joined first), using fast paths where it can. */
export function globFromTokens(input: readonly GlobToken[]): Glob {
  const tokens: GlobToken[] = [];
  for (const t of input) {
    const last = tokens[tokens.length - 1];
    if (typeof t === 'string' && typeof last === 'string') tokens[tokens.length - 1] = last + t;
    else if (t === '') continue;
    else if (!(t === STAR && last === STAR)) tokens.push(t);
  }
  const [t0, t1, t2] = tokens;
  if (tokens.length === 0) return EMPTY;
  if (tokens.length === 1 && t0 === STAR) return ANY;
  if (tokens.length === 1 && typeof t0 === 'string') {
    const n = t0.length;
    return {
      test: (s) => s === t0,
      testAt: (s, start, end) => end - start === n && s.startsWith(t0, start),
    };
  }
  if (tokens.length === 2 && typeof t0 === 'string' && t1 === STAR) {
    const n = t0.length;
    return {
      test: (s) => s.startsWith(t0),
      testAt: (s, start, end) => end - start >= n && s.startsWith(t0, start),
    };
  }
  if (tokens.length === 2 && t0 === STAR && typeof t1 === 'string') {
    const n = t1.length;
    return {
      test: (s) => s.endsWith(t1),
      testAt: (s, start, end) => end - start >= n && s.endsWith(t1, end),
    };
  }
  if (tokens.length === 3 && typeof t0 === 'string' && t1 === STAR && typeof t2 === 'string') {
    const min = t0.length + t2.length;
    return {
      test: (s) => s.length >= min && s.startsWith(t0) && s.endsWith(t2),
      testAt: (s, start, end) =>
        end - start >= min && s.startsWith(t0, start) && s.endsWith(t2, end),
    };
  }
  return {
    test: (s) => matchTokens(tokens, s),
    testAt: (s, start, end) => matchTokens(tokens, s, start, end),
  };
}
