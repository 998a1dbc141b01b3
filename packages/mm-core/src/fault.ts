/**
 * Page faults: the x86 user fault entry (find the VMA, grow a stack, check the
 * access) and the generic handler (demand-zero anonymous pages, the zero page,
 * THP, file read faults with fault-around, copy-on-write, shared writes).
 * @see arch/x86/mm/fault.c do_user_addr_fault, mm/memory.c handle_mm_fault,
 *      mm/mmap.c expand_downwards, mm/rmap.c __anon_vma_prepare
 */

import { Errno, traced } from '@mmsim/base';
import { PteBits } from '@mmsim/arch';
import { mayExpandVm, mlockFutureOk, vmEnoughMemory } from './accounting.js';
import { rlimitPages } from './config.js';
import type { MmStruct } from './mm.js';
import { AnonVma, PageFlags, PageKind } from './page.js';
import { forgetHugeZeroBlock, isHugeZeroBlock, markHugeZeroBlock } from './huge-zero.js';
import { munlockFileFolio, putMappedPage } from './rmap.js';
import { PMD_PAGES, STACK_GUARD_GAP } from './unmapped-area.js';
import { VmFault, type Vma } from './vma.js';
import { VM, VM_ACCESS_FLAGS, VM_SPECIAL } from './vm-flags.js';

/**
 * What a user access ended in. `SIGKILL` stands for Linux's out-of-memory
 * path (`pagefault_out_of_memory`): with no frame for the fault, the OOM
 * killer kills the faulting process, the only one a model machine runs.
 */
export type FaultSignal = 'SIGSEGV' | 'SIGBUS' | 'SIGKILL' | null;

/** The PTE bits a VMA's pages get (`vma->vm_page_prot`). */
export function vmaPageBits(mm: MmStruct, flags: number): number {
  return mm.kernel.pageProt(flags & (VM.READ | VM.WRITE | VM.EXEC | VM.SHARED));
}

/** `anon_vma_compatible`: may `b` (right after `a`) share `a`'s anon_vma? */
function anonVmaCompatible(a: Vma, b: Vma): boolean {
  return (
    a.end === b.start &&
    a.file === b.file &&
    ((a.flags ^ b.flags) & ~(VM_ACCESS_FLAGS | VM.SOFTDIRTY)) === 0 &&
    b.pgoff === a.pgoff + (b.start - a.start)
  );
}

/** `__anon_vma_prepare`: give `vma` an anon_vma, reusing a compatible neighbour's (`find_mergeable_anon_vma`). */
export function anonVmaPrepare(mm: MmStruct, vma: Vma): void {
  if (vma.anonVma) return;
  const next = mm.vmas.next(vma);
  if (next && next.anonVma && anonVmaCompatible(vma, next)) {
    vma.anonVma = next.anonVma;
    return;
  }
  const prev = mm.vmas.prev(vma);
  if (prev && prev.anonVma && anonVmaCompatible(prev, vma)) {
    vma.anonVma = prev.anonVma;
    return;
  }
  vma.anonVma = new AnonVma();
}

/**
 * `expand_downwards`: grow a `VM_GROWSDOWN` VMA down to `vpn`, subject to the
 * guard gap, `RLIMIT_STACK`, `RLIMIT_AS` and overcommit. 0 or `-errno`.
 */
