/**
 * `madvise`: advice that changes VMA flags (splitting and merging like
 * mprotect), `MADV_DONTNEED` zapping pages, `MADV_FREE`, and the walk that
 * carries on past holes and reports `ENOMEM` at the end.
 * @see mm/madvise.c do_madvise, madvise_walk_vmas, madvise_vma_behavior
 */

import { Errno, MADV, traced } from '@mmsim/base';
import { PteBits } from '@mmsim/arch';
import { anonVmaPrepare, handleMmFault } from './fault.js';
import type { MmStruct } from './mm.js';
import { zapRange } from './rmap.js';
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
    return 0; // lazily freeable: without memory pressure nothing changes
  }
  zapRange(mm, start, end, vma);
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
      // Without swap nothing is reclaimed, so there is nothing else to model.
      if (vma.flags & (VM.LOCKED | VM.PFNMAP | VM.HUGETLB)) return -Errno.EINVAL;
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
      // "the range is no longer empty from a page table perspective": the VMA gets an anon_vma,
      // which then keeps its pgoff when mremap moves it (no merge with an address-based
      // neighbour). (Found by tools/fuzz/kernel.)
      anonVmaPrepare(mm, vma);
      zapRange(mm, start, end, vma);
      for (let v = start; v < end; v++) mm.guards.add(v);
      return 0;
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
      if (!(vma.flags & VM.HUGETLB) && newFlags & VM_SPECIAL) return -Errno.EINVAL;
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
      const len = (lenArg + 0xfffn) & ~0xfffn & ((1n << 64n) - 1n);
      if (lenArg !== 0n && len === 0n) return -Errno.EINVAL;
      const endBytes = startArg + len;
      if (endBytes > (1n << 64n) - 1n) return -Errno.EINVAL;
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
