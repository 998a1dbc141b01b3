/**
 * `madvise`: advice that changes VMA flags (splitting and merging like
 * mprotect), `MADV_DONTNEED` zapping pages, `MADV_FREE`, and the walk that
 * carries on past holes and reports `ENOMEM` at the end.
 * @see mm/madvise.c do_madvise, madvise_walk_vmas, madvise_vma_behavior
 */

import { Errno, MADV, addOverflows64, alignUp64, traced } from '@mmsim/base';
import { PteBits } from '@mmsim/arch';
import { madviseCollapse } from './collapse.js';
import { anonVmaPrepare, handleMmFault, vmaPageBits } from './fault.js';
import { gupTouchForWrite } from './gup.js';
import type { MmStruct } from './mm.js';
import { PageFlags, PageKind, type MemMap } from './page.js';
import { putMappedPage, reclaimPteTables, zapRange } from './rmap.js';
import { PMD_PAGES } from './unmapped-area.js';
import { VmFault, type Vma } from './vma.js';
import { vmaModifyFlags } from './vma-ops.js';
import { VM, VM_SPECIAL } from './vm-flags.js';

/** Advice values this kernel accepts (`madvise_behavior_valid`, with THP, KSM and swap built in). */
const VALID = new Set<number>([
  MADV.NORMAL, MADV.RANDOM, MADV.SEQUENTIAL, MADV.WILLNEED, MADV.DONTNEED, MADV.FREE, MADV.REMOVE,
  MADV.DONTFORK, MADV.DOFORK, MADV.MERGEABLE, MADV.UNMERGEABLE, MADV.HUGEPAGE, MADV.NOHUGEPAGE,
  MADV.DONTDUMP, MADV.DODUMP, MADV.WIPEONFORK, MADV.KEEPONFORK, MADV.COLD, MADV.PAGEOUT,
  MADV.POPULATE_READ, MADV.POPULATE_WRITE, MADV.DONTNEED_LOCKED, MADV.COLLAPSE,
  MADV.GUARD_INSTALL, MADV.GUARD_REMOVE,
]);

/*
 * Anonymous folios `MADV_FREE` made lazily freeable (`folio_mark_lazyfree`:
 * `PG_swapbacked` cleared) carry {@link PageFlags.LAZYFREE}, which goes with
 * the descriptor when the folio is freed. Without memory pressure nothing
 * frees them, but `MADV_PAGEOUT` does: reclaim discards such a folio unless it
 * was written again (its PTE dirty). (Found by tools/fuzz/kernel.)
 */

/** `folio_test_swapbacked` negated: is the block headed at `head` lazily freeable? */
function isLazyfree(memmap: MemMap, head: number): boolean {
  return memmap.testFlag(head, PageFlags.LAZYFREE);
}

/** `folio_mark_lazyfree` (`on`) / `folio_set_swapbacked` (`!on`) for the block headed at `head`. */
function setLazyfree(memmap: MemMap, head: number, on: boolean): void {
  memmap.setFlag(head, PageFlags.LAZYFREE, on);
}

/** `madvise_free_pte_range` on a folio: `folio_clear_dirty`, then `folio_mark_lazyfree`. */
function markLazyfree(memmap: MemMap, head: number): void {
  memmap.setFlag(head, PageFlags.DIRTY, false);
  setLazyfree(memmap, head, true);
}

/**
 * Whether reclaim finds a lazily freeable folio written again since
 * `MADV_FREE`: a dirty PTE (`try_to_unmap_one` moves it to the folio) or the
 * folio's own `PG_dirty` (set by a write through `get_user_pages`, e.g.
 * `MADV_POPULATE_WRITE` on a page already mapped writable).
 */
function redirtied(memmap: MemMap, head: number, bits: number): boolean {
  return (bits & PteBits.DIRTY) !== 0 || memmap.testFlag(head, PageFlags.DIRTY);
}

