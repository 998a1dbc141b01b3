// The x86 TLB: the MMU consults it before walking, a write hit on an entry
// cached without Dirty walks again, global entries survive a flush of the
// address space, and every change of a present leaf flushes it on every CPU.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AccessKind, PteBits, TRANSLATION_SIGSEGV } from '@mmsim/arch';
import {
  X86PageTable,
  X86Tlb,
  X86_PAGE_DIRTY,
  X86_TLB_DIRTY,
  X86_TLB_EXEC,
  X86_TLB_GLOBAL,
  X86_TLB_STAMP_MASK,
  X86_TLB_USER,
  X86_TLB_WRITE,
  X86_TRANSLATE_GP,
  type X86TlbEntry,
  x86Mmu,
  x86ProtectionBits,
  x86Translate,
} from '@mmsim/arch/x86-64';
import { TestFrames } from './frame-source.js';

const { ACCESSED, DIRTY, GLOBAL } = PteBits;
const RW_SHARED = x86ProtectionBits({ read: true, write: true, exec: false, shared: true });
const RO = x86ProtectionBits({ read: true, write: false, exec: false, shared: false });

function setup(cpus = 1) {
  const tlb = new X86Tlb(cpus);
  return { pt: new X86PageTable(new TestFrames(), 4, tlb), tlb };
}

/** Overwrite a leaf behind the page table's back (no flush): what a kernel bug would do. */
function pokeEntryWithoutFlush(pt: X86PageTable, vpn: number, pfn: number): void {
  const t = pt.locate(vpn)!;
  t.entries[pt.locIndex] = ((pfn << 12) | (t.entries[pt.locIndex]! & 0xfff)) >>> 0;
}

describe('x86 TLB: lookups before the walk', () => {
  it('a second access hits the TLB and does not walk', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    expect(tlb.stats).toMatchObject({ hits: 0, misses: 1, fills: 1 });
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    expect(tlb.stats).toMatchObject({ hits: 1, misses: 1 });
    expect(tlb.current.entry(0x400)).toEqual({ vpn: 0x400, pfn: 7, order: 0, rights: X86_TLB_USER | X86_TLB_WRITE });
  });

  it('the hit really comes from the TLB: a leaf changed without a flush is not seen', () => {
    const { pt } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    pokeEntryWithoutFlush(pt, 0x400, 9);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7); // stale, as on hardware
    pt.tlb!.flushRange(0x400, 1); // flush_tlb_page
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(9);
  });

  it('a write hit on an entry cached without Dirty walks again and sets Dirty in the leaf', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    expect(pt.lookup(0x400)!.bits & DIRTY).toBe(0);
    expect(tlb.current.entry(0x400)!.rights & X86_TLB_DIRTY).toBe(0);
    expect(x86Translate(pt, 0x400, AccessKind.WRITE)).toBe(7);
    expect(tlb.stats.misses).toBe(2);
    expect(pt.lookup(0x400)!.bits & DIRTY).toBe(DIRTY);
    expect(tlb.current.entry(0x400)!.rights & X86_TLB_DIRTY).toBe(X86_TLB_DIRTY);
    // Now writes hit.
    expect(x86Translate(pt, 0x400, AccessKind.WRITE)).toBe(7);
    expect(tlb.stats.hits).toBe(1);
  });

  it('rights the entry lacks make the access walk and fault; the entry is dropped', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RO);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    expect(x86Mmu.translate(pt, 0x400, AccessKind.WRITE)).toEqual({ ok: false, errorCode: 7 });
    expect(x86Mmu.translate(pt, 0x400, AccessKind.EXEC)).toEqual({ ok: false, errorCode: 0x15 });
    expect(tlb.current.entry(0x400)).toBeNull();
  });

  it('a huge leaf is cached per 4 KiB page it translates, with its order', () => {
    const { pt, tlb } = setup();
    pt.map(0x200, 0x1000, 9, RW_SHARED | ACCESSED | DIRTY);
    expect(x86Mmu.translate(pt, 0x203, AccessKind.WRITE)).toEqual({ ok: true, pfn: 0x1003, offsetInLeaf: 3 });
    expect(x86Mmu.translate(pt, 0x203, AccessKind.WRITE)).toEqual({ ok: true, pfn: 0x1003, offsetInLeaf: 3 });
    expect(tlb.stats.hits).toBe(1);
    expect(tlb.current.entry(0x203)).toMatchObject({ pfn: 0x1003, order: 9 });
  });
});

