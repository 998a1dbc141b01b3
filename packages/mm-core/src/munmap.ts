/**
 * Removing mappings: gather the VMAs a range covers (splitting the ones it cuts),
 * then detach them — unmap their pages, undo their accounting, release them.
 * @see mm/vma.c do_vmi_munmap, vms_gather_munmap_vmas, vms_complete_munmap_vmas
 */

import { Errno, traced } from '@mmsim/base';
import { vmUnacctMemory } from './accounting.js';
import type { MmStruct } from './mm.js';
import { freePageTables, freeVmaTables, tlbFinishMmu, tlbGatherMmu, zapRange } from './rmap.js';
import type { Vma } from './vma.js';
import { removeVma, splitVmaUnchecked } from './vma-ops.js';
import { VM } from './vm-flags.js';

/** The VMAs inside a range after the cuts, with their page counts. */
export interface GatheredVmas {
  readonly vmas: Vma[];
  /** Pages they cover. */
  readonly pages: number;
  /** Pages of theirs that carry VM_ACCOUNT. */
  readonly accounted: number;
}

/** The result for a range without VMAs (shared: callers only read it). */
const NOTHING_GATHERED: GatheredVmas = Object.freeze({ vmas: Object.freeze([]) as unknown as Vma[], pages: 0, accounted: 0 });

/**
 * `vms_gather_munmap_vmas`: split the VMAs that straddle `start` or `end` and
 * collect those inside. `-ENOMEM` if cutting one VMA in the middle would pass
 * `max_map_count`; a refused split (`->may_split`) gives its errno.
 */
export function gatherRange(mm: MmStruct, start: number, end: number, _forMmap: boolean): GatheredVmas | number {
  const first = mm.vmas.findVma(start);
  if (!first || first.start >= end) return NOTHING_GATHERED;
  if (first.start < start) {
    if (end < first.end && mm.mapCount >= mm.kernel.config.maxMapCount) return -Errno.ENOMEM;
    const err = splitVmaUnchecked(mm, first, start, true);
    if (err) return err;
  }
  const inside = mm.vmas.overlapping(start, end);
  const last = inside[inside.length - 1]!;
  if (last.end > end) {
    const err = splitVmaUnchecked(mm, last, end, false);
    if (err) return err;
  }
  let pages = 0;
  let accounted = 0;
  for (const vma of inside) {
    pages += vma.pages;
    if (vma.flags & VM.ACCOUNT) accounted += vma.pages;
  }
  return { vmas: inside, pages, accounted };
}

/** `vms_complete_munmap_vmas`: unmap pages, undo the counters and release the VMAs. */
export function detachRange(mm: MmStruct, vmas: readonly Vma[], unaccount: boolean): void {
  if (vmas.length === 0) return;
  // As vms_complete_munmap_vmas: every VMA's pages are unmapped under one
  // gather (freed at its end), and only then are the VMAs closed.
  let accounted = 0;
  tlbGatherMmu();
  try {
    for (let i = 0; i < vmas.length; i++) accounted += unmapVma(mm, vmas[i]!);
  } finally {
    tlbFinishMmu(mm);
  }
  for (let i = 0; i < vmas.length; i++) removeVma(mm, vmas[i]!);
  if (unaccount && accounted) vmUnacctMemory(mm, accounted);
  freeVmaTables(mm, vmas);
}

/** {@link detachRange}'s work on one VMA: its pages unmapped, counters undone. Returns its `VM_ACCOUNT` pages. */
function unmapVma(mm: MmStruct, vma: Vma): number {
  const pages = vma.pages;
  zapRange(mm, vma.start, vma.end, vma);
  mm.clearGuards(vma.start, vma.end);
  mm.statAccount(vma.flags, -pages);
  if (vma.flags & VM.LOCKED) mm.lockedVm -= pages;
  return vma.flags & VM.ACCOUNT ? pages : 0;
}

