// The huge zero block bookkeeping on its own: which blocks a zap or a VMA
// boundary ends, for every range.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { forgetHugeZeroBlock, hugeZeroBlockBases, markHugeZeroBlock, splitHugeZeroAt, zapHugeZeroBlocks, type MmStruct } from '../src/index.js';

const PMD = 512;

/** A stand-in address space (the bookkeeping only keys on it) with the blocks at `bases` marked. */
function spaceWith(bases: readonly number[]): MmStruct {
  const mm = {} as MmStruct;
  for (const b of bases) markHugeZeroBlock(mm, b);
  return mm;
}

describe('huge zero blocks', () => {
  it('a zap ends every block it touches, and only those', () => {
    const bases = Array.from({ length: 12 }, (_, i) => (i + 3) * PMD);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 16 * PMD }), fc.integer({ min: 1, max: 16 * PMD }), (start, len) => {
        const mm = spaceWith(bases);
        zapHugeZeroBlocks(mm, start, start + len);
        expect(hugeZeroBlockBases(mm)).toEqual(bases.filter((b) => b + PMD <= start || b >= start + len));
      }),
    );
  });

  it('a VMA boundary ends the block it falls inside, not one it falls between', () => {
    const bases = [0, PMD, 2 * PMD];
    const mm = spaceWith(bases);
    splitHugeZeroAt(mm, PMD);
    expect(hugeZeroBlockBases(mm)).toEqual(bases);
    splitHugeZeroAt(mm, PMD + 1);
    expect(hugeZeroBlockBases(mm)).toEqual([0, 2 * PMD]);
    splitHugeZeroAt(mm, 3 * PMD - 1);
    expect(hugeZeroBlockBases(mm)).toEqual([0]);
    forgetHugeZeroBlock(mm, 0);
    expect(hugeZeroBlockBases(mm)).toEqual([]);
  });
});
