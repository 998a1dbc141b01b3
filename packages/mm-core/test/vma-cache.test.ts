import fc from 'fast-check';
// vm_area_cachep: VMAs freed by merges and unmaps are reused by later splits
// and mappings, but only after a quiescent point (the start of the next system
// call), so nothing that still holds a freed VMA during an operation sees it
// reused.
import { describe, expect, it } from 'vitest';
import { Vma, VmaCache } from '../src/index.js';
import { BASE, mapAt, newMm, protect, PROT, vmaAt } from './vma-helpers.js';

const RW = PROT.READ | PROT.WRITE;

describe('VmaCache', () => {
  it('reuses a retired VMA only after quiesce, with every field reset', () => {
    const cache = new VmaCache();
    const old = new Vma(10, 20, 0x73, 10, null, null);
    old.anonVma = { id: 1 } as unknown as Vma['anonVma'];
    old.privateData = 'resv';
    old.treeSlot = 5;
    cache.retire(old);
    const before = cache.alloc(1, 2, 0x1, 1, null, null);
    expect(before).not.toBe(old); // still retired: a fresh object
    cache.quiesce();
    const reused = cache.alloc(30, 31, 0x3, 30, null, null);
    expect(reused).toBe(old);
    expect([reused.start, reused.end, reused.flags, reused.pgoff]).toEqual([30, 31, 0x3, 30]);
    expect(reused.anonVma).toBeNull();
    expect(reused.privateData).toBeUndefined();
    expect(reused.treeSlot).toBe(0);
  });

  it('dup copies the fields a split shares (anon_vma, private data) into a reused object', () => {
    const cache = new VmaCache();
    cache.retire(new Vma(0, 1, 0, 0, null, null));
    cache.quiesce();
    const from = new Vma(100, 110, 0x73, 100, null, null);
    const anon = { id: 7 } as unknown as Vma['anonVma'];
    from.anonVma = anon;
    from.privateData = 'map';
    const copy = cache.dup(from);
    expect([copy.start, copy.end, copy.flags, copy.pgoff, copy.anonVma, copy.privateData]).toEqual([100, 110, 0x73, 100, anon, 'map']);
  });

  it('is bounded: retiring without quiescent points never grows it past its limit', () => {
    const cache = new VmaCache();
    for (let i = 0; i < 10_000; i++) cache.retire(new Vma(i, i + 1, 0, i, null, null));
    expect(cache.size).toBeLessThanOrEqual(4096);
  });

  it('a merge retires the absorbed VMAs and the next split, after quiesce, reuses them; the result is the same', () => {
    const { mm } = newMm();
    expect(mapAt(mm, BASE, 3, PROT.READ)).toBe(BASE);
    expect(protect(mm, BASE, 1, RW)).toBe(0);
    expect(protect(mm, BASE + 2, 1, RW)).toBe(0);
    const middle = vmaAt(mm, BASE + 1);
    const upper = vmaAt(mm, BASE + 2);
    expect(protect(mm, BASE + 1, 1, RW)).toBe(0); // three VMAs merge into the lower one
    expect(mm.mapCount).toBe(1);
    expect(mm.vmas.has(middle) || mm.vmas.has(upper)).toBe(false);
    // Within the operation that freed them (no quiescent point yet) they are not reused.
    mm.vmaCache.quiesce();
    expect(protect(mm, BASE + 1, 1, PROT.READ)).toBe(0); // split into three again
    const now = mm.vmas.all();
    expect(now).toContain(middle); // the two new halves are the two objects the merge freed
    expect(now).toContain(upper);
    expect(mm.vmas.all().map((v) => [v.start - BASE, v.end - BASE, v.flags & 0xf])).toEqual([
      [0, 1, 0x3],
      [1, 2, 0x1],
      [2, 3, 0x3],
    ]);
  });
});

describe('Vma page-number fields', () => {
  it('give back exactly the integer stored, from -2^52 to 2^52 (kept as two small integers)', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 52), max: 2 ** 52 }), fc.integer({ min: 0, max: 2 ** 52 }), fc.integer({ min: 0, max: 2 ** 52 }), (a, b, c) => {
        const vma = new Vma(a, b, 0, c, null, null);
        expect([vma.start, vma.end, vma.pgoff]).toEqual([a, b, c]);
        vma.start = c;
        vma.end = a;
        vma.pgoff = b;
        expect([vma.start, vma.end, vma.pgoff]).toEqual([c, a, b]);
      }),
      { numRuns: 2000 },
    );
    const edge = [0, 1, 2 ** 30 - 1, 2 ** 30, 2 ** 31, 2 ** 35 - 1, 2 ** 52, -1, -(2 ** 30)];
    for (const x of edge) expect(new Vma(x, x, 0, x, null, null).pgoff).toBe(x);
  });
});
