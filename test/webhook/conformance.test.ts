/**
 * Every pod fixture of aws/amazon-eks-pod-identity-webhook, through the AdmissionReview
 * handler: the answer's base64 patch must equal the fixture's expected patch (same
 * operations, paths and list orders; and, since Latchkey encodes in Go's key order, the same
 * bytes).
 */
import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { answerAdmissionReview } from '../../src/webhook/index.js';
import {
  admissionReview,
  FIXTURE_DIR,
  loadFixtures,
  mutatorForFixture,
} from './helpers/fixtures.js';

const fixtures = loadFixtures();
const cases = fixtures.filter((f) => !f.skip);
let ran = 0;

describe(`pod-identity-webhook fixtures (${FIXTURE_DIR})`, () => {
  it('finds the fixtures, including containercredentials/', () => {
    // Counted independently of the loader: every *.yaml / *.yml below the fixture directory.
    const files = readdirSync(FIXTURE_DIR, { recursive: true, encoding: 'utf8' }).filter((f) =>
      /\.ya?ml$/.test(f),
    );
    expect(fixtures.length).toBe(files.length);
    expect(files.length).toBeGreaterThanOrEqual(24);
    expect(cases.some((f) => f.file.startsWith('containercredentials/'))).toBe(true);
  });

  for (const fixture of cases) {
    it(fixture.file, async () => {
      const answer = await answerAdmissionReview(
        admissionReview(fixture.pod),
        'application/json',
        mutatorForFixture(fixture),
      );
      expect(answer.status).toBe(200);
      const review = JSON.parse(answer.body) as {
        apiVersion: string;
        kind: string;
        response: { uid: string; allowed: boolean; patch?: string; patchType?: string };
      };
      expect(review.apiVersion).toBe('admission.k8s.io/v1');
      expect(review.kind).toBe('AdmissionReview');
      expect(review.response.uid).toBe('918ef1dc-928f-4525-99ef-988389f263c3');
      expect(review.response.allowed).toBe(true);
      if (fixture.expectedPatch === undefined) {
        expect(review.response.patch).toBeUndefined();
      } else {
        expect(review.response.patchType).toBe('JSONPatch');
        const patch = Buffer.from(review.response.patch ?? '', 'base64').toString('utf8');
        expect(JSON.parse(patch)).toStrictEqual(JSON.parse(fixture.expectedPatch));
        expect(patch).toBe(fixture.expectedPatch);
      }
      ran++;
    });
  }

  it('ran every non-skipped fixture', () => {
    expect(ran).toBe(cases.length);
    expect(cases.length).toBeGreaterThan(0);
  });
});
