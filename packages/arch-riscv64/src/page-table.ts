/**
 * RISC-V page tables: a radix tree of 512-entry tables, 3 levels (Sv39), 4
 * (Sv48) or 5 (Sv57), each level translating 9 bits of the virtual page
 * number. A leaf may sit at any level: 4 KiB in the last, a 2 MiB megapage one
 * level up, a 1 GiB gigapage two levels up (Linux maps hugetlb pages with
 * PMD and PUD leaves; on Sv39 the PUD is folded into the PGD).
 *
 * Every table page is a frame from the machine's frame allocator, and its
 * entries are stored exactly (two 32-bit halves per 64-bit entry).
 * @see arch/riscv/include/asm/pgtable.h, pgtable-64.h
 * @see arch/riscv/mm/pgtable.c
 * @see mm/memory.c __pte_alloc, __pmd_alloc, free_pgtables
 */

import { PteBits, type PageTable, type PageTableFrameSource, type PageTableWalkStep, type PteView } from '@mmsim/arch';
import { RISCV_MODES, RISCV_PTRS_PER_TABLE, type RiscvModeInfo, type RiscvPagingMode } from './constants.js';
import {
  SV_MAX_PFN,
  SV_PAGE_TABLE,
  SV_R,
  SV_V,
  SV_W,
  SV_X,
  svEntryBits,
  svEntryHi,
  svEntryLo,
  svEntryPfn,
  svEntryToBigint,
  svFlagNames,
  svFlags,
} from './pte.js';

/**
 * The entries of every last-level table that has not held a leaf yet: all
 * zero, read but never written ({@link RiscvPageTable.map} gives the table
 * its own array first), so that a guard over hundreds of GiB, which allocates
 * a PTE table per 2 MiB as Linux does, costs no 4 KiB of entries each.
 */
const NO_ENTRIES = new Uint32Array(2 * RISCV_PTRS_PER_TABLE);

/** One page-table page: its frame, its 512 entries, and the tables below it. */
export class RiscvTablePage {
  /** Entry `i`: low half at `2i`, high half at `2i + 1` (a shared zero array until a last-level table's first leaf). */
  entries: Uint32Array;
  /** Tables below, by index (created on first use). */
  children: (RiscvTablePage | undefined)[] | undefined = undefined;
  /** Non-empty entries. */
  used = 0;

  constructor(
    /** The frame holding this table. */
    readonly pfn: number,
    /** 0 for the root (the table `satp` points to). */
    readonly depth: number,
    /** Start with the shared zero entries (a last-level table). */
    lazy = false,
  ) {
    this.entries = lazy ? NO_ENTRIES : new Uint32Array(2 * RISCV_PTRS_PER_TABLE);
  }
}

/**
 * The page-table tree of one RISC-V address space (`mm->pgd`, the root whose
 * frame `satp.PPN` holds while the process runs).
 *
 * A non-zero entry without a table below it is a leaf, present (V set) or
 * PROT_NONE (V clear, `_PAGE_PROT_NONE` = G set); swap entries are not
 * modelled.
 */
export class RiscvPageTable implements PageTable {
  readonly levels: number;
  /** The paging mode. */
  readonly info: RiscvModeInfo;
  /** The root table. */
  readonly root: RiscvTablePage;
  private readonly frames: PageTableFrameSource;
  /** Base pages covered by one entry at each depth. */
  private readonly scales: readonly number[];
  /** First vpn beyond the tree. */
  private readonly limit: number;
  private pages = 1;
  private destroyed = false;

  /**
   * Allocate the root table (`pgd_alloc`). Throws if no frame is left for it.
   * @see arch/riscv/include/asm/pgalloc.h pgd_alloc
   */
  constructor(frames: PageTableFrameSource, mode: RiscvPagingMode = 'sv39') {
    const info = RISCV_MODES[mode];
    if (!info) throw new RangeError(`unknown RISC-V paging mode ${String(mode)}`);
    this.info = info;
    this.levels = info.levels;
    this.frames = frames;
    this.scales = Array.from({ length: info.levels }, (_, d) => 2 ** (9 * (info.levels - 1 - d)));
    this.limit = 2 ** (9 * info.levels);
    const pfn = frames.allocTableFrame();
    if (pfn < 0) throw new Error('pgd_alloc: no frame for the root page table');
    this.root = new RiscvTablePage(pfn, 0);
  }

