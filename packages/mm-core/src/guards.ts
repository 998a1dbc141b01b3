/**
 * Guard markers (`MADV_GUARD_INSTALL`): pages whose access raises SIGSEGV
 * until `MADV_GUARD_REMOVE` or an unmap takes the marker away. Linux keeps
 * them as PTE markers (`PTE_MARKER_GUARD`) in the page tables; the model keeps
 * the guarded pages of an address space as a set of disjoint page ranges,
 * sorted by start, so that installing guards over any length costs O(ranges),
 * not one entry per page (a guard over 440 GiB is 115 million pages: Linux
 * returns 0, and a set of page numbers stops at 2^24 entries).
 *
 * Invariants: ranges are non-empty, sorted, disjoint and not adjacent (two
 * ranges that touch are one); {@link size} is the number of pages they cover.
 * @see mm/madvise.c madvise_guard_install, madvise_guard_remove
 */
export class GuardMarkers {
  /** Range `i` is `[starts[i], ends[i])` (page numbers), for `i < count`. */
  private starts: number[] = [];
  private ends: number[] = [];
  private pages = 0;

  /** Pages guarded. */
  get size(): number {
    return this.pages;
  }

  /** The number of disjoint ranges (for tests and invariant checks). */
  get rangeCount(): number {
    return this.starts.length;
  }

  /** True if `vpn` carries a guard marker. O(log ranges). */
  has(vpn: number): boolean {
    if (this.pages === 0) return false;
    const i = this.firstEndingAbove(vpn);
    return i < this.starts.length && this.starts[i]! <= vpn;
  }

  /** Mark every page of `[start, end)`. */
  add(start: number, end: number): void {
    if (!(start < end)) return;
    // Every range touching or overlapping [start, end) merges into one.
    const lo = this.firstEndingAbove(start - 1); // the first range with end >= start
    let hi = lo;
    let s = start;
    let e = end;
    while (hi < this.starts.length && this.starts[hi]! <= end) {
      if (this.starts[hi]! < s) s = this.starts[hi]!;
      if (this.ends[hi]! > e) e = this.ends[hi]!;
      this.pages -= this.ends[hi]! - this.starts[hi]!;
      hi++;
    }
    this.starts.splice(lo, hi - lo, s);
    this.ends.splice(lo, hi - lo, e);
    this.pages += e - s;
  }

  /** Take the markers off every page of `[start, end)`. */
  remove(start: number, end: number): void {
    if (!(start < end) || this.pages === 0) return;
    let i = this.firstEndingAbove(start);
    const keptStarts: number[] = [];
    const keptEnds: number[] = [];
    const first = i;
    while (i < this.starts.length && this.starts[i]! < end) {
      const s = this.starts[i]!;
      const e = this.ends[i]!;
      this.pages -= e - s;
      if (s < start) {
        keptStarts.push(s);
        keptEnds.push(start);
        this.pages += start - s;
      }
      if (e > end) {
        keptStarts.push(end);
        keptEnds.push(e);
        this.pages += e - end;
      }
      i++;
    }
    this.starts.splice(first, i - first, ...keptStarts);
    this.ends.splice(first, i - first, ...keptEnds);
  }

  /** Move the markers of `[from, from + len)` to `[to, to + len)` (they travel with the page tables on mremap). */
  move(from: number, len: number, to: number): void {
    if (this.pages === 0 || len <= 0) return;
    const moved: number[] = [];
    for (let i = this.firstEndingAbove(from); i < this.starts.length && this.starts[i]! < from + len; i++) {
      moved.push(Math.max(this.starts[i]!, from), Math.min(this.ends[i]!, from + len));
    }
    if (moved.length === 0) return;
    this.remove(from, from + len);
    for (let k = 0; k < moved.length; k += 2) this.add(moved[k]! - from + to, moved[k + 1]! - from + to);
  }

  /** The guarded ranges as `[start, end)` pairs, in order (a copy). */
  ranges(): Array<[number, number]> {
    return this.starts.map((s, i) => [s, this.ends[i]!]);
  }

  /** The guarded ranges overlapping `[start, end)`, clipped to it, in order (a copy). */
  rangesIn(start: number, end: number): Array<[number, number]> {
    const out: Array<[number, number]> = [];
    for (let i = this.firstEndingAbove(start); i < this.starts.length && this.starts[i]! < end; i++) {
      out.push([Math.max(this.starts[i]!, start), Math.min(this.ends[i]!, end)]);
    }
    return out;
  }

  /** Index of the first range with `end > vpn` (the count if none). */
  private firstEndingAbove(vpn: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.ends[mid]! > vpn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
