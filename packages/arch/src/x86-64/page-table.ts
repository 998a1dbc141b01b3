/**
 * x86-64 page tables: a radix tree of 512-entry tables, 4-level
 * (PGD 47:39, PUD 38:30, PMD 29:21, PTE 20:12; P4D folded into the PGD) or
 * 5-level (PGD 56:48, P4D 47:39, then as 4-level).
 *
 * Every table page is a real frame from the machine's frame allocator (its pfn
 * is in the parent's entry, as `pmd_populate` writes it); its 512 entries are
 * stored exactly, as 64-bit values split into two 32-bit halves in a
 * `Uint32Array(1024)` (`lo` at `2i`, `hi` at `2i + 1`).
 * @see arch/x86/include/asm/pgtable_64.h
 * @see arch/x86/include/asm/pgtable_64_types.h
 * @see mm/memory.c __pte_alloc, __pmd_alloc, __pud_alloc, free_pgtables
 */

import { PteBits } from '../contract/page-table.js';
import type { PageTable, PageTableFrameSource, PageTableWalkStep, PteView } from '../contract/page-table.js';
import {
  X86_MAX_PFN,
  X86_PAGE_PRESENT,
  X86_PAGE_PSE,
  X86_PAGE_TABLE,
  x86EntryBits,
  x86EntryFlagNames,
  x86EntryHi,
  x86EntryLo,
  x86EntryPfn,
  x86EntryToBigint,
} from './entry-bits.js';
import { X86Tlb } from './tlb.js';

/** Entries per table (`PTRS_PER_PTE`, `PTRS_PER_PMD`, ...). */
export const X86_PTRS_PER_TABLE = 512;

/** Level names from the top, 4-level paging (P4D folded). */
const NAMES_4 = ['PGD', 'PUD', 'PMD', 'PTE'] as const;
/** Level names from the top, 5-level paging. */
const NAMES_5 = ['PGD', 'P4D', 'PUD', 'PMD', 'PTE'] as const;

/**
 * One page-table page (a `pgd_t[512]`, `pud_t[512]`, ... in Linux): the frame
 * holding it, its entries, and the tables below it.
 */
export class X86TablePage {
  /**
   * The 512 entries: low half of entry `i` at `2i`, high half at `2i + 1`.
   * A PTE table that never held an entry shares one all-zero array until its
   * first leaf is set (a guard over hundreds of GiB allocates a PTE table per
   * 2 MiB, as Linux does, without 4 KiB of entries each).
   */
  entries: Uint32Array;
  /** Tables below, by index (upper levels only; created on first use). */
  children: (X86TablePage | undefined)[] | undefined = undefined;
  /** Non-empty entries (leaves and table pointers). */
  used = 0;

  constructor(
    /** The frame this table occupies. */
    readonly pfn: number,
    /** 0 for the top level. */
    readonly depth: number,
    /** The table whose entry points here (null for the top). */
    readonly parent: X86TablePage | null,
    /** Index of that entry in the parent. */
    readonly index: number,
    /** A zeroed entry array to use (a freed table's), else a new one. */
    entries: Uint32Array = new Uint32Array(2 * X86_PTRS_PER_TABLE),
  ) {
    this.entries = entries;
  }
}

/**
 * The entries of every PTE table that has not held a leaf yet: all zero, read
 * but never written ({@link X86PageTable.setLeaf} gives the table its own
 * array first).
 */
const NO_ENTRIES = new Uint32Array(2 * X86_PTRS_PER_TABLE);

/** Freed tables' entry and children arrays kept per tree for reuse (allocating a typed array costs microseconds). */
const SPARE_TABLES = 64;

/**
 * One step of a page-table walk, for inspection tools: `level` is `PGD`,
 * `P4D`, `PUD`, `PMD` or `PTE`, `entry` the raw 64-bit entry and `flags` its
 * `_PAGE_*` names (`PRESENT|RW|USER|ACCESSED|DIRTY`).
 */
export interface X86WalkStep extends PageTableWalkStep {}