  /** The table holding the leaf covering `vpn`, its entry index and the leaf's order; null if none. */
  private find(vpn: number): { t: RiscvTablePage; i: number; order: number } | null {
    if (!(vpn >= 0 && vpn < this.limit)) return null;
    let t = this.root;
    for (let d = 0; d < this.levels; d++) {
      const i = Math.floor(vpn / this.scales[d]!) & 511;
      const c = t.children?.[i];
      if (c !== undefined) {
        t = c;
        continue;
      }
      if (t.entries[2 * i] === 0 && t.entries[2 * i + 1] === 0) return null;
      return { t, i, order: 9 * (this.levels - 1 - d) };
    }
    return null;
  }

  /**
   * Where the leaf covering `vpn` lives, for the MMU: the table, the entry's
   * index in it and the leaf's order; null if no entry maps `vpn`.
   */
  leafEntry(vpn: number): { readonly t: RiscvTablePage; readonly i: number; readonly order: number } | null {
    return this.find(vpn);
  }

  lookup(vpn: number): PteView | null {
    const f = this.find(vpn);
    if (f === null) return null;
    const lo = f.t.entries[2 * f.i]!;
    return { pfn: svEntryPfn(lo, f.t.entries[2 * f.i + 1]!), order: f.order, bits: svEntryBits(lo) };
  }

  /**
   * `set_pte_at` / `set_pmd_at` / `set_pud_at`, allocating the tables on the
   * way. Replaces a leaf already in the slot. Returns false if a table frame
   * cannot be allocated (nothing is left behind). Throws on a model bug: bad
   * order or alignment, a page inside an existing larger leaf, or a huge leaf
   * over a table that still maps pages.
   */
  map(vpn: number, pfn: number, order: number, bits: number): boolean {
    if (this.destroyed) throw new Error('map: the page table was destroyed');
    if (order !== 0 && order !== 9 && order !== 18) throw new RangeError(`RISC-V leaves here have order 0, 9 or 18, not ${order}`);
    const size = 2 ** order;
    // Alignment by mask (exact for the integers below 2^53 the checks before it let through), not a floating-point `%`.
    if (!Number.isInteger(vpn) || vpn < 0 || vpn >= this.limit || (vpn & (size - 1)) !== 0) {
      throw new RangeError(`map: vpn ${vpn} is outside the tree or not aligned to order ${order}`);
    }
    // A misaligned superpage is a page fault on RISC-V: never build one.
    if (!Number.isInteger(pfn) || pfn < 0 || pfn > SV_MAX_PFN || (pfn & (size - 1)) !== 0) {
      throw new RangeError(`map: pfn ${pfn} is invalid or not aligned to order ${order}`);
    }
    if ((bits & (PteBits.PRESENT | PteBits.PROTNONE)) === 0) throw new RangeError('a leaf must carry PteBits.PRESENT or PteBits.PROTNONE');
    const flags = svFlags(bits);
    if ((flags & SV_V) !== 0 && (flags & (SV_R | SV_W | SV_X)) === 0) throw new RangeError('a valid RISC-V leaf needs R, W or X');
    if ((flags & (SV_R | SV_W)) === SV_W) throw new RangeError('W without R is reserved in a RISC-V PTE');
    const target = this.levels - 1 - order / 9;
    if (target < 0) throw new RangeError(`map: no level maps order ${order} with ${this.levels} levels`);
    const t = this.tableAt(vpn, target, 'map');
    if (t === null) return false;
    const i = Math.floor(vpn / this.scales[target]!) & 511;
    const below = t.children?.[i];
    if (below !== undefined) {
      if (hasLeaves(below)) throw new Error(`map: a table that still maps pages is in the way of a huge leaf at vpn ${vpn}`);
      this.freeSubtree(below);
      t.children![i] = undefined;
      t.used--;
      t.entries[2 * i] = 0;
      t.entries[2 * i + 1] = 0;
    }
    if (t.entries === NO_ENTRIES) t.entries = new Uint32Array(2 * RISCV_PTRS_PER_TABLE);
    if (t.entries[2 * i] === 0 && t.entries[2 * i + 1] === 0) t.used++;
    t.entries[2 * i] = svEntryLo(pfn, flags);
    t.entries[2 * i + 1] = svEntryHi(pfn);
    return true;
  }

  /**
   * `huge_pte_alloc` / `__pte_alloc`: the tables down to the level that holds
   * an order-`order` leaf at `vpn`, nothing mapped. False, with no new table
   * left behind, if a table frame cannot be had; throws if a leaf is in the way.
   */
  allocTables(vpn: number, order: number): boolean {
    if (this.destroyed) throw new Error('allocTables: the page table was destroyed');
    if (order !== 0 && order !== 9 && order !== 18) throw new RangeError(`RISC-V leaves here have order 0, 9 or 18, not ${order}`);
    if (!Number.isInteger(vpn) || vpn < 0 || vpn >= this.limit || (vpn & (2 ** order - 1)) !== 0) {
      throw new RangeError(`allocTables: vpn ${vpn} is outside the tree or not aligned to order ${order}`);
    }
    return this.tableAt(vpn, this.levels - 1 - order / 9, 'allocTables') !== null;
  }

