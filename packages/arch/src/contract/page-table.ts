/**
 * The page-table seam: how generic mm code installs, changes and removes
 * translations without knowing the hardware format. An architecture encodes
 * these architecture-neutral bits into its own entry format.
 * @see include/linux/pgtable.h (set_pte_at, ptep_get_and_clear, ...)
 */

/** Architecture-neutral bits of a leaf entry, as generic mm code sees them. */
export const PteBits = {
  /** The translation is valid for the hardware. */
  PRESENT: 1 << 0,
  /** Writes allowed (x86 R/W). */
  WRITE: 1 << 1,
  /** User-mode access allowed (x86 U/S). */
  USER: 1 << 2,
  /** Instruction fetch allowed (x86: NX clear). */
  EXEC: 1 << 3,
  /** Set by the hardware walk on any access. */
  ACCESSED: 1 << 4,
  /** Set by the hardware walk on a write. */
  DIRTY: 1 << 5,
  /** Not present for the hardware, but a valid PROT_NONE mapping for Linux (x86 `_PAGE_PROTNONE`). */
  PROTNONE: 1 << 6,
  /** Linux's `_PAGE_SPECIAL`: no struct page refcounting (zero page, PFN maps). */
  SPECIAL: 1 << 7,
  /** Global translation (kernel mappings; survives a TLB flush of the address space). */
  GLOBAL: 1 << 8,
  /** Readable (architectures that can express write-only or exec-only; x86 ignores it). */
  READ: 1 << 9,
} as const;

/** A leaf translation as generic code sees it. */
export interface PteView {
  /** First page frame of the mapped page (of a huge page for order > 0). */
  readonly pfn: number;
  /** log2 of the number of base pages the leaf maps: 0 (4 KiB), 9 (2 MiB), 18 (1 GiB) on x86-64. */
  readonly order: number;
  /** {@link PteBits}. */
  readonly bits: number;
}

/**
 * One step of a software walk of the page-table tree, as inspection tools
 * show it (`mmsim pagetable`, the `walk` of {@link PageTable}): the entry the
 * hardware reads at one level, from the top level down to a leaf or an empty
 * entry.
 */
export interface PageTableWalkStep {
  /** The level's name in the architecture's words (`PGD`, `P4D`, `PUD`, `PMD`, `PTE`). */
  readonly level: string;
  /** The entry's index in its table. */
  readonly index: number;
  /** The frame of the table holding the entry. */
  readonly tablePfn: number;
  /** The raw entry as the hardware sees it (64 bits on the 64-bit architectures). */
  readonly entry: bigint;
  /** `table` (points to the next level), `leaf` (maps a page), or `none` (empty). */
  readonly kind: 'table' | 'leaf' | 'none';
  /** The entry's flag names in the architecture's words (`PRESENT|RW|USER`, `V|R|W|U|A|D`). */
  readonly flags: string;
}

/** Where page-table pages come from: the machine's frame allocator, one frame each. */
export interface PageTableFrameSource {
  /** A zeroed frame for a page-table page, or -1 when memory is exhausted. */
  allocTableFrame(): number;
  /** Give a page-table page back (`free_pgtables`). */
  freeTableFrame(pfn: number): void;
}

/**
 * One address space's page tables (Linux's `pgd` tree). Virtual addresses are
 * given as virtual page numbers (address >> page shift).
 */