/** The raw halves of the `_PAGE_TABLE` entry pointing at table frame `pfn`. @see pmd_populate */
function tableEntryLo(pfn: number): number {
  return (((pfn & 0xfffff) << 12) | X86_PAGE_TABLE) >>> 0;
}
function tableEntryHi(pfn: number): number {
  return Math.floor(pfn / 1048576) & 0xfffff;
}

/**
 * An x86-64 page-table tree (`mm->pgd` and everything below it).
 *
 * Leaves: a PTE maps 4 KiB (order 0), a PMD with `_PAGE_PSE` 2 MiB (order 9),
 * a PUD with `_PAGE_PSE` 1 GiB (order 18). A non-zero entry is a leaf whether
 * or not it is present (PROT_NONE leaves have P = 0); swap entries are not
 * modelled, so every leaf must carry PRESENT or PROTNONE.
 * @see arch/x86/include/asm/pgtable.h
 */
export class X86PageTable implements PageTable {
  readonly levels: number;
  /** The top-level table (`mm->pgd`). */
  readonly root: X86TablePage;
  private readonly frames: PageTableFrameSource;
  /** Base pages covered by one entry at each depth. */
  private readonly scales: readonly number[];
  /** 1 / scales[d] (exact powers of two: a multiply is cheaper than a divide). */
  private readonly invScales: Float64Array;
  /** Leaf order of an entry at each depth. */
  private readonly orders: readonly number[];
  private readonly names: readonly string[];
  /** First vpn beyond the tree (2^(9 × levels)). */
  private readonly limit: number;
  private pages = 1;
  /** Table pages per depth. */
  private readonly pagesAt: Int32Array;
  private destroyed = false;
  /** Zeroed entry arrays and empty children arrays of freed tables, reused by {@link map}. */
  private readonly spareEntries: Uint32Array[] = [];
  private readonly spareChildren: (X86TablePage | undefined)[][] = [];

  /**
   * The TLBs of the CPUs this address space runs on, or null for none. The
   * MMU ({@link x86Translate}) consults it before walking; every change of a
   * present leaf below flushes the leaf's range from it (`flush_tlb_range`).
   */
  declare readonly tlb: X86Tlb | null;

  /**
   * First vpn of the PTE table the last walk ended in (-Infinity if none): a
   * one-entry cache of the walk down to it, like the CPU's paging-structure
   * caches. Dropped whenever a table is freed.
   */
  private cachedBase = -Infinity;
  private cachedTable: X86TablePage | null = null;

  /** Index × 2 of the entry found by the last {@link locate} (internal, for the MMU). */
  locIndex = 0;
  /** Leaf order of the entry found by the last {@link locate} (internal, for the MMU). */
  locOrder = 0;

  /**
   * `pgd_alloc`: allocate the top-level table. Throws if no frame is left for
   * it (the contract has no failure result for page-table creation).
   * @see arch/x86/mm/pgtable.c pgd_alloc
   */
  constructor(frames: PageTableFrameSource, levels: number = 4, tlb: X86Tlb | null = new X86Tlb()) {
    if (levels !== 4 && levels !== 5) throw new RangeError(`x86-64 paging has 4 or 5 levels, not ${levels}`);
    this.levels = levels;
    this.tlb = tlb;
    this.frames = frames;
    const scales: number[] = [];
    const orders: number[] = [];
    for (let d = 0; d < levels; d++) {
      orders.push(9 * (levels - 1 - d));
      scales.push(2 ** (9 * (levels - 1 - d)));
    }
    this.scales = scales;
    this.invScales = Float64Array.from(scales, (x) => 1 / x);
    this.orders = orders;
    this.names = levels === 5 ? NAMES_5 : NAMES_4;
    this.limit = 2 ** (9 * levels);
    this.pagesAt = new Int32Array(levels);
    this.pagesAt[0] = 1;
    const pfn = frames.allocTableFrame();
    if (pfn < 0) throw new Error('pgd_alloc: no frame for the top-level page table');
    this.root = new X86TablePage(pfn, 0, null, 0);
  }