export function expandDownwards(mm: MmStruct, vma: Vma, vpn: number): number {
  if (!(vma.flags & VM.GROWSDOWN)) return -Errno.EFAULT;
  if (vpn < mm.kernel.mmapMinPages) return -Errno.EPERM;
  const prev = mm.vmas.prev(vma);
  if (prev && !(prev.flags & VM.GROWSDOWN) && prev.flags & VM_ACCESS_FLAGS && vpn - prev.end < STACK_GUARD_GAP) {
    return -Errno.ENOMEM;
  }
  anonVmaPrepare(mm, vma);
  if (vpn >= vma.start) return 0;
  const size = vma.end - vpn;
  const grow = vma.start - vpn;
  // Linux: error = -ENOMEM unless grow <= vm_pgoff (a grows-down VMA moved high
  // by mremap keeps its small pgoff). Returning 0 here let the fault handler
  // look up a VMA that does not cover the address.
  if (grow > vma.pgoff) return -Errno.ENOMEM;
  if (!mayExpandVm(mm, vma.flags, grow)) return -Errno.ENOMEM;
  if (size > rlimitPages(mm.limits.rlimitStack)) return -Errno.ENOMEM;
  if (!mlockFutureOk(mm, vma.flags, grow)) return -Errno.ENOMEM;
  if (vmEnoughMemory(mm, grow)) return -Errno.ENOMEM;
  if (vma.flags & VM.LOCKED) mm.lockedVm += grow;
  mm.statAccount(vma.flags, grow);
  vma.start = vpn;
  mm.vmas.updated(vma);
  vma.pgoff -= grow;
  return 0;
}

/** Whether a THP may back the 2 MiB block around `vpn` (`thp_vma_allowable_order` + the VMA covering the block). */
export function thpAllowed(mm: MmStruct, vma: Vma, vpn: number): boolean {
  if (!vma.isAnonymous || vma.flags & (VM.SHARED | VM.NOHUGEPAGE) || vma.flags & VM.HUGETLB) return false;
  const mode = mm.kernel.config.thp;
  if (mode === 'never') return false;
  if (mode === 'madvise' && !(vma.flags & VM.HUGEPAGE)) return false;
  const base = vpn - (vpn % PMD_PAGES);
  if (base < vma.start || base + PMD_PAGES > vma.end) return false;
  // __handle_mm_fault tries a huge PMD only where pmd_none(): no PTE table below it. (A PMD split
  // leaves one, e.g. a THP that mremap moved away to a misaligned address. Found by tools/fuzz/kernel.)
  // The model keeps a THP as the 512 PTEs of a table, so a table that still maps the block's pages
  // also rules a fault out, as a huge PMD does in Linux.
  if (mm.pageTable.hasTable !== undefined) return !mm.pageTable.hasTable(base, 9);
  let empty = true;
  mm.pageTable.forEachLeaf(base, base + PMD_PAGES, () => {
    empty = false;
  });
  return empty;
}

/** Map a freshly allocated anonymous block of `2^order` pages at `vpn` (aligned), writable if the VMA is. */
function mapAnonBlock(mm: MmStruct, vma: Vma, vpn: number, pfn: number, order: number): boolean {
  const bits = vmaPageBits(mm, vma.flags) | PteBits.ACCESSED | PteBits.DIRTY | (vma.flags & VM.WRITE ? PteBits.WRITE : 0);
  const n = 1 << order;
  for (let i = 0; i < n; i++) {
    if (!mm.pageTable.map(vpn + i, pfn + i, 0, bits)) {
      // No memory for a page table: Linux allocates the table before the
      // page (VM_FAULT_OOM, nothing taken). Undo what was mapped and free
      // the fresh block, or it leaks.
      for (let j = 0; j < i; j++) mm.pageTable.unmap(vpn + j);
      mm.kernel.freePages(pfn);
      return false;
    }
  }
  mm.kernel.memmap.addMapcount(pfn, n);
  if ((vma.flags & (VM.LOCKED | VM_SPECIAL)) === VM.LOCKED) mm.kernel.memmap.setFlag(pfn, PageFlags.MLOCKED, true); // mlock_new_folio
  return true;
}

/** No THP could be had (`VM_FAULT_FALLBACK`): the caller falls back to a small page. */
const NO_THP = -1;

/** `__do_huge_pmd_anonymous_page`: a fresh THP mapped over the block around `vpn` (VmFault result), or {@link NO_THP}. */
function mapNewThp(mm: MmStruct, vma: Vma, vpn: number): number {
  const pfn = mm.kernel.allocPages(PageKind.ANON, 9);
  if (pfn < 0) return NO_THP;
  return mapAnonBlock(mm, vma, vpn - (vpn % PMD_PAGES), pfn, 9) ? VmFault.OK : VmFault.OOM;
}