describe('x86 TLB: every change of a present leaf flushes it (flush_tlb_range)', () => {
  it('unmap, setBits and a map over a live leaf flush the page', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    x86Translate(pt, 0x400, AccessKind.WRITE);
    pt.setBits(0x400, RO | ACCESSED | DIRTY); // mprotect
    expect(tlb.current.entry(0x400)).toBeNull();
    expect(x86Mmu.translate(pt, 0x400, AccessKind.WRITE)).toEqual({ ok: false, errorCode: 7 });
    x86Translate(pt, 0x400, AccessKind.READ);
    pt.map(0x400, 8, 0, RW_SHARED); // COW: set_pte_at over the old entry
    expect(tlb.current.entry(0x400)).toBeNull();
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(8);
    pt.unmap(0x400); // munmap / MADV_DONTNEED / truncation
    expect(tlb.current.entry(0x400)).toBeNull();
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(-1 - 4);
  });

  it('changing a huge leaf flushes every 4 KiB translation cached from it', () => {
    const { pt, tlb } = setup();
    pt.map(0x200, 0x1000, 9, RW_SHARED | ACCESSED | DIRTY);
    for (const v of [0x200, 0x2ff, 0x3ff]) x86Translate(pt, v, AccessKind.READ);
    expect(tlb.size()).toBe(3);
    pt.setBits(0x2ff, RO | ACCESSED);
    expect(tlb.size()).toBe(0);
    for (const v of [0x200, 0x3ff]) x86Translate(pt, v, AccessKind.READ);
    pt.unmap(0x250);
    expect(tlb.size()).toBe(0);
  });

  it('a 1 GiB leaf: the flush covers the whole range without visiting every page', () => {
    const { pt, tlb } = setup();
    pt.map(1 << 18, 1 << 18, 18, RW_SHARED);
    x86Translate(pt, (1 << 18) + 12345, AccessKind.READ);
    pt.unmap(1 << 18);
    expect(tlb.size()).toBe(0);
  });

  it('flushes reach every CPU (shootdown); the MMU uses the current CPU', () => {
    const { pt, tlb } = setup(4);
    pt.map(0x400, 7, 0, RW_SHARED);
    for (let cpu = 0; cpu < 4; cpu++) {
      tlb.switchTo(cpu);
      x86Translate(pt, 0x400, AccessKind.READ);
    }
    expect(tlb.size()).toBe(4);
    expect(tlb.cpus.map((c) => c.entry(0x400)?.pfn)).toEqual([7, 7, 7, 7]);
    pt.unmap(0x400);
    expect(tlb.size()).toBe(0);
  });

  it('a stale entry on another CPU would be a bug: only the shootdown prevents it', () => {
    const { pt, tlb } = setup(2);
    pt.map(0x400, 7, 0, RW_SHARED);
    tlb.switchTo(1);
    x86Translate(pt, 0x400, AccessKind.READ);
    tlb.switchTo(0);
    pt.map(0x400, 9, 0, RW_SHARED); // replaced while CPU 0 runs
    tlb.switchTo(1);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(9);
  });

  it('freeing page tables and destroying the tree leave no entry behind', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    x86Translate(pt, 0x400, AccessKind.READ);
    pt.destroy();
    expect(tlb.size()).toBe(0);
  });

  it('a map into an empty slot needs no flush', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    expect(tlb.stats.rangeFlushes).toBe(0);
  });
});

