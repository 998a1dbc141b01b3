/**
 * Physical pages: what each allocated frame is used for (`struct page` /
 * `struct folio`, the part the model needs) and its contents.
 *
 * Contents are metadata until written: a frame nobody wrote reads as zeros and
 * costs nothing but its descriptor.
 * @see include/linux/mm_types.h struct page
 */

import type { VmInode } from './file.js';

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

/** The descriptor of an allocated block (the head page of a folio). */
export interface PageDesc {
  kind: PageKind;
  /** log2 of the number of frames (0, or 9 for a THP / 2 MiB hugetlb page, 18 for 1 GiB). */
  order: number;
  /** Page-cache owner and index for FILE and shared HUGETLB pages. */
  inode: VmInode | undefined;
  index: number;
  /** Number of page-table entries mapping any part of the block (`folio_mapcount`). */
  mapcount: number;
}

/** Frames per `mem_map` section (log2): 4096 frames, 16 MiB of RAM. */
const SECTION_SHIFT = 12;
const SECTION_FRAMES = 1 << SECTION_SHIFT;
const SECTION_MASK = SECTION_FRAMES - 1;
/** Emptied sections kept for reuse. */
const SPARE_SECTIONS = 4;

/** The section of frame `pfn` (exact above 2^32). */
function sectionOf(pfn: number): number {
  return pfn < 4294967296 ? pfn >>> SECTION_SHIFT : Math.floor(pfn / SECTION_FRAMES);
}

/**
 * The frame descriptors of a machine (`mem_map`), keyed by head frame. Like
 * SPARSEMEM's `mem_section`s, the descriptors live in sections of 4096 frames
 * indexed by frame number, created when a block in them is first described
 * and dropped when their last block goes: adding, finding and removing a
 * descriptor is an array index, with no hashing and no per-block entry
 * besides the descriptor itself. A tail frame of a compound block (order
 * 1..9: a THP, a 2 MiB hugetlb page) finds its head by probing the
 * size-aligned frame below it for each order in use, so adding or removing a
 * block is O(1) whatever its size.
 * @see include/linux/mmzone.h struct mem_section, mm/sparse.c
 */
export class MemMap {
  /** Section → descriptor per frame (head frames only); undefined = nothing described there. */
  private readonly sections: (Array<PageDesc | undefined> | undefined)[] = [];
  /** Descriptors per section (indexed like `sections`, which may be sparse on a huge machine). */
  private readonly sectionCount: number[] = [];
  /** Emptied sections kept for reuse. */
  private readonly spareSections: Array<PageDesc | undefined>[] = [];
  private count = 0;
  /** Tails of compound blocks whose head is not aligned to their size (the allocators never make one). */
  private readonly tails = new Map<number, number>();
  /** Live aligned compound blocks per order (1..9). */
  private readonly compound = new Int32Array(10);
  /** The orders with live aligned compound blocks, ascending. */
  private orders: number[] = [];

  /** The descriptor recorded for head frame `pfn`, or undefined. */
  private head(pfn: number): PageDesc | undefined {
    const c = sectionOf(pfn);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    return section === undefined ? undefined : section[pfn & SECTION_MASK];
  }

  /** Record a newly allocated block. */
  add(pfn: number, desc: PageDesc): PageDesc {
    const c = sectionOf(pfn);
    let section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) {
      section = this.sections[c] = this.spareSections.pop() ?? new Array<PageDesc | undefined>(SECTION_FRAMES).fill(undefined);
      this.sectionCount[c] = 0;
    }
    const i = pfn & SECTION_MASK;
    const old = section[i];
    if (old !== undefined) this.forget(pfn, old);
    else {
      this.sectionCount[c]++;
      this.count++;
    }
    section[i] = desc;
    const order = desc.order;
    if (order > 0 && order <= 9) {
      if (pfn % 2 ** order === 0) {
        if (this.compound[order]!++ === 0) this.orders = ordersInUse(this.compound);
      } else {
        for (let k = 1; k < 1 << order; k++) this.tails.set(pfn + k, pfn);
      }
    }
    return desc;
  }

  /** Forget a block being freed. */
  remove(pfn: number): void {
    const c = sectionOf(pfn);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) return;
    const i = pfn & SECTION_MASK;
    const desc = section[i];
    if (desc === undefined) return;
    section[i] = undefined;
    this.count--;
    if (--this.sectionCount[c]! === 0) {
      // Empty: keep a few for reuse.
      if (this.spareSections.length < SPARE_SECTIONS) this.spareSections.push(section);
      this.sections[c] = undefined;
    }
    this.forget(pfn, desc);
  }

  private forget(pfn: number, desc: PageDesc): void {
    const order = desc.order;
    if (order > 0 && order <= 9) {
      if (pfn % 2 ** order === 0) {
        if (--this.compound[order]! === 0) this.orders = ordersInUse(this.compound);
      } else {
        for (let i = 1; i < 1 << order; i++) this.tails.delete(pfn + i);
      }
    }
  }

  /** The head frame of the block containing `pfn` (`compound_head`). */
  headOf(pfn: number): number {
    if (this.tails.size !== 0) {
      const t = this.tails.get(pfn);
      if (t !== undefined) return t;
    }
    const orders = this.orders;
    for (let i = 0; i < orders.length; i++) {
      const order = orders[i]!;
      const head = pfn - (pfn % 2 ** order);
      if (head === pfn) continue;
      const desc = this.head(head);
      if (desc !== undefined && desc.order === order) return head;
    }
    return pfn;
  }

  /** The descriptor of the block containing `pfn` (`page_folio`). */
  get(pfn: number): PageDesc | undefined {
    const desc = this.head(pfn);
    if (desc !== undefined || (this.orders.length === 0 && this.tails.size === 0)) return desc;
    const head = this.headOf(pfn);
    return head === pfn ? undefined : this.head(head);
  }

  /** Every block in use, by ascending head frame (for invariant checks). */
  *entries(): IterableIterator<[number, PageDesc]> {
    const sections = this.sections;
    // The indices in use (the array may be sparse: one section near the top of a huge machine).
    for (const key of Object.keys(sections)) {
      const c = Number(key);
      const section = sections[c];
      if (section === undefined) continue;
      for (let i = 0; i < SECTION_FRAMES; i++) {
        const desc = section[i];
        // A section emptied during the iteration is recycled, not cleared: stop at it.
        if (desc !== undefined && sections[c] === section) yield [c * SECTION_FRAMES + i, desc];
      }
    }
  }

  /** Number of blocks described. */
  get size(): number {
    return this.count;
  }
}

function ordersInUse(counts: Int32Array): number[] {
  const out: number[] = [];
  for (let o = 1; o < counts.length; o++) if (counts[o]! > 0) out.push(o);
  return out;
}

export { PhysicalMemory } from './frame-contents.js';
