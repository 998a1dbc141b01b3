/**
 * The set of VMAs of one address space, ordered by address (Linux's maple
 * tree `mm->mm_mt`). Lookups are binary searches over a sorted array.
 *
 * Invariants: VMAs are sorted, non-empty, disjoint.
 * @see lib/maple_tree.c, mm/vma.h vma_iter_*
 */

import type { Vma } from './vma.js';

/** The ordered VMA collection. */
export class VmaTree {
  private readonly vmas: Vma[] = [];

  /** Number of VMAs (`mm->map_count` counts these). */
  get size(): number {
    return this.vmas.length;
  }

  /** Index of the first VMA with `end > vpn` (vmas.length if none). */
  private indexAfter(vpn: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.end > vpn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /** `find_vma`: the first VMA ending above `vpn`, or undefined. */
  findVma(vpn: number): Vma | undefined {
    return this.vmas[this.indexAfter(vpn)];
  }

  /** `vma_lookup`: the VMA containing `vpn`, or undefined. */
  lookup(vpn: number): Vma | undefined {
    const vma = this.vmas[this.indexAfter(vpn)];
    return vma && vma.start <= vpn ? vma : undefined;
  }

  /** The last VMA starting below `vpn` — `find_vma_prev`'s `prev` for a gap at `vpn`. */
  prevOf(vpn: number): Vma | undefined {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.start < vpn) lo = mid + 1;
      else hi = mid;
    }
    return this.vmas[lo - 1];
  }

  /** The VMA right after `vma` in address order. */
  next(vma: Vma): Vma | undefined {
    return this.vmas[this.indexAfter(vma.start) + 1];
  }

  /** The VMA right before `vma` in address order. */
  prev(vma: Vma): Vma | undefined {
    const i = this.indexAfter(vma.start);
    return i > 0 ? this.vmas[i - 1] : undefined;
  }

  /** VMAs overlapping `[start, end)`, in order (a snapshot array). */
  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.indexAfter(start); i < this.vmas.length; i++) {
      const vma = this.vmas[i]!;
      if (vma.start >= end) break;
      out.push(vma);
    }
    return out;
  }

  /** True if any VMA overlaps `[start, end)`. */
  intersects(start: number, end: number): boolean {
    const vma = this.vmas[this.indexAfter(start)];
    return vma !== undefined && vma.start < end;
  }

  /** Insert a VMA (must not overlap any other). */
  insert(vma: Vma): void {
    const i = this.indexAfter(vma.start);
    this.vmas.splice(i, 0, vma);
  }

  /** Remove a VMA. */
  remove(vma: Vma): void {
    const i = this.indexAfter(vma.start);
    if (this.vmas[i] === vma) this.vmas.splice(i, 1);
    else {
      const j = this.vmas.indexOf(vma);
      if (j >= 0) this.vmas.splice(j, 1);
    }
  }

  /** All VMAs in address order. */
  all(): readonly Vma[] {
    return this.vmas;
  }

  /**
   * `mas_empty_area_rev`: the highest free range inside `[low, high)` of at
   * least `size` pages; returns its end (clipped to `high`), or -1.
   */
  highestGapEnd(low: number, high: number, size: number): number {
    let i = this.indexAfter(high - 1); // first VMA ending above high-1: may start below high
    // Walk gaps from the top down. The gap above vmas[i-1] ends at vmas[i].start (or high).
    for (;;) {
      const above = this.vmas[i];
      const below = this.vmas[i - 1];
      const gapEnd = Math.min(above ? above.start : Infinity, high);
      const gapStart = Math.max(below ? below.end : 0, low);
      if (gapEnd - gapStart >= size) return gapEnd;
      if (!below || below.end <= low) return -1;
      i--;
    }
  }

  /**
   * `mas_empty_area`: the lowest free range inside `[low, high)` of at least
   * `size` pages; returns its start (raised to `low`), or -1.
   */
  lowestGapStart(low: number, high: number, size: number): number {
    let i = this.indexAfter(low); // first VMA ending above low
    for (;;) {
      const below = this.vmas[i - 1];
      const above = this.vmas[i];
      const gapStart = Math.max(below ? below.end : 0, low);
      const gapEnd = Math.min(above ? above.start : Infinity, high);
      if (gapEnd - gapStart >= size) return gapStart;
      if (!above || above.end >= high) return -1;
      i++;
    }
  }
}
