import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemMap, PageFlags, PageKind, PhysicalMemory } from '../src/page.js';

/** The Map-of-pages store PhysicalMemory replaced: the reference for its behaviour. */
class ReferenceMemory {
  readonly pages = new Map<number, Uint8Array>();
  read(pfn: number, offset: number): number {
    const page = this.pages.get(pfn);
    return page ? page[offset]! : 0;
  }
  write(pfn: number, offset: number, value: number): void {
    let page = this.pages.get(pfn);
    if (!page) {
      if (value === 0) return;
      page = new Uint8Array(4096);
      this.pages.set(pfn, page);
    }
    page[offset] = value;
  }
  fill(pfn: number, offset: number, length: number, value: number): void {
    let page = this.pages.get(pfn);
    if (!page) {
      if (value === 0) return;
      page = new Uint8Array(4096);
      this.pages.set(pfn, page);
    }
    page.fill(value, offset, offset + length);
  }
  clear(pfn: number): void {
    this.pages.delete(pfn);
  }
  copy(from: number, to: number): void {
    const page = this.pages.get(from);
    if (page) this.pages.set(to, page.slice());
    else this.pages.delete(to);
  }
  isZero(pfn: number): boolean {
    return (this.pages.get(pfn) ?? new Uint8Array(0)).every((b) => b === 0);
  }
}

type MemOp =
  | { kind: 'read'; pfn: number; offset: number }
  | { kind: 'write'; pfn: number; offset: number; value: number }
  | { kind: 'fill'; pfn: number; offset: number; length: number; value: number }
  | { kind: 'clear'; pfn: number }
  | { kind: 'clearRange'; pfn: number; count: number }
  | { kind: 'copy'; from: number; to: number };

// Frames spread over several directory chunks (4096 frames each), and one far away (> 2^32).
const pfnArb = fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 4000, max: 12400 }), fc.constant(2 ** 33 + 5));
const memOpArb: fc.Arbitrary<MemOp> = fc.oneof(
  // Reads in between: they fill the read cache, which every later change must keep right.
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('read' as const), pfn: pfnArb, offset: fc.integer({ min: 0, max: 4095 }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('write' as const), pfn: pfnArb, offset: fc.integer({ min: 0, max: 4095 }), value: fc.integer({ min: 0, max: 255 }) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('fill' as const),
      pfn: pfnArb,
      offset: fc.integer({ min: -5000, max: 5000 }),
      length: fc.integer({ min: -100, max: 5000 }),
      value: fc.integer({ min: 0, max: 255 }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('clear' as const), pfn: pfnArb }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('clearRange' as const), pfn: pfnArb, count: fc.integer({ min: 0, max: 5000 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('copy' as const), from: pfnArb, to: pfnArb }) },
);

