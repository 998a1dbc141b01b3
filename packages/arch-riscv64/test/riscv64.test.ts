// The RISC-V plug-in on its own: the PTE format, the page-table tree (leaves
// at any level), the MMU's causes and A/D rules, protection_map, and the
// generic mmap layout with RISC-V's constants.
import { describe, expect, it } from 'vitest';
import { AccessKind, PteBits, TRANSLATION_SIGSEGV, type PageTableFrameSource, type UnmappedAreaContext, type VmUnmappedAreaInfo } from '@mmsim/arch';
import {
  RISCV_MODES,
  RISCV_PAGE_EXEC,
  RISCV_PAGE_NONE,
  RISCV_PAGE_READ,
  RISCV_PAGE_SHARED,
  RiscvCause,
  RiscvPageTable,
  createRiscv64,
  decodeSvEntry,
  describeRiscvLeaf,
  encodeSvEntry,
  riscv64,
  riscv64Sv48,
  riscv64Sv57,
  riscvAccessError,
  riscvMmapBase,
  riscvProtectionBits,
  riscvTranslate,
} from '../src/index.js';

class Frames implements PageTableFrameSource {
  next = 0x100;
  live = new Set<number>();
  allocTableFrame(): number {
    this.live.add(this.next);
    return this.next++;
  }
  freeTableFrame(pfn: number): void {
    if (!this.live.delete(pfn)) throw new Error(`double free of ${pfn}`);
  }
}

const prot = (read: boolean, write: boolean, exec: boolean, shared = false) => riscvProtectionBits({ read, write, exec, shared });
const hex = (pages: number) => '0x' + (BigInt(pages) << 12n).toString(16);

describe('Sv39/Sv48/Sv57 constants (arch/riscv/include/asm/pgtable.h, processor.h)', () => {
  it('TASK_SIZE is half the virtual space; DEFAULT_MAP_WINDOW stops at 47 bits; TASK_UNMAPPED_BASE is a third', () => {
    expect(hex(RISCV_MODES.sv39.taskSizePages)).toBe('0x4000000000');
    expect(hex(RISCV_MODES.sv48.taskSizePages)).toBe('0x800000000000');
    expect(hex(RISCV_MODES.sv57.taskSizePages)).toBe('0x100000000000000');
    expect(hex(RISCV_MODES.sv39.defaultMapWindowPages)).toBe('0x4000000000');
    expect(hex(RISCV_MODES.sv57.defaultMapWindowPages)).toBe('0x800000000000');
    expect(hex(RISCV_MODES.sv39.unmappedBasePages)).toBe('0x1555556000');
    expect(hex(RISCV_MODES.sv48.unmappedBasePages)).toBe('0x2aaaaaaab000');
    expect(hex(RISCV_MODES.sv57.unmappedBasePages)).toBe('0x55555555556000');
    expect([riscv64, riscv64Sv48, riscv64Sv57].map((a) => a.name)).toEqual(['riscv64', 'riscv64', 'riscv64']);
  });

  it('canonical addresses sign-extend bit VA_BITS-1', () => {
    const f = { la57: false, gbpages: true };
    expect(riscv64.addressSpace.isCanonical(0x3fffffffffn, f)).toBe(true);
    expect(riscv64.addressSpace.isCanonical(0x4000000000n, f)).toBe(false);
    expect(riscv64.addressSpace.isCanonical(0xffffffc000000000n, f)).toBe(true);
    expect(riscv64Sv48.addressSpace.isCanonical(0x4000000000n, f)).toBe(true);
    expect(riscv64Sv48.addressSpace.isCanonical(0x800000000000n, f)).toBe(false);
    expect(riscv64Sv57.addressSpace.isCanonical(0x800000000000n, f)).toBe(true);
  });
});

