import { describe, expect, it } from 'vitest';
import { AccessKind, PteBits } from '@mmsim/arch';
import type { PageTable, PteView } from '@mmsim/arch';
import {
  X86PageTable,
  X86_PF_INSTR,
  X86_PF_PROT,
  X86_PF_USER,
  X86_PF_WRITE,
  x86FaultOopsText,
  x86Mmu,
  x86ProtectionBits,
  x86Translate,
} from '@mmsim/arch/x86-64';
import { TestFrames } from './frame-source.js';

const { ACCESSED, DIRTY, WRITE } = PteBits;
const prot = (r: boolean, w: boolean, x: boolean, shared = false) => x86ProtectionBits({ read: r, write: w, exec: x, shared });

function setup(levels = 4) {
  const pt = new X86PageTable(new TestFrames(), levels);
  return pt;
}

describe('x86 MMU walk and page-fault error codes (trap_pf.h)', () => {
  it('faults with P=0 on a not-present page, for each access kind', () => {
    const pt = setup();
    expect(x86Mmu.translate(pt, 0x400, AccessKind.READ)).toEqual({ ok: false, errorCode: X86_PF_USER });
    expect(x86Mmu.translate(pt, 0x400, AccessKind.WRITE)).toEqual({ ok: false, errorCode: X86_PF_USER | X86_PF_WRITE });
    expect(x86Mmu.translate(pt, 0x400, AccessKind.EXEC)).toEqual({ ok: false, errorCode: X86_PF_USER | X86_PF_INSTR });
    expect(x86Mmu.describeErrorCode(6)).toBe('WRITE|USER');
  });

  it('treats a PROT_NONE leaf as not present to the hardware', () => {
    const pt = setup();
    pt.map(0x400, 5, 0, prot(false, false, false));
    expect(x86Mmu.translate(pt, 0x400, AccessKind.READ)).toEqual({ ok: false, errorCode: 4 });
  });

  it('faults PROT|WRITE|USER on a write to a read-only (COW) page', () => {
    const pt = setup();
    pt.map(0x400, 5, 0, prot(true, true, false)); // private RW = PAGE_COPY, no RW bit
    const r = x86Mmu.translate(pt, 0x400, AccessKind.WRITE);
    expect(r).toEqual({ ok: false, errorCode: X86_PF_PROT | X86_PF_WRITE | X86_PF_USER });
    expect(x86Mmu.describeErrorCode(7)).toBe('PROT|WRITE|USER');
    expect(x86FaultOopsText(7)).toBe('#PF: user write access in user mode\n#PF: error_code(0x0007) - permissions violation');
    expect(x86Mmu.translate(pt, 0x400, AccessKind.READ)).toMatchObject({ ok: true, pfn: 5 });
  });

  it('faults PROT|USER|INSTR on an instruction fetch from an NX page', () => {
    const pt = setup();
    pt.map(0x400, 5, 0, prot(true, false, false));
    expect(x86Mmu.translate(pt, 0x400, AccessKind.EXEC)).toEqual({ ok: false, errorCode: X86_PF_PROT | X86_PF_USER | X86_PF_INSTR });
    expect(x86Mmu.describeErrorCode(0x15)).toBe('PROT|USER|INSTR');
    pt.setBits(0x400, prot(true, false, true));
    expect(x86Mmu.translate(pt, 0x400, AccessKind.EXEC)).toEqual({ ok: true, pfn: 5, offsetInLeaf: 0 });
  });

  it('faults PROT on a supervisor-only page', () => {
    const pt = setup();
    pt.map(0x400, 5, 0, PteBits.PRESENT | PteBits.READ);
    expect(x86Mmu.translate(pt, 0x400, AccessKind.READ)).toEqual({ ok: false, errorCode: X86_PF_PROT | X86_PF_USER });
  });

  it('sets Accessed on a read and Accessed+Dirty on a write', () => {
    const pt = setup();
    const rw = prot(true, true, false, true) & ~ACCESSED;
    pt.map(0x400, 5, 0, rw);
    expect(pt.lookup(0x400)!.bits & (ACCESSED | DIRTY)).toBe(0);
    expect(x86Mmu.translate(pt, 0x400, AccessKind.READ)).toEqual({ ok: true, pfn: 5, offsetInLeaf: 0 });
    expect(pt.lookup(0x400)!.bits & (ACCESSED | DIRTY)).toBe(ACCESSED);
    expect(x86Mmu.translate(pt, 0x400, AccessKind.WRITE).ok).toBe(true);
    expect(pt.lookup(0x400)!.bits & (ACCESSED | DIRTY)).toBe(ACCESSED | DIRTY);
    expect(pt.rawEntry(0x400)).toBe(0x8000000000005067n);
  });

  it('returns the 4 KiB frame inside a huge leaf and sets D on the leaf', () => {
    for (const levels of [4, 5]) {
      const pt = setup(levels);
      pt.map(0x40000, 0x80000, 18, prot(true, true, false, true));
      pt.map(0x200, 0x1000, 9, prot(true, true, false, true));
      expect(x86Mmu.translate(pt, 0x40000 + 0x12345, AccessKind.WRITE)).toEqual({ ok: true, pfn: 0x80000 + 0x12345, offsetInLeaf: 0x12345 });
      expect(pt.lookup(0x40000)!.bits & DIRTY).toBe(DIRTY);
      expect(x86Mmu.translate(pt, 0x3ff, AccessKind.READ)).toEqual({ ok: true, pfn: 0x11ff, offsetInLeaf: 0x1ff });
      expect(pt.lookup(0x200)!.bits & DIRTY).toBe(0);
    }
  });

  it('raises #GP (SIGSEGV) for a non-canonical address', () => {
    const pt = setup(4);
    expect(x86Mmu.translate(pt, 2 ** 35, AccessKind.READ)).toEqual({ ok: false, errorCode: 0, signal: 'SIGSEGV' });
    const pt5 = setup(5);
    expect(x86Mmu.translate(pt5, 2 ** 35, AccessKind.READ)).toEqual({ ok: false, errorCode: 4 });
  });

  it('exposes an allocation-free walk returning a frame or -1 - errorCode', () => {
    const pt = setup();
    pt.map(0x400, 5, 0, prot(true, false, false));
    expect(x86Translate(pt, 0x400, AccessKind.READ)).toBe(5);
    expect(x86Translate(pt, 0x400, AccessKind.WRITE)).toBe(-1 - 7);
    expect(x86Translate(pt, 0x401, AccessKind.READ)).toBe(-1 - 4);
  });

  it('works through the neutral interface for foreign page tables', () => {
    const store = new Map<number, PteView>();
    const foreign: PageTable = {
      levels: 4,
      map: (vpn, pfn, order, bits) => (store.set(vpn, { pfn, order, bits }), true),
      lookup: (vpn) => store.get(vpn) ?? null,
      setBits: (vpn, bits) => {
        const l = store.get(vpn);
        if (l) store.set(vpn, { ...l, bits });
      },
      unmap: () => null,
      forEachLeaf: () => {},
      freeEmptyTables: () => {},
      tablePages: () => 1,
    };
    foreign.map(9, 3, 0, prot(true, true, false, true) & ~ACCESSED);
    expect(x86Mmu.translate(foreign, 9, AccessKind.WRITE)).toEqual({ ok: true, pfn: 3, offsetInLeaf: 0 });
    expect(store.get(9)!.bits & (ACCESSED | DIRTY | WRITE)).toBe(ACCESSED | DIRTY | WRITE);
    expect(x86Mmu.translate(foreign, 9, AccessKind.EXEC)).toEqual({ ok: false, errorCode: 0x15 });
  });
});
