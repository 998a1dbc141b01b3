/**
 * Physical pages: what each allocated frame is used for (`struct page` /
 * `struct folio`, the part the model needs) and its contents.
 *
 * Contents are metadata until written: a frame nobody wrote reads as zeros and
 * costs nothing but its descriptor.
 * @see include/linux/mm_types.h struct page
 */

import type { VmInode } from './file.js';
import { extendTo } from './dense-index.js';

/** What a frame holds. */
export const PageKind = {
  /** An anonymous page (private, owned by an anon_vma). */
  ANON: 1,
  /** A page-cache page of a file (tmpfs/shmem included). */
  FILE: 2,
  /** The shared zero page (never counted in Rss, never freed). */
  ZERO: 3,
  /** A hugetlb page (counted in the hugetlb pools, never in Rss). */
  HUGETLB: 4,
  /** A page-table page. */
  PAGETABLE: 5,
} as const;
/** One of {@link PageKind}'s values. */
export type PageKind = (typeof PageKind)[keyof typeof PageKind];

/** `struct anon_vma`: the identity anonymous pages are filed under; decides which VMAs may merge. */
export class AnonVma {
  private static nextId = 1;
  /** A number for debugging and explanations. */
  readonly id = AnonVma.nextId++;
}

/**
 * Page flags the model keeps per block (the part of `page->flags` it needs).
 * @see include/linux/page-flags.h
 */
export const PageFlags = {
  /**
   * An anonymous folio `MADV_FREE` made lazily freeable: Linux clears its
   * `PG_swapbacked` (`folio_mark_lazyfree`); kept here as a set bit. Cleared
   * with the rest of the descriptor when the block is freed.
   */
  LAZYFREE: 1,
  /**
   * `PG_dirty` of a page-cache folio: written through `write()` (a tmpfs
   * `fill`) or through a mapping whose dirty PTE was zapped
   * (`zap_pte_range`'s `folio_mark_dirty`). A shmem folio stays dirty: with
   * no swap, `shmem_writeout` cannot clean it, so reclaim keeps it cached.
   */
  DIRTY: 2,
  /**
   * `PG_mlocked`: mapped into a `VM_LOCKED` VMA (`mlock_new_folio`,
   * `mlock_folio`), so on the unevictable list: reclaim (`MADV_PAGEOUT`)
   * leaves it alone. Cleared by munlock (`munlock_folio`) and when a locked
   * VMA unmaps it — not when `VM_LOCKED` is merely cleared from a VMA, as
   * `mremap(MREMAP_DONTUNMAP)` does for the old one.
   */
  MLOCKED: 4,
} as const;

/**
 * The descriptor of an allocated block (the head page of a folio), as a view:
 * {@link MemMap.get} and `MmKernel.page` return a short-lived object bound to
 * the head frame whose properties read and write the {@link MemMap}'s arrays.
 * Do not keep one past the block's lifetime (it would describe whatever is
 * allocated there next); hot paths use MemMap's numeric accessors instead.
 * @see include/linux/mm_types.h struct page, struct folio
 */
export interface PageDesc {
  /** The head frame of the block. */
  readonly head: number;
  kind: PageKind;
  /** log2 of the number of frames (0, or 9 for a THP / 2 MiB hugetlb page, 18 for 1 GiB). */
  readonly order: number;
  /** Page-cache owner and index for FILE and shared HUGETLB pages (`folio->mapping`). */
  inode: VmInode | undefined;
  /** `folio->index`. */
  index: number;
  /** Number of page-table entries mapping any part of the block (`folio_mapcount`). */
  mapcount: number;
}

/** Frames per `mem_map` section (log2): 4096 frames, 16 MiB of RAM. */
const SECTION_SHIFT = 12;
const SECTION_FRAMES = 1 << SECTION_SHIFT;
const SECTION_MASK = SECTION_FRAMES - 1;
/** Emptied sections kept for reuse (a section's arrays cost 32 KiB; allocating them costs microseconds). */
const SPARE_SECTIONS = 32;
/** `meta` layout: kind in bits 0-7 (0: no block's head here), order in 8-15, {@link PageFlags} from 16. */
const ORDER_SHIFT = 8;
const FLAGS_SHIFT = 16;

