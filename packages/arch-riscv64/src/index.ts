/**
 * `@mmsim/arch-riscv64`: the RISC-V 64 architecture plug-in of mmsim, the
 * second implementation of the `@mmsim/arch` contract (after x86-64). It
 * depends only on the contract and `@mmsim/base`:
 *
 * - page tables in the Sv39 / Sv48 / Sv57 format (V R W X U G A D, a leaf at
 *   any level: 4 KiB pages, 2 MiB megapages, 1 GiB gigapages), table pages
 *   taken from the machine's frame allocator ({@link RiscvPageTable});
 * - the MMU walk with its three page-fault causes and the Svade/Svadu
 *   Accessed/Dirty rules ({@link riscvTranslate});
 * - `protection_map` from arch/riscv/mm/init.c, with real execute-only pages
 *   ({@link riscvProtectionMap});
 * - the generic mmap layout of mm/util.c and mm/mmap.c with RISC-V's
 *   `TASK_SIZE`, `STACK_TOP`, `TASK_UNMAPPED_BASE` ({@link riscvAddressSpace}).
 *
 * Register it when building a machine: `createMachine({ arch: riscv64 })`.
 * @see arch/riscv
 * @packageDocumentation
 */

import type { Architecture, ArchFeatures, HugePageSize, PageTable, PageTableFrameSource, PteView } from '@mmsim/arch';
import { RISCV_MODES, RISCV_PAGE_SHIFT, type RiscvPagingMode } from './constants.js';
import { riscvAddressSpace } from './layout.js';
import { createRiscvMmu } from './mmu.js';
import { RiscvPageTable } from './page-table.js';
import { riscvAccessError, riscvProtectionBits } from './pgprot.js';
import { svEntryHi, svEntryLo, svEntryToBigint, svFlagNames, svFlags } from './pte.js';

export * from './constants.js';
export * from './layout.js';
export * from './mmu.js';
export * from './page-table.js';
export * from './pgprot.js';
export * from './pte.js';

/** 2 MiB pages: a PMD leaf (a megapage). @see arch/riscv/mm/hugetlbpage.c arch_hugetlb_valid_size */
export const RISCV_HUGE_2M: HugePageSize = Object.freeze({ shift: 21, order: 9, level: 'PMD' });
/** 1 GiB pages: a PUD leaf (a gigapage; on Sv39 the PUD is folded into the PGD). */
export const RISCV_HUGE_1G: HugePageSize = Object.freeze({ shift: 30, order: 18, level: 'PUD' });

const HUGE_SIZES: readonly HugePageSize[] = Object.freeze([RISCV_HUGE_2M, RISCV_HUGE_1G]);

/** How to build a RISC-V {@link Architecture}. */
export interface Riscv64Options {
  /** The paging mode Linux runs with (`satp_mode`): `sv39` (default), `sv48` or `sv57`. */
  readonly mode?: RiscvPagingMode;
  /** The hart has Svadu: the walk sets Accessed/Dirty instead of faulting (default false: Svade). */
  readonly svadu?: boolean;
}

/** Size words for a leaf order. */
function sizeName(order: number): string {
  return order === 0 ? '4K' : order === 9 ? '2M' : order === 18 ? '1G' : `order ${order}`;
}

/**
 * A leaf in RISC-V words: level, raw entry, frame, size and flags, e.g.
 * `pte 0x000000000048d0d7 pfn 0x1234 4K V|R|W|U|A|D`.
 */
export function describeRiscvLeaf(leaf: PteView): string {
  const lo = svEntryLo(leaf.pfn, svFlags(leaf.bits));
  const hi = svEntryHi(leaf.pfn);
  const level = leaf.order === 0 ? 'pte' : leaf.order === 9 ? 'pmd' : 'pud';
  return `${level} 0x${svEntryToBigint(lo, hi).toString(16).padStart(16, '0')} pfn 0x${leaf.pfn.toString(16)} ${sizeName(leaf.order)} ${svFlagNames(lo, hi)}`;
}

/**
 * Build the RISC-V 64 {@link Architecture} for a paging mode.
 * `uname -m` is `riscv64` in every mode.
 */
export function createRiscv64(options: Riscv64Options = {}): Architecture {
  const mode = options.mode ?? 'sv39';
  const info = RISCV_MODES[mode];
  if (!info) throw new RangeError(`unknown RISC-V paging mode ${String(mode)}`);
  return Object.freeze({
    name: 'riscv64',
    pageShift: RISCV_PAGE_SHIFT,
    /** 2 MiB and 1 GiB: every RV64 paging mode has megapages and gigapages (Svnapot 64 KiB pages are not modelled). */
    hugePageSizes: (_features: ArchFeatures) => HUGE_SIZES,
    /** `HPAGE_SHIFT` = `PMD_SHIFT` (2 MiB). */
    defaultHugePageShift: () => RISCV_HUGE_2M.shift,
    addressSpace: riscvAddressSpace(info),
    mmu: createRiscvMmu(options.svadu ?? false, info.taskSizePages),
    createPageTable: (frames: PageTableFrameSource, _features: ArchFeatures): PageTable => new RiscvPageTable(frames, mode),
    protectionBits: riscvProtectionBits,
    accessError: riscvAccessError,
    describeLeaf: describeRiscvLeaf,
  } satisfies Architecture);
}

/** RISC-V 64 with Sv39 paging (3 levels, 256 GiB of user space): Linux's `TASK_SIZE` = `0x4000000000`. */
export const riscv64: Architecture = createRiscv64({ mode: 'sv39' });
/** RISC-V 64 with Sv48 paging (4 levels, 128 TiB of user space). */
export const riscv64Sv48: Architecture = createRiscv64({ mode: 'sv48' });
/** RISC-V 64 with Sv57 paging (5 levels, 64 PiB of user space; mmap stays below 128 TiB unless asked). */
export const riscv64Sv57: Architecture = createRiscv64({ mode: 'sv57' });
