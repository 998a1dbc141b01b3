/**
 * Taking pages out of page tables and dropping their references: what
 * `zap_page_range`/`unmap_page_range` and `folio_remove_rmap_pte` do.
 * @see mm/memory.c zap_pte_range, mm/rmap.c
 */

import { PteBits, type PageTable, type PteView } from '@mmsim/arch';
import { zapHugeZeroBlocks } from './huge-zero.js';
import type { MmStruct } from './mm.js';
import { PageFlags, PageKind } from './page.js';
import type { Vma } from './vma.js';
import { PMD_PAGES } from './unmapped-area.js';
import { VM } from './vm-flags.js';

/** Called by hugetlbfs to release hugetlb pages whose last mapping went away. */
export interface HugetlbPageRelease {
  (pfn: number): void;
}

/** Drop one mapping of the block holding `pfn`, freeing it if nothing else holds it. */
export function putMappedPage(mm: MmStruct, pfn: number, pages: number): void {
  const k = mm.kernel;
  const memmap = k.memmap;
  const head = memmap.find(pfn);
  if (head < 0) return;
  if (memmap.addMapcount(head, -pages) > 0) return;
  memmap.setMapcount(head, 0);
  const kind = memmap.kind(head);
  if (kind === PageKind.ANON) k.freePages(head);
  else if (kind === PageKind.HUGETLB && memmap.inode(head) === undefined) {
    if (gatherDepth > 0) gatheredHuge.push(head);
    else k.releaseHugetlbPage(head);
  }
}

// The mmu_gather of an unmap: Linux queues the pages a zap takes out
// (`tlb_remove_page_size`) and frees them at `tlb_finish_mmu`, after every
// entry of the range is cleared. For hugetlb pages that order is visible: the
// zap of each page decides whether a private page's reservation is restored
// by looking at `surplus_huge_pages`, which the frees change (a freed page goes
// back to the buddy allocator while the pool holds surplus pages). So hugetlb
// pages whose last mapping goes inside a gather are released when it ends.
let gatherDepth = 0;
const gatheredHuge: number[] = [];

/** `tlb_gather_mmu`: from here until the matching {@link tlbFinishMmu}, freed hugetlb pages wait. */
export function tlbGatherMmu(): void {
  gatherDepth++;
}

/** `tlb_finish_mmu`: the outermost one releases the hugetlb pages the gather queued, in order. */
export function tlbFinishMmu(mm: MmStruct): void {
  if (--gatherDepth > 0) return;
  gatherDepth = 0;
  if (gatheredHuge.length === 0) return; // the common case: no hugetlb page went (no array write)
  for (let i = 0; i < gatheredHuge.length; i++) mm.kernel.releaseHugetlbPage(gatheredHuge[i]!);
  gatheredHuge.length = 0;
}

/**
 * `zap_page_range_single` / `unmap_page_range`: remove every translation in
 * `[start, end)` of `vma` and drop the pages (letting hugetlb restore the
 * reservation of a private page, `__unmap_hugepage_range`). Each leaf is
 * cleared as the walk reaches it, as `zap_pte_range` does; hugetlb pages are
 * freed when the range is done (or when an enclosing gather ends).
 */
export function zapRange(mm: MmStruct, start: number, end: number, vma?: Vma): void {
  // The visitor is one module-level function reading module-level state (set
  // here, cleared after): no closure and no list of leaves per call.
  if (zapMm !== null) throw new Error('zapRange: re-entered from a page release');
  zapMm = mm;
  zapVma = vma;
  zapLocked = vma !== undefined && (vma.flags & VM.LOCKED) !== 0;
  zapHugeZeroBlocks(mm, start, end);
  tlbGatherMmu();
  try {
    mm.pageTable.forEachLeaf(start, end, zapLeaf);
  } finally {
    zapMm = null;
    zapVma = undefined;
    tlbFinishMmu(mm);
  }
}

let zapMm: MmStruct | null = null;
let zapVma: Vma | undefined;
let zapLocked = false;

/** {@link zapRange}'s work on one leaf: the folio's flags, the entry, the mapping's reference. */
function zapLeaf(vpn: number, leaf: PteView): void {
  const mm = zapMm!;
  const pfn = leaf.pfn;
  const dirty = (leaf.bits & PteBits.DIRTY) !== 0;
  if (dirty || zapLocked) zapFilePageFlags(mm, pfn, dirty, zapLocked);
  mm.pageTable.unmap(vpn);
  zapVma?.ops?.zapHugePage?.(zapVma, vpn, pfn);
  putMappedPage(mm, pfn, 1);
}

/**
 * What zapping a page-cache page's PTE leaves on its folio: `folio_mark_dirty`
 * for a dirty PTE, `munlock_vma_folio` when a locked VMA unmaps it (an
 * anonymous page needs neither: it is freed with its flags).
 */
function zapFilePageFlags(mm: MmStruct, pfn: number, dirty: boolean, munlock: boolean): void {
  const memmap = mm.kernel.memmap;
  const head = memmap.find(pfn);
  if (head < 0 || memmap.kind(head) !== PageKind.FILE) return;
  if (dirty) memmap.setFlag(head, PageFlags.DIRTY, true);
  if (munlock) munlockFileFolio(mm, head);
}

