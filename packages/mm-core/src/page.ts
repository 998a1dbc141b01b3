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

/**
 * The frame descriptors of a machine (`mem_map`), keyed by head frame. A tail
 * frame of a compound block (order 1..9: a THP, a 2 MiB hugetlb page) finds
 * its head by probing the size-aligned frame below it for each order in use,
 * so adding or removing a block is O(1) whatever its size.
 */
export class MemMap {
  private readonly heads = new Map<number, PageDesc>();
  /** Tails of compound blocks whose head is not aligned to their size (the allocators never make one). */
  private readonly tails = new Map<number, number>();
  /** Live aligned compound blocks per order (1..9). */
  private readonly compound = new Int32Array(10);
  /** The orders with live aligned compound blocks, ascending. */
  private orders: number[] = [];

  /** Record a newly allocated block. */
  add(pfn: number, desc: PageDesc): PageDesc {
    const old = this.heads.get(pfn);
    if (old !== undefined) this.forget(pfn, old);
    this.heads.set(pfn, desc);
    const order = desc.order;
    if (order > 0 && order <= 9) {
      if (pfn % 2 ** order === 0) {
        if (this.compound[order]!++ === 0) this.orders = ordersInUse(this.compound);
      } else {
        for (let i = 1; i < 1 << order; i++) this.tails.set(pfn + i, pfn);
      }
    }
    return desc;
  }

  /** Forget a block being freed. */
  remove(pfn: number): void {
    const desc = this.heads.get(pfn);
    if (!desc) return;
    this.heads.delete(pfn);
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
      const desc = this.heads.get(head);
      if (desc !== undefined && desc.order === order) return head;
    }
    return pfn;
  }

  /** The descriptor of the block containing `pfn` (`page_folio`). */
  get(pfn: number): PageDesc | undefined {
    const desc = this.heads.get(pfn);
    if (desc !== undefined || (this.orders.length === 0 && this.tails.size === 0)) return desc;
    const head = this.headOf(pfn);
    return head === pfn ? undefined : this.heads.get(head);
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

function ordersInUse(counts: Int32Array): number[] {
  const out: number[] = [];
  for (let o = 1; o < counts.length; o++) if (counts[o]! > 0) out.push(o);
  return out;
}

export { PhysicalMemory } from './frame-contents.js';