  /** The name of the level at `depth` from the top (`PGD` … `PTE`). */
  levelName(depth: number): string {
    return this.names[depth] ?? '?';
  }

  /**
   * The table holding the leaf that covers `vpn`, or null: the allocation-free
   * core of every lookup and of the MMU walk. On success {@link locIndex} is
   * the entry's index × 2 in `entries` and {@link locOrder} the leaf's order.
   */
  locate(vpn: number): X86TablePage | null {
    const off = vpn - this.cachedBase;
    if (off >= 0 && off < X86_PTRS_PER_TABLE) {
      const t = this.cachedTable!;
      const k = off << 1;
      if (t.entries[k] === 0 && t.entries[k + 1] === 0) return null;
      this.locIndex = k;
      this.locOrder = 0;
      return t;
    }
    if (!(vpn >= 0 && vpn < this.limit)) return null;
    const last = this.levels - 1;
    const inv = this.invScales;
    let t = this.root;
    for (let d = 0; ; d++) {
      const i = (vpn * inv[d]!) & 511;
      const k = i << 1;
      const e = t.entries;
      const lo = e[k]!;
      if (d === last) {
        this.cachedBase = vpn - i;
        this.cachedTable = t;
        if (lo === 0 && e[k + 1] === 0) return null;
        this.locIndex = k;
        this.locOrder = 0;
        return t;
      }
      if ((lo & (X86_PAGE_PRESENT | X86_PAGE_PSE)) === X86_PAGE_PRESENT) {
        t = t.children![i]!;
        continue;
      }
      if (lo === 0 && e[k + 1] === 0) return null;
      this.locIndex = k;
      this.locOrder = this.orders[d]!;
      return t;
    }
  }

  /**
   * The 4 KiB frame mapped at `vpn` (the leaf's frame plus the offset inside a
   * huge leaf), or -1 if no leaf covers it. Allocation-free.
   */
  pfnAt(vpn: number): number {
    const t = this.locate(vpn);
    if (t === null) return -1;
    const k = this.locIndex;
    const order = this.locOrder;
    const base = x86EntryPfn(t.entries[k]!, t.entries[k + 1]!, order);
    return order === 0 ? base : base + (vpn & ((1 << order) - 1));
  }

  /** The raw 64-bit leaf entry covering `vpn`, or 0n. */
  rawEntry(vpn: number): bigint {
    const t = this.locate(vpn);
    if (t === null) return 0n;
    return x86EntryToBigint(t.entries[this.locIndex]!, t.entries[this.locIndex + 1]!);
  }

  lookup(vpn: number): PteView | null {
    const t = this.locate(vpn);
    if (t === null) return null;
    const lo = t.entries[this.locIndex]!;
    const hi = t.entries[this.locIndex + 1]!;
    return { pfn: x86EntryPfn(lo, hi, this.locOrder), order: this.locOrder, bits: x86EntryBits(lo, hi) };
  }