/** Allocate a THP for the block around `vpn` if allowed, else a 4 KiB page. VmFault result. */
function allocAnonForWrite(mm: MmStruct, vma: Vma, vpn: number, copyFrom: number): number {
  const k = mm.kernel;
  anonVmaPrepare(mm, vma);
  if (copyFrom < 0 && thpAllowed(mm, vma, vpn)) {
    const r = mapNewThp(mm, vma, vpn);
    if (r !== NO_THP) return r;
  }
  const pfn = k.allocPages(PageKind.ANON, 0);
  if (pfn < 0) return VmFault.OOM;
  if (copyFrom >= 0) k.phys.copy(copyFrom, pfn);
  return mapAnonBlock(mm, vma, vpn, pfn, 0) ? VmFault.OK : VmFault.OOM;
}

/** `do_anonymous_page`. */
function doAnonymousPage(mm: MmStruct, vma: Vma, vpn: number, write: boolean): number {
  if (!write) {
    // The zero page, read-only; the huge zero page where a THP could go (uncounted too).
    const bits = (vmaPageBits(mm, vma.flags) & ~PteBits.WRITE) | PteBits.SPECIAL | PteBits.ACCESSED;
    if (thpAllowed(mm, vma, vpn)) {
      // do_huge_pmd_anonymous_page prepares the anon_vma before it picks the
      // huge zero page (the small zero page does not need one): a VMA read
      // this way is no longer "unfaulted" for mremap or merging.
      anonVmaPrepare(mm, vma);
      if (!mm.kernel.config.useZeroPage) {
        // Without the huge zero page (use_zero_page 0) a read fault gets a THP
        // (dirty, writable if the VMA is), as a write does; with none to be
        // had, the small zero page.
        const r = mapNewThp(mm, vma, vpn);
        if (r !== NO_THP) return r;
        return mm.pageTable.map(vpn, mm.kernel.zeroPfn, 0, bits) ? VmFault.OK : VmFault.OOM;
      }
      const base = vpn - (vpn % PMD_PAGES);
      for (let i = 0; i < PMD_PAGES; i++) {
        if (!mm.pageTable.map(base + i, mm.kernel.zeroPfn, 0, bits)) {
          for (let j = 0; j < i; j++) mm.pageTable.unmap(base + j);
          return VmFault.OOM;
        }
      }
      markHugeZeroBlock(mm, base);
      return VmFault.OK;
    }
    return mm.pageTable.map(vpn, mm.kernel.zeroPfn, 0, bits) ? VmFault.OK : VmFault.OOM;
  }
  return allocAnonForWrite(mm, vma, vpn, -1);
}

/** Map a page-cache page at `vpn` with the VMA's protections (read-only for private mappings). */
function mapFilePage(mm: MmStruct, vma: Vma, vpn: number, pfn: number, write: boolean): boolean {
  let bits = vmaPageBits(mm, vma.flags) | PteBits.ACCESSED;
  if (write) bits |= PteBits.DIRTY;
  if (!mm.pageTable.map(vpn, pfn, 0, bits)) return false;
  const memmap = mm.kernel.memmap;
  const head = memmap.find(pfn);
  memmap.addMapcount(head, 1);
  if ((vma.flags & (VM.LOCKED | VM_SPECIAL)) === VM.LOCKED) memmap.setFlag(head, PageFlags.MLOCKED, true); // mlock_vma_folio
  return true;
}

/** The first page index past end of file for a VMA's file. */
function eofPage(vma: Vma): number {
  const inode = vma.file?.inode;
  if (inode === undefined) return 0;
  const cache = inode.pageCache;
  if (cache?.endIndex !== undefined) return cache.endIndex();
  return Number((inode.size() + 4095n) >> 12n);
}

/**
 * `do_fault_around`: map the cached pages in the `fault_around_bytes` window
 * that starts at the aligned PTE index (clamped to the VMA, the page table and EOF).
 */
