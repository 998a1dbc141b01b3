/**
 * The set of VMAs of one address space, ordered by address (Linux's maple
 * tree `mm->mm_mt`; before 6.1 the `mm_rb` red-black tree augmented with
 * `rb_subtree_gap`, plus the `vm_prev`/`vm_next` list).
 *
 * Data structure: a B+tree keyed by `vm_start`, like the maple tree a wide
 * and shallow tree (32 entries per node: a tree of 120,000 VMAs is 4 nodes
 * deep, a million 5), so that a search costs a handful of cache misses where
 * a binary tree costs twenty-odd. Leaves hold the VMAs in address order and
 * are linked to their neighbours; every entry records the free gap below its
 * VMA (`start - prev.end`, Linux's `vm_start - vm_prev->vm_end`) and every
 * inner node records, per child, the lowest start, the highest end and the
 * largest gap in the child's subtree — the augmentation that makes the
 * free-gap search logarithmic. Nodes live in typed arrays (struct of arrays
 * per node kind), so the tree allocates nothing per VMA. Costs (n VMAs, node
 * width B = 32):
 *
 * - `findVma`, `lookup`, `prevOf`, `intersects`: O(log n) (O(B log_B n) compares);
 * - `insert`, `remove`, `updated`: O(log n), node splits and merges included;
 * - `next`, `prev`, `has` of a linked VMA: O(B);
 * - `overlapping(start, end)`: O(log n + k) for k results;
 * - `highestGapEnd`, `lowestGapStart` (the free-gap searches of
 *   `vm_unmapped_area`): O(log n) — a descent that skips every subtree whose
 *   largest gap is too small;
 * - `all()`: O(n) once after a change, then cached.
 *
 * The tree keeps its own copy of each VMA's `start`/`end` (the key and the
 * gaps are computed from the copy). Code that changes `start` or `end` of a
 * linked VMA in place (split, merge, stack expansion) calls {@link updated}
 * right after the change, before any other call on the tree — as Linux
 * follows such a change with `vma_iter_store` / `vma_gap_update`. With
 * checking on ({@link VmaTree.checkMode}: on by default under Vitest or with
 * `MMSIM_VMA_TREE_CHECK=1`) every operation verifies the structure (sampled
 * on big trees), so a forgotten call is caught by the tests.
 *
 * Invariants: VMAs are sorted, non-empty, disjoint.
 * @see lib/maple_tree.c, mm/vma.h vma_iter_*, mm/mmap.c (4.x) vma_gap_update
 */

import type { Vma } from './vma.js';

/** No node / no entry. Leaf and inner node ids start at 1, so an entry reference is never 0. */
const NIL = 0;
/** Entries per leaf (a power of two): entry `k` of leaf `l` is reference `l << LSHIFT | k`. */
const LSHIFT = 4;
const LCAP = 1 << LSHIFT;
const LMASK = LCAP - 1;
/** Children per inner node: child slot `k` of node `n` is `n << ISHIFT | k`. */
const ISHIFT = 5;
const ICAP = 1 << ISHIFT;
/** Merge two neighbouring nodes when together they hold at most this many entries. */
const LMERGE = LCAP >> 1;
const IMERGE = ICAP >> 1;

/** Which self-checks a {@link VmaTree} runs (see {@link VmaTree.checkMode}). */
export type VmaTreeCheckMode = 'off' | 'sampled' | 'full';

/** Above this many VMAs, `sampled` checking verifies the whole tree only every n/this operations. */
const SAMPLED_FULL_LIMIT = 256;

function defaultCheckMode(): VmaTreeCheckMode {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  const flag = env?.MMSIM_VMA_TREE_CHECK;
  if (flag === '0' || flag === 'off') return 'off';
  if (flag === 'full') return 'full';
  if (flag === '1' || flag === 'sampled' || env?.VITEST) return 'sampled';
  return 'off';
}

function grow64(a: Float64Array, length: number): Float64Array<ArrayBuffer> {
  const b = new Float64Array(length);
  b.set(a);
  return b;
}

function grow32(a: Int32Array, length: number): Int32Array<ArrayBuffer> {
  const b = new Int32Array(length);
  b.set(a);
  return b;
}

/** The ordered VMA collection. */
export class VmaTree {
  /**
   * Self-checks after every operation: `off` (production), `sampled` (the
   * whole structure is verified after every operation while the tree holds
   * ≤ 256 VMAs, and every ⌈n/256⌉-th operation above that), `full` (always).
   * Defaults to `sampled` under Vitest or with `MMSIM_VMA_TREE_CHECK=1`,
   * `full` with `MMSIM_VMA_TREE_CHECK=full`, else `off`.
   */
  static checkMode: VmaTreeCheckMode = defaultCheckMode();

  // Leaves: per entry (index = reference) the tree's copy of start/end, the gap below, the VMA.
  private lStart = new Float64Array(0);
  private lEnd = new Float64Array(0);
  private lGap = new Float64Array(0);
  private lVma: (Vma | undefined)[] = [];
  // Per leaf: entries in use, parent inner node, neighbours in address order.
  private lCount = new Int32Array(0);
  private lParent = new Int32Array(0);
  private lPrev = new Int32Array(0);
  private lNext = new Int32Array(0);
  /** Per leaf: its slot in its parent (absolute slot index), so no parent is searched for it. */
  private lSlot = new Int32Array(0);
  private leafCap = 0;
  private leafNextId = 1;
  /** Free leaves, linked through `lNext`. */
  private leafFree = NIL;

  // Inner nodes: per child slot the child and its subtree's lowest start, highest end, largest gap.
  private nChild = new Int32Array(0);
  private nMinStart = new Float64Array(0);
  private nMaxEnd = new Float64Array(0);
  private nMaxGap = new Float64Array(0);
  /**
   * Per inner node: bit `k` set when child slot `k` is in use and its subtree
   * has a gap (largest gap > 0). The free-gap searches visit only those
   * slots: among contiguous VMAs (a region split by mprotect) most children
   * have no gap at all, and scanning them was most of a top-down search.
   */
  private nGapMask = new Int32Array(0);
  // Per inner node: children in use, parent.
  private nCount = new Int32Array(0);
  private nParent = new Int32Array(0);
  /** Per inner node: its slot in its parent. */
  private nSlot = new Int32Array(0);
  private innerCap = 0;
  private innerNextId = 1;
  /** Free inner nodes, linked through `nParent`. */
  private innerFree = NIL;

  /** The root: a leaf when `height` is 0 (NIL when the tree is empty), else an inner node. */
  private root = NIL;
  private height = 0;
  private headLeaf = NIL;
  private tailLeaf = NIL;
  private count = 0;
  private allCache: Vma[] | null = null;
  private opsSinceCheck = 0;
  /** The entry a search or {@link refOf} found last (a guess, checked before use; NIL is never a VMA). */
  private hint = NIL;

  // Scratch results of aggregate().
  private aggMin = 0;
  private aggMax = 0;
  private aggGap = 0;

  /** Number of VMAs (`mm->map_count` counts these). */
  get size(): number {
    return this.count;
  }

  // ---- entry navigation ------------------------------------------------------