  /**
   * `set_pte_at` / `set_pmd_at` / `set_pud_at`, allocating the tables on the
   * way (`__pud_alloc`, `__pmd_alloc`, `__pte_alloc`). Replaces a leaf already
   * in the slot. Returns false, with no table left behind, if a table frame
   * cannot be allocated. Throws on a model bug: bad order or alignment, a 4 KiB
   * page inside an existing huge leaf, or a huge leaf over a table that still
   * maps pages (Linux splits or collapses first).
   */
  map(vpn: number, pfn: number, order: number, bits: number): boolean {
    if (this.destroyed) throw new Error('map: the page table was destroyed');
    if (order !== 0 && order !== 9 && order !== 18) throw new RangeError(`x86-64 leaves have order 0, 9 or 18, not ${order}`);
    const size = 1 << order;
    // Alignment by mask, not `%` (a floating-point modulo on a number above 2^31, ~15 ns):
    // exact for the integers below 2^53 that pass the checks before it.
    if (!Number.isInteger(vpn) || vpn < 0 || vpn >= this.limit || (vpn & (size - 1)) !== 0) {
      throw new RangeError(`map: vpn ${vpn} is outside the tree or not aligned to order ${order}`);
    }
    if (!Number.isInteger(pfn) || pfn < 0 || pfn > X86_MAX_PFN || (pfn & (size - 1)) !== 0) {
      throw new RangeError(`map: pfn ${pfn} is invalid or not aligned to order ${order}`);
    }
    checkLeafBits(bits);
    if (order === 0) {
      // A PTE in the table the last walk ended in (the fault path's retry of a
      // translation that just missed there): no walk.
      const off = vpn - this.cachedBase;
      if (off >= 0 && off < X86_PTRS_PER_TABLE) {
        this.setLeaf(this.cachedTable!, off << 1, vpn, pfn, 0, bits);
        return true;
      }
    }
    const target = this.levels - 1 - order / 9;
    const t = this.leafTable(vpn, target, 'map');
    if (t === null) return false;
    const i = (vpn * this.invScales[target]!) & 511;
    if (order === 0) {
      // Remember the PTE table, as a walk to it does (the next page is likely in it).
      this.cachedBase = vpn - i;
      this.cachedTable = t;
    }
    this.setLeaf(t, i << 1, vpn, pfn, order, bits);
    return true;
  }

  /** `set_pte_at` into entry `k / 2` of table `t`: count a new entry, or flush the leaf it replaces. */
  private setLeaf(t: X86TablePage, k: number, vpn: number, pfn: number, order: number, bits: number): void {
    let e = t.entries;
    if (e === NO_ENTRIES) e = t.entries = this.spareEntries.pop() ?? new Uint32Array(2 * X86_PTRS_PER_TABLE);
    if (e[k] === 0 && e[k + 1] === 0) t.used++;
    else this.tlb?.flushRange(vpn, 1 << order); // a leaf is replaced: set_pte_at over a live entry, then flush
    e[k] = x86EntryLo(pfn, order, bits);
    e[k + 1] = x86EntryHi(pfn, order, bits);
  }

  /**
   * `huge_pte_alloc`: allocate the tables down to the level that holds an
   * order-`order` leaf at `vpn`, as {@link map} would, without installing a
   * leaf (so nothing is flushed: no translation changes). Returns false, with
   * no table left behind, if a table frame cannot be allocated; throws on the
   * model bugs {@link map} throws on.
   * @see mm/hugetlb.c huge_pte_alloc
   */
  allocTables(vpn: number, order: number): boolean {
    if (this.destroyed) throw new Error('allocTables: the page table was destroyed');
    if (order !== 0 && order !== 9 && order !== 18) throw new RangeError(`x86-64 leaves have order 0, 9 or 18, not ${order}`);
    const size = 1 << order;
    if (!Number.isInteger(vpn) || vpn < 0 || vpn >= this.limit || (vpn & (size - 1)) !== 0) {
      throw new RangeError(`allocTables: vpn ${vpn} is outside the tree or not aligned to order ${order}`);
    }
    return this.leafTable(vpn, this.levels - 1 - order / 9, 'allocTables') !== null;
  }