export interface PageTable {
  /** Number of levels in use (4 or 5 on x86-64). */
  readonly levels: number;
  /**
   * Install a leaf of `2^order` base pages at `vpn` (which must be aligned to it),
   * allocating intermediate tables as needed. Returns false if a table page
   * could not be allocated.
   * @see set_pte_at, set_pmd_at, set_pud_at
   */
  map(vpn: number, pfn: number, order: number, bits: number): boolean;
  /**
   * Allocate the tables down to the level that holds a `2^order` leaf at
   * `vpn` without installing a leaf (`huge_pte_alloc`). Returns false, with no
   * table left behind, if a table page could not be allocated. Optional:
   * callers without it map a placeholder leaf and unmap it.
   * @see mm/hugetlb.c huge_pte_alloc
   */
  allocTables?(vpn: number, order: number): boolean;
  /**
   * True if the entry that would hold a `2^order` leaf covering `vpn` points
   * to a lower-level table instead of being empty or a leaf — for order 9,
   * `!pmd_none(*pmd)` with a PTE table below (a fault may then only map small
   * pages there). Optional: without it, callers treat an empty range as if it
   * had no table.
   * @see include/linux/pgtable.h pmd_none
   */
  hasTable?(vpn: number, order: number): boolean;
  /** The leaf covering `vpn`, or null if none (absent, or an empty slot). */
  lookup(vpn: number): PteView | null;
  /** Replace the {@link PteBits} of the leaf covering `vpn`; no-op if there is none. */
  setBits(vpn: number, bits: number): void;
  /**
   * Remove the leaf covering `vpn` and return what it mapped (a view valid
   * until the next call on this table: an implementation may reuse one object).
   * @see ptep_get_and_clear
   */
  unmap(vpn: number): PteView | null;
  /**
   * Visit every leaf that overlaps `[startVpn, endVpn)` in ascending order,
   * skipping empty subtrees. The callback receives the leaf's first vpn and a
   * view of the leaf that is only valid during that call (an implementation
   * may pass one object for every leaf, rewritten: copy what you keep, and do
   * not walk this table again from inside the callback). The callback may
   * `unmap` or `setBits` the leaf it is given.
   */
  forEachLeaf(startVpn: number, endVpn: number, visit: (vpn: number, leaf: PteView) => void): void;
  /**
   * `free_pgd_range`: free the page-table pages below `[startVpn, endVpn)`
   * that map nothing any more and whose whole span lies inside
   * `[floorVpn, ceilingVpn)` (by default the whole space). Linux passes the
   * end of the VMA below as the floor and the start of the VMA above as the
   * ceiling, so a table that also covers a neighbour's pages stays, empty or
   * not.
   * @see mm/memory.c free_pgtables, free_pgd_range
   */
  freeEmptyTables(startVpn: number, endVpn: number, floorVpn?: number, ceilingVpn?: number): void;
  /**
   * False if {@link freeEmptyTables} over `[startVpn, endVpn)` would free
   * nothing whatever the floor and ceiling (no table overlapping the range is
   * empty), so the caller can skip looking its neighbours up; true if it may
   * free something. Optional: without it, callers assume true.
   */
  mayFreeTables?(startVpn: number, endVpn: number): boolean;
  /**
   * CONFIG_PT_RECLAIM's `try_to_free_pte`: free the lowest-level tables (PTE
   * tables) whose whole span lies inside `[startVpn, endVpn)` and that map
   * nothing; never a table of a higher level. Optional: without it, generic
   * code frees each such span with {@link freeEmptyTables}.
   * @see mm/pt_reclaim.c try_to_free_pte
   */
  freeEmptyPteTables?(startVpn: number, endVpn: number): void;
  /** Number of page-table pages currently allocated (the top level included). */
  tablePages(): number;
  /**
   * The hardware walk for `vpn` as an inspection tool sees it: one step per
   * level visited, down to a leaf or an empty entry (nothing for a vpn outside
   * the tree). Optional: generic mm code never needs it.
   */
  walk?(vpn: number): PageTableWalkStep[];
}

/** The kind of access the MMU is asked to perform. */
export const AccessKind = {
  READ: 0,
  WRITE: 1,
  EXEC: 2,
} as const;
/** One of {@link AccessKind}'s values. */
export type AccessKind = (typeof AccessKind)[keyof typeof AccessKind];

/** The outcome of a hardware translation. */
export type Translation =
  | { readonly ok: true; readonly pfn: number; readonly offsetInLeaf: number }
  | { readonly ok: false; readonly errorCode: number; readonly signal?: 'SIGSEGV' };