  /** The entry after `ref` in address order, or NIL. */
  private nextRef(ref: number): number {
    const leaf = ref >> LSHIFT;
    if ((ref & LMASK) + 1 < this.lCount[leaf]!) return ref + 1;
    const n = this.lNext[leaf]!;
    return n === NIL ? NIL : n << LSHIFT;
  }

  /** The entry before `ref` in address order, or NIL. */
  private prevRef(ref: number): number {
    if ((ref & LMASK) !== 0) return ref - 1;
    const p = this.lPrev[ref >> LSHIFT]!;
    return p === NIL ? NIL : (p << LSHIFT) + this.lCount[p]! - 1;
  }

  private lastRef(): number {
    const t = this.tailLeaf;
    return t === NIL ? NIL : (t << LSHIFT) + this.lCount[t]! - 1;
  }

  /**
   * The entry of `vma` if it is linked in this tree, else NIL. The entry last
   * found is tried first (a merge or split asks for the VMA a search just
   * returned, and for its neighbours): entries past a leaf's count are always
   * cleared, so `lVma[hint] === vma` proves the VMA is linked there.
   */
  private refOf(vma: Vma): number {
    const lVma = this.lVma;
    const h = this.hint;
    if (lVma[h] === vma) return h;
    const leaf = vma.treeSlot;
    if (!(leaf > 0 && leaf < this.leafNextId)) return NIL;
    const base = leaf << LSHIFT;
    const end = base + this.lCount[leaf]!;
    for (let r = base; r < end; r++) {
      if (lVma[r] === vma) {
        this.hint = r;
        return r;
      }
    }
    return NIL;
  }

  // ---- queries -------------------------------------------------------------

  /**
   * The first entry with `end > vpn`, or NIL. The entry found last is tried
   * first (mmap asks for the VMA above the gap it just found several times,
   * munmap for the one it just mapped): it is the answer when it ends above
   * `vpn` and the entry before it does not — O(1) instead of a descent.
   */
  private refAfter(vpn: number): number {
    const h = this.hint;
    if (this.lVma[h] !== undefined && this.lEnd[h]! > vpn) {
      const p = (h & LMASK) !== 0 ? h - 1 : this.prevRef(h);
      if (p === NIL || this.lEnd[p]! <= vpn) return h;
    }
    const r = this.descendAfter(vpn);
    if (r !== NIL) this.hint = r;
    return r;
  }

