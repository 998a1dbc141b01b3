/**
 * The order of a file's `address_space->i_mmap`, the interval tree of the
 * VMAs that map it: by `vm_pgoff`, and among VMAs with the same `vm_pgoff`
 * in the order they went into the tree (an equal key goes to the right).
 * Linux puts a VMA there when it is linked (`vma_link_file`), and takes it
 * out and puts it back whenever a split or a merge changes its bounds
 * (`vma_prepare` … `vma_complete`: the new piece of a split first, then the
 * VMA whose bounds changed; the adjusted neighbour of a merge before the
 * merge's target).
 *
 * The model keeps no tree: each file-backed VMA carries the stamp of its
 * last insertion, and a walk of a file's mappings sorts by
 * {@link compareIMmap}. The order decides outcomes: truncating a hugetlbfs
 * file gives a private mapping's reservation back for a page it zaps only
 * while the pool has no surplus page, and each freed page can end the
 * surplus for the mappings that follow.
 *
 * Invariant: a file-backed VMA's stamp is above the stamps of every VMA of
 * the same file linked or changed before its own last link or change.
 * @see mm/vma.c vma_prepare, vma_complete, vma_link_file; mm/interval_tree.c
 */

import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';

/** `vma_interval_tree_insert`: `vma` now comes after every VMA of its file with the same `vm_pgoff`. */
export function iMmapInsert(mm: MmStruct, vma: Vma): void {
  if (vma.file !== null) vma.iMmapSeq = ++mm.kernel.iMmapSeq;
}

/** `vma_interval_tree_foreach`'s order of two VMAs of one file. */
export function compareIMmap(a: Vma, b: Vma): number {
  return a.pgoff - b.pgoff || a.iMmapSeq - b.iMmapSeq;
}
