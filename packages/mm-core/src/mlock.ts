/**
 * `mlock`/`munlock`: set or clear `VM_LOCKED` over a range (stopping at the
 * first hole), within `RLIMIT_MEMLOCK`, then fault the range in.
 * @see mm/mlock.c do_mlock, apply_vma_lock_flags, mlock_fixup
 */

import { Errno, addOverflows64, alignUp64, traced } from '@mmsim/base';
import { canDoMlock } from './accounting.js';
import { rlimitPages } from './config.js';
import { mmPopulate } from './gup.js';
import type { MmStruct } from './mm.js';
import { PageFlags, PageKind } from './page.js';
import type { Vma } from './vma.js';
import { vmaModifyFlags } from './vma-ops.js';
import { VM, VM_LOCKED_MASK, VM_SPECIAL } from './vm-flags.js';

/** `vma_supports_mlock`. */
function supportsMlock(vma: Vma): boolean {
  return !(vma.flags & (VM_SPECIAL | VM.HUGETLB | VM.DROPPABLE));
}

/** `mlock_fixup`. */
function mlockFixup(mm: MmStruct, vma: Vma, start: number, end: number, newFlags: number): number {
  const oldFlags = vma.flags;
  if (newFlags === oldFlags || !supportsMlock(vma)) return 0;
  const r = vmaModifyFlags(mm, vma, start, end, newFlags);
  if (typeof r === 'number') return r;
  let pages = end - start;
  if (!(newFlags & VM.LOCKED)) pages = -pages;
  else if (oldFlags & VM.LOCKED) pages = 0;
  mm.lockedVm += pages;
  r.flags = newFlags;
  // mlock_vma_pages_range: the pages already mapped are mlocked or munlocked with the VMA.
  if ((newFlags ^ oldFlags) & VM.LOCKED) setMlocked(mm, start, end, (newFlags & VM.LOCKED) !== 0);
  return 0;
}

/** `mlock_folio` / `munlock_folio` for every page mapped in `[start, end)` (not the zero page). */
export function setMlocked(mm: MmStruct, start: number, end: number, on: boolean): void {
  const memmap = mm.kernel.memmap;
  mm.pageTable.forEachLeaf(start, end, (_vpn, leaf) => {
    const head = memmap.find(leaf.pfn);
    if (head < 0) return;
    const kind = memmap.kind(head);
    if (kind === PageKind.ANON || kind === PageKind.FILE) memmap.setFlag(head, PageFlags.MLOCKED, on);
  });
}

/** `apply_vma_lock_flags`. */
function applyVmaLockFlags(mm: MmStruct, start: number, end: number, flags: number): number {
  if (end === start) return 0;
  let vma = mm.vmas.lookup(start);
  if (!vma) return -Errno.ENOMEM;
  let tmp = vma.start;
  let nstart = start;
  for (;;) {
    if (vma.start !== tmp) return -Errno.ENOMEM;
    const newFlags = (vma.flags & ~VM_LOCKED_MASK) | flags;
    const stop = Math.min(vma.end, end);
    const err = mlockFixup(mm, vma, nstart, stop, newFlags);
    if (err) return err;
    // Continue from the end of the VMA now covering nstart (vma_iter_end).
    tmp = mm.vmas.lookup(nstart)?.end ?? stop;
    nstart = tmp;
    if (tmp >= end) break;
    const next = mm.vmas.findVma(tmp);
    if (!next || next.start >= end) break;
    vma = next;
  }
  return tmp < end ? -Errno.ENOMEM : 0;
}

/**
 * Decode `start`/`len` as mlock and munlock do: round the start down and the
 * length up to pages (`PAGE_ALIGN` wraps to 0 past 2^64). `wraps` is whether
 * `start + len` reaches 2^64 (the 64-bit end wraps below the start), which
 * `apply_vma_lock_flags` refuses (`EINVAL`)
 * — after `do_mlock`'s `RLIMIT_MEMLOCK` check, so an over-limit length is
 * `ENOMEM` first.
 */
function lockRange(start: bigint, len: bigint): { s: number; e: number; wraps: boolean } {
  const aligned = alignUp64(len + (start & 0xfffn), 0x1000n);
  const s = start & ~0xfffn;
  return { s: Number(s >> 12n), e: Number((s + aligned) >> 12n), wraps: addOverflows64(s, aligned) };
}

/** `do_mlock` (`mlock`, `mlock2`): 0 or `-errno`. */
export function doMlock(mm: MmStruct, start: bigint, len: bigint, flags = VM.LOCKED): number {
  return traced(
    mm.kernel.tracer,
    'do_mlock',
    () => `start=0x${start.toString(16)}, len=0x${len.toString(16)}`,
    () => {
      if (!canDoMlock(mm)) return -Errno.EPERM;
      const { s, e, wraps } = lockRange(start, len);
      const limit = rlimitPages(mm.limits.rlimitMemlock);
      let locked = e - s + mm.lockedVm;
      if (locked > limit && !mm.limits.privileged) {
        for (const vma of mm.vmas.overlapping(s, e)) {
          if (vma.flags & VM.LOCKED) locked -= Math.min(vma.end, e) - Math.max(vma.start, s);
        }
      }
      if (!(locked <= limit || mm.limits.privileged)) return -Errno.ENOMEM;
      if (wraps) return -Errno.EINVAL;
      const err = applyVmaLockFlags(mm, s, e, flags);
      if (err) return err;
      const pop = mmPopulate(mm, s, e, false);
      if (pop === -Errno.EFAULT) return -Errno.ENOMEM;
      if (pop === -Errno.ENOMEM) return -Errno.EAGAIN;
      return pop;
    },
  );
}

/** `munlock`: 0 or `-errno`. */
export function doMunlock(mm: MmStruct, start: bigint, len: bigint): number {
  return traced(
    mm.kernel.tracer,
    'munlock',
    () => `start=0x${start.toString(16)}, len=0x${len.toString(16)}`,
    () => {
      const { s, e, wraps } = lockRange(start, len);
      if (wraps) return -Errno.EINVAL;
      return applyVmaLockFlags(mm, s, e, 0);
    },
  );
}
