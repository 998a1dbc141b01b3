// Replays every golden trace. Seed traces must match exactly; for the others
// the divergent steps must be a subset of the committed baseline, so the score
// can only go up (tools/conformance/known-divergences.json).
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { givenConformance, GIVEN_TRACES, ownConformance, readBaseline, scoreFile, traceFiles } from './conformance-lib.js';

const baseline = readBaseline();
const files = traceFiles(ownConformance); // conformance/given (the given set) and the project's own

describe('golden traces', () => {
  it('finds the conformance sets: all of the given traces, and the project\'s own', () => {
    // A missing folder must fail here, never pass as "nothing to replay".
    expect(traceFiles(givenConformance)).toHaveLength(GIVEN_TRACES);
    expect(files.length).toBeGreaterThan(GIVEN_TRACES);
  });

  let matched = 0;
  let total = 0;
  for (const file of files) {
    const name = basename(file);
    it(`${name} replays within the known-divergence baseline`, () => {
      const score = scoreFile(file);
      matched += score.matched;
      total += score.total;
      process.stdout.write(`conformance ${name}: matched ${score.matched} of ${score.total} steps\n`);
      const known = new Set(name.startsWith('seed-') ? [] : (baseline[name] ?? []));
      const fresh = score.divergentLines.filter((l) => !known.has(l));
      expect(fresh, `new divergences in ${name}:\n${score.report.filter((r) => fresh.includes(Number(r.split(':')[0]))).join('\n')}`).toEqual([]);
      // A replay that agrees with the kernel prints the golden trace back byte for byte.
      if (score.divergentLines.length === 0) expect(score.printed).toBe(score.text);
    });
  }

  it('prints the overall score', () => {
    process.stdout.write(`conformance total: matched ${matched} of ${total} steps\n`);
    expect(total).toBeGreaterThan(0);
  });
});
