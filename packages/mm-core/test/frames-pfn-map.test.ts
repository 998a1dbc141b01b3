import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PfnIndexMap, PfnMap, PfnOrderMap } from '../src/frames/buddy.js';

/** The part of the Map API both frame maps implement (`get` answers -1 for a missing key). */
interface FrameMap {
  readonly size: number;
  get(pfn: number): number;
  set(pfn: number, value: number): void;
  delete(pfn: number): boolean;
}

/** Random set/delete sequences on `make()` and on a Map agree on every answer, size and value. */
function behavesLikeAMap(make: () => FrameMap, key: fc.Arbitrary<number>, value: fc.Arbitrary<number>): void {
  const op = fc.tuple(fc.boolean(), key, value);
  fc.assert(
    fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const m = make();
      const model = new Map<number, number>();
      for (const [isSet, k, v] of ops) {
        if (isSet) {
          m.set(k, v);
          model.set(k, v);
        } else {
          expect(m.delete(k)).toBe(model.delete(k));
        }
        if (m.size !== model.size) return false;
      }
      for (const [k, v] of model) if (m.get(k) !== v) return false;
      for (const [, k] of ops) if (!model.has(k) && m.get(k) !== -1) return false;
      return true;
    }),
    { numRuns: 300 },
  );
}

describe('PfnMap (the allocators\' struct-page metadata)', () => {
  it('behaves like a Map under random set/delete, with keys above 2^32 and colliding runs', () => {
    const key = fc.oneof(
      fc.integer({ min: 0, max: 63 }),
      fc.integer({ min: 0, max: 63 }).map((k) => k * 1024),
      fc.integer({ min: 0, max: 63 }).map((k) => 2 ** 33 + k * 2 ** 18),
      fc.integer({ min: 0, max: 2 ** 40 }),
    );
    behavesLikeAMap(() => new PfnMap(), key, fc.nat({ max: 1e6 }));
  });
});

/** Frames for the sectioned maps: a section's first frames, section starts, above 2^32, anywhere. */
const sectionKey = fc.oneof(
  fc.integer({ min: 0, max: 63 }),
  fc.integer({ min: 0, max: 63 }).map((k) => k * 4096),
  fc.integer({ min: 0, max: 63 }).map((k) => 2 ** 33 + k * 2 ** 18),
  fc.integer({ min: 0, max: 2 ** 40 }),
);

describe('PfnOrderMap (the buddy allocator\'s orders of allocated blocks)', () => {
  it('behaves like a Map under random set/delete, with frames above 2^32 and sections emptied and reused', () => {
    behavesLikeAMap(() => new PfnOrderMap(), sectionKey, fc.integer({ min: 0, max: 40 }));
  });
});

describe('PfnIndexMap (the buddy allocator\'s free-block index)', () => {
  it('behaves like a Map under random set/delete, with frames above 2^32 and sections emptied and reused', () => {
    behavesLikeAMap(() => new PfnIndexMap(), sectionKey, fc.nat({ max: 2 ** 40 }));
  });
});
