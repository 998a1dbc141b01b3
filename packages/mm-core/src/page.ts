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

/** The frame descriptors of a machine (`mem_map`), keyed by head frame. */
export class MemMap {
  private readonly heads = new Map<number, PageDesc>();
  /** For tail frames of a compound block: their head frame. */
  private readonly tails = new Map<number, number>();

  /** Record a newly allocated block. */
  add(pfn: number, desc: PageDesc): PageDesc {
    this.heads.set(pfn, desc);
    if (desc.order > 0 && desc.order <= 9) for (let i = 1; i < 1 << desc.order; i++) this.tails.set(pfn + i, pfn);
    return desc;
  }

  /** Forget a block being freed. */
  remove(pfn: number): void {
    const desc = this.heads.get(pfn);
    if (!desc) return;
    this.heads.delete(pfn);
    if (desc.order > 0 && desc.order <= 9) for (let i = 1; i < 1 << desc.order; i++) this.tails.delete(pfn + i);
  }

  /** The head frame of the block containing `pfn` (`compound_head`). */
  headOf(pfn: number): number {
    return this.tails.get(pfn) ?? pfn;
  }

  /** The descriptor of the block containing `pfn` (`page_folio`). */
  get(pfn: number): PageDesc | undefined {
    return this.heads.get(this.headOf(pfn));
  }

  /** Every block in use (for invariant checks). */
  entries(): IterableIterator<[number, PageDesc]> {
    return this.heads.entries();
  }

  /** Number of blocks described. */
  get size(): number {
    return this.heads.size;
  }
}

/** The bytes of simulated RAM, stored only for frames that were written. */
export class PhysicalMemory {
  private readonly pages = new Map<number, Uint8Array>();
  constructor(readonly pageSize = 4096) {}

  /** Read one byte. */
  read(pfn: number, offset: number): number {
    const page = this.pages.get(pfn);
    return page ? page[offset]! : 0;
  }

  /** Write one byte. */
  write(pfn: number, offset: number, value: number): void {
    let page = this.pages.get(pfn);
    if (!page) {
      if (value === 0) return;
      page = new Uint8Array(this.pageSize);
      this.pages.set(pfn, page);
    }
    page[offset] = value;
  }

  /** Fill a range of one frame with a byte value. */
  fill(pfn: number, offset: number, length: number, value: number): void {
    let page = this.pages.get(pfn);
    if (!page) {
      if (value === 0) return;
      page = new Uint8Array(this.pageSize);
      this.pages.set(pfn, page);
    }
    page.fill(value, offset, offset + length);
  }

  /** Make a frame read as zeros again (`clear_highpage`) and drop its storage. */
  clear(pfn: number): void {
    this.pages.delete(pfn);
  }

  /** Copy one frame's contents to another (`copy_user_highpage`). */
  copy(from: number, to: number): void {
    const page = this.pages.get(from);
    if (page) this.pages.set(to, page.slice());
    else this.pages.delete(to);
  }

  /** Frames that hold data (for memory accounting in benchmarks and tests). */
  get storedFrames(): number {
    return this.pages.size;
  }
}