/**
 * `munlock_vma_folio` for a page-cache folio a locked VMA stops mapping (by
 * a zap or a copy-on-write): it is munlocked, so reclaim may take it again.
 * The model keeps no `mlock_count`: another locked mapping of the same folio
 * does not keep it locked. Anonymous and other folios are left alone.
 * @see mm/internal.h munlock_vma_folio, mm/mlock.c munlock_folio
 */
export function munlockFileFolio(mm: MmStruct, pfn: number): void {
  const memmap = mm.kernel.memmap;
  const head = memmap.find(pfn);
  if (head >= 0 && memmap.kind(head) === PageKind.FILE) memmap.setFlag(head, PageFlags.MLOCKED, false);
}

/**
 * `__pte_alloc` / `huge_pte_alloc`: the page tables down to the level that
 * holds an order-`order` leaf at `vpn`, nothing mapped. Through the page
 * table's `allocTables`, or — for a page table without it — a placeholder
 * leaf with `bits`, mapped and unmapped (unmapping keeps the tables). False
 * if a table page could not be allocated.
 * @see mm/memory.c __pte_alloc, mm/hugetlb.c huge_pte_alloc
 */
export function allocPageTables(mm: MmStruct, vpn: number, order: number, bits: number): boolean {
  const pt = mm.pageTable;
  if (pt.allocTables !== undefined) return pt.allocTables(vpn, order);
  if (!pt.map(vpn, 0, order, bits)) return false;
  pt.unmap(vpn);
  return true;
}

/**
 * `free_pgtables` for `[start, end)`, a range that just lost its VMAs (they
 * are out of the tree, and are passed sorted, still readable as retired VMAs
 * are until the next system call). Only the tables wholly between the floor
 * (the end of the VMA below, 0 for none: `FIRST_USER_ADDRESS`) and the
 * ceiling (the start of the VMA above, Infinity for none:
 * `USER_PGTABLES_CEILING`) go, so a PTE table that also spans a neighbour's
 * pages stays, empty or not, and a fault there later finds `pmd_none` false.
 * Like Linux, VMAs less than 2 MiB apart are freed as one range and a hugetlb
 * VMA on its own, each range's ceiling being the next one's start. The
 * neighbours are only looked up when there is a table below the top to free.
 * (Found by a probe, `fuzz-probe-free-pgtables-floor`.)
 * @see mm/memory.c free_pgtables, free_pgd_range
 */
export function freeVmaTables(mm: MmStruct, vmas: readonly Vma[]): void {
  const n = vmas.length;
  if (n === 0 || mm.pageTable.tablePages() <= 1) return;
  const floor = mm.vmas.prevOf(vmas[0]!.start)?.end ?? 0;
  const ceiling = mm.vmas.findVma(vmas[n - 1]!.end)?.start ?? Infinity;
  for (let i = 0; i < n; ) {
    const first = vmas[i]!;
    let j = i;
    if (!(first.flags & VM.HUGETLB)) {
      while (j + 1 < n && vmas[j + 1]!.start <= vmas[j]!.end + PMD_PAGES && !(vmas[j + 1]!.flags & VM.HUGETLB)) j++;
    }
    const next = vmas[j + 1];
    mm.pageTable.freeEmptyTables(first.start, vmas[j]!.end, floor, next !== undefined ? next.start : ceiling);
    i = j + 1;
  }
}

/** {@link freeVmaTables} for a range that one VMA (or part of one) covered. */
export function freePageTables(mm: MmStruct, start: number, end: number): void {
  if (mm.pageTable.tablePages() <= 1) return; // only the top level: nothing to free
  if (mm.pageTable.mayFreeTables?.(start, end) === false) return; // every table on the way still in use
  const floor = mm.vmas.prevOf(start)?.end ?? 0;
  const ceiling = mm.vmas.findVma(end)?.start ?? Infinity;
  mm.pageTable.freeEmptyTables(start, end, floor, ceiling);
}

/**
 * CONFIG_PT_RECLAIM after a zap of `[start, end)`: the PTE tables whose whole
 * 2 MiB the zap covered and that hold nothing any more are freed — but not
 * one that holds a guard marker (a marker is a PTE, which the zap keeps).
 * @see mm/pt_reclaim.c try_to_free_pte
 */
export function reclaimPteTables(mm: MmStruct, start: number, end: number): void {
  const lo = Math.ceil(start / PMD_PAGES) * PMD_PAGES;
  const hi = Math.floor(end / PMD_PAGES) * PMD_PAGES;
  if (lo >= hi) return;
  const pt = mm.pageTable;
  let from = lo;
  for (const [gs, ge] of mm.guards.size === 0 ? [] : mm.guards.rangesIn(lo, hi)) {
    // Blocks touching a guarded range keep their tables.
    freePteTablesIn(pt, from, Math.floor(gs / PMD_PAGES) * PMD_PAGES);
    from = Math.ceil(ge / PMD_PAGES) * PMD_PAGES;
  }
  freePteTablesIn(pt, from, hi);
}

function freePteTablesIn(pt: PageTable, lo: number, hi: number): void {
  if (lo >= hi) return;
  if (pt.freeEmptyPteTables !== undefined) pt.freeEmptyPteTables(lo, hi);
  else for (let b = lo; b < hi; b += PMD_PAGES) pt.freeEmptyTables(b, b + PMD_PAGES, b, b + PMD_PAGES);
}
