/**
 * Pre-faulting a range (`MAP_POPULATE`, `MAP_LOCKED`, `mlock`): fault every
 * page in, writing where the mapping is private and writable, stopping at the
 * first page that cannot be faulted.
 * @see mm/gup.c __mm_populate, populate_vma_page_range, __get_user_pages
 */

import { Errno } from '@mmsim/base';
import { PteBits } from '@mmsim/arch';
import { handleMmFault } from './fault.js';
import type { MmStruct } from './mm.js';
import { PageFlags, PageKind } from './page.js';
import { VmFault } from './vma.js';
import { VM, VM_ACCESS_FLAGS } from './vm-flags.js';

/**
 * `follow_page_pte` with `FOLL_TOUCH | FOLL_WRITE` on a page already mapped
 * writable: nothing faults, but a PTE that is not dirty gets its folio marked
 * dirty (`folio_mark_dirty`), so reclaim treats it as written — a shmem page
 * stays cached, a `MADV_FREE`d page is not discarded. (Found by
 * tools/fuzz/kernel: fuzz-legacy-s2044-76.)
 * @see mm/gup.c follow_page_pte
 */
export function gupTouchForWrite(mm: MmStruct, pfn: number, bits: number): void {
  if (bits & (PteBits.DIRTY | PteBits.SPECIAL)) return;
  const memmap = mm.kernel.memmap;
  const head = memmap.find(pfn);
  if (head < 0) return;
  const kind = memmap.kind(head);
  // (hugetlb's follow_page does not dirty the folio.)
  if (kind === PageKind.ANON || kind === PageKind.FILE) memmap.setFlag(head, PageFlags.DIRTY, true);
}

/**
 * `__mm_populate(start, len, ignore_errors)`: 0, or `-EFAULT` / `-ENOMEM`
 * for the first page that could not be faulted in.
 */
export function mmPopulate(mm: MmStruct, start: number, end: number, ignoreErrors: boolean): number {
  let vpn = start;
  while (vpn < end) {
    const vma = mm.vmas.findVma(vpn);
    if (!vma || vma.start >= end) break;
    if (vma.start > vpn) vpn = vma.start;
    const stop = Math.min(end, vma.end);
    const err = populateVmaRange(mm, vpn, stop);
    if (err && !ignoreErrors) return err;
    vpn = stop;
  }
  return 0;
}

/** `populate_vma_page_range`: fault `[start, end)` of one VMA. */
function populateVmaRange(mm: MmStruct, start: number, end: number): number {
  const vma = mm.vmas.lookup(start);
  if (!vma) return -Errno.ENOMEM;
  if (vma.flags & (VM.IO | VM.PFNMAP) || vma.flags & VM.LOCKONFAULT) return 0;
  if (!(vma.flags & VM_ACCESS_FLAGS)) return -Errno.EFAULT;
  const write = (vma.flags & (VM.WRITE | VM.SHARED)) === VM.WRITE;
  const step = vma.ops?.hugeOrder ? 1 << vma.ops.hugeOrder : 1;
  // A huge page at a time, from the start's page on to the next boundary (__get_user_pages'
  // page_increm): a range that ends inside a huge page still faults that page.
  for (let vpn = start; vpn < end; vpn = step > 1 ? vpn - (vpn % step) + step : vpn + 1) {
    const leaf = mm.pageTable.lookup(vpn);
    if (leaf && (!write || leaf.bits & PteBits.WRITE)) {
      if (write) gupTouchForWrite(mm, leaf.pfn, leaf.bits);
      continue;
    }
    const r = handleMmFault(mm, vma, vpn, write);
    if (r & VmFault.OOM) return -Errno.ENOMEM;
    if (r & (VmFault.SIGBUS | VmFault.SIGSEGV)) return -Errno.EFAULT;
  }
  return 0;
}
