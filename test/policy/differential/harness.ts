/**
 * Runs a range of seeds through both engines and tallies agreements, disagreements and the
 * explicitly excluded classes.
 */
import { classify, EXCLUSION_CLASSES, type ExclusionClass } from './classify.js';
import { ourDecision, referenceDecision, type Outcome } from './engines.js';
import { generateScenario } from './generate.js';

/** Totals of one run. */
export interface DiffSummary {
  cases: number;
  compared: number;
  agreed: number;
  /** Seeds where the engines disagreed outside every excluded class. */
  disagreements: { seed: number; ours: Outcome; reference: Outcome }[];
  /** Cases per excluded class (a case may fall in several). */
  excluded: Record<ExclusionClass, number>;
  /** Excluded cases, and how many of them the engines actually decided differently. */
  excludedCases: number;
  excludedDisagreeing: number;
  /** Per class, the excluded cases the engines decided differently. */
  excludedDisagreeingByClass: Record<ExclusionClass, number>;
  /** Compared cases per reference outcome, and per mode. */
  outcomes: Record<Outcome, number>;
  trustCases: number;
}

/** An empty summary. */
export function emptySummary(): DiffSummary {
  return {
    cases: 0,
    compared: 0,
    agreed: 0,
    disagreements: [],
    excluded: Object.fromEntries(EXCLUSION_CLASSES.map((c) => [c, 0])) as Record<
      ExclusionClass,
      number
    >,
    excludedCases: 0,
    excludedDisagreeing: 0,
    excludedDisagreeingByClass: Object.fromEntries(EXCLUSION_CLASSES.map((c) => [c, 0])) as Record<
      ExclusionClass,
      number
    >,
    outcomes: { allowed: 0, explicitDeny: 0, implicitDeny: 0 },
    trustCases: 0,
  };
}

/** Runs seeds `[from, to)` into `summary`. */
export function runRange(from: number, to: number, summary = emptySummary()): DiffSummary {
  for (let seed = from; seed < to; seed++) {
    const scenario = generateScenario(seed);
    const decision = ourDecision(scenario);
    const reference = referenceDecision(scenario);
    summary.cases++;
    const classes = classify(scenario, decision);
    if (classes.length > 0) {
      summary.excludedCases++;
      for (const c of classes) summary.excluded[c]++;
      if (decision.decision !== reference) {
        summary.excludedDisagreeing++;
        for (const c of classes) summary.excludedDisagreeingByClass[c]++;
      }
      continue;
    }
    summary.compared++;
    summary.outcomes[reference]++;
    if (scenario.mode === 'trust') summary.trustCases++;
    if (decision.decision === reference) summary.agreed++;
    else summary.disagreements.push({ seed, ours: decision.decision, reference });
  }
  return summary;
}

/** Adds `b` into `a`. */
export function mergeSummaries(a: DiffSummary, b: DiffSummary): DiffSummary {
  a.cases += b.cases;
  a.compared += b.compared;
  a.agreed += b.agreed;
  a.disagreements.push(...b.disagreements);
  for (const c of EXCLUSION_CLASSES) {
    a.excluded[c] += b.excluded[c];
    a.excludedDisagreeingByClass[c] += b.excludedDisagreeingByClass[c];
  }
  a.excludedCases += b.excludedCases;
  a.excludedDisagreeing += b.excludedDisagreeing;
  for (const o of ['allowed', 'explicitDeny', 'implicitDeny'] as const)
    a.outcomes[o] += b.outcomes[o];
  a.trustCases += b.trustCases;
  return a;
}