describe('the PTE format (pgtable-bits.h)', () => {
  it('encodes protection_map entries with Linux raw values', () => {
    expect(encodeSvEntry(0, RISCV_PAGE_NONE)).toBe(0x22n); // G (PROT_NONE) | R, V clear
    expect(encodeSvEntry(0, RISCV_PAGE_READ)).toBe(0x53n); // V R U A
    expect(encodeSvEntry(0, RISCV_PAGE_SHARED)).toBe(0x57n); // V R W U A
    expect(encodeSvEntry(0, RISCV_PAGE_EXEC)).toBe(0x59n); // V X U A
    expect(encodeSvEntry(0x1234, RISCV_PAGE_READ)).toBe((0x1234n << 10n) | 0x53n);
  });

  it('round-trips a 44-bit frame number and the neutral bits', () => {
    const pfn = 2 ** 44 - 2 ** 9;
    const bits = RISCV_PAGE_SHARED | PteBits.DIRTY | PteBits.SPECIAL;
    expect(decodeSvEntry(encodeSvEntry(pfn, bits), 9)).toEqual({ pfn, order: 9, bits });
    expect(decodeSvEntry(encodeSvEntry(5, RISCV_PAGE_NONE), 0).bits).toBe(RISCV_PAGE_NONE);
  });

  it('describes a leaf in RISC-V words', () => {
    expect(describeRiscvLeaf({ pfn: 0x1234, order: 0, bits: RISCV_PAGE_SHARED | PteBits.DIRTY })).toBe('pte 0x000000000048d0d7 pfn 0x1234 4K V|R|W|U|A|D');
    expect(describeRiscvLeaf({ pfn: 0x200, order: 9, bits: RISCV_PAGE_NONE })).toBe('pmd 0x0000000000080022 pfn 0x200 2M R|PROT_NONE');
  });
});

describe('protection_map (arch/riscv/mm/init.c) and access_error', () => {
  it('execute-only is really execute-only; write-only private is PAGE_COPY = PAGE_READ', () => {
    expect(prot(false, false, true)).toBe(RISCV_PAGE_EXEC);
    expect(prot(false, false, true) & PteBits.READ).toBe(0);
    expect(prot(false, true, false)).toBe(RISCV_PAGE_READ);
    expect(prot(false, true, false, true)).toBe(RISCV_PAGE_SHARED);
    expect(prot(false, false, false)).toBe(RISCV_PAGE_NONE);
  });

  it('a load needs VM_READ or VM_WRITE, a store VM_WRITE', () => {
    expect(riscvAccessError(4, false)).toBe(true); // exec-only: a load is refused (x86 allows it)
    expect(riscvAccessError(2, false)).toBe(false); // write implies read
    expect(riscvAccessError(1, true)).toBe(true);
    expect(riscvAccessError(4, false, true)).toBe(false);
  });
});

