import { describe, expect, it } from 'vitest';
import { DENSE_SECTION_LIMIT, extendTo } from '../src/dense-index.js';

describe('extendTo', () => {
  it('appends the fill value up to the index and never shortens', () => {
    const a: (number | undefined)[] = [1];
    extendTo(a, 4, undefined);
    expect(a).toEqual([1, undefined, undefined, undefined, undefined]);
    const counts = [7, 8];
    extendTo(counts, 3, 0);
    expect(counts).toEqual([7, 8, 0, 0]);
    extendTo(counts, 1, 0);
    expect(counts).toEqual([7, 8, 0, 0]);
  });

  it('leaves an index past the dense limit to a sparse store', () => {
    const a: number[] = [];
    extendTo(a, DENSE_SECTION_LIMIT, 0);
    expect(a.length).toBe(0);
  });
});