describe('PhysicalMemory', () => {
  it.each([
    ['a 4 GiB arena', 2 ** 32],
    ['a 1 MiB arena (pages past 256 overflow)', 2 ** 20],
  ])('reads back exactly what a Map of pages would, through writes, fills, clears and copies (%s)', (_name, arenaBytes) => {
    fc.assert(
      fc.property(fc.array(memOpArb, { maxLength: 600 }), (ops) => {
        const mem = new PhysicalMemory(4096, arenaBytes);
        const ref = new ReferenceMemory();
        for (const op of ops) {
          switch (op.kind) {
            case 'read':
              expect(mem.read(op.pfn, op.offset)).toBe(ref.read(op.pfn, op.offset));
              expect(mem.isZero(op.pfn)).toBe(ref.isZero(op.pfn));
              break;
            case 'write':
              mem.write(op.pfn, op.offset, op.value);
              ref.write(op.pfn, op.offset, op.value);
              break;
            case 'fill':
              mem.fill(op.pfn, op.offset, op.length, op.value);
              ref.fill(op.pfn, op.offset, op.length, op.value);
              break;
            case 'clear':
              mem.clear(op.pfn);
              ref.clear(op.pfn);
              break;
            case 'clearRange':
              mem.clearRange(op.pfn, op.count);
              for (let f = op.pfn; f < op.pfn + op.count; f++) ref.clear(f);
              break;
            case 'copy':
              mem.copy(op.from, op.to);
              ref.copy(op.from, op.to);
              break;
          }
          expect(mem.storedFrames).toBe(ref.pages.size);
        }
        for (const [pfn, page] of ref.pages) {
          expect(mem.isZero(pfn)).toBe(ref.isZero(pfn));
          for (let off = 0; off < 4096; off += 97) expect(mem.read(pfn, off)).toBe(page[off]);
          expect(mem.read(pfn, 4095)).toBe(page[4095]);
        }
        for (const pfn of [0, 1, 150, 4095, 4096, 9000, 2 ** 33 + 5]) {
          if (!ref.pages.has(pfn)) expect(mem.read(pfn, 7)).toBe(0);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('gives a reused slot back all zeros, whatever wrote into it (writes, fills, copies, a shrink)', () => {
    const mem = new PhysicalMemory(4096, 2 ** 32);
    const allZero = (pfn: number): boolean => {
      for (let off = 0; off < 4096; off++) if (mem.read(pfn, off) !== 0) return false;
      return true;
    };
    for (let round = 0; round < 3; round++) {
      const base = round * 100000;
      mem.write(base + 1, 0, 1);
      mem.write(base + 1, 4095, 2);
      mem.write(base + 2, 2000, 3);
      mem.fill(base + 3, 100, 3000, 4);
      mem.fill(base + 4, -10, 5, 5); // clamped to the page's end
      mem.copy(base + 3, base + 5);
      mem.write(base + 5, 10, 6);
      for (let pfn = base + 1; pfn <= base + 5; pfn++) mem.clear(pfn);
      // Take the freed slots again (last freed first) and check every byte.
      for (let pfn = base + 11; pfn <= base + 15; pfn++) {
        mem.write(pfn, 7, 9);
        mem.write(pfn, 7, 0);
        expect(allZero(pfn)).toBe(true);
      }
      for (let pfn = base + 11; pfn <= base + 15; pfn++) mem.clear(pfn);
    }
    // Many pages, then most freed (the arena shrinks, moving pages in use), then reused.
    for (let pfn = 0; pfn < 40000; pfn++) mem.write(pfn, (pfn * 7) & 4095, 1);
    for (let pfn = 0; pfn < 40000; pfn++) if (pfn % 1000 !== 999) mem.clear(pfn);
    for (let pfn = 999; pfn < 40000; pfn += 1000) expect(mem.read(pfn, (pfn * 7) & 4095)).toBe(1);
    for (let pfn = 50000; pfn < 90000; pfn++) mem.write(pfn, 4095 - ((pfn * 7) & 4095), 0xff);
    for (let pfn = 50000; pfn < 90000; pfn += 97) {
      mem.write(pfn, 4095 - ((pfn * 7) & 4095), 0);
      expect(allZero(pfn)).toBe(true);
    }
    for (let pfn = 999; pfn < 40000; pfn += 1000) {
      mem.write(pfn, (pfn * 7) & 4095, 0);
      expect(allZero(pfn)).toBe(true);
    }
  });

  it('keeps a frame written in one line as that line, and gives it a page when it needs one', () => {
    const mem = new PhysicalMemory();
    const ref = new ReferenceMemory();
    const write = (pfn: number, offset: number, value: number): void => {
      mem.write(pfn, offset, value);
      ref.write(pfn, offset, value);
    };
    const n = 20_000;
    const at = (pfn: number): number => (pfn * 67) & 4095;
    const nextLine = (pfn: number): number => (at(pfn) + 64) & 4095;
    for (let pfn = 0; pfn < n; pfn++) write(pfn, at(pfn), (pfn % 255) + 1);
    expect(mem.storedFrames).toBe(n);
    expect(mem.contentBytes).toBeLessThan(n * 128); // lines, not 80 MiB of pages
    // Zero written elsewhere keeps the line; a second line, a fill, a copy or a read promotes.
    for (let pfn = 0; pfn < n; pfn += 4) write(pfn, nextLine(pfn), 0);
    for (let pfn = 1; pfn < n; pfn += 4) write(pfn, nextLine(pfn), 77);
    for (let pfn = 2; pfn < n; pfn += 4) {
      mem.fill(pfn, 4000, 50, 3);
      ref.fill(pfn, 4000, 50, 3);
    }
    // Copies: a line onto nothing, onto a line, onto a page, onto itself; a page onto a line frame.
    write(n + 1, 100, 9);
    write(n + 3, 3000, 1);
    mem.fill(n + 4, 0, 4096, 5);
    ref.fill(n + 4, 0, 4096, 5);
    write(n + 5, 7, 1);
    for (const [from, to] of [[n + 1, n + 2], [n + 1, n + 3], [n + 1, n + 4], [n + 1, n + 1], [1, n + 5]] as const) {
      mem.copy(from, to);
      ref.copy(from, to);
    }
    write(n + 3, 101, 8); // the copied line, written again
    const check = (pfn: number, offsets: Iterable<number>): void => {
      for (const off of offsets) expect(mem.read(pfn, off)).toBe(ref.read(pfn, off));
    };
    for (let pfn = 0; pfn < n + 6; pfn++) check(pfn, [at(pfn), nextLine(pfn), 4010, 0, 4095]);
    const everyByte = Array.from({ length: 4096 }, (_, i) => i);
    for (let pfn = n; pfn < n + 6; pfn++) check(pfn, everyByte);
    expect(mem.storedFrames).toBe(ref.pages.size);
    // Freed lines come back zeroed; most freed, the line arena shrinks, keeping the rest.
    for (let pfn = 0; pfn < n + 10; pfn++) mem.clear(pfn);
    expect(mem.storedFrames).toBe(0);
  });

  it('gives freed line slots back zeroed, and shrinks the line arena (moving lines in use) when most of it is free', () => {
    const mem = new PhysicalMemory();
    const m = 400_000;
    for (let pfn = 0; pfn < m; pfn++) mem.write(pfn, pfn & 4095, 1);
    const big = mem.contentBytes;
    for (let pfn = 0; pfn < m; pfn++) if (pfn % 1000 !== 7) mem.clear(pfn);
    expect(mem.contentBytes).toBeLessThan(big / 2);
    for (let pfn = 7; pfn < m; pfn += 1000) {
      expect(mem.read(pfn + 1, pfn & 4095)).toBe(0);
      expect(mem.read(pfn, pfn & 4095)).toBe(1);
      expect(mem.read(pfn, (pfn + 1) & 4095)).toBe(0);
    }
    for (let pfn = 0; pfn < 64; pfn++) mem.write(m + pfn, pfn * 64 + 63, 2);
    // A copy whose clearing of the target compacts the line arena under its source.
    const mem2 = new PhysicalMemory();
    for (let pfn = 0; pfn < m; pfn++) mem2.write(pfn, 64 + (pfn % 64), (pfn % 200) + 1);
    for (let pfn = 0; pfn < m - 131072; pfn++) mem2.clear(pfn); // one more clear shrinks it
    const before = mem2.contentBytes;
    mem2.copy(m - 1, m - 131072);
    expect(mem2.contentBytes).toBeLessThan(before);
    for (let off = 0; off < 4096; off++) expect(mem2.read(m - 131072, off)).toBe(mem2.read(m - 1, off));
    expect(mem2.read(m - 131072, 64 + ((m - 1) % 64))).toBe(((m - 1) % 200) + 1);
    for (let pfn = 0; pfn < 64; pfn++) {
      for (let off = 0; off < 4096; off++) expect(mem.read(m + pfn, off)).toBe(off === pfn * 64 + 63 ? 2 : 0);
    }
  });

  it('keeps pages past a full arena in the overflow map', () => {
    const mem = new PhysicalMemory(4096, 2 ** 20); // 256 slots
    for (let pfn = 0; pfn < 1000; pfn++) mem.fill(pfn, 0, 4096, (pfn % 250) + 1);
    expect(mem.storedFrames).toBe(1000);
    expect(mem.contentBytes).toBe(1000 * 4096);
    for (let pfn = 0; pfn < 1000; pfn += 7) expect(mem.read(pfn, pfn % 4096)).toBe((pfn % 250) + 1);
    mem.copy(999, 3); // overflow page onto an arena page
    mem.copy(5, 998); // and back
    expect(mem.read(3, 100)).toBe((999 % 250) + 1);
    expect(mem.read(998, 100)).toBe((5 % 250) + 1);
    for (let pfn = 0; pfn < 1000; pfn++) mem.clear(pfn);
    expect(mem.storedFrames).toBe(0);
    expect(mem.read(999, 0)).toBe(0);
  });

  it('reuses freed slots zeroed, and shrinks the arena (moving pages in use) when most of it is free', () => {
    const mem = new PhysicalMemory();
    const n = 100_000; // 400 MiB of contents
    // Two lines of each page written, so that every frame takes a page slot (not a line slot).
    for (let pfn = 0; pfn < n; pfn++) {
      mem.write(pfn, pfn & 4095, (pfn % 255) + 1);
      mem.write(pfn, (pfn & 4095) ^ 2048, 1);
    }
    expect(mem.storedFrames).toBe(n);
    expect(mem.contentBytes).toBeGreaterThanOrEqual(n * 4096);
    // Cache the pages that will move (the read cache keeps arena offsets).
    for (let pfn = n - 1000; pfn < n; pfn++) expect(mem.read(pfn, pfn & 4095)).toBe((pfn % 255) + 1);
    // Free from the bottom: the pages still in use sit at the top and must move down.
    for (let pfn = 0; pfn < n - 1000; pfn++) mem.clear(pfn);
    expect(mem.storedFrames).toBe(1000);
    expect(mem.contentBytes).toBeLessThanOrEqual(256 << 20);
    for (let pfn = n - 1000; pfn < n; pfn++) expect(mem.read(pfn, pfn & 4095)).toBe((pfn % 255) + 1);
    for (let pfn = n - 1000; pfn < n; pfn++) mem.write(pfn, 3, 9); // writes land in the moved page, and cached reads see them
    for (let pfn = n - 1000; pfn < n; pfn++) expect(mem.read(pfn, 3)).toBe(9);
    for (let pfn = n - 1000; pfn < n; pfn++) mem.clear(pfn);
    expect(mem.storedFrames).toBe(0);
    // A reused slot reads as zeros except where written again.
    for (let pfn = 50000; pfn < 50100; pfn++) mem.write(pfn, 1, 7);
    for (let pfn = 50000; pfn < 50100; pfn++) {
      expect(mem.read(pfn, 1)).toBe(7);
      for (let off = 0; off < 4096; off += 511) if (off !== 1) expect(mem.read(pfn, off)).toBe(0);
      expect(mem.read(pfn, (pfn - 50000) & 4095)).toBe((pfn - 50000) % 4096 === 1 ? 7 : 0);
    }
  });
});

describe('MemMap', () => {
  it('finds the head of every frame of aligned and unaligned compound blocks', () => {
    const m = new MemMap();
    m.add(1024, PageKind.ANON, 9);
    m.add(2000, PageKind.ANON, 0);
    m.add(4, PageKind.FILE, 2);
    m.add(3001, PageKind.ANON, 3); // not size-aligned: tails recorded one by one
    m.add(1 << 18, PageKind.HUGETLB, 18); // tails of a 1 GiB block are not described, as before
    const headOf = (f: number): number | undefined => m.get(f)?.head;
    for (let f = 1024; f < 1536; f++) {
      expect(m.headOf(f)).toBe(1024);
      expect(m.find(f)).toBe(1024);
      expect(headOf(f)).toBe(1024);
      expect(m.kindOf(f)).toBe(PageKind.ANON);
    }
    expect(m.get(1536)).toBeUndefined();
    expect(m.find(1536)).toBe(-1);
    expect(m.kindOf(1536)).toBe(0);
    expect(m.get(1023)).toBeUndefined();
    expect(headOf(2000)).toBe(2000);
    expect(m.get(2001)).toBeUndefined();
    for (let f = 4; f < 8; f++) expect(m.get(f)).toMatchObject({ head: 4, kind: PageKind.FILE, order: 2 });
    expect(m.get(8)).toBeUndefined();
    for (let f = 3001; f < 3009; f++) expect(headOf(f)).toBe(3001);
    expect(m.get(3009)).toBeUndefined();
    expect(m.get(1 << 18)).toMatchObject({ head: 1 << 18, kind: PageKind.HUGETLB, order: 18 });
    expect(m.get((1 << 18) + 1)).toBeUndefined();
    m.remove(1024);
    m.remove(3001);
    expect(m.get(1100)).toBeUndefined();
    expect(m.headOf(1100)).toBe(1100);
    expect(m.get(3002)).toBeUndefined();
    expect(headOf(5)).toBe(4);
    expect(m.size).toBe(3);
  });

  it('keeps each field per block, through views and numeric accessors alike', () => {
    const m = new MemMap();
    const inode = {} as never;
    m.add(10, PageKind.FILE, 0);
    m.add(11, PageKind.ANON, 0);
    const d = m.get(10)!;
    d.inode = inode;
    d.index = 2 ** 40 + 3;
    d.mapcount = 2;
    m.addMapcount(11, 5);
    m.setFlag(11, PageFlags.LAZYFREE, true);
    expect(m.inode(10)).toBe(inode);
    expect(m.index(10)).toBe(2 ** 40 + 3);
    expect(m.addMapcount(10, -1)).toBe(1);
    expect(d.mapcount).toBe(1);
    expect(m.get(11)).toMatchObject({ kind: PageKind.ANON, inode: undefined, index: 0, mapcount: 5 });
    expect(m.testFlag(11, PageFlags.LAZYFREE)).toBe(true);
    expect(m.testFlag(10, PageFlags.LAZYFREE)).toBe(false);
    d.kind = PageKind.ANON; // a truncated page-cache page left mapped
    expect(m.kind(10)).toBe(PageKind.ANON);
    expect(m.order(10)).toBe(0);
    m.setFlag(11, PageFlags.LAZYFREE, false);
    expect(m.testFlag(11, PageFlags.LAZYFREE)).toBe(false);
  });

  it('gives a block allocated where another was freed a fresh descriptor (no state carried over)', () => {
    const m = new MemMap();
    const inode = {} as never;
    m.add(7, PageKind.FILE, 0);
    m.add(4096, PageKind.ANON, 0); // keeps the second section in use
    m.setInode(7, inode);
    m.setIndex(7, 9);
    m.setMapcount(7, 3);
    m.setFlag(7, PageFlags.LAZYFREE, true);
    m.remove(7); // empties the first section: kept for reuse
    m.add(7, PageKind.ANON, 0);
    expect(m.get(7)).toMatchObject({ head: 7, kind: PageKind.ANON, order: 0, inode: undefined, index: 0, mapcount: 0 });
    expect(m.testFlag(7, PageFlags.LAZYFREE)).toBe(false);
    m.setFlag(7, PageFlags.LAZYFREE, true);
    m.setMapcount(7, 1);
    m.add(7, PageKind.ANON, 0); // replacing a descriptor resets it too
    expect(m.testFlag(7, PageFlags.LAZYFREE)).toBe(false);
    expect(m.mapcount(7)).toBe(0);
    expect(m.size).toBe(2);
  });

  it('lists every described block once, by frame, across sections emptied and reused and above 2^32', () => {
    const m = new MemMap();
    const model = new Map<number, { kind: PageKind; order: number }>();
    const add = (pfn: number, kind: PageKind, order = 0): void => {
      m.add(pfn, kind, order);
      model.set(pfn, { kind, order });
    };
    const pfns = [0, 1, 4095, 4096, 9000, 2 ** 20, 2 ** 33 + 7, 2 ** 40 - 1];
    for (const pfn of pfns) add(pfn, PageKind.ANON);
    m.remove(4096); // its section empties and is kept for reuse
    model.delete(4096);
    add(3 * 4096 + 1, PageKind.FILE);
    add(1, PageKind.ZERO); // replaces the descriptor
    const listed = [...m.entries()].map(([pfn, d]) => [pfn, { kind: d.kind, order: d.order }, d.head]);
    expect(listed).toEqual([...model.entries()].sort((a, b) => a[0] - b[0]).map(([pfn, d]) => [pfn, d, pfn]));
    expect(m.size).toBe(model.size);
    for (const [pfn, d] of model) expect(m.get(pfn)).toMatchObject({ head: pfn, ...d });
    expect(m.get(4096)).toBeUndefined();
    expect(m.get(2 ** 33 + 8)).toBeUndefined();
  });
});
