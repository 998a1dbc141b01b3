// The committed copy of the given golden traces (conformance/given) must be
// exactly the set the workplace keeps in ../shared/conformance, so that what
// CI replays is what the project was given. Where ../shared is absent (CI, a
// user's laptop) the committed copy is all there is, and must be complete.
import { existsSync, readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { givenConformance, GIVEN_TRACES, sharedConformance, traceFiles } from './conformance-lib.js';

describe('the given golden traces', () => {
  const committed = traceFiles(givenConformance);

  it(`are committed: ${GIVEN_TRACES} traces in conformance/given`, () => {
    expect(committed).toHaveLength(GIVEN_TRACES);
  });

  it.runIf(existsSync(sharedConformance))('are byte for byte those of ../shared/conformance (when it is present)', () => {
    const shared = traceFiles(sharedConformance).filter((f) => !f.slice(sharedConformance.length + 1).includes('/'));
    expect(shared.map((f) => basename(f)).sort()).toEqual(committed.map((f) => basename(f)).sort());
    for (const f of shared) {
      expect(readFileSync(`${givenConformance}/${basename(f)}`, 'utf8'), basename(f)).toBe(readFileSync(f, 'utf8'));
    }
  });
});
