/**
 * Large differential runs against iam-simulate, in batches over worker processes:
 *
 *   npx tsx test/policy/differential/run.ts --cases 100000 --jobs 2 [--seed 1] [--batch 5000]
 *
 * Prints progress per batch and a final summary (JSON with --json); exits 1 on any disagreement
 * outside the excluded classes, listing the seeds to replay
 * (`npx tsx test/policy/differential/replay.ts SEED`).
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { emptySummary, mergeSummaries, runRange, type DiffSummary } from './harness.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v < 0) throw new Error(`bad --${name}`);
  return v;
}

if (process.argv[2] === '--worker') {
  // A worker: run one batch and send its summary back.
  const from = Number(process.argv[3]);
  const to = Number(process.argv[4]);
  process.send?.(runRange(from, to));
} else {
  const cases = arg('cases', 100_000);
  const jobs = Math.max(1, arg('jobs', 2));
  const first = arg('seed', 1);
  const batch = Math.max(1, arg('batch', 5_000));
  const json = process.argv.includes('--json');
  const self = fileURLToPath(import.meta.url);
  const total = emptySummary();
  const started = Date.now();
  let next = first;
  const end = first + cases;

  const runBatch = (): Promise<void> | undefined => {
    if (next >= end) return undefined;
    const from = next;
    const to = Math.min(end, from + batch);
    next = to;
    return new Promise<void>((resolve, reject) => {
      const child = fork(self, ['--worker', String(from), String(to)], {
        execArgv: process.execArgv,
      });
      child.on('message', (m) => {
        mergeSummaries(total, m as DiffSummary);
        if (!json) {
          const secs = ((Date.now() - started) / 1000).toFixed(1);
          console.log(
            `seeds ${from}–${to - 1}: ${total.cases} cases, ${total.disagreements.length} disagreements (${secs}s)`,
          );
        }
      });
      child.on('error', reject);
      child.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`worker exit ${code}`)),
      );
    }).then(() => runBatch());
  };

  const workers: Promise<void>[] = [];
  for (let i = 0; i < jobs; i++) {
    const p = runBatch();
    if (p) workers.push(p);
  }
  await Promise.all(workers);
  const report = { ...total, seconds: (Date.now() - started) / 1000, firstSeed: first };
  if (json) console.log(JSON.stringify(report, null, 2));
  else {
    console.log(
      JSON.stringify({ ...report, disagreements: report.disagreements.slice(0, 50) }, null, 2),
    );
  }
  process.exitCode = total.disagreements.length === 0 ? 0 : 1;
}
