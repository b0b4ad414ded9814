/**
 * `npm run bench [name…]`: runs every benchmark (or the named ones) and prints one Markdown
 * table per benchmark, each figure beside a baseline measured in the same run.
 */
import { formatLines, type Benchmark } from './report.js';

const benchmarks: Record<string, () => Promise<{ default: Benchmark }>> = {
  sigv4: () => import('./sigv4.js'),
  'get-caller-identity': () => import('./get-caller-identity.js'),
  policy: () => import('./policy.js'),
  agent: () => import('./agent.js'),
  webhook: () => import('./webhook.js'),
  s3: () => import('./s3.js'),
  'web-identity': () => import('./web-identity.js'),
  audit: () => import('./audit.js'),
};

const wanted = process.argv.slice(2);
for (const [name, load] of Object.entries(benchmarks)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  const { default: bench } = await load();
  console.log(`\n## ${name}\n`);
  console.log(formatLines(await bench()));
}
