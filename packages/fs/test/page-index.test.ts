// PageIndex (a file's page-cache index) against a Map under random sets,
// deletes and range removals: the same answers, iteration in index order,
// the size kept, and nothing left behind.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PageIndex } from '../src/index.js';

/** Indices clustered in a few chunks, with some at chunk edges and far away (up to 2^51). */
const indexArb = fc.oneof(
  fc.integer({ min: 0, max: 2047 }),
  fc.constantFrom(0, 511, 512, 1023, 1024, 2 ** 32 - 1, 2 ** 32, 2 ** 51 - 1),
  fc.integer({ min: 0, max: 2 ** 51 - 1 }),
);

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), index: indexArb, pfn: fc.integer({ min: 0, max: 2 ** 40 }) }),
  fc.record({ kind: fc.constant('delete' as const), index: indexArb }),
  fc.record({ kind: fc.constant('range' as const), first: indexArb, span: fc.oneof(fc.integer({ min: 0, max: 1500 }), fc.constant(Infinity)) }),
);

describe('PageIndex', () => {
  it('answers as a Map does, iterates in index order and removes ranges in order', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
        const idx = new PageIndex();
        const model = new Map<number, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            idx.set(o.index, o.pfn);
            model.set(o.index, o.pfn);
          } else if (o.kind === 'delete') {
            expect(idx.delete(o.index)).toBe(model.get(o.index) ?? -1);
            model.delete(o.index);
          } else {
            const last = o.first + o.span;
            const got: [number, number][] = [];
            idx.removeRange(o.first, last, (pfn, index) => got.push([index, pfn]));
            const want = [...model].filter(([i]) => i >= o.first && i < last).sort((a, b) => a[0] - b[0]);
            expect(got).toEqual(want);
            for (const [i] of want) model.delete(i);
          }
          expect(idx.size).toBe(model.size);
        }
        for (const [i, pfn] of model) {
          expect(idx.get(i)).toBe(pfn);
          expect(idx.has(i)).toBe(true);
        }
        expect([...idx]).toEqual([...model].sort((a, b) => a[0] - b[0]));
        idx.removeRange(0, Infinity, () => {});
        expect(idx.size).toBe(0);
        expect([...idx]).toEqual([]);
      }),
    );
  });

  it('keeps answering after the chunk it remembered is dropped', () => {
    const idx = new PageIndex();
    idx.set(5, 100);
    expect(idx.get(5)).toBe(100);
    expect(idx.delete(5)).toBe(100); // the chunk goes with its last page
    expect(idx.get(5)).toBe(-1);
    idx.set(6, 7);
    expect(idx.get(6)).toBe(7);
    expect(idx.get(5)).toBe(-1);
    idx.clear();
    expect(idx.get(6)).toBe(-1);
    expect(idx.size).toBe(0);
  });
});
