/**
 * Replays one differential case: prints the generated policies and request, our decision with
 * its trace, iam-simulate's decision, and the excluded classes the case falls in.
 *
 *   npx tsx test/policy/differential/replay.ts SEED
 */
import { explainDecision } from '../../../src/policy/index.js';
import { classify } from './classify.js';
import { ourDecision, referenceDecision } from './engines.js';
import { generateScenario } from './generate.js';

const seed = Number(process.argv[2]);
if (!Number.isInteger(seed)) throw new Error('usage: replay.ts SEED');
const scenario = generateScenario(seed);
const decision = ourDecision(scenario);
console.log(JSON.stringify(scenario, null, 2));
console.log(explainDecision(decision).join('\n'));
console.log(`iam-simulate: ${referenceDecision(scenario)}`);
console.log(`excluded classes: ${classify(scenario, decision).join(', ') || 'none'}`);