/** The section of frame `pfn` (exact above 2^32). */
function sectionOf(pfn: number): number {
  return pfn < 4294967296 ? pfn >>> SECTION_SHIFT : Math.floor(pfn / SECTION_FRAMES);
}

/**
 * One `mem_section`'s descriptors, struct-of-arrays by frame offset: no
 * JavaScript object per page. The page-cache fields exist only once a page
 * of the section gets an owner or index. A frame's entries are reset when its
 * block is removed, so an emptied section is clean for reuse.
 */
class Section {
  /** Per frame: kind | order << 8 | flags << 16; 0 = no block's head here. */
  readonly meta = new Int32Array(SECTION_FRAMES);
  /** Per frame: `folio_mapcount` of the block headed there. */
  readonly mapcount = new Int32Array(SECTION_FRAMES);
  /** Per frame: `folio->index` (created on first use). */
  index: Float64Array | undefined = undefined;
  /** Per frame: `folio->mapping`'s inode (created on first use). */
  inode: Array<VmInode | undefined> | undefined = undefined;
  /** Blocks headed in this section. */
  count = 0;
}

/** The view {@link MemMap.get} returns (see {@link PageDesc}). */
class PageView implements PageDesc {
  constructor(
    private readonly map: MemMap,
    readonly head: number,
  ) {}
  get kind(): PageKind {
    return this.map.kind(this.head) as PageKind;
  }
  set kind(kind: PageKind) {
    this.map.setKind(this.head, kind);
  }
  get order(): number {
    return this.map.order(this.head);
  }
  get inode(): VmInode | undefined {
    return this.map.inode(this.head);
  }
  set inode(inode: VmInode | undefined) {
    this.map.setInode(this.head, inode);
  }
  get index(): number {
    return this.map.index(this.head);
  }
  set index(index: number) {
    this.map.setIndex(this.head, index);
  }
  get mapcount(): number {
    return this.map.mapcount(this.head);
  }
  set mapcount(n: number) {
    this.map.setMapcount(this.head, n);
  }
  /** Plain fields, so that test failures and `toEqual` show the descriptor. */
  toJSON(): object {
    return { head: this.head, kind: this.kind, order: this.order, inode: this.inode, index: this.index, mapcount: this.mapcount };
  }
}

/**
 * The frame descriptors of a machine (`mem_map`), keyed by head frame. Like
 * SPARSEMEM's `mem_section`s, the descriptors live in sections of 4096 frames
 * indexed by frame number, created when a block in them is first described
 * and dropped when their last block goes. A section stores its descriptors
 * as typed arrays indexed by frame (kind, order and flags packed in one word;
 * the mapcount; the page-cache owner and index only where used), so
 * describing a page allocates nothing: adding, reading and removing a
 * descriptor is an array index. The accessors taking a frame number expect
 * a head frame ({@link find} gives it); {@link get} wraps one in a
 * {@link PageDesc} view for code off the hot paths. A tail frame of a
 * compound block (order 1..9: a THP, a 2 MiB hugetlb page) finds its head
 * by probing the size-aligned frame below it for each order in use, so
 * adding or removing a block is O(1) whatever its size.
 * @see include/linux/mmzone.h struct mem_section, mm/sparse.c,
 *      include/linux/mm_types.h struct page
 */
export class MemMap {
  /** Section number → section; undefined = nothing described there. */
  private readonly sections: (Section | undefined)[] = [];
  /** Emptied sections kept for reuse. */
  private readonly spareSections: Section[] = [];
  private count = 0;
  /** Tails of compound blocks whose head is not aligned to their size (the allocators never make one). */
  private readonly tails = new Map<number, number>();
  /** Live aligned compound blocks per order (1..9). */
  private readonly compound = new Int32Array(10);
  /** The orders with live aligned compound blocks, ascending: the first {@link nOrders} entries. */
  private readonly orders = new Int32Array(9);
  private nOrders = 0;

  /** The section holding frame `pfn`, or undefined. */
  private section(pfn: number): Section | undefined {
    const c = sectionOf(pfn);
    return c < this.sections.length ? this.sections[c] : undefined;
  }