  /**
   * The table at depth `target` on the way to `vpn`, allocating the missing
   * ones (`pud_alloc`, `pmd_alloc`, `pte_alloc`). Null, with no new table left
   * behind, when a table frame cannot be had; throws (naming `caller`) if a
   * leaf is in the way.
   */
  private tableAt(vpn: number, target: number, caller: string): RiscvTablePage | null {
    let t = this.root;
    const fresh: Array<[RiscvTablePage, number]> = [];
    for (let d = 0; d < target; d++) {
      const i = Math.floor(vpn / this.scales[d]!) & 511;
      const c = t.children?.[i];
      if (c !== undefined) {
        t = c;
        continue;
      }
      if (t.entries[2 * i] !== 0 || t.entries[2 * i + 1] !== 0) {
        this.undo(fresh);
        throw new Error(`${caller}: vpn ${vpn} lies inside a huge leaf; split or unmap it first`);
      }
      const f = this.frames.allocTableFrame();
      if (f < 0) {
        this.undo(fresh);
        return null;
      }
      const n = new RiscvTablePage(f, d + 1, d + 1 === this.levels - 1);
      t.entries[2 * i] = svEntryLo(f, SV_PAGE_TABLE);
      t.entries[2 * i + 1] = svEntryHi(f);
      (t.children ??= new Array<RiscvTablePage | undefined>(RISCV_PTRS_PER_TABLE))[i] = n;
      t.used++;
      this.pages++;
      fresh.push([t, i]);
      t = n;
    }
    return t;
  }

  /** {@link PageTable.hasTable}: the entry for an order-`order` leaf at `vpn` points to a table (`!pmd_none` with a PTE table below, for order 9). */
  hasTable(vpn: number, order: number): boolean {
    if (!(vpn >= 0 && vpn < this.limit)) return false;
    const target = this.levels - 1 - order / 9;
    if (target < 0) return false;
    let t = this.root;
    for (let d = 0; d <= target; d++) {
      const c = t.children?.[Math.floor(vpn / this.scales[d]!) & 511];
      if (c === undefined) return false;
      if (d === target) return true;
      t = c;
    }
    return false;
  }

  /** Free the tables a failed {@link map} created (the first one frees the rest). */
  private undo(fresh: Array<[RiscvTablePage, number]>): void {
    const first = fresh[0];
    if (!first) return;
    const [parent, i] = first;
    this.freeSubtree(parent.children![i]!);
    parent.children![i] = undefined;
    parent.entries[2 * i] = 0;
    parent.entries[2 * i + 1] = 0;
    parent.used--;
  }

  /** Re-encode the leaf covering `vpn` with new bits (`set_pte_at(pte_modify(...))`); no-op if none. */
  setBits(vpn: number, bits: number): void {
    const f = this.find(vpn);
    if (f === null) return;
    if ((bits & (PteBits.PRESENT | PteBits.PROTNONE)) === 0) throw new RangeError('a leaf must carry PteBits.PRESENT or PteBits.PROTNONE');
    const e = f.t.entries;
    const pfn = svEntryPfn(e[2 * f.i]!, e[2 * f.i + 1]!);
    e[2 * f.i] = svEntryLo(pfn, svFlags(bits));
  }

  /** `ptep_get_and_clear` (and the PMD/PUD forms). Tables stay until {@link freeEmptyTables}. */
  unmap(vpn: number): PteView | null {
    const f = this.find(vpn);
    if (f === null) return null;
    const e = f.t.entries;
    const lo = e[2 * f.i]!;
    const view: PteView = { pfn: svEntryPfn(lo, e[2 * f.i + 1]!), order: f.order, bits: svEntryBits(lo) };
    e[2 * f.i] = 0;
    e[2 * f.i + 1] = 0;
    f.t.used--;
    return view;
  }

  /** The view {@link forEachLeaf} passes for every leaf, rewritten (no object per leaf). */
  private readonly leafView = { pfn: 0, order: 0, bits: 0 };

  /** Visit the leaves overlapping `[startVpn, endVpn)` in ascending order (existing tables only). */
  forEachLeaf(startVpn: number, endVpn: number, visit: (vpn: number, leaf: PteView) => void): void {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (start < end) this.visitTable(this.root, 0, start, end, visit);
  }

