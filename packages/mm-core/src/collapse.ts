/**
 * `MADV_COLLAPSE`: collapse the small pages of every 2 MiB block of a range
 * into a transparent huge page, now, whatever the THP sysfs mode says.
 *
 * What Linux 6.18 does for an anonymous VMA (each rule seen on the kernel,
 * `conformance/fuzz/fuzz-probe-madv-collapse*.trace`):
 *
 * - The VMA must allow a PMD-sized THP when collapse is forced
 *   (`thp_vma_allowable_order(…, TVA_FORCED_COLLAPSE, PMD_ORDER)`): not
 *   `VM_NOHUGEPAGE`, hugetlb or `VM_SPECIAL`; big enough to hold one aligned
 *   2 MiB block; and, being anonymous, with an `anon_vma` already (a VMA only
 *   ever read through the zero page has none). Otherwise `EINVAL`.
 * - The blocks are the aligned 2 MiB inside the range (`hstart`…`hend`),
 *   looked at in order:
 *   - a block already mapped by a THP (or the huge zero page) counts as done;
 *   - a block whose 1 GiB has no PMD table (`SCAN_PMD_NULL`) fails softly:
 *     the next blocks are still collapsed;
 *   - a block with no PTE table under an existing PMD table
 *     (`SCAN_PMD_NONE`) or with a guard marker in it ends the call;
 *   - any other block is collapsed: a new THP holds the bytes of the pages
 *     mapped there (zeros for empty PTEs and the zero page, so a table with
 *     nothing in it becomes a THP of zeros), the small pages are freed, and
 *     read-only, `PROT_NONE`, locked and lazily-freeable (`MADV_FREE`) pages
 *     are no obstacle. The THP is dirty, writable if the VMA is.
 * - The result is 0 if every block was collapsed (also when there is none:
 *   `hstart == hend`), else `EINVAL` (`ENOMEM` when no THP can be had) —
 *   also when the range holds no aligned block and `hend < hstart`.
 *
 * Shared anonymous, tmpfs and `/dev/zero` mappings (shmem) pass the same VMA
 * checks (a file mapping's offset must be 2 MiB-aligned with its address),
 * and their collapse gives Linux's answer — `EINVAL` for a block with no page
 * in the page cache, or in a private mapping for a block where a page was
 * copied on write; 0 otherwise — but the collapse itself, a THP in the page
 * cache that Linux then maps with a PMD here and in the file's other
 * mappings, is not modelled: the pages stay small (`Rss` lower than Linux's).
 * Other file mappings are refused with `EINVAL`.
 * @see mm/khugepaged.c madvise_collapse, hpage_collapse_scan_pmd, collapse_huge_page
 */

import { Errno } from '@mmsim/base';
import { PteBits } from '@mmsim/arch';
import { vmaPageBits } from './fault.js';
import { forgetHugeZeroBlock, isHugeZeroBlock } from './huge-zero.js';
import type { MmStruct } from './mm.js';
import { PageFlags, PageKind } from './page.js';
import { putMappedPage } from './rmap.js';
import { PMD_PAGES } from './unmapped-area.js';
import type { Vma } from './vma.js';
import { VM, VM_SPECIAL } from './vm-flags.js';

/** `thp_vma_allowable_order(vma, …, TVA_FORCED_COLLAPSE, PMD_ORDER)` for an anonymous or shmem VMA. */
function collapseAllowed(vma: Vma): boolean {
  if (vma.flags & (VM.NOHUGEPAGE | VM.HUGETLB | VM_SPECIAL)) return false;
  // thp_vma_suitable_order at the VMA's end: it must hold one aligned 2 MiB block
  // (and a file mapping's offset must be aligned with its address).
  const last = vma.end - PMD_PAGES;
  if (last - (last % PMD_PAGES) < vma.start) return false;
  if (vma.isAnonymous) return vma.anonVma !== null;
  return (vma.start - vma.pgoff) % PMD_PAGES === 0;
}

/** How one block's collapse ended (`enum scan_result`, the outcomes the model can meet). */
const Scan = {
  SUCCEED: 0,
  /** No PMD table over the block: the next block is tried. */
  PMD_NULL: 1,
  /** Anything else that fails: the call stops. */
  FATAL: 2,
  ALLOC_FAIL: 3,
} as const;
type Scan = (typeof Scan)[keyof typeof Scan];

/**
 * `madvise_collapse` on `[start, end)`, a range inside `vma`: 0 or `-errno`.
 */
export function madviseCollapse(mm: MmStruct, vma: Vma, start: number, end: number): number {
  if (!collapseAllowed(vma)) return -Errno.EINVAL;
  if (!vma.isAnonymous && !vma.ops?.fault) return -Errno.EINVAL; // no page cache to collapse
  const hstart = Math.ceil(start / PMD_PAGES) * PMD_PAGES;
  const hend = end - (end % PMD_PAGES);
  if (hend < hstart) return -Errno.EINVAL; // (hend - hstart) >> HPAGE_PMD_SHIFT wraps: never equal to 0 done
  if (!vma.isAnonymous) return shmemCollapseResult(mm, vma, hstart, hend);
  let done = 0;
  let lastFail: Scan = Scan.FATAL;
  for (let b = hstart; b < hend; b += PMD_PAGES) {
    const r = collapseBlock(mm, vma, b);
    if (r === Scan.SUCCEED) done++;
    else if (r === Scan.PMD_NULL) lastFail = r;
    else {
      lastFail = r;
      break;
    }
  }
  if (done === (hend - hstart) / PMD_PAGES) return 0;
  return lastFail === Scan.ALLOC_FAIL ? -Errno.ENOMEM : -Errno.EINVAL;
}