function doFaultAround(mm: MmStruct, vma: Vma, vpn: number): void {
  const ops = vma.ops;
  const nr = mm.kernel.faultAroundPages;
  if (!ops?.cachedPage || nr <= 1) return;
  const pteOff = vpn % 512;
  const vmaOff = vpn - vma.start;
  const fromPte = Math.max(pteOff - (pteOff % nr), pteOff - Math.min(pteOff, vmaOff));
  const toPte = Math.min(fromPte + nr, 512, pteOff + (vma.end - vpn)) - 1;
  const base = vpn - pteOff;
  const lastIndex = eofPage(vma) - 1;
  for (let i = fromPte; i <= toPte; i++) {
    const v = base + i;
    const pgoff = vma.pgoffOf(v);
    if (pgoff > lastIndex) break;
    if (mm.pageTable.lookup(v)) continue;
    // A guard marker is a non-none PTE (PTE_MARKER_GUARD): filemap_map_pages skips it. (Found by tools/fuzz/kernel.)
    if (mm.guards.size !== 0 && mm.guards.has(v)) continue;
    const pfn = ops.cachedPage(vma, pgoff);
    if (pfn >= 0) mapFilePage(mm, vma, v, pfn, false);
  }
}

/** `do_read_fault` / `do_cow_fault` / `do_shared_fault`. */
function doFileFault(mm: MmStruct, vma: Vma, vpn: number, write: boolean): number {
  const ops = vma.ops!;
  if (!write) {
    doFaultAround(mm, vma, vpn);
    if (mm.pageTable.lookup(vpn)) return VmFault.OK;
  }
  if (!ops.fault) return VmFault.SIGBUS;
  // do_cow_fault prepares the anon_vma before it asks the file for the page, so a
  // private write fault that ends in SIGBUS (past EOF) still leaves the VMA one,
  // which keeps it from merging with a neighbour that has another. (Found by
  // tools/fuzz/kernel: fuzz-legacy-s2077-332.)
  const cow = write && !(vma.flags & VM.SHARED);
  if (cow) anonVmaPrepare(mm, vma);
  const pfn = ops.fault(vma, vma.pgoffOf(vpn));
  if (pfn < 0) return -pfn;
  if (cow) return allocAnonForWrite(mm, vma, vpn, pfn);
  return mapFilePage(mm, vma, vpn, pfn, write) ? VmFault.OK : VmFault.OOM;
}

/** `do_wp_page`: a write to a present read-only entry of a writable VMA. */
function doWpPage(mm: MmStruct, vma: Vma, vpn: number, pfn: number, bits: number): number {
  const k = mm.kernel;
  if (vma.flags & VM.SHARED || k.memmap.kindOf(pfn) === PageKind.ANON) {
    mm.pageTable.setBits(vpn, bits | PteBits.WRITE | PteBits.DIRTY | PteBits.ACCESSED);
    return VmFault.OK;
  }
  if (pfn === k.zeroPfn) {
    const base = vpn - (vpn % PMD_PAGES);
    if (isHugeZeroBlock(mm, vma, base)) {
      // do_huge_zero_wp_pmd: a THP for the whole block, whatever the VMA's THP
      // eligibility now (vma_alloc_anon_folio_pmd asks nothing of it: a block
      // read before MADV_NOHUGEPAGE still gets one). (Found by
      // tools/fuzz/kernel: fuzz-anon-s2137-198.)
      forgetHugeZeroBlock(mm, base);
      anonVmaPrepare(mm, vma); // the read fault that mapped the huge zero page prepared it already
      const thp = k.allocPages(PageKind.ANON, 9);
      if (thp >= 0) {
        for (let i = 0; i < PMD_PAGES; i++) mm.pageTable.unmap(base + i);
        mm.pageTable.freeEmptyTables(base, base + PMD_PAGES, base, base + PMD_PAGES); // the huge zero PMD is replaced whole: no PTE table
        return mapAnonBlock(mm, vma, base, thp, 9) ? VmFault.OK : VmFault.OOM;
      }
      // No THP: the PMD is split into zero-page PTEs (which the model already
      // has) and the write copies the zero page below, as for a small page.
    }
  }
  // Copy-on-write of the zero page or a page-cache page.
  anonVmaPrepare(mm, vma);
  const copy = k.allocPages(PageKind.ANON, 0);
  if (copy < 0) return VmFault.OOM;
  if (pfn !== k.zeroPfn) k.phys.copy(pfn, copy);
  mm.pageTable.unmap(vpn);
  // __folio_remove_rmap → munlock_vma_folio: a page-cache page a locked VMA stops
  // mapping is munlocked, or reclaim would keep it as unevictable (zapping does the
  // same). (Found by tools/fuzz/kernel: fuzz-anon-s2132-227.)
  if (vma.flags & VM.LOCKED && pfn !== k.zeroPfn) munlockFileFolio(mm, pfn);
  putMappedPage(mm, pfn, 1);
  return mapAnonBlock(mm, vma, vpn, copy, 0) ? VmFault.OK : VmFault.OOM;
}