  private visitTable(t: RiscvTablePage, base: number, start: number, end: number, visit: (vpn: number, leaf: PteView) => void): void {
    if (t.used === 0) return;
    const scale = this.scales[t.depth]!;
    const order = 9 * (this.levels - 1 - t.depth);
    const first = start <= base ? 0 : Math.floor((start - base) / scale);
    const last = Math.min(RISCV_PTRS_PER_TABLE - 1, Math.ceil((end - base) / scale) - 1);
    for (let i = first; i <= last; i++) {
      const lo = t.entries[2 * i]!;
      const hi = t.entries[2 * i + 1]!;
      if (lo === 0 && hi === 0) continue;
      const c = t.children?.[i];
      if (c !== undefined) this.visitTable(c, base + i * scale, start, end, visit);
      else {
        const leaf = this.leafView;
        leaf.pfn = svEntryPfn(lo, hi);
        leaf.order = order;
        leaf.bits = svEntryBits(lo);
        visit(base + i * scale, leaf);
      }
    }
  }

  /**
   * `free_pgd_range`: free every table below the root that overlaps the range,
   * maps nothing and whose span lies inside `[floorVpn, ceilingVpn)`.
   * @see mm/memory.c free_pgtables, free_pgd_range
   */
  freeEmptyTables(startVpn: number, endVpn: number, floorVpn = 0, ceilingVpn = Infinity): void {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (start < end) this.prune(this.root, 0, start, end, floorVpn, ceilingVpn, false);
  }

  /** CONFIG_PT_RECLAIM: the empty last-level tables whose span lies inside the range. @see mm/pt_reclaim.c */
  freeEmptyPteTables(startVpn: number, endVpn: number): void {
    const start = Math.max(0, startVpn);
    const end = Math.min(this.limit, endVpn);
    if (start < end) this.prune(this.root, 0, start, end, start, end, true);
  }

  private prune(t: RiscvTablePage, base: number, start: number, end: number, floor: number, ceiling: number, lastOnly: boolean): void {
    const children = t.children;
    if (children === undefined || t.used === 0) return;
    const scale = this.scales[t.depth]!;
    const first = start <= base ? 0 : Math.floor((start - base) / scale);
    const last = Math.min(RISCV_PTRS_PER_TABLE - 1, Math.ceil((end - base) / scale) - 1);
    for (let i = first; i <= last; i++) {
      const c = children[i];
      if (c === undefined) continue;
      const cb = base + i * scale;
      this.prune(c, cb, start, end, floor, ceiling, lastOnly);
      if (c.used !== 0 || cb < floor || cb + scale > ceiling || (lastOnly && c.depth !== this.levels - 1)) continue;
      this.freeSubtree(c);
      children[i] = undefined;
      t.entries[2 * i] = 0;
      t.entries[2 * i + 1] = 0;
      t.used--;
    }
  }

  private freeSubtree(t: RiscvTablePage): void {
    if (t.children !== undefined) for (const c of t.children) if (c !== undefined) this.freeSubtree(c);
    this.frames.freeTableFrame(t.pfn);
    this.pages--;
  }

  tablePages(): number {
    return this.pages;
  }

  /** Free every table, the root included (`exit_mmap`); leaves' frames are the caller's. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.freeSubtree(this.root);
    this.root.children = undefined;
    this.root.entries.fill(0);
    this.root.used = 0;
  }

  /** The walk for `vpn`, one step per level visited, with the entries' V/R/W/X/U/G/A/D names. */
  walk(vpn: number): PageTableWalkStep[] {
    const steps: PageTableWalkStep[] = [];
    if (!(vpn >= 0 && vpn < this.limit)) return steps;
    let t: RiscvTablePage | undefined = this.root;
    for (let d = 0; d < this.levels && t !== undefined; d++) {
      const i = Math.floor(vpn / this.scales[d]!) & 511;
      const lo = t.entries[2 * i]!;
      const hi = t.entries[2 * i + 1]!;
      const next: RiscvTablePage | undefined = t.children?.[i];
      const kind = lo === 0 && hi === 0 ? 'none' : next !== undefined ? 'table' : 'leaf';
      steps.push({ level: this.info.levelNames[d]!, index: i, tablePfn: t.pfn, entry: svEntryToBigint(lo, hi), kind, flags: svFlagNames(lo, hi) });
      if (kind !== 'table') break;
      t = next;
    }
    return steps;
  }
}

function hasLeaves(t: RiscvTablePage): boolean {
  if (t.used === 0) return false;
  for (let i = 0; i < RISCV_PTRS_PER_TABLE; i++) {
    if (t.entries[2 * i] === 0 && t.entries[2 * i + 1] === 0) continue;
    const c = t.children?.[i];
    if (c === undefined || hasLeaves(c)) return true;
  }
  return false;
}