  /**
   * The table at depth `target` on the way to `vpn`, allocating the missing
   * tables above it (`pud_alloc`, `pmd_alloc`, `pte_alloc`); an empty table
   * where a huge leaf at that depth would go is freed. Null, with no new table
   * left behind, when a table frame cannot be allocated. Throws (naming
   * `caller`) if a huge leaf or a table that still maps pages is in the way.
   */
  private leafTable(vpn: number, target: number, caller: string): X86TablePage | null {
    let t = this.root;
    let fresh: X86TablePage | null = null;
    for (let d = 0; d < target; d++) {
      const i = (vpn * this.invScales[d]!) & 511;
      const k = i << 1;
      if (t.entries[k] !== 0 || t.entries[k + 1] !== 0) {
        const c = t.children?.[i];
        if (c === undefined) {
          if (fresh !== null) this.removeTable(fresh);
          throw new Error(`${caller}: vpn ${vpn} lies inside a huge ${this.names[d]} leaf; split or unmap it first`);
        }
        t = c;
        continue;
      }
      const f = this.frames.allocTableFrame();
      if (f < 0) {
        if (fresh !== null) this.removeTable(fresh);
        return null;
      }
      // A PTE table gets its own entry array with its first leaf (setLeaf).
      const c = new X86TablePage(f, d + 1, t, i, d + 1 === this.levels - 1 ? NO_ENTRIES : this.spareEntries.pop());
      t.entries[k] = tableEntryLo(f);
      t.entries[k + 1] = tableEntryHi(f);
      (t.children ??= this.spareChildren.pop() ?? new Array<X86TablePage | undefined>(X86_PTRS_PER_TABLE))[i] = c;
      t.used++;
      this.pages++;
      this.pagesAt[d + 1]!++;
      fresh ??= c;
      t = c;
    }
    const below = t.children?.[(vpn * this.invScales[target]!) & 511];
    if (below !== undefined) {
      if (hasLeaves(below)) {
        throw new Error(`${caller}: a ${this.names[target + 1]} table that still maps pages is in the way of a huge leaf at vpn ${vpn}`);
      }
      this.removeTable(below);
    }
    return t;
  }

  /** {@link PageTable.hasTable}: the entry for an order-`order` leaf at `vpn` points to a table. */
  hasTable(vpn: number, order: number): boolean {
    if (!(vpn >= 0 && vpn < this.limit)) return false;
    const target = this.levels - 1 - order / 9;
    let t = this.root;
    for (let d = 0; d <= target; d++) {
      const i = (vpn * this.invScales[d]!) & 511;
      const c = t.children?.[i];
      if (c === undefined) return false;
      if (d === target) return true;
      t = c;
    }
    return false;
  }

  /** Re-encode the leaf covering `vpn` with new bits (`set_pte_at` of `pte_modify`); no-op if none. */
  setBits(vpn: number, bits: number): void {
    const t = this.locate(vpn);
    if (t === null) return;
    checkLeafBits(bits);
    const k = this.locIndex;
    const order = this.locOrder;
    const pfn = x86EntryPfn(t.entries[k]!, t.entries[k + 1]!, order);
    t.entries[k] = x86EntryLo(pfn, order, bits);
    t.entries[k + 1] = x86EntryHi(pfn, order, bits);
    if (this.tlb !== null) this.tlb.flushRange(order === 0 ? vpn : vpn - (vpn & ((1 << order) - 1)), 1 << order);
  }

  /** What {@link unmap} returns, rewritten by every call (munmap of many pages allocates nothing per page). */
  private readonly unmappedView = { pfn: 0, order: 0, bits: 0 };

  /** `ptep_get_and_clear` / `pmdp_huge_get_and_clear` / `pudp_huge_get_and_clear`. Tables stay until {@link freeEmptyTables}. */
  unmap(vpn: number): PteView | null {
    const t = this.locate(vpn);
    if (t === null) return null;
    const k = this.locIndex;
    const lo = t.entries[k]!;
    const hi = t.entries[k + 1]!;
    const view = this.unmappedView;
    view.pfn = x86EntryPfn(lo, hi, this.locOrder);
    view.order = this.locOrder;
    view.bits = x86EntryBits(lo, hi);
    t.entries[k] = 0;
    t.entries[k + 1] = 0;
    t.used--;
    if (this.tlb !== null) {
      const order = this.locOrder;
      this.tlb.flushRange(order === 0 ? vpn : vpn - (vpn & ((1 << order) - 1)), 1 << order);
    }
    return view;
  }

  /** The view {@link forEachLeaf} passes for every leaf, rewritten (no object per leaf). */
  private readonly leafView = { pfn: 0, order: 0, bits: 0 };

