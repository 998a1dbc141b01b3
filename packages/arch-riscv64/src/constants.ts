/**
 * RISC-V 64 paging modes and address-space constants, in pages of 4 KiB
 * unless named otherwise.
 *
 * Linux picks the paging mode at boot (`satp_mode`: the widest the hart
 * supports, lowered by `no5lvl` / `no4lvl`) and derives everything from
 * `VA_BITS`:
 *
 * | mode | levels | `VA_BITS` | `TASK_SIZE` | `DEFAULT_MAP_WINDOW` (= `STACK_TOP`) | `TASK_UNMAPPED_BASE` |
 * |---|---|---|---|---|---|
 * | Sv39 | 3 | 39 | `0x4000000000` (256 GiB) | `0x4000000000` | `0x1555556000` |
 * | Sv48 | 4 | 48 | `0x800000000000` (128 TiB) | `0x800000000000` | `0x2aaaaaaab000` |
 * | Sv57 | 5 | 57 | `0x100000000000000` (64 PiB) | `0x800000000000` | `0x55555555556000` |
 *
 * @see arch/riscv/include/asm/pgtable.h TASK_SIZE_64 = PGDIR_SIZE * PTRS_PER_PGD / 2
 * @see arch/riscv/include/asm/processor.h DEFAULT_MAP_WINDOW, STACK_TOP, TASK_UNMAPPED_BASE
 * @see arch/riscv/mm/init.c set_satp_mode
 * @see Documentation/arch/riscv/vm-layout.rst
 */

/** log2 of the base page size (`PAGE_SHIFT`). */
export const RISCV_PAGE_SHIFT = 12;
/** Entries per page-table page (`PTRS_PER_PTE`, ... : 4 KiB / 8 bytes). */
export const RISCV_PTRS_PER_TABLE = 512;

/** A RISC-V virtual-memory scheme (the `satp.MODE` Linux runs with). */
export type RiscvPagingMode = 'sv39' | 'sv48' | 'sv57';

/** What a paging mode fixes. */
export interface RiscvModeInfo {
  /** `sv39`, `sv48` or `sv57`. */
  readonly mode: RiscvPagingMode;
  /** Page-table levels (3, 4 or 5). */
  readonly levels: number;
  /** `VA_BITS`: 39, 48 or 57. */
  readonly vaBits: number;
  /** `TASK_SIZE` (= `STACK_TOP_MAX`, the `arch_get_mmap_end` of 6.11+) in pages: half the virtual space. */
  readonly taskSizePages: number;
  /** `DEFAULT_MAP_WINDOW` = `STACK_TOP` = `1 << (MMAP_VA_BITS - 1)` in pages, `MMAP_VA_BITS = min(VA_BITS, 48)`. */
  readonly defaultMapWindowPages: number;
  /** `TASK_UNMAPPED_BASE` = `PAGE_ALIGN(TASK_SIZE / 3)` in pages: the bottom-up start. */
  readonly unmappedBasePages: number;
  /** Level names from the top, in Linux's words (folded levels omitted). */
  readonly levelNames: readonly string[];
}

function modeInfo(mode: RiscvPagingMode, levels: number, names: readonly string[]): RiscvModeInfo {
  const vaBits = 12 + 9 * levels;
  const taskSizePages = 2 ** (vaBits - 1 - RISCV_PAGE_SHIFT);
  const mmapVaBits = Math.min(vaBits, 48);
  return Object.freeze({
    mode,
    levels,
    vaBits,
    taskSizePages,
    defaultMapWindowPages: 2 ** (mmapVaBits - 1 - RISCV_PAGE_SHIFT),
    // PAGE_ALIGN(TASK_SIZE / 3) in pages = ceil(taskSizePages / 3): TASK_SIZE is a multiple of 4 KiB.
    unmappedBasePages: Math.ceil(taskSizePages / 3),
    levelNames: Object.freeze([...names]),
  });
}

/** The three paging modes Linux/riscv supports on RV64. */
export const RISCV_MODES: Readonly<Record<RiscvPagingMode, RiscvModeInfo>> = Object.freeze({
  // Sv39: P4D and PUD folded into the PGD (a 1 GiB leaf sits in the PGD).
  sv39: modeInfo('sv39', 3, ['PGD', 'PMD', 'PTE']),
  // Sv48: P4D folded.
  sv48: modeInfo('sv48', 4, ['PGD', 'PUD', 'PMD', 'PTE']),
  sv57: modeInfo('sv57', 5, ['PGD', 'P4D', 'PUD', 'PMD', 'PTE']),
});

/** `MIN_GAP` (`SZ_128M`) of mm/util.c in pages: the least room `mmap_base` leaves for the stack. */
export const RISCV_MIN_GAP_PAGES = (128 * 1024 * 1024) >> RISCV_PAGE_SHIFT;
/** `stack_guard_gap` in pages (256: 1 MiB). @see mm/mmap.c */
export const RISCV_STACK_GUARD_GAP_PAGES = 256;
/** `STACK_RND_MASK` for a 64-bit task (`0x3ffff` pages). @see arch/riscv/include/asm/elf.h */
export const RISCV_STACK_RND_MASK = 0x3ffff;
/** `CONFIG_ARCH_MMAP_RND_BITS` default for RV64 (`ARCH_MMAP_RND_BITS_MIN` = 18). @see arch/riscv/Kconfig */
export const RISCV_MMAP_RND_BITS = 18;

/**
 * `scause` exception codes of the three page faults.
 * @see arch/riscv/include/asm/csr.h EXC_INST_PAGE_FAULT, EXC_LOAD_PAGE_FAULT, EXC_STORE_PAGE_FAULT
 */
export const RiscvCause = {
  /** Instruction page fault (a fetch). */
  INST_PAGE_FAULT: 12,
  /** Load page fault (a read). */
  LOAD_PAGE_FAULT: 13,
  /** Store/AMO page fault (a write). */
  STORE_PAGE_FAULT: 15,
} as const;
/** One of {@link RiscvCause}'s values. */
export type RiscvCause = (typeof RiscvCause)[keyof typeof RiscvCause];