  /** {@link refAfter} by a descent from the root. */
  private descendAfter(vpn: number): number {
    let node = this.root;
    if (node === NIL) return NIL;
    const nMaxEnd = this.nMaxEnd;
    for (let h = this.height; h > 0; h--) {
      // Binary search: the first child whose last VMA ends above vpn.
      let lo = node << ISHIFT;
      let hi = lo + this.nCount[node]! - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (nMaxEnd[mid]! > vpn) hi = mid;
        else lo = mid + 1;
      }
      if (nMaxEnd[lo]! <= vpn) return NIL;
      node = this.nChild[lo]!;
    }
    const lEnd = this.lEnd;
    const base = node << LSHIFT;
    const end = base + this.lCount[node]!;
    for (let r = base; r < end; r++) if (lEnd[r]! > vpn) return r;
    return NIL;
  }

  /** The first entry with `end >= vpn`, or NIL (page numbers are integers: `end > vpn - 1`). */
  private refEndingAtOrAbove(vpn: number): number {
    return this.refAfter(vpn - 1);
  }


  /** `find_vma`: the first VMA ending above `vpn`, or undefined. */
  findVma(vpn: number): Vma | undefined {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const r = this.refAfter(vpn);
    if (r === NIL) return undefined;
    this.hint = r;
    return this.lVma[r];
  }

  /** `vma_lookup`: the VMA containing `vpn`, or undefined. */
  lookup(vpn: number): Vma | undefined {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const r = this.refAfter(vpn);
    if (r === NIL || this.lStart[r]! > vpn) return undefined;
    this.hint = r;
    return this.lVma[r];
  }

  /** The last VMA starting below `vpn` — `find_vma_prev`'s `prev` for a gap at `vpn`. */
  prevOf(vpn: number): Vma | undefined {
    if (VmaTree.checkMode !== 'off') this.check(true);
    let node = this.root;
    if (node === NIL) return undefined;
    const nMinStart = this.nMinStart;
    for (let h = this.height; h > 0; h--) {
      // Binary search: the last child starting below vpn.
      let lo = node << ISHIFT;
      let hi = lo + this.nCount[node]! - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (nMinStart[mid]! < vpn) lo = mid;
        else hi = mid - 1;
      }
      if (nMinStart[lo]! >= vpn) return undefined;
      node = this.nChild[lo]!;
    }
    const lStart = this.lStart;
    const base = node << LSHIFT;
    for (let r = base + this.lCount[node]! - 1; r >= base; r--) if (lStart[r]! < vpn) return this.lVma[r];
    return undefined;
  }

  /** The VMA right after `vma` in address order. */
  next(vma: Vma): Vma | undefined {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const r = this.refOf(vma);
    // Not linked: the VMA after the one holding vma.start, as a search by address gives it.
    const at = r !== NIL ? r : this.refAfter(vma.start);
    const n = at === NIL ? NIL : this.nextRef(at);
    return n === NIL ? undefined : this.lVma[n];
  }

  /** The VMA right before `vma` in address order. */
  prev(vma: Vma): Vma | undefined {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const r = this.refOf(vma);
    const at = r !== NIL ? r : this.refAfter(vma.start);
    const p = at === NIL ? this.lastRef() : this.prevRef(at);
    return p === NIL ? undefined : this.lVma[p];
  }

  /** VMAs overlapping `[start, end)`, in order (a snapshot array). */
  overlapping(start: number, end: number): Vma[] {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const out: Vma[] = [];
    for (let r = this.refAfter(start); r !== NIL && this.lStart[r]! < end; r = this.nextRef(r)) out.push(this.lVma[r]!);
    return out;
  }

  /** True if any VMA overlaps `[start, end)`. */
  intersects(start: number, end: number): boolean {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const r = this.refAfter(start);
    return r !== NIL && this.lStart[r]! < end;
  }

  /** True if `vma` is linked in this tree. O(B). */
  has(vma: Vma): boolean {
    return this.refOf(vma) !== NIL;
  }

  /** All VMAs in address order (a snapshot, rebuilt after a change). */
  all(): readonly Vma[] {
    if (VmaTree.checkMode !== 'off') this.check(true);
    if (this.allCache === null) {
      const out = new Array<Vma>(this.count);
      let k = 0;
      for (let leaf = this.headLeaf; leaf !== NIL; leaf = this.lNext[leaf]!) {
        const base = leaf << LSHIFT;
        const end = base + this.lCount[leaf]!;
        for (let r = base; r < end; r++) out[k++] = this.lVma[r]!;
      }
      this.allCache = out;
    }
    return this.allCache;
  }

  /**
   * The highest entry with `start <= key` and a gap below it of at least
   * `size`, or NIL. Only the rightmost child starting at or below `key` can
   * hold entries above `key`; every child left of it lies wholly below, so
   * the first of those whose largest gap is big enough holds the answer.
   */
  private highestGapRef(node: number, h: number, key: number, size: number): number {
    if (h === 0) {
      const base = node << LSHIFT;
      for (let r = base + this.lCount[node]! - 1; r >= base; r--) {
        if (this.lStart[r]! <= key && this.lGap[r]! >= size) return r;
      }
      return NIL;
    }
    const base = node << ISHIFT;
    // From the right (the highest set bit first).
    for (let mask = this.candidateSlots(node, size); mask !== 0; ) {
      const k = 31 - Math.clz32(mask);
      mask &= ~(1 << k);
      const s = base + k;
      if (this.nMinStart[s]! > key || this.nMaxGap[s]! < size) continue;
      const r = this.highestGapRef(this.nChild[s]!, h - 1, key, size);
      if (r !== NIL) return r;
    }
    return NIL;
  }

  /** The lowest entry with `start > key` and a gap below it of at least `size`, or NIL. */
  private lowestGapRef(node: number, h: number, key: number, size: number): number {
    if (h === 0) {
      const base = node << LSHIFT;
      const end = base + this.lCount[node]!;
      for (let r = base; r < end; r++) {
        if (this.lStart[r]! > key && this.lGap[r]! >= size) return r;
      }
      return NIL;
    }
    const base = node << ISHIFT;
    const last = base + this.nCount[node]! - 1;
    // From the left (the lowest set bit first).
    for (let mask = this.candidateSlots(node, size); mask !== 0; ) {
      const k = 31 - Math.clz32(mask & -mask);
      mask &= ~(1 << k);
      const s = base + k;
      if (s < last && this.nMinStart[s + 1]! <= key) continue; // wholly at or below key
      if (this.nMaxGap[s]! < size) continue;
      const r = this.lowestGapRef(this.nChild[s]!, h - 1, key, size);
      if (r !== NIL) return r;
    }
    return NIL;
  }

  /**
   * `mas_empty_area_rev`: the highest free range inside `[low, high)` of at
   * least `size` pages; returns its end (clipped to `high`), or -1.
   *
   * The gaps looked at, from the top: the one below the first VMA ending
   * above `high - 1` (clipped to `high` and `low`), then the whole gaps
   * between VMAs down to the one below the first VMA ending above `low`
   * (clipped to `low`). O(log n).
   */
  highestGapEnd(low: number, high: number, size: number): number {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const lStart = this.lStart;
    const lEnd = this.lEnd;
    const top = this.refAfter(high - 1);
    const topBelow = top === NIL ? this.lastRef() : this.prevRef(top);
    // The top gap, clipped at both ends.
    let gapEnd = Math.min(top !== NIL ? lStart[top]! : Infinity, high);
    let gapStart = Math.max(topBelow !== NIL ? lEnd[topBelow]! : 0, low);
    if (gapEnd - gapStart >= size) {
      if (top !== NIL) this.hint = top; // the VMA above the gap: the caller's find_vma(end)
      return gapEnd;
    }
    if (topBelow === NIL || lEnd[topBelow]! <= low) return -1;
    // `bottom` is the first VMA ending above low: the gap below it is the last one looked at.
    const bottom = this.refAfter(low);
    const y = this.highestGapRef(this.root, this.height, lStart[topBelow]!, size);
    if (y !== NIL && lStart[y]! > lStart[bottom]!) {
      this.hint = y;
      return lStart[y]!;
    }
    const bottomBelow = this.prevRef(bottom);
    gapEnd = lStart[bottom]!;
    gapStart = Math.max(bottomBelow !== NIL ? lEnd[bottomBelow]! : 0, low);
    return gapEnd - gapStart >= size ? gapEnd : -1;
  }

  /**
   * `mas_empty_area`: the lowest free range inside `[low, high)` of at least
   * `size` pages; returns its start (raised to `low`), or -1.
   *
   * The gaps looked at, from the bottom: the one below the first VMA ending
   * above `low` (clipped to `low` and `high`), then the whole gaps between
   * VMAs up to the one below the first VMA ending at or above `high`, or the
   * space above the last VMA (clipped to `high`). O(log n).
   */
  lowestGapStart(low: number, high: number, size: number): number {
    if (VmaTree.checkMode !== 'off') this.check(true);
    const lStart = this.lStart;
    const lEnd = this.lEnd;
    const bottom = this.refAfter(low);
    const bottomBelow = bottom === NIL ? this.lastRef() : this.prevRef(bottom);
    let gapStart = Math.max(bottomBelow !== NIL ? lEnd[bottomBelow]! : 0, low);
    let gapEnd = Math.min(bottom !== NIL ? lStart[bottom]! : Infinity, high);
    if (gapEnd - gapStart >= size) {
      if (bottom !== NIL) this.hint = bottom; // the VMA above the gap
      return gapStart;
    }
    if (bottom === NIL || lEnd[bottom]! >= high) return -1;
    // `top`: the first VMA ending at or above high (NIL: none); it comes after `bottom`.
    const top = this.refEndingAtOrAbove(high);
    const y = this.lowestGapRef(this.root, this.height, lStart[bottom]!, size);
    if (y !== NIL && (top === NIL || lStart[y]! < lStart[top]!)) {
      this.hint = y;
      return lEnd[this.prevRef(y)]!;
    }
    const topBelow = top === NIL ? this.lastRef() : this.prevRef(top);
    gapStart = lEnd[topBelow]!;
    gapEnd = Math.min(top !== NIL ? lStart[top]! : Infinity, high);
    return gapEnd - gapStart >= size ? gapStart : -1;
  }

  // ---- changes -------------------------------------------------------------

  /** Insert a VMA (must not overlap any other). */
  insert(vma: Vma): void {
    if (this.refOf(vma) !== NIL) throw new Error(`VmaTree.insert: the VMA at ${vma.start} is already in the tree`);
    this.link(vma);
    if (VmaTree.checkMode !== 'off') this.check(false);
  }

  /**
   * Insert `vma` right below (`below`) or right above `neighbour`, a linked
   * VMA it is adjacent to in address order — the new half of a split
   * (`__split_vma`'s `vma_iter_store` next to the old one). No descent: O(B)
   * when `neighbour`'s leaf has room, else as {@link insert}.
   */
  insertBeside(vma: Vma, neighbour: Vma, below: boolean): void {
    if (this.refOf(vma) !== NIL) throw new Error(`VmaTree.insertBeside: the VMA at ${vma.start} is already in the tree`);
    const r = this.refOf(neighbour);
    const leaf = r >> LSHIFT;
    if (r === NIL || this.lCount[leaf] === LCAP) {
      this.link(vma);
    } else {
      this.count++;
      this.allCache = null;
      this.putEntry(leaf, (r & LMASK) + (below ? 0 : 1), vma);
    }
    if (VmaTree.checkMode !== 'off') this.check(false);
  }

  /** Remove a VMA (no-op if it is not in the tree). */
  remove(vma: Vma): void {
    const r = this.refOf(vma);
    if (r === NIL) return;
    this.unlink(r);
    if (VmaTree.checkMode !== 'off') this.check(false);
  }

  /**
   * Tell the tree that `vma.start` and/or `vma.end` of a linked VMA changed in
   * place (`vma_iter_store` / `vma_gap_update`): refresh its key and the gaps.
   * Call it right after the change, before any other call on the tree. A VMA
   * that is not in the tree is ignored. O(log n).
   */
  updated(vma: Vma): void {
    const r = this.refOf(vma);
    if (r === NIL) return;
    const start = vma.start;
    const end = vma.end;
    if (start !== this.lStart[r] || end !== this.lEnd[r]) {
      const p = this.prevRef(r);
      const n = this.nextRef(r);
      if ((p !== NIL && this.lStart[p]! > start) || (n !== NIL && this.lStart[n]! < start)) {
        // It moved past a neighbour: re-key.
        this.unlink(r);
        this.link(vma);
      } else {
        this.lStart[r] = start;
        this.lEnd[r] = end;
        this.lGap[r] = p === NIL ? -Infinity : start - this.lEnd[p]!;
        if (n !== NIL) this.lGap[n] = this.lStart[n]! - end;
        this.refreshLeaf(r >> LSHIFT);
        if (n !== NIL && n >> LSHIFT !== r >> LSHIFT) this.refreshLeaf(n >> LSHIFT);
      }
    }
    if (VmaTree.checkMode !== 'off') this.check(false);
  }

  /**
   * `vma_merge`'s single store of the expanded VMA (`vma_iter_store` over the
   * range it now covers, which overwrites the VMAs it absorbed): `vma` grew in
   * place over the `below` VMAs right before it and the `above` VMAs right
   * after it; those leave the tree and its key and gaps are refreshed. The
   * same as removing each absorbed VMA then {@link updated}, but when they
   * share `vma`'s leaf it is one shift and one refresh of the aggregates.
   */
  storeExpanded(vma: Vma, below: number, above: number): void {
    const r = this.refOf(vma);
    if (r === NIL) throw new Error(`VmaTree.storeExpanded: the VMA at ${vma.start} is not in the tree`);
    const leaf = r >> LSHIFT;
    const base = leaf << LSHIFT;
    const n = this.lCount[leaf]!;
    const lo = r - below;
    const hi = r + above; // the last absorbed entry (or r)
    const start = vma.start;
    const end = vma.end;
    const p = lo > base ? lo - 1 : this.prevRef(base);
    const nx = hi + 1 < base + n ? hi + 1 : this.nextRef(base + n - 1);
    if (
      lo < base ||
      hi >= base + n ||
      (p !== NIL && this.lStart[p]! > start) ||
      (nx !== NIL && this.lStart[nx]! < start)
    ) {
      // Across leaves (or a re-key): one VMA at a time.
      for (let k = 0; k < below; k++) this.unlink(this.prevRef(this.refOf(vma)));
      for (let k = 0; k < above; k++) this.unlink(this.nextRef(this.refOf(vma)));
      this.updated(vma);
      return;
    }
    const lStart = this.lStart;
    const lEnd = this.lEnd;
    const lGap = this.lGap;
    const lVma = this.lVma;
    // The gaps that leave with the absorbed entries (those below lo+1 … hi), and
    // whether the leaf's bounds stay: then a rescan is needed only if one of
    // those gaps was the leaf's largest.
    let goneGap = -Infinity;
    for (let k = lo + 1; k <= hi; k++) if (lGap[k]! > goneGap) goneGap = lGap[k]!;
    const sameBounds = start === lStart[lo] && end === lEnd[hi];
    for (let k = lo; k <= hi; k++) {
      if (k === r) continue;
      const gone = lVma[k]!;
      if (gone.treeSlot === leaf) gone.treeSlot = 0;
    }
    lStart[lo] = start;
    lEnd[lo] = end;
    lGap[lo] = p === NIL ? -Infinity : start - lEnd[p]!;
    lVma[lo] = vma;
    const dropped = hi - lo;
    if (dropped > 0) {
      const last = base + n;
      for (let k = hi + 1; k < last; k++) {
        const to = k - dropped;
        lStart[to] = lStart[k]!;
        lEnd[to] = lEnd[k]!;
        lGap[to] = lGap[k]!;
        lVma[to] = lVma[k];
      }
      for (let k = last - dropped; k < last; k++) lVma[k] = undefined;
      this.lCount[leaf] = n - dropped;
      this.count -= dropped;
      this.allCache = null;
    }
    this.hint = lo;
    let after = nx;
    if (after !== NIL) {
      if (after >> LSHIFT === leaf) after -= dropped;
      lGap[after] = lStart[after]! - end;
    }
    const parent = this.lParent[leaf]!;
    if (!(sameBounds && parent !== NIL && goneGap < this.nMaxGap[this.lSlot[leaf]!]!)) {
      // (With the same bounds, the entry at lo and the one after keep their gaps.)
      this.refreshLeaf(leaf);
      if (after !== NIL && after >> LSHIFT !== leaf) this.refreshLeaf(after >> LSHIFT);
    }
    if (dropped > 0) this.mergeLeaf(leaf);
    if (VmaTree.checkMode !== 'off') this.check(false);
  }

  /**
   * `__split_vma`'s store (`vma_complete` putting the new VMA beside the one it
   * was cut from): `vma` was shrunk in place and `piece`, the part cut off,
   * goes right below it (`below`) or right above. The same as
   * {@link updated}(`vma`) then {@link insertBeside}(`piece`, `vma`, `below`),
   * but when the leaf has room it is one shift and one refresh of the
   * aggregates.
   */
  storeSplit(vma: Vma, piece: Vma, below: boolean): void {
    if (this.refOf(piece) !== NIL) throw new Error(`VmaTree.storeSplit: the VMA at ${piece.start} is already in the tree`);
    const r = this.refOf(vma);
    const leaf = r >> LSHIFT;
    const base = leaf << LSHIFT;
    const n = this.lCount[leaf]!;
    const first = below ? piece : vma;
    const second = below ? vma : piece;
    const p = r > base ? r - 1 : this.prevRef(r);
    const nx = r + 1 < base + n ? r + 1 : this.nextRef(r);
    if (
      r === NIL ||
      n === LCAP ||
      (p !== NIL && this.lStart[p]! > first.start) ||
      first.start > second.start ||
      (nx !== NIL && this.lStart[nx]! < second.start)
    ) {
      this.updated(vma);
      this.insertBeside(piece, vma, below);
      return;
    }
    const lStart = this.lStart;
    const lEnd = this.lEnd;
    const lGap = this.lGap;
    const lVma = this.lVma;
    const oldStart = lStart[r]!;
    const oldEnd = lEnd[r]!;
    for (let k = base + n; k > r + 1; k--) {
      lStart[k] = lStart[k - 1]!;
      lEnd[k] = lEnd[k - 1]!;
      lGap[k] = lGap[k - 1]!;
      lVma[k] = lVma[k - 1];
    }
    const s1 = first.start;
    const e1 = first.end;
    const s2 = second.start;
    const e2 = second.end;
    lStart[r] = s1;
    lEnd[r] = e1;
    lGap[r] = p === NIL ? -Infinity : s1 - lEnd[p]!;
    lVma[r] = first;
    lStart[r + 1] = s2;
    lEnd[r + 1] = e2;
    lGap[r + 1] = s2 - e1;
    lVma[r + 1] = second;
    piece.treeSlot = leaf;
    this.lCount[leaf] = n + 1;
    this.count++;
    this.allCache = null;
    this.hint = below ? r + 1 : r;
    let after = nx;
    if (after !== NIL) {
      if (after >> LSHIFT === leaf) after++;
      lGap[after] = lStart[after]! - e2;
    }
    if (s1 === oldStart && e2 === oldEnd) {
      // A split proper: the two parts cover what the VMA covered, so the leaf's
      // lowest start, highest end and every gap are as before, plus the one
      // between the parts (0 unless the caller left a hole): no rescan.
      this.leafGapAdded(leaf, s2 - e1);
    } else {
      this.refreshLeaf(leaf);
      if (after !== NIL && after >> LSHIFT !== leaf) this.refreshLeaf(after >> LSHIFT);
    }
    if (VmaTree.checkMode !== 'off') this.check(false);
  }

  /** A gap `g` was added to `leaf` and nothing else about it changed: raise its parent's record if `g` is the new largest. */
  private leafGapAdded(leaf: number, g: number): void {
    const parent = this.lParent[leaf]!;
    if (parent === NIL) return;
    const s = this.lSlot[leaf]!;
    if (g > this.nMaxGap[s]!) this.setSlot(s, parent, this.nMinStart[s]!, this.nMaxEnd[s]!, g);
  }

  private link(vma: Vma): void {
    const start = vma.start;
    this.count++;
    this.allCache = null;
    if (this.root === NIL) {
      const leaf = this.allocLeaf();
      this.root = leaf;
      this.height = 0;
      this.headLeaf = this.tailLeaf = leaf;
      this.putEntry(leaf, 0, vma);
      return;
    }
    // Descend to the position before the first VMA ending above `start` (else the very end).
    let node = this.root;
    const nMaxEnd = this.nMaxEnd;
    for (let h = this.height; h > 0; h--) {
      let lo = node << ISHIFT;
      let hi = lo + this.nCount[node]! - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (nMaxEnd[mid]! > start) hi = mid;
        else lo = mid + 1;
      }
      node = this.nChild[lo]!;
    }
    let leaf = node;
    const base = leaf << LSHIFT;
    let pos = this.lCount[leaf]!;
    for (let r = base; r < base + pos; r++) {
      if (this.lEnd[r]! > start) {
        pos = r - base;
        break;
      }
    }
    if (this.lCount[leaf] === LCAP) {
      // Appending at the end of a full leaf (address spaces mostly grow in order): keep it full.
      const right = this.splitLeaf(leaf, pos === LCAP ? LCAP - 1 : LCAP >> 1);
      const half = this.lCount[leaf]!;
      if (pos > half) {
        leaf = right;
        pos -= half;
      }
      this.putEntry(leaf, pos, vma);
    } else {
      this.putEntry(leaf, pos, vma);
    }
  }

  /** Put `vma` at `pos` of a leaf with room, fixing the gaps and the aggregates above. */
  private putEntry(leaf: number, pos: number, vma: Vma): void {
    const base = leaf << LSHIFT;
    const n = this.lCount[leaf]!;
    const r = base + pos;
    if (pos < n) {
      const lStart = this.lStart;
      const lEnd = this.lEnd;
      const lGap = this.lGap;
      const lVma = this.lVma;
      for (let k = base + n; k > r; k--) {
        lStart[k] = lStart[k - 1]!;
        lEnd[k] = lEnd[k - 1]!;
        lGap[k] = lGap[k - 1]!;
        lVma[k] = lVma[k - 1];
      }
    }
    this.lCount[leaf] = n + 1;
    const start = vma.start;
    const end = vma.end;
    this.lStart[r] = start;
    this.lEnd[r] = end;
    this.lVma[r] = vma;
    vma.treeSlot = leaf;
    const p = this.prevRef(r);
    this.lGap[r] = p === NIL ? -Infinity : start - this.lEnd[p]!;
    const nx = this.nextRef(r);
    if (nx !== NIL) this.lGap[nx] = this.lStart[nx]! - end;
    this.refreshLeaf(leaf);
    if (nx !== NIL && nx >> LSHIFT !== leaf) this.refreshLeaf(nx >> LSHIFT);
  }

  private unlink(r: number): void {
    const leaf = r >> LSHIFT;
    const base = leaf << LSHIFT;
    const n = this.lCount[leaf]!;
    const p = this.prevRef(r);
    const vma = this.lVma[r]!;
    if (vma.treeSlot === leaf) vma.treeSlot = 0;
    // The entry after the removed one gets the combined gap.
    let nx = this.nextRef(r);
    if (nx !== NIL) this.lGap[nx] = p === NIL ? -Infinity : this.lStart[nx]! - this.lEnd[p]!;
    if (r + 1 < base + n) {
      const lStart = this.lStart;
      const lEnd = this.lEnd;
      const lGap = this.lGap;
      const lVma = this.lVma;
      for (let k = r; k < base + n - 1; k++) {
        lStart[k] = lStart[k + 1]!;
        lEnd[k] = lEnd[k + 1]!;
        lGap[k] = lGap[k + 1]!;
        lVma[k] = lVma[k + 1];
      }
      if (nx >> LSHIFT === leaf) nx--;
    }
    this.lVma[base + n - 1] = undefined;
    this.lCount[leaf] = n - 1;
    this.count--;
    this.allCache = null;
    if (n === 1) {
      this.removeLeaf(leaf);
    } else {
      this.refreshLeaf(leaf);
      this.mergeLeaf(leaf);
    }
    if (nx !== NIL && nx >> LSHIFT !== leaf && this.lCount[nx >> LSHIFT]! > 0) this.refreshLeaf(nx >> LSHIFT);
  }

  // ---- structure -------------------------------------------------------------

  /** Compute a child's lowest start, highest end and largest gap into aggMin/aggMax/aggGap. */
  private aggregate(child: number, isLeaf: boolean): void {
    if (isLeaf) {
      const base = child << LSHIFT;
      const n = this.lCount[child]!;
      let g = -Infinity;
      for (let r = base; r < base + n; r++) if (this.lGap[r]! > g) g = this.lGap[r]!;
      this.aggMin = this.lStart[base]!;
      this.aggMax = this.lEnd[base + n - 1]!;
      this.aggGap = g;
    } else {
      const base = child << ISHIFT;
      const n = this.nCount[child]!;
      let g = -Infinity;
      for (let s = base; s < base + n; s++) if (this.nMaxGap[s]! > g) g = this.nMaxGap[s]!;
      this.aggMin = this.nMinStart[base]!;
      this.aggMax = this.nMaxEnd[base + n - 1]!;
      this.aggGap = g;
    }
  }

  /** Record, for the children in slots [from, to), which slot each is in. */
  private reindex(from: number, to: number, leaves: boolean): void {
    const slotOf = leaves ? this.lSlot : this.nSlot;
    for (let s = from; s < to; s++) slotOf[this.nChild[s]!] = s;
  }

  /** Store a leaf's aggregates in its parent and carry the change up while something changes. */
  private refreshLeaf(leaf: number): void {
    const parent = this.lParent[leaf]!;
    if (parent === NIL) return;
    const lGap = this.lGap;
    const base = leaf << LSHIFT;
    const end = base + this.lCount[leaf]!;
    let g = -Infinity;
    for (let r = base; r < end; r++) if (lGap[r]! > g) g = lGap[r]!;
    const min = this.lStart[base]!;
    const max = this.lEnd[end - 1]!;
    this.setSlot(this.lSlot[leaf]!, parent, min, max, g);
  }

  /**
   * Give slot `s` of inner node `node` new aggregates and carry the change up
   * while something changes. Each level's aggregate is updated from the one
   * slot that changed (a scan of the node only when that slot held its
   * largest gap and the gap shrank).
   */
  private setSlot(s: number, node: number, min: number, max: number, g: number): void {
    const nMinStart = this.nMinStart;
    const nMaxEnd = this.nMaxEnd;
    const nMaxGap = this.nMaxGap;
    for (;;) {
      const oldGap = nMaxGap[s]!;
      if (nMinStart[s] === min && nMaxEnd[s] === max && oldGap === g) return;
      nMinStart[s] = min;
      nMaxEnd[s] = max;
      nMaxGap[s] = g;
      this.markGap(s, g);
      const up = this.nParent[node]!;
      if (up === NIL) return;
      const ps = this.nSlot[node]!;
      const base = node << ISHIFT;
      const last = base + this.nCount[node]! - 1;
      let pGap = nMaxGap[ps]!;
      if (g >= pGap) pGap = g;
      else if (oldGap === pGap) {
        pGap = -Infinity;
        for (let k = base; k <= last; k++) if (nMaxGap[k]! > pGap) pGap = nMaxGap[k]!;
      }
      min = nMinStart[base]!;
      max = nMaxEnd[last]!;
      g = pGap;
      s = ps;
      node = up;
    }
  }

  /** Store an inner node's aggregates in its parent and carry the change up. */
  private refreshInner(node: number): void {
    const parent = this.nParent[node]!;
    if (parent === NIL) return;
    this.aggregate(node, false);
    this.carryUp(parent, node);
  }

  /** Write aggMin/aggMax/aggGap into `child`'s slot of `parent`, then go up until nothing changes. */
  private carryUp(parent: number, child: number): void {
    for (;;) {
      const s = this.nSlot[child]!;
      if (this.nMinStart[s] === this.aggMin && this.nMaxEnd[s] === this.aggMax && this.nMaxGap[s] === this.aggGap) return;
      this.nMinStart[s] = this.aggMin;
      this.nMaxEnd[s] = this.aggMax;
      this.nMaxGap[s] = this.aggGap;
      this.markGap(s, this.aggGap);
      const up = this.nParent[parent]!;
      if (up === NIL) return;
      this.aggregate(parent, false);
      child = parent;
      parent = up;
    }
  }

  /**
   * Split a full leaf: all but its first `half` entries move to a new leaf on
   * its right, which is returned. Half and half, except for an append at the
   * end, where the full leaf keeps all but one (a B+tree filled in address
   * order then has full leaves, not half-empty ones: half the cache lines).
   */
  private splitLeaf(leaf: number, half: number): number {
    const right = this.allocLeaf();
    const from = (leaf << LSHIFT) + half;
    const to = right << LSHIFT;
    const moved = LCAP - half;
    this.lStart.copyWithin(to, from, from + moved);
    this.lEnd.copyWithin(to, from, from + moved);
    this.lGap.copyWithin(to, from, from + moved);
    for (let k = 0; k < moved; k++) {
      const v = this.lVma[from + k]!;
      this.lVma[to + k] = v;
      this.lVma[from + k] = undefined;
      v.treeSlot = right;
    }
    this.lCount[leaf] = half;
    this.lCount[right] = moved;
    const after = this.lNext[leaf]!;
    this.lNext[right] = after;
    this.lPrev[right] = leaf;
    this.lNext[leaf] = right;
    if (after !== NIL) this.lPrev[after] = right;
    else this.tailLeaf = right;
    this.insertChild(leaf, right, true);
    this.refreshLeaf(leaf);
    return right;
  }

  /** Insert `child` right after `after` (a child of the same kind) in `after`'s parent, splitting as needed. */
  private insertChild(after: number, child: number, isLeaf: boolean): void {
    let parent = isLeaf ? this.lParent[after]! : this.nParent[after]!;
    if (parent === NIL) {
      // `after` is the root: grow a new root above both.
      parent = this.allocInner();
      this.nCount[parent] = 1;
      this.nChild[parent << ISHIFT] = after;
      this.aggregate(after, isLeaf);
      this.storeSlot(parent << ISHIFT, after);
      this.reindex(parent << ISHIFT, (parent << ISHIFT) + 1, isLeaf);
      this.setParent(after, isLeaf, parent);
      this.nParent[parent] = NIL;
      this.root = parent;
      this.height++;
    } else if (this.nCount[parent] === ICAP) {
      // As for leaves: a child appended after the last keeps the full node full.
      const last = (isLeaf ? this.lSlot[after]! : this.nSlot[after]!) === (parent << ISHIFT) + ICAP - 1;
      const right = this.splitInner(parent, last ? ICAP - 1 : ICAP >> 1);
      if ((isLeaf ? this.lParent[after] : this.nParent[after]) === right) parent = right;
    }
    const s = (isLeaf ? this.lSlot[after]! : this.nSlot[after]!) + 1;
    const base = parent << ISHIFT;
    const end = base + this.nCount[parent]!;
    if (s < end) {
      this.nChild.copyWithin(s + 1, s, end);
      this.nMinStart.copyWithin(s + 1, s, end);
      this.nMaxEnd.copyWithin(s + 1, s, end);
      this.nMaxGap.copyWithin(s + 1, s, end);
    }
    this.nCount[parent]!++;
    this.remaskInner(parent);
    this.nChild[s] = child;
    this.reindex(s, end + 1, isLeaf);
    this.setParent(child, isLeaf, parent);
    this.aggregate(child, isLeaf);
    this.storeSlot(s, child);
    this.aggregate(after, isLeaf);
    this.storeSlot(s - 1, after);
    this.refreshInner(parent);
  }

  private storeSlot(s: number, child: number): void {
    this.nChild[s] = child;
    this.nMinStart[s] = this.aggMin;
    this.nMaxEnd[s] = this.aggMax;
    this.nMaxGap[s] = this.aggGap;
    this.markGap(s, this.aggGap);
  }

  /**
   * The children of inner node `node` a search for a gap of `size` looks at,
   * as a bit per slot: those with a gap ({@link nGapMask}), or all of them for
   * a size of 0 or less (which an empty gap satisfies).
   */
  private candidateSlots(node: number, size: number): number {
    if (size > 0) return this.nGapMask[node]!;
    const n = this.nCount[node]!;
    return n >= ICAP ? -1 : (1 << n) - 1;
  }

  /** Record in {@link nGapMask} whether slot `s`'s subtree has a gap. */
  private markGap(s: number, gap: number): void {
    const bit = 1 << (s & (ICAP - 1));
    if (gap > 0) this.nGapMask[s >> ISHIFT]! |= bit;
    else this.nGapMask[s >> ISHIFT]! &= ~bit;
  }

  /** Recompute inner node `node`'s {@link nGapMask} after its slots moved or its count changed. */
  private remaskInner(node: number): void {
    const base = node << ISHIFT;
    const n = this.nCount[node]!;
    let mask = 0;
    for (let k = 0; k < n; k++) if (this.nMaxGap[base + k]! > 0) mask |= 1 << k;
    this.nGapMask[node] = mask;
  }

  private setParent(child: number, isLeaf: boolean, parent: number): void {
    if (isLeaf) this.lParent[child] = parent;
    else this.nParent[child] = parent;
  }

  /** Whether the children of inner node `node` are leaves (all leaves are at the same depth). */
  private childrenAreLeaves(node: number): boolean {
    let depth = 0;
    for (let n = node; n !== this.root; n = this.nParent[n]!) depth++;
    return depth === this.height - 1;
  }

  /** Split a full inner node: all but its first `half` children move to a new node on its right, returned. */
  private splitInner(node: number, half: number): number {
    const leaves = this.childrenAreLeaves(node);
    const right = this.allocInner();
    const from = (node << ISHIFT) + half;
    const to = right << ISHIFT;
    const moved = ICAP - half;
    this.nChild.copyWithin(to, from, from + moved);
    this.nMinStart.copyWithin(to, from, from + moved);
    this.nMaxEnd.copyWithin(to, from, from + moved);
    this.nMaxGap.copyWithin(to, from, from + moved);
    for (let k = 0; k < moved; k++) this.setParent(this.nChild[to + k]!, leaves, right);
    this.reindex(to, to + moved, leaves);
    this.nCount[node] = half;
    this.nCount[right] = moved;
    this.remaskInner(node);
    this.remaskInner(right);
    this.insertChild(node, right, false);
    this.refreshInner(node);
    return right;
  }

  /** Unlink an empty leaf from the list and from its parent. */
  private removeLeaf(leaf: number): void {
    const p = this.lPrev[leaf]!;
    const n = this.lNext[leaf]!;
    if (p !== NIL) this.lNext[p] = n;
    else this.headLeaf = n;
    if (n !== NIL) this.lPrev[n] = p;
    else this.tailLeaf = p;
    const parent = this.lParent[leaf]!;
    this.freeLeaf(leaf);
    if (parent === NIL) {
      this.root = NIL;
      this.height = 0;
    } else {
      this.removeChild(parent, leaf, true);
    }
  }

  /** Drop `child` from inner node `parent`; an emptied node goes too, a root with one child is replaced by it. */
  private removeChild(parent: number, child: number, isLeaf: boolean): void {
    const s = isLeaf ? this.lSlot[child]! : this.nSlot[child]!;
    const base = parent << ISHIFT;
    const end = base + this.nCount[parent]!;
    this.nChild.copyWithin(s, s + 1, end);
    this.nMinStart.copyWithin(s, s + 1, end);
    this.nMaxEnd.copyWithin(s, s + 1, end);
    this.nMaxGap.copyWithin(s, s + 1, end);
    this.reindex(s, end - 1, isLeaf);
    const left = --this.nCount[parent]!;
    this.remaskInner(parent);
    const up = this.nParent[parent]!;
    if (left === 0) {
      this.freeInner(parent);
      if (up === NIL) {
        this.root = NIL;
        this.height = 0;
      } else {
        this.removeChild(up, parent, false);
      }
      return;
    }
    if (up === NIL) {
      if (left === 1) this.collapseRoot();
      return;
    }
    this.refreshInner(parent);
    this.mergeInner(parent);
  }

  /** While the root is an inner node with a single child, make the child the root. */
  private collapseRoot(): void {
    while (this.height > 0 && this.nCount[this.root] === 1) {
      const only = this.nChild[this.root << ISHIFT]!;
      this.freeInner(this.root);
      this.root = only;
      this.height--;
      if (this.height === 0) this.lParent[only] = NIL;
      else this.nParent[only] = NIL;
    }
  }

  /** Merge a leaf with its right (or left) sibling under the same parent when both together are small. */
  private mergeLeaf(leaf: number): void {
    const parent = this.lParent[leaf]!;
    if (parent === NIL) return;
    let left = leaf;
    let right = this.lNext[leaf]!;
    if (right === NIL || this.lParent[right] !== parent) {
      right = leaf;
      left = this.lPrev[leaf]!;
      if (left === NIL || this.lParent[left] !== parent) return;
    }
    const nl = this.lCount[left]!;
    const nr = this.lCount[right]!;
    if (nl + nr > LMERGE) return;
    const from = right << LSHIFT;
    const to = (left << LSHIFT) + nl;
    this.lStart.copyWithin(to, from, from + nr);
    this.lEnd.copyWithin(to, from, from + nr);
    this.lGap.copyWithin(to, from, from + nr);
    for (let k = 0; k < nr; k++) {
      const v = this.lVma[from + k]!;
      this.lVma[to + k] = v;
      this.lVma[from + k] = undefined;
      v.treeSlot = left;
    }
    this.lCount[left] = nl + nr;
    this.lCount[right] = 0;
    this.removeLeaf(right);
    this.refreshLeaf(left);
  }

  /** Merge an inner node with a sibling under the same parent when both together are small. */
  private mergeInner(node: number): void {
    const parent = this.nParent[node]!;
    if (parent === NIL) return;
    const s = this.nSlot[node]!;
    const base = parent << ISHIFT;
    const count = this.nCount[parent]!;
    let left: number;
    let right: number;
    if (s + 1 < base + count) {
      left = node;
      right = this.nChild[s + 1]!;
    } else if (s > base) {
      left = this.nChild[s - 1]!;
      right = node;
    } else {
      return;
    }
    const nl = this.nCount[left]!;
    const nr = this.nCount[right]!;
    if (nl + nr > IMERGE) return;
    const leaves = this.childrenAreLeaves(left);
    const from = right << ISHIFT;
    const to = (left << ISHIFT) + nl;
    this.nChild.copyWithin(to, from, from + nr);
    this.nMinStart.copyWithin(to, from, from + nr);
    this.nMaxEnd.copyWithin(to, from, from + nr);
    this.nMaxGap.copyWithin(to, from, from + nr);
    for (let k = 0; k < nr; k++) this.setParent(this.nChild[to + k]!, leaves, left);
    this.reindex(to, to + nr, leaves);
    this.nCount[left] = nl + nr;
    this.remaskInner(left);
    this.freeInner(right);
    this.removeChild(parent, right, false);
    this.refreshInner(left);
  }

  private allocLeaf(): number {
    let leaf = this.leafFree;
    if (leaf !== NIL) {
      this.leafFree = this.lNext[leaf]!;
    } else {
      leaf = this.leafNextId++;
      if (leaf >= this.leafCap) this.growLeaves(Math.max(16, this.leafCap * 2));
    }
    this.lCount[leaf] = 0;
    this.lParent[leaf] = NIL;
    this.lPrev[leaf] = NIL;
    this.lNext[leaf] = NIL;
    return leaf;
  }

  private freeLeaf(leaf: number): void {
    this.lCount[leaf] = 0;
    this.lParent[leaf] = NIL;
    this.lPrev[leaf] = NIL;
    this.lNext[leaf] = this.leafFree;
    this.leafFree = leaf;
  }

  private allocInner(): number {
    let node = this.innerFree;
    if (node !== NIL) {
      this.innerFree = this.nParent[node]!;
    } else {
      node = this.innerNextId++;
      if (node >= this.innerCap) this.growInner(Math.max(4, this.innerCap * 2));
    }
    this.nCount[node] = 0;
    this.nGapMask[node] = 0;
    this.nParent[node] = NIL;
    return node;
  }

  private freeInner(node: number): void {
    this.nCount[node] = 0;
    this.nParent[node] = this.innerFree;
    this.innerFree = node;
  }

  private growLeaves(cap: number): void {
    const entries = cap << LSHIFT;
    this.lStart = grow64(this.lStart, entries);
    this.lEnd = grow64(this.lEnd, entries);
    this.lGap = grow64(this.lGap, entries);
    for (let k = this.leafCap << LSHIFT; k < entries; k++) this.lVma.push(undefined);
    this.lCount = grow32(this.lCount, cap);
    this.lParent = grow32(this.lParent, cap);
    this.lPrev = grow32(this.lPrev, cap);
    this.lNext = grow32(this.lNext, cap);
    this.lSlot = grow32(this.lSlot, cap);
    this.leafCap = cap;
  }

  private growInner(cap: number): void {
    const slots = cap << ISHIFT;
    this.nChild = grow32(this.nChild, slots);
    this.nMinStart = grow64(this.nMinStart, slots);
    this.nMaxEnd = grow64(this.nMaxEnd, slots);
    this.nMaxGap = grow64(this.nMaxGap, slots);
    this.nCount = grow32(this.nCount, cap);
    this.nParent = grow32(this.nParent, cap);
    this.nSlot = grow32(this.nSlot, cap);
    this.nGapMask = grow32(this.nGapMask, cap);
    this.innerCap = cap;
  }

  // ---- self-checks ---------------------------------------------------------

  private check(query: boolean): void {
    if (VmaTree.checkMode === 'sampled' && this.count > SAMPLED_FULL_LIMIT) {
      if (++this.opsSinceCheck * SAMPLED_FULL_LIMIT < this.count) return;
    }
    this.opsSinceCheck = 0;
    const problem = this.verify(query);
    if (problem) throw new Error(`VmaTree invariant broken: ${problem}`);
  }

  /**
   * Check the whole structure; a description of the first problem found, or
   * null. Always: the shape (parent links, every leaf at the same depth, no
   * empty node, the leaf list in tree order), the count, the recorded gaps
   * and per-child aggregates, and that every VMA's `start`/`end` equal the
   * tree's copy (a VMA changed in place without {@link updated} shows here).
   * With `settled` (as before a query), also that the VMAs are non-empty,
   * sorted and disjoint. O(n).
   */
  verify(settled = true): string | null {
    if (this.root === NIL) {
      if (this.count !== 0 || this.headLeaf !== NIL || this.tailLeaf !== NIL) return 'an empty tree with a count or leaves';
      return null;
    }
    const leaves: number[] = [];
    const walk = (node: number, h: number, parent: number): string | null => {
      if (h === 0) {
        if (this.lParent[node] !== parent) return `leaf ${node}'s parent is not ${parent}`;
        if (!(this.lCount[node]! > 0 && this.lCount[node]! <= LCAP)) return `leaf ${node} holds ${this.lCount[node]} entries`;
        leaves.push(node);
        return null;
      }
      if (this.nParent[node] !== parent) return `inner node ${node}'s parent is not ${parent}`;
      const n = this.nCount[node]!;
      if (!(n > 0 && n <= ICAP)) return `inner node ${node} holds ${n} children`;
      if (parent === NIL && n < 2) return 'the inner root has a single child';
      let mask = 0;
      for (let k = 0; k < n; k++) if (this.nMaxGap[(node << ISHIFT) + k]! > 0) mask |= 1 << k;
      if (this.nGapMask[node] !== mask) return `inner node ${node}'s gap mask is ${this.nGapMask[node]}, not ${mask}`;
      for (let s = node << ISHIFT; s < (node << ISHIFT) + n; s++) {
        const child = this.nChild[s]!;
        if ((h === 1 ? this.lSlot[child] : this.nSlot[child]) !== s) return `child ${child} of inner node ${node} does not know its slot`;
        const problem = walk(child, h - 1, node);
        if (problem) return problem;
        this.aggregate(child, h === 1);
        if (this.nMinStart[s] !== this.aggMin || this.nMaxEnd[s] !== this.aggMax || this.nMaxGap[s] !== this.aggGap) {
          return `inner node ${node} records [${this.nMinStart[s]}, ${this.nMaxEnd[s]}) gap ${this.nMaxGap[s]} for child ${child}, not [${this.aggMin}, ${this.aggMax}) gap ${this.aggGap}`;
        }
      }
      return null;
    };
    const problem = walk(this.root, this.height, NIL);
    if (problem) return problem;
    let prevLeaf = NIL;
    let total = 0;
    let prevRef = NIL;
    for (const leaf of leaves) {
      if (this.lPrev[leaf] !== prevLeaf) return `leaf ${leaf}'s previous leaf is wrong`;
      if (prevLeaf !== NIL && this.lNext[prevLeaf] !== leaf) return `leaf ${prevLeaf}'s next leaf is wrong`;
      const base = leaf << LSHIFT;
      for (let r = base; r < base + this.lCount[leaf]!; r++) {
        const vma = this.lVma[r];
        if (!vma) return `entry ${r} has no VMA`;
        if (vma.treeSlot !== leaf) return `the VMA at entry ${r} says leaf ${vma.treeSlot}`;
        const start = this.lStart[r]!;
        const end = this.lEnd[r]!;
        if (vma.start !== start || vma.end !== end) {
          return `the VMA [${vma.start}, ${vma.end}) is [${start}, ${end}) in the tree: its start/end changed without VmaTree.updated()`;
        }
        if (prevRef !== NIL && this.lStart[prevRef]! > start) return `keys out of order at ${start}`;
        if (settled) {
          if (!(start < end)) return `an empty VMA at ${start}`;
          if (prevRef !== NIL && this.lEnd[prevRef]! > start) return `VMAs overlap at ${start}`;
        }
        const gap = prevRef === NIL ? -Infinity : start - this.lEnd[prevRef]!;
        if (this.lGap[r] !== gap) return `entry ${r} records a gap below of ${this.lGap[r]}, not ${gap}`;
        prevRef = r;
        total++;
      }
      for (let r = base + this.lCount[leaf]!; r < base + LCAP; r++) if (this.lVma[r] !== undefined) return `a stale VMA in leaf ${leaf}`;
      prevLeaf = leaf;
    }
    if (this.lNext[prevLeaf] !== NIL) return 'the last leaf has a next leaf';
    if (this.headLeaf !== leaves[0] || this.tailLeaf !== prevLeaf) return 'head/tail leaves are wrong';
    if (total !== this.count) return `the tree holds ${total} VMAs, the count says ${this.count}`;
    return null;
  }
}