describe('x86 TLB: global entries', () => {
  it('survive flushAll (a CR3 write) but not flushRange (INVLPG) or a full flush', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED | GLOBAL);
    pt.map(0x401, 8, 0, RW_SHARED);
    x86Translate(pt, 0x400, AccessKind.READ);
    x86Translate(pt, 0x401, AccessKind.READ);
    expect(tlb.current.entry(0x400)!.rights & X86_TLB_GLOBAL).toBe(X86_TLB_GLOBAL);
    expect(tlb.current.entry(0x401)!.rights & X86_TLB_GLOBAL).toBe(0);
    tlb.flushAll();
    expect(tlb.current.entries().map((e) => e.vpn)).toEqual([0x400]);
    tlb.flushRange(0x400, 1);
    expect(tlb.size()).toBe(0);
    x86Translate(pt, 0x400, AccessKind.READ);
    tlb.flushAllIncludingGlobal();
    expect(tlb.size()).toBe(0);
  });

  it('exec rights follow NX', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, x86ProtectionBits({ read: true, write: false, exec: true, shared: false }));
    x86Translate(pt, 0x400, AccessKind.EXEC);
    expect(tlb.current.entry(0x400)!.rights & X86_TLB_EXEC).toBe(X86_TLB_EXEC);
    expect(x86Translate(pt, 0x400, AccessKind.EXEC)).toBe(7);
    expect(tlb.stats.hits).toBe(1);
  });
});

describe('x86 TLB: construction', () => {
  it('rejects a CPU count below one and a size that is not a power of two', () => {
    expect(() => new X86Tlb(0)).toThrow(RangeError);
    expect(() => new X86Tlb(1, 100)).toThrow(RangeError);
    expect(() => new X86Tlb(1).switchTo(3)).toThrow(RangeError);
  });

  it('a page table may run without a TLB (every access walks)', () => {
    const pt = new X86PageTable(new TestFrames(), 4, null);
    pt.map(0x400, 7, 0, RW_SHARED);
    expect(x86Translate(pt, 0x400, AccessKind.WRITE)).toBe(7);
    expect(pt.rawEntry(0x400) & BigInt(X86_PAGE_DIRTY)).toBe(BigInt(X86_PAGE_DIRTY));
    expect(pt.tlb).toBeNull();
  });
});

describe('x86 TLB: the hit check inlined into callers', () => {
  it('uses the values of the named constants it hard-codes', () => {
    // mmu.ts writes these as literals (an imported constant costs a load and a check in optimised code).
    expect(X86_TLB_STAMP_MASK).toBe(-32);
    expect(X86_TLB_USER).toBe(2);
    expect(X86_TLB_USER | X86_TLB_WRITE | X86_TLB_DIRTY).toBe(11);
    expect(X86_TLB_USER | X86_TLB_EXEC).toBe(6);
    expect([AccessKind.READ, AccessKind.WRITE, AccessKind.EXEC]).toEqual([0, 1, 2]);
  });

  it('an empty slot (tag -1) never matches: vpn -1, NaN and non-canonical vpns raise #GP', () => {
    const { pt, tlb } = setup();
    for (const vpn of [-1, NaN, -0.5, 2 ** 35, Infinity]) expect(x86Translate(pt, vpn, AccessKind.READ)).toBe(X86_TRANSLATE_GP);
    expect(X86_TRANSLATE_GP).toBe(TRANSLATION_SIGSEGV);
    expect(tlb.stats).toMatchObject({ hits: 0, misses: 0 });
  });

  it('translatePfn is the numeric translate: a frame, -1 - errorCode, or TRANSLATION_SIGSEGV', () => {
    const { pt } = setup();
    pt.map(0x200, 0x1000, 9, RW_SHARED | ACCESSED | DIRTY);
    pt.map(0x400, 7, 0, RO);
    expect(x86Mmu.translatePfn!(pt, 0x203, AccessKind.WRITE)).toBe(0x1003);
    expect(x86Mmu.translatePfn!(pt, 0x203, AccessKind.WRITE)).toBe(0x1003); // a hit
    expect(x86Mmu.translatePfn!(pt, 0x400, AccessKind.WRITE)).toBe(-1 - 7);
    expect(x86Mmu.translatePfn!(pt, 0x401, AccessKind.READ)).toBe(-1 - 4);
    expect(x86Mmu.translatePfn!(pt, 2 ** 35, AccessKind.READ)).toBe(TRANSLATION_SIGSEGV);
  });

  it('counts hits per slot and CPU, and stats.hits is their sum (settable, e.g. to reset it)', () => {
    const { pt, tlb } = setup(2);
    pt.map(0x400, 7, 0, RW_SHARED);
    pt.map(0x600, 9, 0, RW_SHARED); // the same slot
    for (const cpu of [0, 1]) {
      tlb.switchTo(cpu);
      for (let k = 0; k < 3; k++) x86Translate(pt, 0x400, AccessKind.READ);
      for (let k = 0; k < 2; k++) x86Translate(pt, 0x600, AccessKind.READ);
    }
    expect(tlb.cpus.map((c) => c.hits())).toEqual([3, 3]);
    expect(tlb.stats).toMatchObject({ hits: 6, misses: 4 });
    tlb.stats.hits = 0;
    expect(tlb.stats.hits).toBe(0);
    x86Translate(pt, 0x600, AccessKind.READ);
    expect(tlb.stats.hits).toBe(1);
  });

  it('a global entry hits through the out-of-line lookup and survives flushAll', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED | GLOBAL);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    tlb.flushAll();
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    expect(tlb.stats).toMatchObject({ hits: 1, misses: 1, fills: 1 });
  });
});

