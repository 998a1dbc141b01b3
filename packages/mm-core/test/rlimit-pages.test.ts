import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rlimitPages, type Rlimit } from '../src/config.js';

describe('rlimitPages', () => {
  it('is the limit in pages for any sequence of limits (its cache of recent conversions never answers stale)', () => {
    const limitArb: fc.Arbitrary<Rlimit> = fc.oneof(
      fc.constant<Rlimit>('unlimited'),
      fc.constantFrom<Rlimit>(0n, 4095n, 4096n, 16777216n, 8388608n),
      fc.bigInt({ min: 0n, max: (1n << 63n) - 1n }),
    );
    fc.assert(
      fc.property(fc.array(limitArb, { maxLength: 40 }), (limits) => {
        for (const limit of limits) expect(rlimitPages(limit)).toBe(limit === 'unlimited' ? Infinity : Number(limit >> 12n));
      }),
      { numRuns: 500 },
    );
  });
});
