/**
 * Splitting, merging and removing VMAs — the rules that decide how many lines
 * /proc/PID/maps shows.
 * @see mm/vma.c __split_vma, split_vma, vma_merge_new_range,
 *      vma_merge_existing_range, vma_modify, remove_vma
 */

import { Errno } from '@mmsim/base';
import type { VmFile } from './file.js';
import { splitHugeZeroAt } from './huge-zero.js';
import { iMmapInsert } from './i-mmap.js';
import type { MmStruct } from './mm.js';
import type { AnonVma } from './page.js';
import type { Vma } from './vma.js';
import { VM_IGNORE_MERGE, VM_SPECIAL } from './vm-flags.js';

/** `__split_vma`: split `vma` at `vpn` without the map-count check; the original keeps the upper part if `newBelow`. */
export function splitVmaUnchecked(mm: MmStruct, vma: Vma, vpn: number, newBelow: boolean): number {
  if (vma.ops?.maySplit) {
    const err = vma.ops.maySplit(vma, vpn);
    if (err) return err;
  }
  splitHugeZeroAt(mm, vpn); // vma_adjust_trans_huge: a huge zero PMD across the new boundary is split
  const piece = mm.vmaCache.dup(vma);
  if (newBelow) piece.end = vpn;
  else {
    piece.start = vpn;
    piece.pgoff += vpn - vma.start;
  }
  // As Linux: `->open` on the new VMA, then the old one shrinks and one store puts both in place.
  piece.ops?.open?.(piece);
  if (newBelow) {
    vma.pgoff += vpn - vma.start;
    vma.start = vpn;
  } else {
    vma.end = vpn;
  }
  mm.vmas.storeSplit(vma, piece, newBelow);
  // vma_prepare links the new piece into i_mmap; vma_complete puts the shrunk VMA back after it.
  iMmapInsert(mm, piece);
  iMmapInsert(mm, vma);
  return 0;
}

/** `split_vma`: refuse with `-ENOMEM` at `max_map_count`. */
export function splitVma(mm: MmStruct, vma: Vma, vpn: number, newBelow: boolean): number {
  if (mm.mapCount >= mm.kernel.config.maxMapCount) return -Errno.ENOMEM;
  return splitVmaUnchecked(mm, vma, vpn, newBelow);
}

/** The properties of a range that merging compares (`struct vma_merge_struct`). */
export interface MergeCandidate {
  start: number;
  end: number;
  flags: number;
  file: VmFile | null;
  pgoff: number;
  anonVma: AnonVma | null;
  /** The VMA being modified (for an existing range), or null for a new mapping. */
  middle: Vma | null;
}

/** `is_mergeable_vma`: same flags (but soft-dirty), same file, and no `->close` on a VMA the merge would remove. */
function isMergeableVma(target: Vma, c: MergeCandidate, targetRemoved: boolean): boolean {
  if (((target.flags ^ c.flags) & ~VM_IGNORE_MERGE) !== 0) return false;
  if (target.file !== c.file) return false;
  if (targetRemoved && target.ops?.close) return false;
  if (c.middle?.ops?.close && c.middle !== target) return false;
  return true;
}

/** `is_mergeable_anon_vma`: one side without an anon_vma, or the same one. */
function isMergeableAnonVma(a: AnonVma | null, b: AnonVma | null): boolean {
  return a === null || b === null || a === b;
}

/** `can_vma_merge_after` for `prev`. */
function canMergeLeft(prev: Vma | undefined, c: MergeCandidate): prev is Vma {
  return (
    prev !== undefined &&
    prev.end === c.start &&
    isMergeableVma(prev, c, false) &&
    isMergeableAnonVma(prev.anonVma, c.anonVma) &&
    prev.pgoff + prev.pages === c.pgoff
  );
}

/** `can_vma_merge_before` for `next` (and, when merging both ways, prev/next compatibility). */
function canMergeRight(next: Vma | undefined, c: MergeCandidate, prev: Vma | undefined, mergeLeft: boolean): next is Vma {
  if (
    next === undefined ||
    next.start !== c.end ||
    !isMergeableVma(next, c, true) ||
    !isMergeableAnonVma(next.anonVma, c.anonVma) ||
    c.pgoff + (c.end - c.start) !== next.pgoff
  ) {
    return false;
  }
  if (!mergeLeft || !prev) return true;
  return isMergeableAnonVma(prev.anonVma, next.anonVma);
}

/** Remove a VMA from the tree and release it (`remove_vma`: `->close`, `fput`). */
export function removeVma(mm: MmStruct, vma: Vma): void {
  mm.vmas.remove(vma);
  vma.ops?.close?.(vma, mm);
  vma.file?.put();
  mm.vmaCache.retire(vma);
}

/** Release a VMA that a merge absorbed (already out of the tree, see `VmaTree.storeExpanded`): its file reference goes. */
function released(mm: MmStruct, vma: Vma): void {
  vma.file?.put();
  mm.vmaCache.retire(vma);
}

/**
 * `vma_merge_new_range`: try to place a new range `[c.start, c.end)` by
 * extending a neighbour. Returns the VMA that now covers it, or null.
 */