describe('x86 TLB: flushes by generation', () => {
  it('flushAll and flushAllIncludingGlobal count exactly the entries they drop', () => {
    const { pt, tlb } = setup(2);
    pt.map(0x400, 7, 0, RW_SHARED | GLOBAL);
    pt.map(0x401, 8, 0, RW_SHARED);
    pt.map(0x402, 9, 0, RW_SHARED);
    for (const cpu of [0, 1]) {
      tlb.switchTo(cpu);
      for (const v of [0x400, 0x401, 0x402]) x86Translate(pt, v, AccessKind.READ);
    }
    expect(tlb.size()).toBe(6);
    tlb.flushAll();
    expect(tlb.stats.entriesFlushed).toBe(4);
    expect(tlb.cpus.map((c) => c.entries().map((e) => e.vpn))).toEqual([[0x400], [0x400]]);
    tlb.flushAll();
    expect(tlb.stats.entriesFlushed).toBe(4);
    tlb.flushAllIncludingGlobal();
    expect(tlb.stats.entriesFlushed).toBe(6);
    expect(tlb.size()).toBe(0);
    expect(tlb.stats.fullFlushes).toBe(3);
  });

  it('an entry filled before a flush never hits after it, even in a slot refilled since', () => {
    const { pt, tlb } = setup();
    pt.map(0x400, 7, 0, RW_SHARED);
    pt.map(0x600, 9, 0, RW_SHARED); // the same slot (0x600 & 511 === 0x400 & 511)
    x86Translate(pt, 0x400, AccessKind.READ);
    tlb.flushAll();
    expect(tlb.current.entry(0x400)).toBeNull();
    x86Translate(pt, 0x600, AccessKind.READ);
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(7);
    expect(tlb.stats).toMatchObject({ hits: 0, misses: 3, fills: 3 });
  });

  it('a range flush covering every live entry drops them at once; one covering some keeps the rest', () => {
    const { pt, tlb } = setup(2);
    for (let v = 0x400; v < 0x410; v++) pt.map(v, v, 0, RW_SHARED);
    for (let v = 0x400; v < 0x410; v++) x86Translate(pt, v, AccessKind.READ);
    tlb.switchTo(1);
    x86Translate(pt, 0x40f, AccessKind.READ);
    tlb.flushRange(0x404, 4);
    expect(tlb.cpus[0]!.entries().map((e) => e.vpn)).toEqual([0x400, 0x401, 0x402, 0x403, 0x408, 0x409, 0x40a, 0x40b, 0x40c, 0x40d, 0x40e, 0x40f]);
    expect(tlb.cpus[1]!.size()).toBe(1);
    expect(tlb.stats.entriesFlushed).toBe(4);
    tlb.flushRange(0x40e, 1); // ends just below the highest live entry
    expect(tlb.cpus.map((c) => c.entries().map((e) => e.vpn))).toEqual([[0x400, 0x401, 0x402, 0x403, 0x408, 0x409, 0x40a, 0x40b, 0x40c, 0x40d, 0x40f], [0x40f]]);
    tlb.flushRange(0x400, 0xf); // starts at the lowest, ends just below the highest
    expect(tlb.cpus.map((c) => c.entries().map((e) => e.vpn))).toEqual([[0x40f], [0x40f]]);
    expect(tlb.stats.entriesFlushed).toBe(15);
    tlb.flushRange(0, 1 << 18); // a PMD table's range
    expect(tlb.size()).toBe(0);
    expect(tlb.stats.entriesFlushed).toBe(17);
  });

  it('a range flush wider than the live entries visits the listed ones and keeps the rest listed', () => {
    // A neighbour's page and one page of a huge leaf cached: the huge page's flush spans every slot.
    const tlb = new X86Tlb(1, 512);
    const cpu = tlb.cpus[0]!;
    tlb.fill(0x7fff0, 50, 0, X86_TLB_USER);
    tlb.fill(0x7fc00, 60, 9, X86_TLB_USER);
    expect(cpu.listed).toBe(2);
    tlb.flushRange(0x7fc00, 512);
    expect(cpu.entries().map((e) => e.vpn)).toEqual([0x7fff0]);
    expect(cpu.listed).toBe(1);
    tlb.fill(0x7fc01, 61, 9, X86_TLB_USER);
    tlb.flushRange(0x7fc00, 512);
    tlb.flushRange(0x7ffe0, 32); // the neighbour, found through the list again
    expect(tlb.size()).toBe(0);
    expect(tlb.stats.entriesFlushed).toBe(3);
    // Past the list's capacity every slot of the range is visited instead.
    for (let v = 0; v < 40; v++) tlb.fill(0x1000 + v, v, 0, X86_TLB_USER);
    expect(cpu.listComplete).toBe(false);
    tlb.flushRange(0x1000, 1024);
    expect(tlb.size()).toBe(0);
    expect(cpu.listComplete).toBe(true);
  });

  it('runs out of stamps without losing or reviving an entry', () => {
    const { pt, tlb } = setup(2);
    pt.map(0x400, 7, 0, RW_SHARED | GLOBAL);
    pt.map(0x401, 8, 0, RW_SHARED);
    pt.map(0x402, 9, 0, RW_SHARED);
    x86Translate(pt, 0x400, AccessKind.READ);
    x86Translate(pt, 0x402, AccessKind.READ);
    tlb.flushAll(); // 0x402 is stale from here on
    x86Translate(pt, 0x401, AccessKind.READ);
    (tlb as unknown as { nextStamp: number }).nextStamp = (1 << 26) - 3; // as after ~2^25 full flushes
    const before = tlb.current.entries();
    tlb.flushRange(0x500, 1); // no stamp needed
    tlb.flushAll();
    expect(tlb.current.entries()).toEqual(before.filter((e) => e.rights & X86_TLB_GLOBAL));
    x86Translate(pt, 0x401, AccessKind.READ);
    expect(tlb.current.entries().map((e) => e.vpn)).toEqual([0x400, 0x401]);
    for (let i = 0; i < 5; i++) tlb.flushAll();
    expect(tlb.current.entries().map((e) => e.vpn)).toEqual([0x400]);
    expect((tlb as unknown as { nextStamp: number }).nextStamp).toBeLessThan(100);
  });
});

