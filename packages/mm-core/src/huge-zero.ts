/**
 * The huge zero page: a 2 MiB block a read fault mapped with one read-only
 * PMD of the shared zero THP (`do_huge_pmd_anonymous_page` with
 * `use_zero_page`). The model maps it as 512 PTEs of the zero page and
 * remembers, per address space, which blocks are still one PMD. That is what
 * a write decides on: a PMD-mapped block gets a THP for the whole block
 * (`do_huge_zero_wp_pmd`), a split one a single 4 KiB copy.
 *
 * Invariant: a block is remembered only while Linux would still have the
 * huge zero PMD there. Whatever splits that PMD into PTEs forgets it:
 * a VMA boundary placed inside the block (`vma_adjust_trans_huge`), a zap of
 * any part of it (`zap_pmd_range`: a partial zap splits, a whole one clears
 * the PMD), a move of part of it, a collapse, the write itself. The 512 PTEs
 * alone cannot tell: after a split, a boundary removed again by a merge or a
 * zapped page read again leaves them exactly as before.
 * @see mm/huge_memory.c do_huge_pmd_anonymous_page, do_huge_zero_wp_pmd,
 *      __split_huge_zero_page_pmd, vma_adjust_trans_huge
 */

import type { MmStruct } from './mm.js';
import { PMD_PAGES } from './unmapped-area.js';
import type { Vma } from './vma.js';

/** The huge zero blocks of each address space, by block base (page number). */
const hugeZeroBlocks = new WeakMap<MmStruct, Set<number>>();

/** A read fault mapped the huge zero page over the block at `base`. */
export function markHugeZeroBlock(mm: MmStruct, base: number): void {
  let blocks = hugeZeroBlocks.get(mm);
  if (!blocks) hugeZeroBlocks.set(mm, (blocks = new Set()));
  blocks.add(base);
}

/** Forget that the block at `base` was a huge zero block (its PMD was split or replaced). */
export function forgetHugeZeroBlock(mm: MmStruct, base: number): void {
  hugeZeroBlocks.get(mm)?.delete(base);
}

/**
 * `split_huge_pmd_address` as `vma_adjust_trans_huge` calls it for a VMA
 * boundary at `vpn`: a boundary inside a block splits its huge zero PMD.
 */
export function splitHugeZeroAt(mm: MmStruct, vpn: number): void {
  const offset = vpn % PMD_PAGES;
  if (offset !== 0) hugeZeroBlocks.get(mm)?.delete(vpn - offset);
}

/**
 * `zap_pmd_range` over `[start, end)`: every huge zero block the range
 * touches is gone as one PMD (split when the range covers part of it,
 * cleared when it covers all of it).
 */
export function zapHugeZeroBlocks(mm: MmStruct, start: number, end: number): void {
  const blocks = hugeZeroBlocks.get(mm);
  if (blocks === undefined || blocks.size === 0) return;
  for (const b of blocks) if (b + PMD_PAGES > start && b < end) blocks.delete(b); // deleting while iterating a Set is safe
}

/**
 * `move_page_tables` for the huge zero blocks of `[from, from+len)` moved to
 * `to`: a block in `wholeBlocks` moved as one PMD (`move_huge_pmd`) is a huge
 * zero block at its new address; any other block the range touches was split
 * into zero-page PTEs first (`split_huge_pmd`) and is one no longer. (Found by
 * tools/fuzz/kernel: fuzz-anon-s2042-360.)
 */
export function moveHugeZeroBlocks(mm: MmStruct, from: number, len: number, to: number, wholeBlocks: readonly number[]): void {
  const blocks = hugeZeroBlocks.get(mm);
  if (!blocks || blocks.size === 0) return;
  const whole = new Set(wholeBlocks);
  const moved: number[] = [];
  for (const b of [...blocks]) {
    if (b + PMD_PAGES <= from || b >= from + len) continue;
    blocks.delete(b);
    if (whole.has(b)) moved.push(b - from + to);
  }
  for (const b of moved) blocks.add(b);
}

/** The bases of the huge zero blocks `mm` remembers, ascending (for invariant checks and tests). */
export function hugeZeroBlockBases(mm: MmStruct): number[] {
  return [...(hugeZeroBlocks.get(mm) ?? [])].sort((a, b) => a - b);
}

/** True if `base` is a huge zero block of `vma` whose 512 PTEs still all map the zero page alike. */
export function isHugeZeroBlock(mm: MmStruct, vma: Vma, base: number): boolean {
  if (!hugeZeroBlocks.get(mm)?.has(base) || base < vma.start || base + PMD_PAGES > vma.end) return false;
  let n = 0;
  let bits = -1;
  let uniform = true;
  mm.pageTable.forEachLeaf(base, base + PMD_PAGES, (_v, leaf) => {
    n++;
    if (leaf.pfn !== mm.kernel.zeroPfn || (bits >= 0 && leaf.bits !== bits)) uniform = false;
    bits = leaf.bits;
  });
  return uniform && n === PMD_PAGES;
}