/** The present leaves of `[start, end)` as [vpn, pfn, bits] (collected first: the callers change them). */
function presentLeaves(mm: MmStruct, start: number, end: number): Array<[number, number, number]> {
  const leaves: Array<[number, number, number]> = [];
  mm.pageTable.forEachLeaf(start, end, (vpn, leaf) => leaves.push([vpn, leaf.pfn, leaf.bits]));
  return leaves;
}

/** The head frame of an order-0 anonymous page mapped once at `pfn`, or -1 (the folios these advices act on here). */
function exclusiveAnonPage(mm: MmStruct, pfn: number): number {
  const memmap = mm.kernel.memmap;
  const head = memmap.find(pfn);
  return head >= 0 && memmap.kind(head) === PageKind.ANON && memmap.order(head) === 0 && memmap.mapcount(head) === 1 ? head : -1;
}

/** A THP (anonymous order-9 folio) here: its head frame and how many of its PTEs `[start, end)` holds. */
interface ThpInRange {
  readonly head: number;
  /** The first vpn in the range that maps it. */
  readonly at: number;
  inRange: number;
  /**
   * Whether the PTEs found so far form one `folio_pte_batch` run from the
   * folio's first page: a 2 MiB-aligned vpn (so all 512 are in one PTE
   * table), consecutive vpns and frames, and the same bits but for the
   * ones the batch ignores.
   */
  batch: boolean;
  lastVpn: number;
  lastPfn: number;
  /** The first PTE's bits without {@link BATCH_IGNORED}: what every PTE of the batch must have. */
  batchBits: number;
}

/** The PTE bits `folio_pte_batch` ignores (flags 0): dirty, accessed, writable. */
const BATCH_IGNORED = PteBits.DIRTY | PteBits.ACCESSED | PteBits.WRITE;

/** The anonymous THPs with PTEs in `[start, end)` (the model maps a THP with 512 PTEs). */
function thpsInRange(mm: MmStruct, start: number, end: number): ThpInRange[] {
  const byHead = new Map<number, ThpInRange>();
  for (const [vpn, pfn, bits] of presentLeaves(mm, start, end)) {
    const memmap = mm.kernel.memmap;
    const head = memmap.find(pfn);
    if (head < 0 || memmap.kind(head) !== PageKind.ANON || memmap.order(head) !== 9) continue;
    const t = byHead.get(head);
    if (!t) {
      const aligned = vpn % PMD_PAGES === 0 && pfn === head;
      byHead.set(head, { head, at: vpn, inRange: 1, batch: aligned, lastVpn: vpn, lastPfn: pfn, batchBits: bits & ~BATCH_IGNORED });
      continue;
    }
    t.inRange++;
    if (vpn !== t.lastVpn + 1 || pfn !== t.lastPfn + 1 || (bits & ~BATCH_IGNORED) !== t.batchBits) t.batch = false;
    t.lastVpn = vpn;
    t.lastPfn = pfn;
  }
  return [...byHead.values()];
}

/**
 * `split_folio` of an anonymous THP: 512 small folios, and (Linux 6.12+,
 * `remap_page` with `RMP_USE_SHARED_ZEROPAGE`) every subpage holding only
 * zeros is mapped to the shared zero page instead and freed — so `Rss` drops
 * to the subpages ever written. Not in `VM_LOCKED` mappings. The PTE bits and
 * the lazily-freeable state carry over; a dirty PTE anywhere in the THP makes
 * every subpage PG_dirty. Here the small folios are fresh frames with the
 * subpages' bytes. False (nothing changed) if memory runs out.
 * (Found by tools/fuzz/kernel: MADV_COLD/MADV_PAGEOUT/partial MADV_FREE split THPs.)
 * @see mm/huge_memory.c __folio_split, mm/migrate.c try_to_map_unused_to_zeropage
 */
