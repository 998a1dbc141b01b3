import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BitmapAllocator, BuddyAllocator } from '../src/frames/index.js';
import type { ContiguousFrameAllocator } from '../src/frames/index.js';

type Op = { kind: 'alloc'; order: number } | { kind: 'free'; pick: number } | { kind: 'giant' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant('alloc' as const), order: fc.integer({ min: 0, max: 10 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('free' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'giant' as const }) },
);

/** A buddy allocator fails a request only after giving its per-CPU list back (`drain_all_pages`). */
function failedAfterDrain(a: ContiguousFrameAllocator): void {
  if (a instanceof BuddyAllocator && a.pcpPages !== 0) throw new Error('an allocation failed with pages on the per-CPU list');
}

describe.each([
  ['buddy', (n: number): ContiguousFrameAllocator => new BuddyAllocator({ totalFrames: n })],
  ['bitmap', (n: number): ContiguousFrameAllocator => new BitmapAllocator({ totalFrames: n })],
])('%s allocator properties', (_name, make) => {
  it('keeps free + allocated == total and never overlaps blocks', () => {
    fc.assert(
      fc.property(
        // Up to 2^16 frames: the buddy allocator's per-CPU list is off below
        // 2^13 frames and holds batches of 1, 3, 7 and 15 pages above.
        fc.integer({ min: 0, max: 2 ** 16 + 777 }),
        fc.array(opArb, { maxLength: 120 }),
        (totalFrames, ops) => {
          const a = make(totalFrames);
          const live: [number, number][] = []; // [pfn, order]
          const owner = new Map<number, number>(); // frame → index of its block start
          let allocated = 0;
          const take = (pfn: number, order: number) => {
            if (pfn % 2 ** order !== 0) throw new Error(`block ${pfn} not aligned to order ${order}`);
            if (pfn + 2 ** order > totalFrames) throw new Error(`block ${pfn} order ${order} runs past the end`);
            for (let f = pfn; f < pfn + 2 ** order; f++) {
              if (owner.has(f)) throw new Error(`frame ${f} handed out twice`);
              owner.set(f, pfn);
            }
            live.push([pfn, order]);
            allocated += 2 ** order;
          };
          for (const op of ops) {
            if (op.kind === 'alloc') {
              const pfn = a.alloc(op.order);
              if (pfn >= 0) take(pfn, op.order);
              else failedAfterDrain(a);
            } else if (op.kind === 'giant') {
              const pfn = a.allocContiguous(12); // 16 MiB: above MAX_PAGE_ORDER
              if (pfn >= 0) take(pfn, 12);
              else failedAfterDrain(a);
            } else if (live.length > 0) {
              const [pfn, order] = live.splice(op.pick % live.length, 1)[0]!;
              if (order > a.maxOrder) a.freeContiguous(pfn, order);
              else a.free(pfn, order);
              for (let f = pfn; f < pfn + 2 ** order; f++) owner.delete(f);
              allocated -= 2 ** order;
              expect(() => a.free(pfn, order)).toThrow();
            }
            if (a.freeFrames() + allocated !== a.totalFrames) throw new Error('free + allocated != total');
          }
          // isAllocated agrees with the model on a sample of frames.
          for (let f = 0; f < totalFrames; f += 7) {
            if (a.isAllocated(f) !== owner.has(f)) throw new Error(`isAllocated(${f}) disagrees with the model`);
          }
          for (const [pfn, order] of live) {
            if (order > a.maxOrder) a.freeContiguous(pfn, order);
            else a.free(pfn, order);
          }
          expect(a.freeFrames()).toBe(totalFrames);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('buddy allocator returns to its initial free lists', () => {
  it('after any alloc/free sequence is undone', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 16 + 5000 }), fc.array(fc.integer({ min: 0, max: 10 }), { maxLength: 60 }), (n, orders) => {
        const a = new BuddyAllocator({ totalFrames: n });
        const initial = a.buddyinfo();
        const got = orders.map((o) => [a.alloc(o), o] as const).filter(([p]) => p >= 0);
        for (const [p, o] of got.reverse()) a.free(p, o);
        expect(a.freeFrames()).toBe(n);
        expect(a.pcpPages).toBeLessThan(Math.max(1, a.pcpHigh));
        a.drainPcp();
        expect(a.pcpPages).toBe(0);
        expect(a.buddyinfo()).toEqual(initial);
        expect(a.trackedEntries()).toBe(initial.slice(0, 10).reduce((s, c) => s + c, 0));
      }),
      { numRuns: 200 },
    );
  });
});
