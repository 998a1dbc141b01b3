import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessKind, PteBits } from '@mmsim/arch';
import type { PteView } from '@mmsim/arch';
import { X86PageTable, x86_64, x86Translate } from '@mmsim/arch/x86-64';
import { TestFrames } from './frame-source.js';

const { PRESENT, WRITE, USER, ACCESSED, DIRTY, READ, EXEC, PROTNONE } = PteBits;
const RW = PRESENT | WRITE | USER | ACCESSED | READ;
const RO = PRESENT | USER | ACCESSED | READ;

function leaves(pt: X86PageTable, start = 0, end = 2 ** 45): [number, PteView][] {
  const out: [number, PteView][] = [];
  // A copy: the view is only valid during the call (the walker rewrites one object).
  pt.forEachLeaf(start, end, (vpn, leaf) => out.push([vpn, { ...leaf }]));
  return out;
}

describe.each([4, 5])('X86PageTable, %i-level', (levels) => {
  it('starts with only the top-level table', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    expect(pt.levels).toBe(levels);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
    expect(pt.lookup(0x12345)).toBeNull();
  });

  it('hasTable tells a PTE table below a PMD entry from an empty entry and from a huge leaf (pmd_none)', () => {
    const pt = new X86PageTable(new TestFrames(), levels);
    const block = 512 * 0x3ff; // a 2 MiB-aligned vpn
    expect(pt.hasTable(block, 9)).toBe(false);
    pt.map(block + 7, 1, 0, RW);
    expect(pt.hasTable(block, 9)).toBe(true);
    expect(pt.hasTable(block + 511, 9)).toBe(true); // any vpn of the block
    expect(pt.hasTable(block + 512, 9)).toBe(false); // the next block has none
    pt.unmap(block + 7);
    expect(pt.hasTable(block, 9)).toBe(true); // emptied, not freed
    pt.freeEmptyTables(block, block + 512);
    expect(pt.hasTable(block, 9)).toBe(false);
    pt.map(block, 512, 9, RW); // a PMD leaf: no table below it
    expect(pt.hasTable(block, 9)).toBe(false);
    expect(pt.hasTable(block, 18)).toBe(true); // the PMD table itself, below the PUD entry
    expect(pt.hasTable(-1, 9)).toBe(false);
  });

  it('maps, looks up and unmaps a 4 KiB page, allocating one table per level', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    const vpn = 0x7fff_f7ff_f; // 0x7ffff7fff000
    expect(pt.map(vpn, 0x4242, 0, RW)).toBe(true);
    expect(pt.tablePages()).toBe(levels);
    expect(pt.tablePagesAt('PTE')).toBe(1);
    expect(pt.tablePagesAt('P4D')).toBe(levels === 5 ? 1 : 0);
    expect(pt.pgtablesBytes()).toBe(3 * 4096); // PUD + PMD + PTE
    expect(frames.live.size).toBe(levels);
    expect(pt.lookup(vpn)).toEqual({ pfn: 0x4242, order: 0, bits: RW });
    expect(pt.lookup(vpn + 1)).toBeNull();
    expect(pt.pfnAt(vpn)).toBe(0x4242);
    expect(pt.rawEntry(vpn)).toBe(0x8000000004242027n);
    pt.setBits(vpn, RW | DIRTY | EXEC);
    expect(pt.rawEntry(vpn)).toBe(0x0000000004242067n);
    expect(pt.unmap(vpn)).toEqual({ pfn: 0x4242, order: 0, bits: RW | DIRTY | EXEC });
    expect(pt.lookup(vpn)).toBeNull();
    expect(pt.unmap(vpn)).toBeNull();
    expect(pt.tablePages()).toBe(levels);
    pt.freeEmptyTables(0, 2 ** 35);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
    expect(frames.frees).toBe(levels - 1);
  });

  it('maps 2 MiB and 1 GiB leaves and covers every vpn inside them', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    expect(pt.map(0x200, 0x8_0000, 9, RW)).toBe(true); // 2 MiB at 0x200000
    expect(pt.tablePages()).toBe(levels - 1); // no PTE table
    expect(pt.map(0x40000, 0x100000, 18, RO)).toBe(true); // 1 GiB at 0x40000000
    expect(pt.tablePages()).toBe(levels - 1); // same PUD table
    expect(pt.lookup(0x3ff)).toEqual({ pfn: 0x8_0000, order: 9, bits: RW });
    expect(pt.pfnAt(0x3ff)).toBe(0x8_01ff);
    expect(pt.lookup(0x400)).toBeNull();
    expect(pt.lookup(0x7ffff)?.order).toBe(18);
    expect(pt.pfnAt(0x7ffff)).toBe(0x13ffff);
    expect(pt.rawEntry(0x200)).toBe(0x80000000800000a7n);
    const walk = pt.walk(0x250);
    expect(walk.map((s) => s.level)).toEqual(levels === 5 ? ['PGD', 'P4D', 'PUD', 'PMD'] : ['PGD', 'PUD', 'PMD']);
    expect(walk.at(-1)).toMatchObject({ kind: 'leaf', index: 1, entry: 0x80000000800000a7n });
    expect(walk[0]).toMatchObject({ kind: 'table', tablePfn: pt.root.pfn, index: 0 });
    expect(leaves(pt).map(([v, l]) => [v, l.order])).toEqual([
      [0x200, 9],
      [0x40000, 18],
    ]);
    // A 4 KiB page inside a huge leaf is a model bug.
    expect(() => pt.map(0x201, 1, 0, RW)).toThrow();
    expect(pt.unmap(0x300)?.order).toBe(9);
    expect(pt.unmap(0x40001)?.order).toBe(18);
    pt.freeEmptyTables(0, 2 ** 36);
    expect(pt.tablePages()).toBe(1);
  });

  it('replaces an empty PTE table by a huge leaf but refuses one that maps pages', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    pt.map(0x205, 7, 0, RW);
    expect(() => pt.map(0x200, 0x200, 9, RW)).toThrow();
    pt.unmap(0x205);
    expect(pt.map(0x200, 0x200, 9, RW)).toBe(true);
    expect(pt.tablePages()).toBe(levels - 1);
    expect(frames.live.size).toBe(levels - 1);
  });

  it('rejects misaligned huge leaves and leaves without PRESENT or PROTNONE', () => {
    const pt = new X86PageTable(new TestFrames(), levels);
    expect(() => pt.map(0x201, 0x200, 9, RW)).toThrow(RangeError);
    expect(() => pt.map(0x200, 0x201, 9, RW)).toThrow(RangeError);
    expect(() => pt.map(0, 1, 3, RW)).toThrow(RangeError);
    expect(() => pt.map(0, 1, 0, WRITE | USER)).toThrow(RangeError);
    expect(pt.map(5, 9, 0, PROTNONE | ACCESSED)).toBe(true);
    expect(pt.lookup(5)).toEqual({ pfn: 9, order: 0, bits: PROTNONE | ACCESSED });
  });

  it('returns false and keeps no new table when a table frame cannot be allocated', () => {
    const frames = new TestFrames(2); // top + one more
    const pt = new X86PageTable(frames, levels);
    expect(pt.map(0x1000, 1, 0, RW)).toBe(false);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
    expect(pt.lookup(0x1000)).toBeNull();
    expect(leaves(pt)).toEqual([]);
    frames.limit = Infinity;
    expect(pt.map(0x1000, 1, 0, RW)).toBe(true);
  });

  it('allocTables builds the tables for a leaf as a placeholder map and unmap would, flushing nothing', () => {
    const build = (how: 'alloc' | 'placeholder', limit = Infinity) => {
      const frames = new TestFrames(limit);
      const pt = new X86PageTable(frames, levels);
      pt.map(0x205, 7, 0, RW);
      pt.unmap(0x205); // an empty PTE table where the 2 MiB leaf goes
      const flushes = pt.tlb!.stats.rangeFlushes;
      let ok: boolean;
      if (how === 'alloc') ok = pt.allocTables(0x4_0000_0200, 9) && pt.allocTables(0x200, 9);
      else {
        ok = pt.map(0x4_0000_0200, 0, 9, RW) && pt.map(0x200, 0, 9, RW);
        if (ok) [0x4_0000_0200, 0x200].forEach((v) => pt.unmap(v));
      }
      return { ok, pages: pt.tablePages(), pmds: pt.tablePagesAt('PMD'), ptes: pt.tablePagesAt('PTE'), live: [...frames.live], leaves: leaves(pt), flushed: pt.tlb!.stats.rangeFlushes > flushes };
    };
    const a = build('alloc');
    expect(a).toMatchObject({ ok: true, ptes: 0, pmds: 2, leaves: [], flushed: false });
    expect({ ...build('placeholder'), flushed: false }).toEqual(a);
    const pt = new X86PageTable(new TestFrames(), levels);
    expect(pt.allocTables(0x200, 9)).toBe(true);
    expect(pt.map(0x200, 0x200, 9, RW)).toBe(true);
    expect(() => pt.allocTables(0x201, 0)).toThrow(); // inside the huge leaf
    expect(() => pt.allocTables(0x201, 9)).toThrow(RangeError);
    for (const limit of [1, levels - 2]) {
      const frames = new TestFrames(limit);
      const p = new X86PageTable(frames, levels);
      expect(p.allocTables(0x200, 9)).toBe(false);
      expect(p.tablePages()).toBe(1);
      expect(frames.live.size).toBe(1);
    }
  });

  it('visits only populated subtrees, in order, clipped to the range', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    const top = levels === 5 ? 2 ** 44 : 2 ** 35;
    const vpns = [3, 0x1ff, 0x200, 0x12345, 2 ** 27 + 5, top - 1];
    for (const v of vpns) pt.map(v, v % 1000, 0, RO);
    expect(leaves(pt).map(([v]) => v)).toEqual(vpns);
    expect(leaves(pt, 0x1ff, 0x12346).map(([v]) => v)).toEqual([0x1ff, 0x200, 0x12345]);
    expect(leaves(pt, 0x1ff, 0x1ff)).toEqual([]);
    // Unmapping from inside the walk is allowed.
    pt.forEachLeaf(0, top, (v) => pt.unmap(v));
    expect(leaves(pt)).toEqual([]);
    pt.freeEmptyTables(0, top);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
  });

  it('frees only empty tables inside the range', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    pt.map(0x10, 1, 0, RO); // PTE table A
    pt.map(0x400, 2, 0, RO); // PTE table B (next PMD entry)
    pt.unmap(0x10);
    const before = pt.tablePages();
    pt.freeEmptyTables(0x400, 0x600); // A is empty but outside the range
    expect(pt.tablePages()).toBe(before);
    pt.freeEmptyTables(0, 0x200);
    expect(pt.tablePages()).toBe(before - 1);
    expect(pt.lookup(0x400)?.pfn).toBe(2);
  });

  it('frees only tables whose whole span lies between the floor and the ceiling (free_pgd_range)', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    const g = 2 ** 18; // a GiB-aligned vpn: its own PMD table
    pt.map(g + 0x210, 1, 0, RO); // the PTE table of [g+0x200, g+0x400)
    pt.unmap(g + 0x210);
    const pte = pt.tablePagesAt('PTE');
    const pmd = pt.tablePagesAt('PMD');
    // The range's 2 MiB also holds pages of the VMA below (floor inside the table's span): kept.
    pt.freeEmptyTables(g + 0x300, g + 0x400, g + 0x300, Infinity);
    expect(pt.hasTable(g + 0x200, 9)).toBe(true);
    // The VMA above starts inside the table's span (ceiling): kept.
    pt.freeEmptyTables(g + 0x200, g + 0x300, g + 0x200, g + 0x3ff);
    expect(pt.hasTable(g + 0x200, 9)).toBe(true);
    // The PTE table lies between them, the PMD table does not: only the PTE table goes.
    pt.freeEmptyTables(g + 0x200, g + 0x400, g + 0x200, g + 0x400);
    expect(pt.hasTable(g + 0x200, 9)).toBe(false);
    expect(pt.tablePagesAt('PTE')).toBe(pte - 1);
    expect(pt.tablePagesAt('PMD')).toBe(pmd);
    // With no neighbours the empty PMD table goes too.
    pt.freeEmptyTables(g + 0x200, g + 0x400, 0, Infinity);
    expect(pt.tablePagesAt('PMD')).toBe(pmd - 1);
  });

  it('freeEmptyPteTables frees the empty PTE tables wholly inside the range, never a higher table', () => {
    const pt = new X86PageTable(new TestFrames(), levels);
    for (const b of [0, 0x200, 0x400]) {
      pt.map(b + 1, 1, 0, RO);
      pt.unmap(b + 1);
    }
    const pmd = pt.tablePagesAt('PMD');
    pt.freeEmptyPteTables(0x100, 0x5ff); // [0x200, 0x400) is the only whole 2 MiB inside
    expect([0, 0x200, 0x400].map((b) => pt.hasTable(b, 9))).toEqual([true, false, true]);
    pt.freeEmptyPteTables(0, 2 ** 18);
    expect(pt.tablePagesAt('PTE')).toBe(0);
    expect(pt.tablePagesAt('PMD')).toBe(pmd); // left for free_pgtables
  });

  it('a PTE table from allocTables holds no entry array until its first leaf, and reads empty', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    // Many tables with nothing in them (a guard over a large range), one of them then used.
    for (let b = 0; b < 64 * 512; b += 512) expect(pt.allocTables(b + 3, 0)).toBe(true);
    expect(pt.tablePagesAt('PTE')).toBe(64);
    pt.map(5 * 512 + 9, 77, 0, RW);
    expect(pt.lookup(5 * 512 + 9)?.pfn).toBe(77);
    // The tables around it still read empty: the first leaf did not land in a shared array.
    for (let b = 0; b < 64 * 512; b += 512) {
      for (const i of [0, 9, 511]) if (b + i !== 5 * 512 + 9) expect(pt.lookup(b + i)).toBeNull();
    }
    expect(leaves(pt).map(([v]) => v)).toEqual([5 * 512 + 9]);
    pt.unmap(5 * 512 + 9);
    pt.freeEmptyTables(0, 2 ** 18);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
    // Tables made afterwards (reusing freed arrays) read empty too.
    pt.allocTables(0, 0);
    expect(pt.lookup(9)).toBeNull();
    pt.map(1, 5, 0, RO);
    expect(leaves(pt).map(([v]) => v)).toEqual([1]);
  });

  it('destroy gives every table frame back, the top included', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    pt.map(1, 1, 0, RO);
    pt.map(2 ** 20, 0x200, 9, RO);
    pt.destroy();
    expect(frames.live.size).toBe(0);
    expect(frames.allocs).toBe(frames.frees);
  });

  it('matches a Map model under random map/unmap, and frees every table afterwards', () => {
    const top = levels === 5 ? 2 ** 44 : 2 ** 35;
    // Cluster vpns so tables are shared, with some far away.
    const vpnArb = fc.oneof(
      fc.integer({ min: 0, max: 4095 }),
      fc.integer({ min: 0, max: 2 ** 19 }),
      fc.integer({ min: 0, max: 3 }).map((i) => i * 2 ** 27 + 0x1ff),
      fc.integer({ min: 0, max: top - 1 }),
    );
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('map' as const),
        vpn: vpnArb,
        order: fc.constantFrom(0, 0, 0, 9, 9, 18),
        pfn: fc.integer({ min: 0, max: 2 ** 30 }),
        bits: fc.constantFrom(RW, RO, RO | EXEC, PROTNONE | ACCESSED, RW | DIRTY),
      }),
      fc.record({ kind: fc.constant('unmap' as const), vpn: vpnArb }),
      fc.record({ kind: fc.constant('lookup' as const), vpn: vpnArb }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), fc.array(fc.tuple(vpnArb, fc.integer({ min: 1, max: 2 ** 20 })), { maxLength: 6 }), (ops, windows) => {
        const frames = new TestFrames();
        const pt = new X86PageTable(frames, levels);
        const model = new Map<number, PteView>(); // leaf start → leaf
        const covering = (vpn: number): number | undefined => {
          for (const order of [0, 9, 18]) {
            const start = vpn - (vpn % 2 ** order);
            if (model.get(start)?.order === order) return start;
          }
          return undefined;
        };
        for (const o of ops) {
          if (o.kind === 'map') {
            const size = 2 ** o.order;
            const vpn = o.vpn - (o.vpn % size);
            const pfn = o.pfn - (o.pfn % size);
            // Linux never maps over a leaf of another size without splitting or collapsing first.
            const conflict = [...model].some(([k, l]) => k < vpn + size && vpn < k + 2 ** l.order && l.order !== o.order);
            if (conflict) {
              const before = pt.tablePages();
              expect(() => pt.map(vpn, pfn, o.order, o.bits)).toThrow();
              expect(pt.tablePages()).toBe(before);
              continue;
            }
            expect(pt.map(vpn, pfn, o.order, o.bits)).toBe(true);
            model.set(vpn, { pfn, order: o.order, bits: o.bits });
          } else if (o.kind === 'unmap') {
            const key = covering(o.vpn);
            const got = pt.unmap(o.vpn);
            if (key === undefined) expect(got).toBeNull();
            else {
              expect(got).toEqual(model.get(key));
              model.delete(key);
            }
          } else {
            const key = covering(o.vpn);
            expect(pt.lookup(o.vpn)).toEqual(key === undefined ? null : model.get(key));
            if (key !== undefined) expect(pt.pfnAt(o.vpn)).toBe(model.get(key)!.pfn + (o.vpn - key));
          }
          if (frames.live.size !== pt.tablePages()) return false;
        }
        const expected = [...model.entries()].sort((a, b) => a[0] - b[0]);
        expect(leaves(pt)).toEqual(expected);
        // Partial walks: from the fuzzed windows and around (and inside) each leaf.
        const ranges: [number, number][] = windows.map(([a, n]) => [a, a + n]);
        for (const [vpn, leaf] of expected.slice(0, 8)) {
          const size = 2 ** leaf.order;
          ranges.push([vpn, vpn + 1], [vpn + size - 1, vpn + size], [Math.max(0, vpn - 3), vpn + size + 5], [vpn + (size >> 1), vpn + size + 512]);
        }
        for (const [a, b] of ranges) {
          expect(leaves(pt, a, b)).toEqual(expected.filter(([k, l]) => k < b && a < k + 2 ** l.order));
        }
        for (const [vpn, leaf] of expected) expect(pt.lookup(vpn + (leaf.order ? 17 : 0))).toEqual(leaf);
        // mayFreeTables false means freeEmptyTables frees nothing, floor and ceiling aside.
        for (const [vpn] of expected) {
          pt.unmap(vpn);
          for (const [a, b] of [[vpn, vpn + 1], [vpn + 1, vpn + 3], [vpn - (vpn % 512), vpn - (vpn % 512) + 512], ...ranges]) {
            if (pt.mayFreeTables(a!, b!)) continue;
            const before = pt.tablePages();
            pt.freeEmptyTables(a!, b!);
            expect(pt.tablePages()).toBe(before);
          }
        }
        pt.freeEmptyTables(0, top);
        expect(pt.tablePages()).toBe(1);
        expect(frames.live.size).toBe(1);
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('keeps the TLB coherent without flushing freed tables: every cached entry is a live leaf', () => {
    // removeTable and allocTables flush nothing: this holds only because every
    // leaf change flushes, so no TLB entry can outlive its leaf.
    // Few distinct vpns, so that maps, reads and unmaps meet; in a few tables and across PMD and PUD spans.
    const vpnArb = fc.tuple(fc.constantFrom(0, 512, 1024, 2 ** 18, 2 ** 27), fc.integer({ min: 0, max: 3 })).map(([t, i]) => t + i);
    const op = fc.oneof(
      fc.record({ kind: fc.constant('map' as const), vpn: vpnArb, order: fc.constantFrom(0, 0, 9), pfn: fc.integer({ min: 0, max: 2 ** 20 }) }),
      fc.record({ kind: fc.constantFrom('unmap' as const, 'read' as const, 'alloc' as const, 'free' as const), vpn: vpnArb }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const pt = new X86PageTable(new TestFrames(), levels);
        for (const o of ops) {
          const size = o.kind === 'map' || o.kind === 'alloc' ? 2 ** (o.kind === 'map' ? o.order : 9) : 1;
          const vpn = o.vpn - (o.vpn % size);
          try {
            if (o.kind === 'map') pt.map(vpn, o.pfn - (o.pfn % size), o.order, RW);
            else if (o.kind === 'unmap') pt.unmap(vpn);
            else if (o.kind === 'read') x86Translate(pt, vpn, AccessKind.READ);
            else if (o.kind === 'alloc') pt.allocTables(vpn, 9);
            else pt.freeEmptyTables(vpn - (vpn % 512), vpn - (vpn % 512) + 2 ** 18);
          } catch {
            // a huge leaf over a table that maps pages, or the reverse: refused, nothing changed
          }
          for (const e of pt.tlb!.current.entries()) if (pt.pfnAt(e.vpn) !== e.pfn) return false;
        }
        return true;
      }),
      { numRuns: 200 },
    );
  });

  it('never answers from a stale walk cache after tables are freed', () => {
    const frames = new TestFrames();
    const pt = new X86PageTable(frames, levels);
    pt.map(0x10, 1, 0, RO);
    expect(pt.pfnAt(0x11)).toBe(-1); // caches the PTE table of 0x0..0x1ff
    pt.unmap(0x10);
    pt.freeEmptyTables(0, 0x200);
    pt.map(0x0, 0x200, 9, RO); // a 2 MiB leaf now covers the old PTE table's range
    expect(pt.lookup(0x10)).toEqual({ pfn: 0x200, order: 9, bits: RO });
    expect(pt.pfnAt(0x11)).toBe(0x211);
    // The same when map() itself replaces an empty PTE table by a huge leaf.
    pt.map(0x405, 2, 0, RO);
    pt.unmap(0x405);
    expect(pt.pfnAt(0x405)).toBe(-1);
    pt.map(0x400, 0x600, 9, RO);
    expect(pt.pfnAt(0x405)).toBe(0x605);
  });
});

describe('x86_64.createPageTable', () => {
  it('builds 4-level tables without la57 and 5-level with it', () => {
    expect(x86_64.createPageTable(new TestFrames(), { la57: false, gbpages: true }).levels).toBe(4);
    expect(x86_64.createPageTable(new TestFrames(), { la57: true, gbpages: true }).levels).toBe(5);
  });

  it('indexes 5-level tables by bits 56:48 at the top', () => {
    const pt = new X86PageTable(new TestFrames(), 5);
    const vpn = (0x00ff_ffff_ffff_f000 / 4096); // highest user page with LA57
    expect(pt.map(vpn, 1, 0, RO)).toBe(true);
    expect(pt.walk(vpn).map((s) => s.index)).toEqual([255, 511, 511, 511, 511]);
    const pt4 = new X86PageTable(new TestFrames(), 4);
    pt4.map(0x7fff_ffff_f, 1, 0, RO);
    expect(pt4.walk(0x7fff_ffff_f).map((s) => s.index)).toEqual([255, 511, 511, 511]);
  });
});