describe('the page-table tree', () => {
  it('Sv39 has 3 levels, a leaf at each; tables come from the frame source and are freed when empty', () => {
    const frames = new Frames();
    const pt = new RiscvPageTable(frames, 'sv39');
    expect(pt.levels).toBe(3);
    pt.map(0x12345, 0x777, 0, RISCV_PAGE_READ);
    expect(pt.tablePages()).toBe(3);
    pt.map(0x200, 0x1000, 9, RISCV_PAGE_READ);
    pt.map(1 << 18, 1 << 18, 18, RISCV_PAGE_READ);
    expect(pt.lookup(0x2ff)).toEqual({ pfn: 0x1000, order: 9, bits: RISCV_PAGE_READ });
    expect(pt.lookup((1 << 18) + 5)).toMatchObject({ pfn: 1 << 18, order: 18 });
    const seen: number[] = [];
    pt.forEachLeaf(0, 2 ** 27, (vpn) => seen.push(vpn));
    expect(seen).toEqual([0x200, 0x12345, 1 << 18]);
    expect(pt.walk(0x12345).map((s) => `${s.level}[${s.index}] ${s.kind} ${s.flags}`)).toEqual([
      'PGD[0] table V',
      'PMD[145] table V',
      'PTE[325] leaf V|R|U|A',
    ]);
    expect(pt.walk(1 << 18).map((s) => `${s.level} ${s.kind}`)).toEqual(['PGD leaf']);
    for (const v of [0x12345, 0x200, 1 << 18]) pt.unmap(v);
    pt.freeEmptyTables(0, 2 ** 27);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
    pt.destroy();
    expect(frames.live.size).toBe(0);
  });

  it('frees a table only when its span lies between the floor and the ceiling; the PTE-only form keeps upper tables', () => {
    const pt = new RiscvPageTable(new Frames(), 'sv39');
    pt.map(0x210, 1, 0, RISCV_PAGE_READ); // PGD -> PMD table -> PTE table of [0x200, 0x400)
    pt.unmap(0x210);
    expect(pt.tablePages()).toBe(3);
    pt.freeEmptyTables(0x300, 0x400, 0x300, Infinity); // a neighbour below inside the span
    pt.freeEmptyTables(0x200, 0x300, 0, 0x3ff); // a neighbour above inside the span
    expect(pt.tablePages()).toBe(3);
    pt.freeEmptyPteTables(0, 2 ** 27); // the PTE table only
    expect(pt.tablePages()).toBe(2);
    pt.freeEmptyTables(0x200, 0x400, 0, Infinity);
    expect(pt.tablePages()).toBe(1);
  });

  it('allocTables builds the path without a leaf; hasTable tells a table from an empty entry and from a leaf', () => {
    const frames = new Frames();
    const pt = new RiscvPageTable(frames, 'sv48');
    const block = 512 * 0x3ff;
    expect(pt.hasTable(block, 9)).toBe(false);
    expect(pt.allocTables(block + 7, 0)).toBe(true);
    expect(pt.tablePages()).toBe(4); // root + 3
    expect(pt.hasTable(block, 9)).toBe(true); // a PTE table under the PMD entry: !pmd_none
    expect(pt.hasTable(block + 512, 9)).toBe(false);
    expect(pt.lookup(block + 7)).toBeNull();
    pt.freeEmptyTables(block, block + 512);
    expect(pt.tablePages()).toBe(1);
    pt.map(block, 0x200, 9, RISCV_PAGE_READ); // a megapage: no table below its entry
    expect(pt.hasTable(block, 9)).toBe(false);
    expect(pt.hasTable(block, 18)).toBe(true);
    expect(() => pt.allocTables(block + 1, 0)).toThrow(/inside a huge leaf/);
    const backing = new Frames();
    let budget = 2; // the root and one more: the PTE table cannot be had
    const limited: PageTableFrameSource = {
      allocTableFrame: () => (budget-- > 0 ? backing.allocTableFrame() : -1),
      freeTableFrame: (f) => backing.freeTableFrame(f),
    };
    const small = new RiscvPageTable(limited, 'sv39');
    expect(small.allocTables(0x12345, 0)).toBe(false);
    expect(small.tablePages()).toBe(1);
    expect(backing.live.size).toBe(1);
  });

  it('last-level tables from allocTables share no entries: a leaf set in one is in no other', () => {
    const pt = new RiscvPageTable(new Frames(), 'sv39');
    for (let b = 0; b < 32 * 512; b += 512) expect(pt.allocTables(b, 0)).toBe(true);
    pt.map(7 * 512 + 9, 0x777, 0, RISCV_PAGE_READ);
    const seen: number[] = [];
    pt.forEachLeaf(0, 2 ** 27, (vpn) => seen.push(vpn));
    expect(seen).toEqual([7 * 512 + 9]);
    for (const b of [0, 6 * 512, 8 * 512, 31 * 512]) expect(pt.lookup(b + 9)).toBeNull();
  });

  it('refuses encodings the hardware reserves and misaligned superpages', () => {
    const pt = new RiscvPageTable(new Frames(), 'sv48');
    expect(() => pt.map(0x200, 0x1001, 9, RISCV_PAGE_READ)).toThrow(RangeError);
    expect(() => pt.map(0x200, 0x1000, 9, PteBits.PRESENT | PteBits.WRITE | PteBits.USER)).toThrow(/W without R/);
    pt.map(0x200, 0x1000, 9, RISCV_PAGE_READ);
    expect(() => pt.map(0x201, 0x5, 0, RISCV_PAGE_READ)).toThrow(/huge leaf/);
  });

  it('reports allocation failure without leaving tables behind', () => {
    const frames = new Frames();
    let budget = 2;
    const limited: PageTableFrameSource = {
      allocTableFrame: () => (budget-- > 0 ? frames.allocTableFrame() : -1),
      freeTableFrame: (p) => frames.freeTableFrame(p),
    };
    const pt = new RiscvPageTable(limited, 'sv57');
    expect(pt.map(0x400, 1, 0, RISCV_PAGE_READ)).toBe(false);
    expect(pt.tablePages()).toBe(1);
    expect(frames.live.size).toBe(1);
  });
});