/** `handle_mm_fault` for a 4 KiB-granular access at `vpn`. Returns a {@link VmFault} value. */
export function handleMmFault(mm: MmStruct, vma: Vma, vpn: number, write: boolean): number {
  if (mm.guards.size !== 0 && mm.guards.has(vpn)) return VmFault.SIGSEGV; // a guard marker
  if (vma.ops?.hugeFault) return vma.ops.hugeFault(mm, vma, vpn, write);
  const leaf = mm.pageTable.lookup(vpn);
  if (!leaf) {
    if (vma.isAnonymous) return doAnonymousPage(mm, vma, vpn, write);
    if (vma.ops?.unbackedPages?.(vma, vpn)) return VmFault.SIGBUS;
    return doFileFault(mm, vma, vpn, write);
  }
  if (write && !(leaf.bits & PteBits.WRITE)) return doWpPage(mm, vma, vpn, leaf.pfn, leaf.bits);
  mm.pageTable.setBits(vpn, leaf.bits | PteBits.ACCESSED | (write ? PteBits.DIRTY : 0));
  return VmFault.OK;
}

/**
 * `do_user_addr_fault`: resolve a user-mode fault at `vpn`, given the
 * hardware's page-fault error code when the MMU produced one. Returns the
 * signal the access raises, or null when it may be retried.
 */
export function doUserAddrFault(mm: MmStruct, vpn: number, write: boolean, errorCode?: number): FaultSignal {
  const tracer = mm.kernel.tracer;
  // Tracing off (the common case): no closures per fault.
  if (!tracer.enabled) return userAddrFault(mm, vpn, write);
  return traced(
    tracer,
    'do_user_addr_fault',
    () =>
      `address=0x${(vpn * 4096).toString(16)}, ` +
      (errorCode === undefined
        ? write ? 'write' : 'read'
        : `error_code=0x${errorCode.toString(16)} (${mm.kernel.arch.mmu.describeErrorCode(errorCode)})`),
    () => userAddrFault(mm, vpn, write),
    (r) => r ?? 'handled',
  );
}

/** The body of {@link doUserAddrFault}, without the tracer. */
function userAddrFault(mm: MmStruct, vpn: number, write: boolean): FaultSignal {
  let vma = mm.vmas.findVma(vpn);
  if (!vma) return 'SIGSEGV';
  if (vma.start > vpn) {
    if (!(vma.flags & VM.GROWSDOWN)) return 'SIGSEGV';
    if (expandDownwards(mm, vma, vpn) !== 0) return 'SIGSEGV';
    vma = mm.vmas.lookup(vpn)!;
  }
  const accessError = mm.kernel.arch.accessError; // arch access_error; x86's rule by default
  if (accessError ? accessError(vma.flags & VM_ACCESS_FLAGS, write) : write ? !(vma.flags & VM.WRITE) : !(vma.flags & VM_ACCESS_FLAGS)) return 'SIGSEGV';
  const r = handleMmFault(mm, vma, vpn, write);
  if (r & VmFault.SIGBUS) return 'SIGBUS';
  if (r & VmFault.SIGSEGV) return 'SIGSEGV';
  if (r & VmFault.OOM) return 'SIGKILL';
  return null;
}