/** The TLB as it was specified before flushes went by generation: per-slot arrays, full scans. */
class ReferenceTlb {
  readonly cpus: { tags: number[]; pfns: number[]; rights: number[] }[] = [];
  current = 0;
  readonly stats = { hits: 0, misses: 0, fills: 0, rangeFlushes: 0, fullFlushes: 0, entriesFlushed: 0 };
  constructor(
    nrCpus: number,
    readonly mask: number,
  ) {
    for (let c = 0; c < nrCpus; c++) this.cpus.push({ tags: Array(mask + 1).fill(-1), pfns: Array(mask + 1).fill(0), rights: Array(mask + 1).fill(0) });
  }
  lookup(vpn: number, need: number): number {
    const cpu = this.cpus[this.current]!;
    const i = vpn & this.mask;
    if (cpu.tags[i] === vpn) {
      if ((cpu.rights[i]! & need) === need) {
        this.stats.hits++;
        return cpu.pfns[i]!;
      }
      cpu.tags[i] = -1;
    }
    this.stats.misses++;
    return -1;
  }
  fill(vpn: number, pfn: number, rights: number): void {
    const cpu = this.cpus[this.current]!;
    const i = vpn & this.mask;
    cpu.tags[i] = vpn;
    cpu.pfns[i] = pfn;
    cpu.rights[i] = rights;
    this.stats.fills++;
  }
  flushRange(start: number, pages: number): void {
    this.stats.rangeFlushes++;
    for (const cpu of this.cpus) {
      for (let i = 0; i <= this.mask; i++) {
        if (cpu.tags[i]! >= start && cpu.tags[i]! < start + pages) {
          cpu.tags[i] = -1;
          this.stats.entriesFlushed++;
        }
      }
    }
  }
  flushEverything(global: boolean): void {
    this.stats.fullFlushes++;
    for (const cpu of this.cpus) {
      for (let i = 0; i <= this.mask; i++) {
        if (cpu.tags[i]! < 0 || (!global && cpu.rights[i]! & X86_TLB_GLOBAL)) continue;
        cpu.tags[i] = -1;
        this.stats.entriesFlushed++;
      }
    }
  }
  entries(c: number): X86TlbEntry[] {
    const cpu = this.cpus[c]!;
    const out: X86TlbEntry[] = [];
    for (let i = 0; i <= this.mask; i++) if (cpu.tags[i]! >= 0) out.push({ vpn: cpu.tags[i]!, pfn: cpu.pfns[i]!, order: 0, rights: cpu.rights[i]! });
    return out.sort((a, b) => a.vpn - b.vpn);
  }
}