  /**
   * Visit the leaves overlapping `[startVpn, endVpn)` in ascending order,
   * descending only into tables that exist (cost ∝ populated tables × 512, not
   * range size). The callback may `unmap` or `setBits` the leaf it is given;
   * no table is freed during the walk.
   * @see mm/pagewalk.c walk_page_range
   */
  forEachLeaf(startVpn: number, endVpn: number, visit: (vpn: number, leaf: PteView) => void): void {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (!(start < end)) return;
    if (end - start <= X86_PTRS_PER_TABLE && start - (start & 511) === end - 1 - ((end - 1) & 511)) {
      // Inside one PTE table's span (an munmap of a few pages): one walk down, no recursion.
      const t = this.pathEnd(start);
      if (this.pathEmpty) return; // an empty entry on the way: no leaf in the range
      if (this.pathLeaf) {
        // A huge leaf covers the whole range: visit it once, at its first vpn.
        const d = this.pathDepth;
        const k = this.pathIndex;
        const order = this.orders[d]!;
        const leaf = this.leafView;
        leaf.pfn = x86EntryPfn(t.entries[k]!, t.entries[k + 1]!, order);
        leaf.order = order;
        leaf.bits = x86EntryBits(t.entries[k]!, t.entries[k + 1]!);
        visit(start - (start & (this.scales[d]! - 1)), leaf);
        return;
      }
      const e = t.entries;
      const base = start - (start & 511);
      const leaf = this.leafView;
      for (let i = start & 511, last = (end - 1) & 511; i <= last; i++) {
        const lo = e[i << 1]!;
        const hi = e[(i << 1) + 1]!;
        if (lo === 0 && hi === 0) continue;
        leaf.pfn = x86EntryPfn(lo, hi, 0);
        leaf.order = 0;
        leaf.bits = x86EntryBits(lo, hi);
        visit(base + i, leaf);
      }
      return;
    }
    this.visitTable(this.root, 0, start, end, visit);
  }

  /**
   * Set by {@link pathEnd}: the walk stopped above the PTE level at an empty
   * entry ({@link pathEmpty}) or at a huge leaf ({@link pathLeaf}), entry
   * {@link pathIndex} / 2 of a table at depth {@link pathDepth}.
   */
  private pathEmpty = false;
  private pathLeaf = false;
  private pathIndex = 0;
  private pathDepth = 0;

  /**
   * The last table on the way to `vpn`: its PTE table, or the table above
   * whose entry for `vpn` is empty or a huge leaf (see {@link pathEmpty}).
   */
  private pathEnd(vpn: number): X86TablePage {
    this.pathEmpty = false;
    this.pathLeaf = false;
    const off = vpn - this.cachedBase;
    if (off >= 0 && off < X86_PTRS_PER_TABLE) return this.cachedTable!; // the PTE table the last walk ended in
    const last = this.levels - 1;
    const inv = this.invScales;
    let t = this.root;
    for (let d = 0; d < last; d++) {
      const k = ((vpn * inv[d]!) & 511) << 1;
      const lo = t.entries[k]!;
      if ((lo & (X86_PAGE_PRESENT | X86_PAGE_PSE)) === X86_PAGE_PRESENT) {
        t = t.children![k >> 1]!;
        continue;
      }
      if (lo === 0 && t.entries[k + 1] === 0) this.pathEmpty = true;
      else this.pathLeaf = true;
      this.pathIndex = k;
      this.pathDepth = d;
      return t;
    }
    this.cachedBase = vpn - (vpn & 511);
    this.cachedTable = t;
    return t;
  }

  /**
   * {@link PageTable.mayFreeTables}: false when `[startVpn, endVpn)` lies in
   * one PTE table's span and the last table on the way to it still holds an
   * entry — every table that overlaps the range is then on that path and in
   * use, so {@link freeEmptyTables} would free nothing.
   */
  mayFreeTables(startVpn: number, endVpn: number): boolean {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (!(start < end)) return false;
    if (end - start > X86_PTRS_PER_TABLE || start - (start & 511) !== end - 1 - ((end - 1) & 511)) return true;
    return this.pathEnd(start).used === 0;
  }