function splitAnonThp(mm: MmStruct, t: ThpInRange, nearVpn: number): boolean {
  const k = mm.kernel;
  type Mapping = { vpn: number; pfn: number; bits: number; vma: Vma; zero: boolean; fresh: number };
  const collect = (from: number, to: number): Mapping[] => {
    const out: Mapping[] = [];
    mm.pageTable.forEachLeaf(from, to, (vpn, leaf) => {
      if (leaf.pfn < t.head || leaf.pfn >= t.head + 512) return;
      const vma = mm.vmas.lookup(vpn)!;
      out.push({ vpn, pfn: leaf.pfn, bits: leaf.bits, vma, zero: !(vma.flags & VM.LOCKED) && mm.kernel.phys.isZero(leaf.pfn), fresh: -1 });
    });
    return out;
  };
  // The rmap walk: near where it was found, or (moved by mremap) anywhere in the address space.
  let maps = collect(Math.max(0, nearVpn - 511), nearVpn + 512);
  const memmap = k.memmap;
  if (maps.length !== memmap.mapcount(t.head)) maps = collect(0, mm.taskSize);
  if (maps.length !== memmap.mapcount(t.head)) return false;
  for (const m of maps) {
    if (m.zero) continue;
    m.fresh = k.allocPages(PageKind.ANON, 0);
    if (m.fresh < 0) {
      for (const n of maps) if (n.fresh >= 0) k.freePages(n.fresh);
      return false;
    }
  }
  const lazy = isLazyfree(memmap, t.head);
  // Unmapping the folio for the split moves a dirty PMD or PTE to the folio
  // (`__split_huge_pmd_locked`, `try_to_migrate_one`: folio_set_dirty), and the
  // split copies PG_dirty to every subpage: one write anywhere in the THP makes
  // them all dirty, so none of them is a clean lazily-freeable page afterwards.
  const dirty = memmap.testFlag(t.head, PageFlags.DIRTY) || maps.some((m) => (m.bits & PteBits.DIRTY) !== 0);
  for (const m of maps) {
    mm.pageTable.unmap(m.vpn);
    if (m.zero) {
      mm.pageTable.map(m.vpn, k.zeroPfn, 0, (vmaPageBits(mm, m.vma.flags) & ~PteBits.WRITE) | PteBits.SPECIAL | PteBits.ACCESSED);
      continue;
    }
    k.phys.copy(m.pfn, m.fresh);
    mm.pageTable.map(m.vpn, m.fresh, 0, m.bits);
    memmap.setMapcount(m.fresh, 1);
    if (lazy) setLazyfree(memmap, m.fresh, true);
    if (dirty) memmap.setFlag(m.fresh, PageFlags.DIRTY, true); // the split copies PG_dirty
  }
  memmap.setMapcount(t.head, 0);
  k.freePages(t.head);
  return true;
}

/**
 * The THP step of `madvise_free_pte_range` / `madvise_cold_or_pageout_pte_range`:
 * the walk batches a large folio's PTEs (`madvise_folio_pte_batch`, at most
 * to the end of the range and of the PTE table) and splits the folio when the
 * batch is shorter than the folio: a THP only partly in the range (or partly
 * unmapped), and also one wholly in it whose PTEs cross a 2 MiB boundary
 * (moved by `mremap` to an address not aligned with it) or differ in their
 * bits. Returns the THPs left whole.
 * (Found by tools/fuzz/kernel: fuzz-anon-s2073-360, `MADV_COLD` after a move.)
 */
function splitPartialThps(mm: MmStruct, start: number, end: number): ThpInRange[] {
  const whole: ThpInRange[] = [];
  for (const t of thpsInRange(mm, start, end)) {
    if (t.inRange === 512 && t.batch && mm.kernel.memmap.mapcount(t.head) === 512) whole.push(t);
    else splitAnonThp(mm, t, t.at);
  }
  return whole;
}

/** `madvise_free_pte_range`: clean and old PTEs, the folios lazily freeable. */
function madviseFree(mm: MmStruct, start: number, end: number): void {
  const memmap = mm.kernel.memmap;
  for (const t of splitPartialThps(mm, start, end)) markLazyfree(memmap, t.head);
  for (const [vpn, pfn, bits] of presentLeaves(mm, start, end)) {
    const head = memmap.find(pfn);
    const small = exclusiveAnonPage(mm, pfn);
    if (small < 0 && !(head >= 0 && memmap.kind(head) === PageKind.ANON && memmap.order(head) === 9 && isLazyfree(memmap, head))) continue;
    if (bits & (PteBits.DIRTY | PteBits.ACCESSED)) mm.pageTable.setBits(vpn, bits & ~(PteBits.DIRTY | PteBits.ACCESSED));
    if (small >= 0) markLazyfree(memmap, small);
  }
}

