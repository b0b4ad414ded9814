/**
 * Differential testing against `@cloud-copilot/iam-simulate`: seeded random policies and requests
 * (every operator family, wildcards, variables, set operators, allow/deny mixes, boundaries,
 * session and resource policies, cross-account, role trust) on which both engines must agree.
 *
 * CI-sized by default (20,000 cases); `POLICY_DIFF_CASES=N` runs more, `POLICY_DIFF_SEED=S`
 * starts elsewhere. For 100,000+ in parallel batches use test/policy/differential/run.ts.
 * Classes where iam-simulate departs from AWS's documentation are excluded explicitly and
 * counted; each is recorded in docs/policy-fidelity.md.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXCLUSION_CLASSES } from './differential/classify.js';
import { runRange } from './differential/harness.js';

const CASES = Number(process.env['POLICY_DIFF_CASES'] ?? 20_000);
const SEED = Number(process.env['POLICY_DIFF_SEED'] ?? 1);

describe('differential: our engine vs iam-simulate', () => {
  it(`agrees on ${CASES} generated cases (from seed ${SEED})`, () => {
    const summary = runRange(SEED, SEED + CASES);
    console.log(
      JSON.stringify({ ...summary, disagreements: summary.disagreements.slice(0, 20) }, null, 2),
    );
    expect(summary.cases).toBe(CASES);
    // Every outcome is exercised, including role trust.
    expect(summary.outcomes.allowed).toBeGreaterThan(CASES * 0.1);
    expect(summary.outcomes.explicitDeny).toBeGreaterThan(CASES * 0.1);
    expect(summary.outcomes.implicitDeny).toBeGreaterThan(CASES * 0.1);
    expect(summary.trustCases).toBeGreaterThan(CASES * 0.05);
    // Exclusions stay a minority.
    expect(summary.excludedCases).toBeLessThan(CASES * 0.15);
    expect(summary.disagreements).toEqual([]);
    expect(summary.agreed).toBe(summary.compared);
  });

  it('documents every excluded class in docs/policy-fidelity.md', () => {
    const doc = readFileSync(new URL('../../docs/policy-fidelity.md', import.meta.url), 'utf8');
    for (const c of EXCLUSION_CLASSES) expect(doc, c).toContain(`\`${c}\``);
  });
});
