/**
 * Where each statement of a policy document sits in its text, as IAM's simulation reports it
 * (`StartPosition` and `EndPosition` of a matched statement: 1-based line and column of the
 * statement's opening and closing braces).
 */

/** A line and column, both counted from 1. */
export interface TextPosition {
  line: number;
  column: number;
}

/** The span of one statement. */
export interface StatementSpan {
  start: TextPosition;
  end: TextPosition;
}

/**
 * The spans of a document's statements, in order (one for a single-object `Statement`). An
 * unparsable text gives an empty list: positions are a courtesy, never a reason to fail.
 *
 * @example
 * statementSpans('{"Statement":[{"Effect":"Allow"}]}');
 * // [{ start: { line: 1, column: 15 }, end: { line: 1, column: 32 } }]
 */
export function statementSpans(text: string): StatementSpan[] {
  try {
    return new SpanScanner(text).document();
  } catch {
    return [];
  }
}

/** A minimal JSON scanner that tracks offsets; values are skipped, not built. */
class SpanScanner {
  #i = 0;

  constructor(private readonly text: string) {}

  document(): StatementSpan[] {
    this.#space();
    this.#expect('{');
    let spans: StatementSpan[] = [];
    this.#members((key) => {
      if (key !== 'Statement') return this.#value();
      const c = this.text[this.#i];
      if (c === '[') {
        spans = [];
        this.#i++;
        this.#elements(() => {
          const start = this.#i;
          this.#value();
          if (this.text[start] === '{') spans.push(this.#span(start, this.#i - 1));
        });
      } else {
        const start = this.#i;
        this.#value();
        spans = this.text[start] === '{' ? [this.#span(start, this.#i - 1)] : [];
      }
    });
    return spans;
  }

  #span(start: number, end: number): StatementSpan {
    return { start: this.#position(start), end: this.#position(end) };
  }

  #position(offset: number): TextPosition {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset; i++) {
      if (this.text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: offset - lineStart + 1 };
  }

  #value(): void {
    this.#space();
    const c = this.text[this.#i];
    if (c === '{') {
      this.#i++;
      this.#members(() => this.#value());
    } else if (c === '[') {
      this.#i++;
      this.#elements(() => this.#value());
    } else if (c === '"') {
      this.#string();
    } else {
      const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(
        this.text.slice(this.#i),
      );
      if (m === null) throw new Error('bad value');
      this.#i += m[0].length;
    }
  }

  /** The members of an object whose `{` was read; `onValue` reads each value. */
  #members(onValue: (key: string) => void): void {
    this.#space();
    if (this.text[this.#i] === '}') {
      this.#i++;
      return;
    }
    for (;;) {
      this.#space();
      const key = this.#string();
      this.#space();
      this.#expect(':');
      this.#space();
      onValue(key);
      this.#space();
      if (this.text[this.#i] === ',') this.#i++;
      else return this.#expect('}');
    }
  }

  /** The elements of an array whose `[` was read. */
  #elements(onValue: () => void): void {
    this.#space();
    if (this.text[this.#i] === ']') {
      this.#i++;
      return;
    }
    for (;;) {
      this.#space();
      onValue();
      this.#space();
      if (this.text[this.#i] === ',') this.#i++;
      else return this.#expect(']');
    }
  }

  #string(): string {
    this.#expect('"');
    const start = this.#i;
    while (this.#i < this.text.length && this.text[this.#i] !== '"') {
      this.#i += this.text[this.#i] === '\\' ? 2 : 1;
    }
    const raw = this.text.slice(start, this.#i);
    this.#expect('"');
    return JSON.parse(`"${raw}"`) as string;
  }

  #space(): void {
    while (/\s/.test(this.text[this.#i] ?? '')) this.#i++;
  }

  #expect(c: string): void {
    if (this.text[this.#i] !== c) throw new Error(`expected ${c}`);
    this.#i++;
  }
}
