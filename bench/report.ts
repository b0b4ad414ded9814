/**
 * Shared shape of benchmark results: each benchmark measures Latchkey and a baseline in
 * the same run and reports the ratio, so figures are comparable across machines.
 */
export interface BenchLine {
  /** What was measured, e.g. "SigV4 verify (header, 4 signed headers)". */
  name: string;
  /** Latchkey's figure. */
  value: number;
  /** Unit of `value`, e.g. "ops/s", "req/s", "µs p99", "MB/s". */
  unit: string;
  /** The baseline measured in the same run, when there is one. */
  baseline?: { name: string; value: number };
  /** The goal, stated in words, e.g. "≥ 2× baseline". */
  goal?: string;
  /** Whether the goal was met (undefined when there is no goal). */
  met?: boolean;
}

/** A benchmark module's entry point. */
export type Benchmark = () => Promise<BenchLine[]>;

/**
 * Most time a warm-up or a latency sample may take: slow baselines (iam-simulate takes ~20 ms
 * per decision on big policies) would otherwise stretch a run by minutes.
 */
const MAX_WARM_UP_MS = 300;
const MAX_SAMPLING_MS = 3000;

/** Calls `fn` up to `count` times, stopping after {@link MAX_WARM_UP_MS}. */
function warmUp(fn: () => void, count = 1000): void {
  const end = performance.now() + MAX_WARM_UP_MS;
  for (let i = 0; i < count && performance.now() < end; i++) fn();
}

/** Runs `fn` repeatedly for about `ms` milliseconds and returns operations per second. */
export function opsPerSecond(fn: () => void, ms = 1000): number {
  warmUp(fn);
  let n = 0;
  const start = process.hrtime.bigint();
  const end = start + BigInt(ms) * 1_000_000n;
  let now = start;
  while (now < end) {
    for (let i = 0; i < 100; i++) fn();
    n += 100;
    now = process.hrtime.bigint();
  }
  return n / (Number(now - start) / 1e9);
}

/**
 * Times each call of `fn` `count` times (fewer when they take over {@link MAX_SAMPLING_MS}
 * together, but at least 100) and returns the given percentile in microseconds.
 */
export function percentileMicros(fn: () => void, count = 20_000, percentile = 0.99): number {
  warmUp(fn);
  const all = new Float64Array(count);
  const end = performance.now() + MAX_SAMPLING_MS;
  let n = 0;
  while (n < count && (n < 100 || performance.now() < end)) {
    const t0 = process.hrtime.bigint();
    fn();
    all[n++] = Number(process.hrtime.bigint() - t0) / 1000;
  }
  const samples = all.subarray(0, n).sort();
  return samples[Math.min(n - 1, Math.floor(n * percentile))] ?? 0;
}

/** Formats results as a Markdown table (the form kept in docs/benchmarks.md). */
export function formatLines(lines: BenchLine[]): string {
  const rows = lines.map((l) => {
    const ratio = l.baseline ? (l.value / l.baseline.value).toFixed(2) + '×' : '';
    const base = l.baseline ? `${l.baseline.name}: ${round(l.baseline.value)}` : '';
    const met = l.met === undefined ? '' : l.met ? 'met' : 'NOT met';
    return `| ${l.name} | ${round(l.value)} ${l.unit} | ${base} | ${ratio} | ${l.goal ?? ''} ${met} |`;
  });
  return [
    '| benchmark | Latchkey | baseline | ratio | goal |',
    '|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}

function round(v: number): string {
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2);
}