/**
 * `madvise_pageout` → `reclaim_pages` with no swap: only folios that are not
 * swap-backed can go — lazily freeable ones still clean, and every page of a
 * `MAP_DROPPABLE` mapping, dirty or not (`try_to_unmap_one`'s discard).
 * A lazily freeable folio written again becomes swap-backed again and stays.
 * A swap-backed THP cannot get swap either: `shrink_folio_list` splits it
 * (and its zero-filled subpages go, see splitAnonThp).
 */
function madvisePageout(mm: MmStruct, vma: Vma, start: number, end: number): void {
  const droppable = (vma.flags & VM.DROPPABLE) !== 0;
  // A page-cache page mapped only here (`folio_mapcount` 1; the files are the process's own, so
  // `can_do_file_pageout`) is unmapped by reclaim even without swap; a shmem page that was never
  // written is clean and leaves the cache too (approximated: a clean PTE, no PG_dirty, and only
  // zero bytes), a dirty one stays cached (`shmem_writeout` has no swap) — also when truncation
  // zeroed what write() had put there. (Found by tools/fuzz/kernel.)
  const file = vma.file;
  const memmap = mm.kernel.memmap;
  for (const [vpn, pfn, bits] of presentLeaves(mm, start, end)) {
    const head = memmap.find(pfn);
    if (head < 0 || memmap.kind(head) !== PageKind.FILE || memmap.order(head) !== 0 || memmap.mapcount(head) !== 1) continue;
    if (memmap.testFlag(head, PageFlags.MLOCKED)) continue; // unevictable: shrink_folio_list keeps it
    // Read before the unmap, which may free the page (and its descriptor).
    const inode = memmap.inode(head);
    const index = memmap.index(head);
    const dirty = (bits & PteBits.DIRTY) !== 0 || memmap.testFlag(head, PageFlags.DIRTY);
    if (bits & PteBits.DIRTY) memmap.setFlag(head, PageFlags.DIRTY, true); // try_to_unmap moves PTE dirty to the folio
    mm.pageTable.unmap(vpn);
    putMappedPage(mm, pfn, 1);
    if (!dirty && file && inode === file.inode && mm.kernel.phys.isZero(pfn)) {
      if (file.ops.reclaimClean) file.ops.reclaimClean(file, index);
      else file.ops.punchHole?.(file, BigInt(index) << 12n, 4096n);
    }
  }
  for (const t of splitPartialThps(mm, start, end)) {
    if (memmap.testFlag(t.head, PageFlags.MLOCKED)) continue; // unevictable
    if (!isLazyfree(memmap, t.head)) {
      splitAnonThp(mm, t, t.at);
      continue;
    }
    const ptes: Array<[number, number, number]> = presentLeaves(mm, start, end).filter(([, pfn]) => pfn >= t.head && pfn < t.head + 512);
    if (ptes.some(([, , bits]) => redirtied(memmap, t.head, bits))) {
      setLazyfree(memmap, t.head, false);
      continue;
    }
    for (const [vpn] of ptes) mm.pageTable.unmap(vpn);
    memmap.setMapcount(t.head, 0);
    mm.kernel.freePages(t.head);
  }
  for (const [vpn, pfn, bits] of presentLeaves(mm, start, end)) {
    const head = exclusiveAnonPage(mm, pfn);
    if (head < 0 || !(droppable || isLazyfree(memmap, head))) continue;
    if (memmap.testFlag(head, PageFlags.MLOCKED)) continue; // unevictable: reclaim cannot discard it
    if (!droppable && redirtied(memmap, head, bits)) {
      setLazyfree(memmap, head, false);
      continue;
    }
    mm.pageTable.unmap(vpn);
    putMappedPage(mm, pfn, 1);
  }
}