describe('x86 TLB: the same entries and counters as full scans would give (property)', () => {
  const vpn = fc.integer({ min: 0, max: 24 });
  const op = fc.oneof(
    fc.record({ k: fc.constant('fill' as const), vpn, global: fc.boolean(), write: fc.boolean() }),
    fc.record({ k: fc.constant('lookup' as const), vpn, need: fc.constantFrom(2, 11, 6) }),
    fc.record({ k: fc.constant('range' as const), vpn, pages: fc.oneof(fc.integer({ min: 1, max: 12 }), fc.constant(1 << 9), fc.constant(1 << 18)) }),
    fc.record({ k: fc.constant('all' as const), global: fc.boolean() }),
    fc.record({ k: fc.constant('cpu' as const), id: fc.integer({ min: 0, max: 2 }) }),
    fc.record({ k: fc.constant('stamps' as const) }),
  );

  // 3 live slots listed per CPU: range flushes take the list's path, and the path for
  // CPUs whose list overflowed; 0: never the list; 32: always it while few entries live.
  it.each([3, 0, 32])('holds for random fills, lookups, range and full flushes on 3 CPUs of 16 entries (%i slots listed)', (tracked) => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const tlb = new X86Tlb(3, 16, tracked);
        const ref = new ReferenceTlb(3, 15);
        for (const o of ops) {
          switch (o.k) {
            case 'fill': {
              const rights = X86_TLB_USER | (o.write ? X86_TLB_WRITE | X86_TLB_DIRTY : 0) | (o.global ? X86_TLB_GLOBAL : 0);
              tlb.fill(o.vpn, o.vpn + 100, 0, rights);
              ref.fill(o.vpn, o.vpn + 100, rights);
              break;
            }
            case 'lookup':
              expect(tlb.lookup(o.vpn, o.need)).toBe(ref.lookup(o.vpn, o.need));
              break;
            case 'range':
              tlb.flushRange(o.vpn, o.pages);
              ref.flushRange(o.vpn, o.pages);
              break;
            case 'all':
              if (o.global) tlb.flushAllIncludingGlobal();
              else tlb.flushAll();
              ref.flushEverything(o.global);
              break;
            case 'cpu':
              tlb.switchTo(o.id);
              ref.current = o.id;
              break;
            case 'stamps': // the stamp counter about to run out
              (tlb as unknown as { nextStamp: number }).nextStamp = Math.max((tlb as unknown as { nextStamp: number }).nextStamp, (1 << 26) - 4);
              break;
          }
          for (let c = 0; c < 3; c++) expect(tlb.cpus[c]!.entries()).toEqual(ref.entries(c));
          expect(tlb.stats).toEqual(ref.stats);
          expect(tlb.size()).toBe(ref.cpus.reduce((n, _, c) => n + ref.entries(c).length, 0));
        }
      }),
      { numRuns: 300 },
    );
  });
});