/** One VMA's {@link detachRange}: unmapped, then released. */
function detachVma(mm: MmStruct, vma: Vma): number {
  const accounted = unmapVma(mm, vma);
  removeVma(mm, vma);
  return accounted;
}

/** `do_vmi_munmap` on a page range that is already validated: 0 or `-errno`. */
export function doMunmap(mm: MmStruct, start: number, end: number): number {
  const tracer = mm.kernel.tracer;
  if (!tracer.enabled) return doVmiMunmap(mm, start, end);
  return traced(
    tracer,
    'do_vmi_munmap',
    () => `start=0x${(start * 4096).toString(16)}, end=0x${(end * 4096).toString(16)}`,
    () => doVmiMunmap(mm, start, end),
  );
}

function doVmiMunmap(mm: MmStruct, start: number, end: number): number {
  // do_vmi_munmap: a range past TASK_SIZE is EINVAL, nothing unmapped (mremap
  // checked its page-aligned lengths, but a hugetlb mapping's are rounded up
  // to its huge page size after that, so its shrunk tail or fixed destination
  // can pass it), and so is an empty one (mremap with old_len 0 of a shared
  // mapping reaches here with one; the source then simply stays).
  if (end <= start || end > mm.taskSize) return -Errno.EINVAL;
  if (trimAnonymous(mm, start, end)) return 0;
  const vma = mm.vmas.findVma(start);
  if (vma !== undefined && vma.start === start && vma.end === end) {
    // Exactly one VMA (the munmap of what one mmap made): what gatherRange and
    // detachRange do for it, without the list.
    const accounted = detachVma(mm, vma);
    if (accounted) vmUnacctMemory(mm, accounted);
    freePageTables(mm, start, end);
    return 0;
  }
  const gathered = gatherRange(mm, start, end, false);
  if (typeof gathered === 'number') return gathered;
  detachRange(mm, gathered.vmas, true);
  return 0;
}

/**
 * The common munmap of one end of a plain anonymous VMA (no `vm_ops`, no
 * file), done in place. Linux splits the VMA (`__split_vma`: a new
 * `vm_area_struct` for one part) and removes the part inside the range; for
 * such a VMA nothing can tell the two apart afterwards — no `->open`,
 * `->close`, `->may_split` or file reference runs, and the part that stays
 * keeps the flags, `anon_vma` and the page offset its position gives it — so
 * the range is taken off the VMA directly, with the same zap, counters,
 * accounting and page-table freeing as {@link detachRange}. True if done;
 * false leaves everything to the general path.
 */
function trimAnonymous(mm: MmStruct, start: number, end: number): boolean {
  const vma = mm.vmas.findVma(start);
  if (vma === undefined || vma.ops !== null || vma.file !== null || vma.start >= end) return false;
  let lo: number;
  let hi: number;
  if (vma.start >= start) {
    // A prefix: the range holds nothing below the VMA (findVma), and the VMA goes on above it.
    if (end >= vma.end) return false;
    lo = vma.start;
    hi = end;
  } else {
    // A suffix: the VMA ends inside the range, and no other VMA starts before the range ends.
    if (end < vma.end) return false;
    const next = mm.vmas.next(vma);
    if (next !== undefined && next.start < end) return false;
    lo = start;
    hi = vma.end;
  }
  const pages = hi - lo;
  zapRange(mm, lo, hi, vma);
  mm.clearGuards(lo, hi);
  mm.statAccount(vma.flags, -pages);
  if (vma.flags & VM.LOCKED) mm.lockedVm -= pages;
  if (lo === vma.start) {
    vma.pgoff += hi - vma.start;
    vma.start = hi;
  } else {
    vma.end = lo;
  }
  mm.vmas.updated(vma);
  if (vma.flags & VM.ACCOUNT) vmUnacctMemory(mm, pages);
  freePageTables(mm, lo, hi); // (the part of the VMA that stays is its floor or ceiling)
  return true;
}