/** `madvise_dontneed_free` for one VMA piece. */
function dontneedFree(mm: MmStruct, vma: Vma, start: number, end: number, advice: number): number {
  if (!(vma.flags & VM.HUGETLB)) {
    let forbidden = VM.PFNMAP;
    if (advice !== MADV.DONTNEED_LOCKED) forbidden |= VM.LOCKED;
    if (vma.flags & forbidden) return -Errno.EINVAL;
  } else {
    if (advice !== MADV.DONTNEED && advice !== MADV.DONTNEED_LOCKED) return -Errno.EINVAL;
    const hp = 1 << (vma.ops?.hugeOrder ?? 0);
    if (start & (hp - 1)) return -Errno.EINVAL;
    end -= end & (hp - 1);
  }
  if (start >= end) return 0;
  if (advice === MADV.FREE) {
    if (!vma.isAnonymous) return -Errno.EINVAL;
    madviseFree(mm, start, end); // lazily freeable: without memory pressure nothing else changes
    return 0;
  }
  zapRange(mm, start, end, vma);
  // CONFIG_PT_RECLAIM (x86-64, 6.14+): zap_pte_range frees a PTE table it left empty
  // (try_to_free_pte) when it zapped the table's whole 2 MiB (reclaim_pt_is_enabled on the
  // PMD-clipped range), so a THP may fault there again; a partly zapped table stays, and so
  // does one holding a guard marker. (Probes fuzz-probe-thp-table and
  // fuzz-probe-thp-dontneed-partial, recorded.)
  if (!(vma.flags & VM.HUGETLB)) reclaimPteTables(mm, start, end);
  return 0;
}

/**
 * The marker-setting walk of `madvise_guard_install` over `[start, end)`
 * (already zapped): a page walk with `install_pte` allocates the page tables
 * down to the PTE level wherever they are missing (`__pte_alloc`), so every
 * 2 MiB the guard touches has a PTE table from then on — one that
 * `MADV_GUARD_REMOVE` leaves in place, so a later fault there finds
 * `pmd_none` false and gets a small page, not a THP. (Found by a probe,
 * `fuzz-probe-guard-table`.) A page table that cannot report its tables
 * (no `allocTables`) gets none: nothing generic could see them. `-ENOMEM`,
 * with the markers set up to that 2 MiB, if a table page cannot be had.
 * @see mm/madvise.c madvise_guard_install, mm/pagewalk.c walk_pmd_range
 */
function installGuards(mm: MmStruct, start: number, end: number): number {
  const pt = mm.pageTable;
  if (pt.allocTables !== undefined) {
    for (let b = start - (start % PMD_PAGES); b < end; b += PMD_PAGES) {
      const vpn = Math.max(b, start);
      if (!pt.allocTables(vpn, 0)) {
        mm.guards.add(start, vpn);
        return -Errno.ENOMEM;
      }
    }
  }
  mm.guards.add(start, end);
  return 0;
}

