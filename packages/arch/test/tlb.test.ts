// The x86 TLB: the MMU consults it before walking, a write hit on an entry
// cached without Dirty walks again, global entries survive a flush of the
// address space, and every change of a present leaf flushes it on every CPU.
import { describe, expect, it } from 'vitest';
import { AccessKind, PteBits } from '@mmsim/arch';
import {
  X86PageTable,
  X86Tlb,
  X86_PAGE_DIRTY,
  X86_TLB_DIRTY,
  X86_TLB_EXEC,
  X86_TLB_GLOBAL,
  X86_TLB_USER,
  X86_TLB_WRITE,
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