export function vmaMergeNewRange(mm: MmStruct, c: MergeCandidate, justExpand = false): Vma | null {
  if (c.flags & VM_SPECIAL) return null;
  const tree = mm.vmas;
  const after = tree.findVma(c.start);
  // The VMA before the range: the one before `after` when `after` lies above the start (one search).
  const prev = after !== undefined && after.start >= c.start ? tree.prev(after) : tree.prevOf(c.start);
  const next = !justExpand && after && after.start >= c.end ? after : undefined;
  const left = canMergeLeft(prev, c);
  const right = canMergeRight(next, c, prev, left);
  if (left && right) {
    prev.end = next.end;
    tree.storeExpanded(prev, 0, 1);
    iMmapInsert(mm, prev);
    if (!prev.anonVma && next.anonVma) prev.anonVma = next.anonVma;
    released(mm, next);
    return prev;
  }
  if (left) {
    prev.end = c.end;
    mm.vmas.updated(prev);
    iMmapInsert(mm, prev);
    if (!prev.anonVma && c.anonVma) prev.anonVma = c.anonVma;
    return prev;
  }
  if (right) {
    next.start = c.start;
    mm.vmas.updated(next);
    next.pgoff = c.pgoff;
    iMmapInsert(mm, next);
    if (!next.anonVma && c.anonVma) next.anonVma = c.anonVma;
    return next;
  }
  return null;
}

/**
 * `vma_modify` with new flags: change `[start, end)` (inside `vma`) to
 * `newFlags`, merging with a neighbour where Linux would, else splitting.
 * Returns the VMA now covering the range, or `-errno` (splits already done stay).
 */
export function vmaModifyFlags(mm: MmStruct, vma: Vma, start: number, end: number, newFlags: number): Vma | number {
  const merged = vmaMergeExistingRange(mm, vma, start, end, newFlags);
  if (merged) return merged;
  if (vma.start < start) {
    const err = splitVma(mm, vma, start, true);
    if (err) return err;
  }
  if (vma.end > end) {
    const err = splitVma(mm, vma, end, false);
    if (err) return err;
  }
  vma.flags = newFlags;
  return vma;
}

/** The candidate {@link vmaMergeExistingRange} fills in (it drops its references before returning). */
const existingCandidate: MergeCandidate = { start: 0, end: 0, flags: 0, file: null, pgoff: 0, anonVma: null, middle: null };

/** `vma_merge_existing_range`: merge a changed part of `vma` into `prev` and/or `next`. */
function vmaMergeExistingRange(mm: MmStruct, vma: Vma, start: number, end: number, newFlags: number): Vma | null {
  if (newFlags & VM_SPECIAL) return null;
  const leftSide = start === vma.start;
  const rightSide = end === vma.end;
  if (!leftSide && !rightSide) return null; // strictly inside: neither neighbour touches the range
  // The candidate in a reused object (nothing here re-enters): no allocation per call.
  const c = existingCandidate;
  const pgoff = vma.pgoffOf(start);
  c.start = start;
  c.end = end;
  c.flags = newFlags;
  c.file = vma.file;
  c.pgoff = pgoff;
  c.anonVma = vma.anonVma;
  c.middle = vma;
  const prev = leftSide ? mm.vmas.prev(vma) : undefined;
  const next = rightSide ? mm.vmas.next(vma) : undefined;
  const left = leftSide && canMergeLeft(prev, c);
  const right = rightSide && canMergeRight(next, c, prev, left);
  c.file = null;
  c.anonVma = null;
  c.middle = null;
  if (!left && !right) return null;
  if (left && right) {
    prev!.end = next!.end;
    mm.vmas.storeExpanded(prev!, 0, 2);
    iMmapInsert(mm, prev!);
    if (!prev!.anonVma) prev!.anonVma = vma.anonVma ?? next!.anonVma;
    released(mm, vma);
    released(mm, next!);
    return prev!;
  }
  if (left) {
    if (!prev!.anonVma && vma.anonVma) prev!.anonVma = vma.anonVma;
    prev!.end = end;
    if (rightSide) {
      mm.vmas.storeExpanded(prev!, 0, 1);
      released(mm, vma);
    } else {
      splitHugeZeroAt(mm, end); // commit_merge → vma_adjust_trans_huge at the boundary that moved
      mm.vmas.updated(prev!);
      vma.pgoff += end - vma.start;
      vma.start = end;
      mm.vmas.updated(vma);
      iMmapInsert(mm, vma); // vma_complete: the adjusted VMA goes back before the target
    }
    iMmapInsert(mm, prev!);
    return prev!;
  }
  if (!next!.anonVma && vma.anonVma) next!.anonVma = vma.anonVma;
  next!.start = start;
  next!.pgoff = pgoff;
  if (leftSide) {
    mm.vmas.storeExpanded(next!, 1, 0);
    released(mm, vma);
  } else {
    splitHugeZeroAt(mm, start);
    mm.vmas.updated(next!);
    vma.end = start;
    mm.vmas.updated(vma);
    iMmapInsert(mm, vma);
  }
  iMmapInsert(mm, next!);
  return next!;
}

/** Build a new VMA and link it (`vma_link`). */
export function insertNewVma(mm: MmStruct, start: number, end: number, flags: number, pgoff: number, file: VmFile | null): Vma {
  const vma = mm.vmaCache.alloc(start, end, flags, pgoff, file, null);
  mm.vmas.insert(vma);
  iMmapInsert(mm, vma);
  return vma;
}