  private visitTable(
    t: X86TablePage,
    base: number,
    start: number,
    end: number,
    visit: (vpn: number, leaf: PteView) => void,
  ): void {
    if (t.used === 0) return;
    const d = t.depth;
    const scale = this.scales[d]!;
    const first = start <= base ? 0 : Math.floor((start - base) / scale);
    const last = Math.min(X86_PTRS_PER_TABLE - 1, Math.ceil((end - base) / scale) - 1);
    const e = t.entries;
    const children = t.children;
    const order = this.orders[d]!;
    for (let i = first; i <= last; i++) {
      const k = i << 1;
      const lo = e[k]!;
      const hi = e[k + 1]!;
      if (lo === 0 && hi === 0) continue;
      const vpn = base + i * scale;
      const c = children?.[i];
      if (c !== undefined) {
        this.visitTable(c, vpn, start, end, visit);
      } else {
        const leaf = this.leafView;
        leaf.pfn = x86EntryPfn(lo, hi, order);
        leaf.order = order;
        leaf.bits = x86EntryBits(lo, hi);
        visit(vpn, leaf);
      }
    }
  }

  /**
   * `free_pgd_range` for `[startVpn, endVpn)`: free every table page below the
   * top that has no entries left (after its own empty children are freed),
   * whose span overlaps the range and lies inside `[floorVpn, ceilingVpn)`.
   * The top level is never freed.
   * @see mm/memory.c free_pgtables, free_pgd_range
   */
  freeEmptyTables(startVpn: number, endVpn: number, floorVpn = 0, ceilingVpn = Infinity): void {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (!(start < end)) return;
    this.prune(this.root, 0, start, end, floorVpn, ceilingVpn, false);
  }

  /** {@link PageTable.freeEmptyPteTables}: the empty PTE tables whose 2 MiB span lies inside the range. */
  freeEmptyPteTables(startVpn: number, endVpn: number): void {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (!(start < end)) return;
    this.prune(this.root, 0, start, end, start, end, true);
  }

  private prune(t: X86TablePage, base: number, start: number, end: number, floor: number, ceiling: number, pteOnly: boolean): void {
    const children = t.children;
    if (children === undefined || t.used === 0) return;
    const scale = this.scales[t.depth]!;
    const first = start <= base ? 0 : Math.floor((start - base) / scale);
    const last = Math.min(X86_PTRS_PER_TABLE - 1, Math.ceil((end - base) / scale) - 1);
    const pteDepth = this.levels - 1;
    for (let i = first; i <= last; i++) {
      const c = children[i];
      if (c === undefined) continue;
      const cb = base + i * scale;
      this.prune(c, cb, start, end, floor, ceiling, pteOnly);
      if (c.used === 0 && cb >= floor && cb + scale <= ceiling && (!pteOnly || c.depth === pteDepth)) this.removeTable(c);
    }
  }

  /**
   * Unlink table `c` from its parent and free it and everything below it
   * (`pmd_free`, `pte_free`). Only tables that map nothing are removed (no
   * leaf anywhere below), and every leaf was flushed from the TLB when it was
   * cleared or replaced (`unmap`, `map`, `setBits`), so no TLB entry can
   * translate through `c`: there is nothing to flush (Linux's single
   * `tlb_finish_mmu` flush covers the unmapped range, not the tables' spans).
   * The one-table walk cache is dropped in {@link freeSubtree}.
   */
  private removeTable(c: X86TablePage): void {
    const p = c.parent!;
    const k = c.index << 1;
    p.entries[k] = 0;
    p.entries[k + 1] = 0;
    p.children![c.index] = undefined;
    p.used--;
    this.freeSubtree(c);
  }