/** `madvise_vma_behavior` for one VMA piece `[start, end)`. */
function vmaBehavior(mm: MmStruct, vma: Vma, start: number, end: number, advice: number): number {
  let newFlags = vma.flags;
  switch (advice) {
    case MADV.DONTNEED:
    case MADV.DONTNEED_LOCKED:
    case MADV.FREE:
      return dontneedFree(mm, vma, start, end, advice);
    case MADV.WILLNEED:
      return 0;
    case MADV.COLD:
    case MADV.PAGEOUT:
      // madvise_cold / madvise_pageout: !can_madv_lru_vma() is EINVAL. (Found by tools/fuzz/kernel.)
      // COLD only ages pages; PAGEOUT reclaims what needs no swap (see madvisePageout).
      if (vma.flags & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) return -Errno.EINVAL;
      if (advice === MADV.PAGEOUT) madvisePageout(mm, vma, start, end);
      else splitPartialThps(mm, start, end);
      return 0;
    case MADV.REMOVE: {
      // madvise_remove: a hole punched in the file behind a shared writable mapping.
      if (vma.flags & VM.LOCKED) return -Errno.EINVAL;
      if (!vma.file) return -Errno.EINVAL;
      if ((vma.flags & (VM.SHARED | VM.MAYWRITE)) !== (VM.SHARED | VM.MAYWRITE)) return -Errno.EACCES;
      if (!vma.file.writable) return -Errno.EBADF;
      const punch = vma.file.ops.punchHole;
      if (!punch) return -Errno.EOPNOTSUPP;
      const offset = (BigInt(start - vma.start) + BigInt(vma.pgoff)) << 12n;
      return punch(vma.file, offset, BigInt(end - start) << 12n);
    }
    case MADV.GUARD_INSTALL:
      // madvise_guard_install: zap what is there, then mark every page.
      if (vma.flags & (VM_SPECIAL | VM.HUGETLB | VM.LOCKED)) return -Errno.EINVAL;
      // An anonymous VMA gets an anon_vma (page table entries without one would be odd),
      // which then keeps its pgoff when mremap moves it (no merge with an address-based
      // neighbour). (Found by tools/fuzz/kernel.) A file or shared anonymous VMA gets none:
      // its guarded pieces still merge (fuzz-legacy-s2082-38, fuzz-probe-guard-anon-vma).
      if (vma.isAnonymous) anonVmaPrepare(mm, vma);
      zapRange(mm, start, end, vma);
      return installGuards(mm, start, end);
    case MADV.COLLAPSE:
      return madviseCollapse(mm, vma, start, end);
    case MADV.GUARD_REMOVE:
      if (vma.flags & (VM_SPECIAL | VM.HUGETLB)) return -Errno.EINVAL;
      mm.clearGuards(start, end);
      return 0;
    case MADV.NORMAL:
      newFlags &= ~(VM.RAND_READ | VM.SEQ_READ);
      break;
    case MADV.SEQUENTIAL:
      newFlags = (newFlags & ~VM.RAND_READ) | VM.SEQ_READ;
      break;
    case MADV.RANDOM:
      newFlags = (newFlags & ~VM.SEQ_READ) | VM.RAND_READ;
      break;
    case MADV.DONTFORK:
      newFlags |= VM.DONTCOPY;
      break;
    case MADV.DOFORK:
      if (vma.flags & VM.IO) return -Errno.EINVAL;
      newFlags &= ~VM.DONTCOPY;
      break;
    case MADV.WIPEONFORK:
      if (vma.file || vma.flags & VM.SHARED) return -Errno.EINVAL;
      newFlags |= VM.WIPEONFORK;
      break;
    case MADV.KEEPONFORK:
      if (vma.flags & VM.DROPPABLE) return -Errno.EINVAL;
      newFlags &= ~VM.WIPEONFORK;
      break;
    case MADV.DONTDUMP:
      newFlags |= VM.DONTDUMP;
      break;
    case MADV.DODUMP:
      // A MAP_DROPPABLE mapping is never dumped. (Found by tools/fuzz/kernel: fuzz-anon-s2054-51.)
      if ((!(vma.flags & VM.HUGETLB) && newFlags & VM_SPECIAL) || newFlags & VM.DROPPABLE) return -Errno.EINVAL;
      newFlags &= ~VM.DONTDUMP;
      break;
    case MADV.HUGEPAGE:
      newFlags = (newFlags & ~VM.NOHUGEPAGE) | VM.HUGEPAGE;
      break;
    case MADV.NOHUGEPAGE:
      newFlags = (newFlags & ~VM.HUGEPAGE) | VM.NOHUGEPAGE;
      break;
    case MADV.MERGEABLE:
      if (vma.flags & (VM.SHARED | VM.MAYSHARE | VM_SPECIAL | VM.HUGETLB | VM.DROPPABLE)) return 0;
      newFlags |= VM.MERGEABLE;
      break;
    case MADV.UNMERGEABLE:
      newFlags &= ~VM.MERGEABLE;
      break;
    default:
      return 0;
  }
  if (newFlags === vma.flags) return 0;
  const r = vmaModifyFlags(mm, vma, start, end, newFlags);
  if (typeof r === 'number') return r === -Errno.ENOMEM ? -Errno.EAGAIN : r;
  r.flags = newFlags;
  return 0;
}