describe('the MMU: causes 12/13/15 and the Accessed/Dirty rule', () => {
  it('faults with the cause of the access, whatever the reason', () => {
    const pt = new RiscvPageTable(new Frames());
    expect(riscv64.mmu.translate(pt, 0x400, AccessKind.READ)).toEqual({ ok: false, errorCode: RiscvCause.LOAD_PAGE_FAULT });
    expect(riscv64.mmu.translate(pt, 0x400, AccessKind.WRITE)).toEqual({ ok: false, errorCode: RiscvCause.STORE_PAGE_FAULT });
    expect(riscv64.mmu.translate(pt, 0x400, AccessKind.EXEC)).toEqual({ ok: false, errorCode: RiscvCause.INST_PAGE_FAULT });
    pt.map(0x400, 9, 0, RISCV_PAGE_EXEC);
    expect(riscv64.mmu.translate(pt, 0x400, AccessKind.READ)).toEqual({ ok: false, errorCode: 13 }); // X without R
    expect(riscv64.mmu.translate(pt, 0x400, AccessKind.EXEC)).toEqual({ ok: true, pfn: 9, offsetInLeaf: 0 });
    expect(riscv64.mmu.describeErrorCode(15)).toBe('store/AMO page fault');
    expect(riscv64.mmu.translate(pt, 2 ** 26, AccessKind.READ)).toMatchObject({ ok: false, signal: 'SIGSEGV' });
  });

  it('Svade: a store to a writable page with D clear faults; Svadu sets D in the walk', () => {
    const pt = new RiscvPageTable(new Frames());
    pt.map(0x400, 9, 0, RISCV_PAGE_SHARED);
    expect(riscvTranslate(pt, 0x400, AccessKind.WRITE, false)).toEqual({ ok: false, errorCode: 15 });
    expect(riscvTranslate(pt, 0x400, AccessKind.WRITE, true)).toEqual({ ok: true, pfn: 9, offsetInLeaf: 0 });
    expect(pt.lookup(0x400)!.bits & PteBits.DIRTY).toBe(PteBits.DIRTY);
    expect(riscvTranslate(pt, 0x400, AccessKind.WRITE, false)).toMatchObject({ ok: true });
    const svadu = createRiscv64({ svadu: true });
    pt.map(0x401, 10, 0, RISCV_PAGE_SHARED);
    expect(svadu.mmu.translate(pt, 0x401, AccessKind.WRITE)).toMatchObject({ ok: true, pfn: 10 });
  });

  it('a megapage translates with the offset inside it', () => {
    const pt = new RiscvPageTable(new Frames());
    pt.map(0x200, 0x1000, 9, RISCV_PAGE_READ);
    expect(riscv64.mmu.translate(pt, 0x2ab, AccessKind.READ)).toEqual({ ok: true, pfn: 0x10ab, offsetInLeaf: 0xab });
  });

  it('translatePfn gives the same answers as numbers: a frame, -1 - cause, or TRANSLATION_SIGSEGV', () => {
    const pt = new RiscvPageTable(new Frames());
    pt.map(0x200, 0x1000, 9, RISCV_PAGE_READ);
    pt.map(0x400, 9, 0, RISCV_PAGE_EXEC);
    const mmu = riscv64.mmu;
    expect(mmu.translatePfn!(pt, 0x2ab, AccessKind.READ)).toBe(0x10ab);
    expect(mmu.translatePfn!(pt, 0x2ab, AccessKind.WRITE)).toBe(-1 - RiscvCause.STORE_PAGE_FAULT);
    expect(mmu.translatePfn!(pt, 0x400, AccessKind.READ)).toBe(-1 - RiscvCause.LOAD_PAGE_FAULT);
    expect(mmu.translatePfn!(pt, 0x400, AccessKind.EXEC)).toBe(9);
    expect(mmu.translatePfn!(pt, 2 ** 26, AccessKind.READ)).toBe(TRANSLATION_SIGSEGV);
  });
});