  private freeSubtree(t: X86TablePage): void {
    this.cachedBase = -Infinity;
    this.cachedTable = null;
    const children = t.children;
    if (children !== undefined && t.used > 0) {
      for (let i = 0; i < X86_PTRS_PER_TABLE; i++) {
        const c = children[i];
        if (c !== undefined) this.freeSubtree(c);
      }
    }
    this.frames.freeTableFrame(t.pfn);
    this.pages--;
    this.pagesAt[t.depth]!--;
    if (t.used === 0 && t !== this.root) {
      // An empty table: its entries are all zero and its children all gone; keep the arrays.
      if (t.entries !== NO_ENTRIES && this.spareEntries.length < SPARE_TABLES) this.spareEntries.push(t.entries);
      if (children !== undefined) {
        t.children = undefined;
        if (this.spareChildren.length < SPARE_TABLES) this.spareChildren.push(children);
      }
    }
  }

  /** Table pages in use, the top level included. */
  tablePages(): number {
    return this.pages;
  }

  /** Table pages in use at one level (`PGD`, `P4D`, `PUD`, `PMD`, `PTE`); 0 for a level this tree lacks. */
  tablePagesAt(level: string): number {
    const d = this.names.indexOf(level);
    return d < 0 ? 0 : this.pagesAt[d]!;
  }

  /**
   * `mm_pgtables_bytes`: the bytes of PUD, PMD and PTE tables (Linux counts
   * neither the PGD nor P4D tables), shown as `VmPTE` in `/proc/PID/status`.
   * @see include/linux/mm.h mm_pgtables_bytes, mm_inc_nr_ptes
   */
  pgtablesBytes(): number {
    return (this.tablePagesAt('PUD') + this.tablePagesAt('PMD') + this.tablePagesAt('PTE')) * 4096;
  }

  /**
   * Free every table page, the top level included (`free_pgtables` over the
   * whole space, then `pgd_free` at `exit_mmap`). Leaves' frames are not
   * touched: the caller zaps mappings first. The table is unusable afterwards.
   * @see mm/mmap.c exit_mmap
   * @see arch/x86/mm/pgtable.c pgd_free
   */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.tlb?.flushAllIncludingGlobal();
    this.freeSubtree(this.root);
    this.root.children = undefined;
    this.root.entries.fill(0);
    this.root.used = 0;
  }

  /**
   * The hardware walk for `vpn` as an inspection tool sees it: one step per
   * level visited, down to a leaf or an empty entry.
   */
  walk(vpn: number): X86WalkStep[] {
    const steps: X86WalkStep[] = [];
    if (!(vpn >= 0 && vpn < this.limit)) return steps;
    let t: X86TablePage | undefined = this.root;
    for (let d = 0; d < this.levels && t !== undefined; d++) {
      const i = (vpn / this.scales[d]!) & 511;
      const lo = t.entries[2 * i]!;
      const hi = t.entries[2 * i + 1]!;
      const next: X86TablePage | undefined = t.children?.[i];
      const kind = lo === 0 && hi === 0 ? 'none' : next !== undefined ? 'table' : 'leaf';
      const isLarge = kind === 'leaf' && d !== this.levels - 1;
      steps.push({
        level: this.names[d]!,
        index: i,
        tablePfn: t.pfn,
        entry: x86EntryToBigint(lo, hi),
        kind,
        flags: x86EntryFlagNames(lo, hi, isLarge),
      });
      if (kind !== 'table') break;
      t = next;
    }
    return steps;
  }
}

/** A leaf must be present or PROT_NONE: swap entries are not modelled. */
function checkLeafBits(bits: number): void {
  if ((bits & (PteBits.PRESENT | PteBits.PROTNONE)) === 0) {
    throw new RangeError('a leaf entry must carry PteBits.PRESENT or PteBits.PROTNONE');
  }
}

function hasLeaves(t: X86TablePage): boolean {
  if (t.used === 0) return false;
  const children = t.children;
  for (let i = 0; i < X86_PTRS_PER_TABLE; i++) {
    if (t.entries[2 * i] === 0 && t.entries[2 * i + 1] === 0) continue;
    const c = children?.[i];
    if (c === undefined || hasLeaves(c)) return true;
  }
  return false;
}
