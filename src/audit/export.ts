import { appendFileSync, mkdirSync, readdirSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Appends records to rotating JSONL files for a SIEM: `audit-YYYYMMDD-N.jsonl`, a new file
 * each day or when one passes `maxBytes`; the oldest beyond `keepFiles` are deleted.
 */
export class JsonlExporter {
  #file = '';
  #size = 0;

  constructor(
    private readonly dir: string,
    private readonly maxBytes = 64 * 1024 * 1024,
    private readonly keepFiles = 30,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  }

  /** Appends one record (a JSON string) as a line. */
  append(json: string): void {
    const day = new Date().toISOString().slice(0, 10).replace(/-/g, '');
    if (!this.#file.includes(`audit-${day}-`) || this.#size >= this.maxBytes) this.#rotate(day);
    const line = json + '\n';
    appendFileSync(this.#file, line, { mode: 0o600 });
    this.#size += Buffer.byteLength(line);
  }

  #rotate(day: string): void {
    const existing = readdirSync(this.dir).filter(
      (f) => f.startsWith(`audit-${day}-`) && f.endsWith('.jsonl'),
    );
    let n = existing.length;
    let file = join(this.dir, `audit-${day}-${Math.max(n, 1)}.jsonl`);
    let size = n > 0 ? statSync(file).size : 0;
    if (size >= this.maxBytes) {
      n += 1;
      file = join(this.dir, `audit-${day}-${n}.jsonl`);
      size = 0;
    }
    this.#file = file;
    this.#size = size;
    const all = readdirSync(this.dir)
      .filter((f) => /^audit-\d{8}-\d+\.jsonl$/.test(f))
      .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    for (const old of all.slice(0, Math.max(0, all.length - this.keepFiles)))
      unlinkSync(join(this.dir, old));
  }
}