/**
 * `madvise_populate` → `faultin_page_range` (`FOLL_MADV_POPULATE`, no
 * `FOLL_FORCE`): fault every page of `[start, end)` in, readable or writable.
 * `__get_user_pages` reports a hole as ENOMEM and a VMA that does not allow
 * the access (no `VM_READ` / `VM_WRITE`, `VM_IO`/`VM_PFNMAP`) as EINVAL; a
 * fault that ends in SIGBUS/SIGSEGV (past EOF, a guard marker, an empty huge
 * page pool) is EFAULT, OOM is ENOMEM. Pages before the failing one stay
 * populated. (Was a no-op returning 0; found by tools/fuzz/kernel.)
 * @see mm/madvise.c madvise_populate, mm/gup.c faultin_page_range, check_vma_flags
 */
function madvisePopulate(mm: MmStruct, start: number, end: number, write: boolean): number {
  let vpn = start;
  while (vpn < end) {
    const vma = mm.vmas.lookup(vpn);
    if (!vma) return -Errno.ENOMEM;
    if (vma.flags & (VM.IO | VM.PFNMAP)) return -Errno.EINVAL;
    if (!(vma.flags & (write ? VM.WRITE : VM.READ))) return -Errno.EINVAL;
    const stop = Math.min(end, vma.end);
    const step = vma.ops?.hugeOrder ? 1 << vma.ops.hugeOrder : 1;
    while (vpn < stop) {
      const leaf = mm.pageTable.lookup(vpn);
      // follow_page_mask finds the page (writable, for a write): nothing to fault.
      if (!leaf || (write && !(leaf.bits & PteBits.WRITE))) {
        const r = handleMmFault(mm, vma, vpn, write);
        if (r & VmFault.OOM) return -Errno.ENOMEM;
        if (r & (VmFault.SIGBUS | VmFault.SIGSEGV)) return -Errno.EFAULT;
      } else if (write) {
        gupTouchForWrite(mm, leaf.pfn, leaf.bits);
      }
      vpn = step > 1 ? vpn - (vpn % step) + step : vpn + 1;
    }
    vpn = stop;
  }
  return 0;
}

/** `do_madvise` with the raw arguments: 0 or `-errno`. */
export function doMadvise(mm: MmStruct, startArg: bigint, lenArg: bigint, adviceArg: bigint): number {
  return traced(
    mm.kernel.tracer,
    'do_madvise',
    () => `start=0x${startArg.toString(16)}, len=0x${lenArg.toString(16)}, behavior=${adviceArg}`,
    () => {
      const advice = Number(BigInt.asIntN(32, adviceArg));
      if (!VALID.has(advice)) return -Errno.EINVAL;
      if (startArg & 0xfffn) return -Errno.EINVAL;
      const len = alignUp64(lenArg, 0x1000n);
      if (lenArg !== 0n && len === 0n) return -Errno.EINVAL;
      const endBytes = startArg + len;
      if (addOverflows64(startArg, len)) return -Errno.EINVAL;
      if (len === 0n) return 0;
      let start = Number(startArg >> 12n);
      const end = Number(endBytes >> 12n);
      if (advice === MADV.POPULATE_READ || advice === MADV.POPULATE_WRITE) return madvisePopulate(mm, start, end, advice === MADV.POPULATE_WRITE);
      let unmapped = 0;
      let vma = mm.vmas.findVma(start);
      for (;;) {
        if (!vma) return -Errno.ENOMEM;
        if (start < vma.start) {
          unmapped = -Errno.ENOMEM;
          start = vma.start;
          if (start >= end) break;
        }
        const tmp = Math.min(vma.end, end);
        const err = vmaBehavior(mm, vma, start, tmp, advice);
        if (err) return err;
        start = tmp;
        if (start >= end) break;
        vma = mm.vmas.findVma(start);
      }
      return unmapped;
    },
  );
}
