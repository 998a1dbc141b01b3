import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GuardMarkers } from '../src/guards.js';

type Op = { kind: 'add' | 'remove'; start: number; len: number } | { kind: 'move'; start: number; len: number; to: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constantFrom<'add' | 'remove'>('add', 'remove'), start: fc.integer({ min: 0, max: 200 }), len: fc.integer({ min: 0, max: 40 }) }),
  fc.record({ kind: fc.constant<'move'>('move'), start: fc.integer({ min: 0, max: 200 }), len: fc.integer({ min: 0, max: 40 }), to: fc.integer({ min: 0, max: 200 }) }),
);

/** The invariants GuardMarkers documents: non-empty, sorted, disjoint, not adjacent; size counts the pages. */
function checkShape(g: GuardMarkers): void {
  const r = g.ranges();
  let pages = 0;
  for (let i = 0; i < r.length; i++) {
    expect(r[i]![0]).toBeLessThan(r[i]![1]);
    if (i > 0) expect(r[i - 1]![1]).toBeLessThan(r[i]![0]);
    pages += r[i]![1] - r[i]![0];
  }
  expect(g.size).toBe(pages);
}

describe('GuardMarkers', () => {
  it('answers exactly as a set of page numbers through installs, removals and moves', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60 }), (ops) => {
        const g = new GuardMarkers();
        const ref = new Set<number>();
        for (const op of ops) {
          const end = op.start + op.len;
          if (op.kind === 'add') {
            g.add(op.start, end);
            for (let v = op.start; v < end; v++) ref.add(v);
          } else if (op.kind === 'remove') {
            g.remove(op.start, end);
            for (let v = op.start; v < end; v++) ref.delete(v);
          } else {
            // mremap moves to a range that does not overlap the source.
            if (op.to < end && op.start < op.to + op.len) continue;
            g.move(op.start, op.len, op.to);
            const moved = [...ref].filter((v) => v >= op.start && v < end);
            for (const v of moved) ref.delete(v);
            for (const v of moved) ref.add(v - op.start + op.to);
          }
          checkShape(g);
          expect(g.size).toBe(ref.size);
          for (let v = 0; v < 300; v++) expect(g.has(v)).toBe(ref.has(v));
          // rangesIn: the guarded pages of a window, clipped, in order, as maximal runs.
          const lo = op.start >> 1;
          const hi = lo + op.len + 7;
          const runs: Array<[number, number]> = [];
          for (let v = lo; v < hi; v++) {
            if (!ref.has(v)) continue;
            const last = runs[runs.length - 1];
            if (last && last[1] === v) last[1] = v + 1;
            else runs.push([v, v + 1]);
          }
          expect(g.rangesIn(lo, hi)).toEqual(runs);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('guards a range of any length in one entry (440 GiB: 115 million pages)', () => {
    const g = new GuardMarkers();
    const start = 0x7f91ea14f;
    const pages = Math.ceil(472677811477 / 4096);
    g.add(start, start + pages);
    expect(g.size).toBe(pages);
    expect(g.rangeCount).toBe(1);
    expect(g.has(start + pages - 1)).toBe(true);
    expect(g.has(start + pages)).toBe(false);
    g.remove(start + 10, start + 20);
    expect(g.rangeCount).toBe(2);
    expect(g.size).toBe(pages - 10);
  });
});