/**
 * What `madvise_collapse` answers for the blocks `[hstart, hend)` of a shmem
 * VMA, without collapsing (see the module comment): `EINVAL` if a block has
 * no page in the page cache (`collapse_file` of nothing but holes), or, in a
 * private mapping, maps an anonymous (copied-on-write) page
 * (`collapse_pte_mapped_thp` finds a PTE that is not the file's); else 0.
 */
function shmemCollapseResult(mm: MmStruct, vma: Vma, hstart: number, hend: number): number {
  const cache = vma.file?.inode.pageCache;
  const memmap = mm.kernel.memmap;
  for (let b = hstart; b < hend; b += PMD_PAGES) {
    const first = vma.pgoff + (b - vma.start);
    let cached = false;
    for (let i = first; i < first + PMD_PAGES && !cached; i++) cached = cache !== undefined && cache.lookup(i) >= 0;
    if (!cached) return -Errno.EINVAL;
    if (vma.flags & VM.SHARED) continue;
    let copied = false;
    mm.pageTable.forEachLeaf(b, b + PMD_PAGES, (_vpn, leaf) => {
      const head = memmap.find(leaf.pfn);
      if (head >= 0 && memmap.kind(head) === PageKind.ANON) copied = true;
    });
    if (copied) return -Errno.EINVAL;
  }
  return 0;
}

/** `hpage_collapse_scan_pmd` then `collapse_huge_page` for the block at `base` of an anonymous VMA. */
function collapseBlock(mm: MmStruct, vma: Vma, base: number): Scan {
  const pt = mm.pageTable;
  const k = mm.kernel;
  const memmap = k.memmap;
  // find_pmd_or_thp_or_none. (A page table that cannot report its tables is read as having them.)
  if (pt.hasTable !== undefined) {
    if (!pt.hasTable(base, 18)) return Scan.PMD_NULL;
    if (!pt.hasTable(base, 9)) return Scan.FATAL; // SCAN_PMD_NONE
  }
  if (isHugeZeroBlock(mm, vma, base)) return Scan.SUCCEED; // a huge zero PMD: SCAN_PMD_MAPPED
  const leaves: Array<[number, number]> = [];
  pt.forEachLeaf(base, base + PMD_PAGES, (vpn, leaf) => leaves.push([vpn, leaf.pfn]));
  if (leaves.length === PMD_PAGES) {
    // One THP mapped whole, in order (the model's PMD mapping): SCAN_PMD_MAPPED.
    const head = memmap.find(leaves[0]![1]);
    if (
      head >= 0 &&
      memmap.kind(head) === PageKind.ANON &&
      memmap.order(head) === 9 &&
      memmap.mapcount(head) === PMD_PAGES &&
      leaves.every(([vpn, pfn]) => pfn === head + (vpn - base))
    ) {
      return Scan.SUCCEED;
    }
  }
  // A guard marker is a non-present PTE that no collapse may drop.
  if (mm.guards.size !== 0 && mm.guards.rangesIn(base, base + PMD_PAGES).length !== 0) return Scan.FATAL;
  for (const [, pfn] of leaves) {
    if (pfn === k.zeroPfn) continue;
    const head = memmap.find(pfn);
    if (head < 0 || memmap.kind(head) !== PageKind.ANON) return Scan.FATAL; // SCAN_PAGE_ANON
  }
  const thp = k.allocPages(PageKind.ANON, 9);
  if (thp < 0) return Scan.ALLOC_FAIL;
  // __collapse_huge_page_copy: the mapped bytes; empty and zero-page subpages stay zero.
  for (const [vpn, pfn] of leaves) if (pfn !== k.zeroPfn) k.phys.copy(pfn, thp + (vpn - base));
  for (const [vpn, pfn] of leaves) {
    pt.unmap(vpn);
    if (pfn !== k.zeroPfn) putMappedPage(mm, pfn, 1);
  }
  forgetHugeZeroBlock(mm, base);
  const bits = vmaPageBits(mm, vma.flags) | PteBits.DIRTY | (vma.flags & VM.WRITE ? PteBits.WRITE : 0);
  for (let i = 0; i < PMD_PAGES; i++) {
    if (!pt.map(base + i, thp + i, 0, bits)) {
      // The table is there (it held the block), so this cannot run out of memory.
      throw new Error(`MADV_COLLAPSE: no page table for vpn ${base + i}`);
    }
  }
  memmap.setMapcount(thp, PMD_PAGES);
  if ((vma.flags & (VM.LOCKED | VM_SPECIAL)) === VM.LOCKED) memmap.setFlag(thp, PageFlags.MLOCKED, true);
  return Scan.SUCCEED;
}
