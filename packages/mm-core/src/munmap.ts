/**
 * Removing mappings: gather the VMAs a range covers (splitting the ones it cuts),
 * then detach them — unmap their pages, undo their accounting, release them.
 * @see mm/vma.c do_vmi_munmap, vms_gather_munmap_vmas, vms_complete_munmap_vmas
 */

import { Errno, traced } from '@mmsim/base';
import { vmUnacctMemory } from './accounting.js';
import type { MmStruct } from './mm.js';
import { freePageTables, zapRange } from './rmap.js';
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

/**
 * `vms_gather_munmap_vmas`: split the VMAs that straddle `start` or `end` and
 * collect those inside. `-ENOMEM` if cutting one VMA in the middle would pass
 * `max_map_count`; a refused split (`->may_split`) gives its errno.
 */
export function gatherRange(mm: MmStruct, start: number, end: number, _forMmap: boolean): GatheredVmas | number {
  const first = mm.vmas.findVma(start);
  if (!first || first.start >= end) return { vmas: [], pages: 0, accounted: 0 };
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
  let accounted = 0;
  for (const vma of vmas) {
    zapRange(mm, vma.start, vma.end, vma);
    mm.clearGuards(vma.start, vma.end);
    mm.statAccount(vma.flags, -vma.pages);
    if (vma.flags & VM.LOCKED) mm.lockedVm -= vma.pages;
    if (vma.flags & VM.ACCOUNT) accounted += vma.pages;
    removeVma(mm, vma);
  }
  if (unaccount && accounted) vmUnacctMemory(mm, accounted);
  freePageTables(mm, vmas[0]!.start, vmas[vmas.length - 1]!.end);
}

/** `do_vmi_munmap` on a page range that is already validated: 0 or `-errno`. */
export function doMunmap(mm: MmStruct, start: number, end: number): number {
  return traced(
    mm.kernel.tracer,
    'do_vmi_munmap',
    () => `start=0x${(start * 4096).toString(16)}, end=0x${(end * 4096).toString(16)}`,
    () => {
      // do_vmi_munmap: an empty range is EINVAL (mremap with old_len 0 of a
      // shared mapping reaches here with one; the source then simply stays).
      if (end <= start) return -Errno.EINVAL;
      const gathered = gatherRange(mm, start, end, false);
      if (typeof gathered === 'number') return gathered;
      detachRange(mm, gathered.vmas, true);
      return 0;
    },
  );
}