  /** The packed descriptor word of head frame `pfn` (0: none). */
  private meta(pfn: number): number {
    const s = this.section(pfn);
    return s === undefined ? 0 : s.meta[pfn & SECTION_MASK]!;
  }

  /** Describe a newly allocated block of `2^order` frames at `pfn` (mapcount 0, no owner, no flags), replacing any descriptor there. */
  add(pfn: number, kind: PageKind, order: number): void {
    const c = sectionOf(pfn);
    let section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) {
      extendTo(this.sections, c, undefined);
      section = this.sections[c] = this.spareSections.pop() ?? new Section();
    }
    const i = pfn & SECTION_MASK;
    const old = section.meta[i]!;
    if (old !== 0) {
      this.forget(pfn, (old >>> ORDER_SHIFT) & 0xff);
      this.reset(section, i);
    } else {
      section.count++;
      this.count++;
    }
    section.meta[i] = kind | (order << ORDER_SHIFT);
    if (order > 0 && order <= 9) {
      // (pfn & mask) is exact for any integer pfn below 2^53: ToInt32 keeps its low 32 bits.
      if ((pfn & ((1 << order) - 1)) === 0) {
        if (this.compound[order]!++ === 0) this.listOrders();
      } else {
        for (let k = 1; k < 1 << order; k++) this.tails.set(pfn + k, pfn);
      }
    }
  }

  /** Forget a block being freed. */
  remove(pfn: number): void {
    const c = sectionOf(pfn);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) return;
    const i = pfn & SECTION_MASK;
    const meta = section.meta[i]!;
    if (meta === 0) return;
    this.reset(section, i);
    this.count--;
    if (--section.count === 0) {
      // Empty (every entry reset): keep a few for reuse.
      if (this.spareSections.length < SPARE_SECTIONS) this.spareSections.push(section);
      this.sections[c] = undefined;
    }
    this.forget(pfn, (meta >>> ORDER_SHIFT) & 0xff);
  }

  /** Clear entry `i` of a section. */
  private reset(section: Section, i: number): void {
    section.meta[i] = 0;
    section.mapcount[i] = 0;
    if (section.index !== undefined) section.index[i] = 0;
    if (section.inode !== undefined) section.inode[i] = undefined;
  }

  private forget(pfn: number, order: number): void {
    if (order > 0 && order <= 9) {
      if ((pfn & ((1 << order) - 1)) === 0) {
        if (--this.compound[order]! === 0) this.listOrders();
      } else {
        for (let i = 1; i < 1 << order; i++) this.tails.delete(pfn + i);
      }
    }
  }

  /** Rebuild {@link orders} from the per-order counts (when an order gains its first or loses its last block). */
  private listOrders(): void {
    let n = 0;
    for (let o = 1; o < this.compound.length; o++) if (this.compound[o]! > 0) this.orders[n++] = o;
    this.nOrders = n;
  }

  /** The head frame of the block containing `pfn` (`compound_head`); `pfn` itself when it is none's tail. */
  headOf(pfn: number): number {
    if (this.tails.size !== 0) {
      const t = this.tails.get(pfn);
      if (t !== undefined) return t;
    }
    const orders = this.orders;
    for (let i = 0; i < this.nOrders; i++) {
      const order = orders[i]!;
      const head = pfn - (pfn & ((1 << order) - 1));
      if (head === pfn) continue;
      const meta = this.meta(head);
      if (meta !== 0 && ((meta >>> ORDER_SHIFT) & 0xff) === order) return head;
    }
    return pfn;
  }

  /** The head frame of the described block containing `pfn`, or -1 (`page_folio`, for a frame in use). */
  find(pfn: number): number {
    if (this.meta(pfn) !== 0) return pfn;
    if (this.nOrders === 0 && this.tails.size === 0) return -1;
    const head = this.headOf(pfn);
    return head !== pfn && this.meta(head) !== 0 ? head : -1;
  }

  /** The kind of the block containing `pfn`, or 0 if none is described there. */
  kindOf(pfn: number): PageKind | 0 {
    const head = this.find(pfn);
    return head < 0 ? 0 : (this.kind(head) as PageKind);
  }

  /** The kind of the block headed at `head` (0: none). */
  kind(head: number): PageKind | 0 {
    return (this.meta(head) & 0xff) as PageKind | 0;
  }

  /** Change the kind of the block headed at `head` (a truncated page-cache page left mapped becomes anonymous). */
  setKind(head: number, kind: PageKind): void {
    const s = this.section(head)!;
    const i = head & SECTION_MASK;
    s.meta[i] = (s.meta[i]! & ~0xff) | kind;
  }

  /** log2 of the frames of the block headed at `head` (`folio_order`). */
  order(head: number): number {
    return (this.meta(head) >>> ORDER_SHIFT) & 0xff;
  }

  /** `folio_mapcount` of the block headed at `head`. */
  mapcount(head: number): number {
    const s = this.section(head);
    return s === undefined ? 0 : s.mapcount[head & SECTION_MASK]!;
  }

  /** Set the mapcount of the block headed at `head`. */
  setMapcount(head: number, n: number): void {
    this.section(head)!.mapcount[head & SECTION_MASK] = n;
  }

  /** Add `d` to the mapcount of the block headed at `head` (`folio_add_*_rmap` / `folio_remove_rmap_*`); the new count. */
  addMapcount(head: number, d: number): number {
    const counts = this.section(head)!.mapcount;
    const i = head & SECTION_MASK;
    return (counts[i] = counts[i]! + d);
  }

  /** The page-cache owner of the block headed at `head` (`folio->mapping`), if any. */
  inode(head: number): VmInode | undefined {
    const s = this.section(head);
    return s === undefined || s.inode === undefined ? undefined : s.inode[head & SECTION_MASK];
  }

  /** Set (or clear) the page-cache owner of the block headed at `head`. */
  setInode(head: number, inode: VmInode | undefined): void {
    const s = this.section(head)!;
    if (s.inode === undefined) {
      if (inode === undefined) return;
      s.inode = new Array<VmInode | undefined>(SECTION_FRAMES).fill(undefined);
    }
    s.inode[head & SECTION_MASK] = inode;
  }

  /** The page-cache index of the block headed at `head` (`folio->index`). */
  index(head: number): number {
    const s = this.section(head);
    return s === undefined || s.index === undefined ? 0 : s.index[head & SECTION_MASK]!;
  }

  /** Set the page-cache index of the block headed at `head`. */
  setIndex(head: number, index: number): void {
    const s = this.section(head)!;
    if (s.index === undefined) {
      if (index === 0) return;
      s.index = new Float64Array(SECTION_FRAMES);
    }
    s.index[head & SECTION_MASK] = index;
  }

  /** Whether the block headed at `head` has {@link PageFlags} `flag` (`folio_test_*`). */
  testFlag(head: number, flag: number): boolean {
    return ((this.meta(head) >>> FLAGS_SHIFT) & flag) !== 0;
  }

  /** Set or clear {@link PageFlags} `flag` of the block headed at `head` (`folio_set_*` / `folio_clear_*`). */
  setFlag(head: number, flag: number, on: boolean): void {
    const s = this.section(head)!;
    const i = head & SECTION_MASK;
    if (on) s.meta[i] = s.meta[i]! | (flag << FLAGS_SHIFT);
    else s.meta[i] = s.meta[i]! & ~(flag << FLAGS_SHIFT);
  }

  /** A view of the descriptor of the block containing `pfn` (`page_folio`), or undefined. */
  get(pfn: number): PageDesc | undefined {
    const head = this.find(pfn);
    return head < 0 ? undefined : new PageView(this, head);
  }

  /** Every block in use, by ascending head frame, with a view of its descriptor (for invariant checks). */
  *entries(): IterableIterator<[number, PageDesc]> {
    const sections = this.sections;
    // The indices in use (the array may be sparse: one section near the top of a huge machine).
    for (const key of Object.keys(sections)) {
      const c = Number(key);
      const section = sections[c];
      if (section === undefined) continue;
      for (let i = 0; i < SECTION_FRAMES; i++) {
        // A section emptied during the iteration is recycled: stop at it.
        if (sections[c] !== section) break;
        if (section.meta[i] !== 0) yield [c * SECTION_FRAMES + i, new PageView(this, c * SECTION_FRAMES + i)];
      }
    }
  }

  /** Number of blocks described. */
  get size(): number {
    return this.count;
  }
}


export { PhysicalMemory } from './frame-contents.js';