/** A gap search over an empty address space (for the layout alone). */
function emptyContext(layout: ReturnType<typeof riscv64.addressSpace.pickMmapLayout>, busy: Array<[number, number]> = []): UnmappedAreaContext & { calls: VmUnmappedAreaInfo[] } {
  const calls: VmUnmappedAreaInfo[] = [];
  return {
    layout,
    calls,
    vmUnmappedArea(info) {
      calls.push(info);
      return info.topdown ? info.highLimit - info.length : info.lowLimit;
    },
    nextVmaStartGap(vpn) {
      const next = busy.filter(([, e]) => e > vpn).sort((a, b) => a[0] - b[0])[0];
      return next ? next[0] : Infinity;
    },
  };
}

describe('the generic mmap layout with RISC-V constants (mm/util.c, mm/mmap.c)', () => {
  const f = { la57: false, gbpages: true };
  const input = { rlimitStack: 8n << 20n, legacy: false, randomize: false, features: f } as const;

  it('mmap_base leaves 128 MiB below STACK_TOP for an 8 MiB stack', () => {
    expect(hex(riscv64.addressSpace.pickMmapLayout(input).mmapBase)).toBe('0x3ff8000000');
    expect(hex(riscv64Sv48.addressSpace.pickMmapLayout(input).mmapBase)).toBe('0x7ffff8000000');
    expect(hex(riscv64Sv57.addressSpace.pickMmapLayout(input).mmapBase)).toBe('0x7ffff8000000');
    // A 4 GiB stack: gap = 4 GiB + 1 MiB guard.
    expect(hex(riscvMmapBase(RISCV_MODES.sv39, 4n << 30n, false, 0))).toBe('0x3efff00000');
  });

  it('an unlimited stack selects the legacy layout (the generic rule, unlike x86-64)', () => {
    const legacy = riscv64.addressSpace.pickMmapLayout({ ...input, rlimitStack: 'unlimited' });
    expect(legacy.topdown).toBe(false);
    expect(hex(legacy.mmapBase)).toBe('0x1555556000');
  });

  it('a free hint is taken; otherwise top-down below mmap_base, then bottom-up from TASK_UNMAPPED_BASE', () => {
    const layout = riscv64.addressSpace.pickMmapLayout(input);
    const ctx = emptyContext(layout, [[0x100000, 0x100010]]);
    const req = { hint: 0x200000, length: 4, pgoff: 0, flags: 0x22, alignMask: 0 };
    expect(riscv64.addressSpace.getUnmappedArea(ctx, req, f)).toBe(0x200000);
    expect(riscv64.addressSpace.getUnmappedArea(ctx, { ...req, hint: 0x10000e }, f)).toBe(layout.mmapBase - 4);
    expect(ctx.calls[0]).toMatchObject({ topdown: true, highLimit: layout.mmapBase, lowLimit: 1 });
    // A hint that does not fit below TASK_SIZE is ignored.
    expect(riscv64.addressSpace.getUnmappedArea(ctx, { ...req, hint: 2 ** 26 - 2 }, f)).toBe(layout.mmapBase - 4);
    expect(riscv64.addressSpace.getUnmappedArea(ctx, { ...req, length: 2 ** 26 + 1 }, f)).toBe(-12);
  });
});
