/**
 * The binary buddy allocator, after Linux's page allocator: free blocks of
 * `2^order` frames (order 0..`MAX_PAGE_ORDER`) on per-order free lists, a
 * larger block split on allocation (`expand`), a freed block merged with its
 * buddy (`pfn ^ (1 << order)`) while the buddy is free (`__free_one_page`).
 *
 * Zones and migrate types are not modelled: there is one free area, with
 * one per-CPU list of order-0 pages in front of it ({@link BuddyAllocator}).
 * Physical memory is metadata only, and cheap at any size: frames at or
 * above a high-water mark are implicitly free max-order blocks, carved off one
 * at a time when the free lists cannot satisfy a request, and given back to
 * the implicit region when they coalesce at its edge. A 1 TiB machine starts
 * with no tracked blocks except the sub-max-order tail.
 * @see mm/page_alloc.c __rmqueue_smallest, expand, __free_one_page, alloc_contig_pages
 * @see include/linux/mmzone.h struct free_area, MAX_PAGE_ORDER, struct per_cpu_pages
 */

import { extendTo } from '../dense-index.js';
import type { FrameAllocator, FrameAllocatorOptions } from './frame-allocator.js';

/** `MAX_PAGE_ORDER`: the largest buddy block is 2^10 frames (4 MiB). @see include/linux/mmzone.h */
export const MAX_PAGE_ORDER = 10;

/** Frames in a max-order block (`MAX_ORDER_NR_PAGES`). */
export const MAX_ORDER_NR_PAGES = 2 ** MAX_PAGE_ORDER;

/** Largest frame count an allocator accepts: 52-bit physical addresses (`MAX_PHYSMEM_BITS`). */
export const MAX_FRAMES = 2 ** 40;

/**
 * `POW2[i]` = 2^i for i in 0..53 (a table read is much faster in V8 than `2 ** i`
 * with a variable exponent).
 * @internal shared by the frame allocators
 */
export const POW2: readonly number[] = Array.from({ length: 54 }, (_, i) => 2 ** i);

/** Check a `totalFrames` option. */
export function checkTotalFrames(totalFrames: number): void {
  if (!Number.isSafeInteger(totalFrames) || totalFrames < 0 || totalFrames > MAX_FRAMES) {
    throw new RangeError(`totalFrames must be an integer in [0, 2^40], not ${totalFrames}`);
  }
}

/** The buddy of the block of `size` frames at `pfn` (`__find_buddy_pfn`: `pfn ^ size`, exact above 2^31). */
function buddyOf(pfn: number, size: number): number {
  return (pfn / size) & 1 ? pfn - size : pfn + size;
}

/**
 * A hash map from frame numbers to non-negative numbers: open addressing with
 * linear probing and backward-shift deletion over typed arrays, so the
 * allocators' per-frame metadata (Linux keeps it in `struct page`: `PageBuddy`,
 * the order) costs a few array reads instead of a `Map` operation.
 * @internal shared by the frame allocators
 */
export class PfnMap {
  private keys: Float64Array;
  private vals: Float64Array;
  private mask: number;
  /** 32 − log2(capacity): Fibonacci hashing keeps the product's top bits. */
  private shift: number;
  /** Entries in the map. */
  size = 0;

  constructor(capacity = 16) {
    const bits = Math.max(4, Math.ceil(Math.log2(capacity)));
    this.keys = new Float64Array(2 ** bits).fill(-1);
    this.vals = new Float64Array(2 ** bits);
    this.mask = 2 ** bits - 1;
    this.shift = 32 - bits;
  }

  /** The home slot of `pfn` (Fibonacci hashing of both 32-bit halves). */
  private slot(pfn: number): number {
    const hi = pfn < 4294967296 ? 0 : (pfn / 4294967296) | 0;
    return Math.imul((pfn >>> 0) ^ Math.imul(hi, 0x85ebca6b), 0x9e3779b1) >>> this.shift;
  }

  /** The value stored for `pfn`, or -1. */
  get(pfn: number): number {
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(pfn); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === pfn) return this.vals[i]!;
      if (k === -1) return -1;
    }
  }

  /** Store `value` (≥ 0) for `pfn`. */
  set(pfn: number, value: number): void {
    if (2 * (this.size + 1) > this.keys.length) this.resize(this.keys.length * 2);
    const keys = this.keys;
    const mask = this.mask;
    for (let i = this.slot(pfn); ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === pfn) {
        this.vals[i] = value;
        return;
      }
      if (k === -1) {
        keys[i] = pfn;
        this.vals[i] = value;
        this.size++;
        return;
      }
    }
  }

  /** Remove `pfn`; false if it was absent. */
  delete(pfn: number): boolean {
    const keys = this.keys;
    const vals = this.vals;
    const mask = this.mask;
    let i = this.slot(pfn);
    for (; ; i = (i + 1) & mask) {
      const k = keys[i]!;
      if (k === pfn) break;
      if (k === -1) return false;
    }
    // Backward-shift deletion: pull later members of the probe run into the hole.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const k = keys[j]!;
      if (k === -1) break;
      const home = this.slot(k);
      if (((j - home) & mask) >= ((j - i) & mask)) {
        keys[i] = k;
        vals[i] = vals[j]!;
        i = j;
      }
    }
    keys[i] = -1;
    this.size--;
    if (this.keys.length > 64 && 8 * this.size < this.keys.length) this.resize(this.keys.length / 2);
    return true;
  }

  private resize(capacity: number): void {
    const oldKeys = this.keys;
    const oldVals = this.vals;
    this.keys = new Float64Array(capacity).fill(-1);
    this.vals = new Float64Array(capacity);
    this.mask = capacity - 1;
    this.shift = 32 - Math.round(Math.log2(capacity));
    this.size = 0;
    for (let i = 0; i < oldKeys.length; i++) if (oldKeys[i] !== -1) this.set(oldKeys[i]!, oldVals[i]!);
  }
}

/** Frames per {@link PfnOrderMap} section (log2). */
const ORDER_SECTION_SHIFT = 12;
const ORDER_SECTION_FRAMES = 1 << ORDER_SECTION_SHIFT;
const ORDER_SECTION_MASK = ORDER_SECTION_FRAMES - 1;
/** Emptied sections kept for reuse (a 4 KiB typed array costs microseconds to allocate). */
const SPARE_ORDER_SECTIONS = 8;

/**
 * The order of each allocated block by first frame — what Linux keeps in the
 * head page's `struct page` (`folio_order`, `page_private` of a buddy page):
 * a byte per frame in sections of 4096 frames indexed by frame number,
 * created on the first block in a section and dropped with its last one. A
 * lookup is an array index, and neighbouring frames share a cache line, where
 * a hash map scatters them.
 * @see include/linux/mmzone.h struct mem_section
 * @internal for the buddy allocator
 */
export class PfnOrderMap {
  /** Section → order + 1 per frame (0 = no block starts there). */
  private readonly sections: (Int8Array | undefined)[] = [];
  /** Blocks per section (indexed like `sections`, which may be sparse on a huge machine). */
  private readonly counts: number[] = [];
  private readonly spare: Int8Array[] = [];
  /** Entries in the map. */
  size = 0;

  /** The order stored for `pfn`, or -1. */
  get(pfn: number): number {
    const c = pfn < 4294967296 ? pfn >>> ORDER_SECTION_SHIFT : Math.floor(pfn / ORDER_SECTION_FRAMES);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    return section === undefined ? -1 : section[pfn & ORDER_SECTION_MASK]! - 1;
  }

  /** Store `order` (0..126) for `pfn`. */
  set(pfn: number, order: number): void {
    const c = pfn < 4294967296 ? pfn >>> ORDER_SECTION_SHIFT : Math.floor(pfn / ORDER_SECTION_FRAMES);
    let section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) {
      extendTo(this.sections, c, undefined);
      extendTo(this.counts, c, 0);
      section = this.sections[c] = this.spare.pop() ?? new Int8Array(ORDER_SECTION_FRAMES);
      this.counts[c] = 0;
    }
    const i = pfn & ORDER_SECTION_MASK;
    if (section[i] === 0) {
      this.counts[c]++;
      this.size++;
    }
    section[i] = order + 1;
  }

  /** Remove `pfn`; false if it was absent. */
  delete(pfn: number): boolean {
    const c = pfn < 4294967296 ? pfn >>> ORDER_SECTION_SHIFT : Math.floor(pfn / ORDER_SECTION_FRAMES);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) return false;
    const i = pfn & ORDER_SECTION_MASK;
    if (section[i] === 0) return false;
    section[i] = 0;
    this.size--;
    if (--this.counts[c]! === 0) {
      if (this.spare.length < SPARE_ORDER_SECTIONS) this.spare.push(section);
      this.sections[c] = undefined;
    }
    return true;
  }
}

/**
 * A map from frame numbers to non-negative numbers stored by frame, like
 * {@link PfnOrderMap} (sections of 4096 frames created on the first entry in
 * them, dropped with their last): a lookup is an array index, where
 * {@link PfnMap} hashes and probes. For the buddy allocator's free-block
 * index, which every allocation and free updates (Linux keeps `PageBuddy`
 * and the order in the block's `struct page`). The same code as
 * {@link PfnOrderMap} over `Float64Array` sections instead of `Int8Array`
 * ones, kept as its own class on purpose: one class over both element kinds
 * would make every access in the allocator's hottest loops polymorphic.
 * @internal for the buddy allocator
 */
export class PfnIndexMap {
  /** Section → value + 1 per frame (0 = absent). */
  private readonly sections: (Float64Array | undefined)[] = [];
  /** Entries per section (indexed like `sections`, which may be sparse on a huge machine). */
  private readonly counts: number[] = [];
  private readonly spare: Float64Array[] = [];
  /** Entries in the map. */
  size = 0;

  /** The value stored for `pfn`, or -1. */
  get(pfn: number): number {
    const c = pfn < 4294967296 ? pfn >>> ORDER_SECTION_SHIFT : Math.floor(pfn / ORDER_SECTION_FRAMES);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    return section === undefined ? -1 : section[pfn & ORDER_SECTION_MASK]! - 1;
  }

  /** Store `value` (≥ 0) for `pfn`. */
  set(pfn: number, value: number): void {
    const c = pfn < 4294967296 ? pfn >>> ORDER_SECTION_SHIFT : Math.floor(pfn / ORDER_SECTION_FRAMES);
    let section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) {
      extendTo(this.sections, c, undefined);
      extendTo(this.counts, c, 0);
      section = this.sections[c] = this.spare.pop() ?? new Float64Array(ORDER_SECTION_FRAMES);
      this.counts[c] = 0;
    }
    const i = pfn & ORDER_SECTION_MASK;
    if (section[i] === 0) {
      this.counts[c]++;
      this.size++;
    }
    section[i] = value + 1;
  }

  /** Remove `pfn`; false if it was absent. */
  delete(pfn: number): boolean {
    const c = pfn < 4294967296 ? pfn >>> ORDER_SECTION_SHIFT : Math.floor(pfn / ORDER_SECTION_FRAMES);
    const section = c < this.sections.length ? this.sections[c] : undefined;
    if (section === undefined) return false;
    const i = pfn & ORDER_SECTION_MASK;
    if (section[i] === 0) return false;
    section[i] = 0;
    this.size--;
    if (--this.counts[c]! === 0) {
      if (this.spare.length < SPARE_ORDER_SECTIONS) this.spare.push(section);
      this.sections[c] = undefined;
    }
    return true;
  }
}

/**
 * One order's `free_area`: a stack of block start frames (Linux adds to and
 * takes from the head of `free_list`, so last in, first out).
 */
class FreeArea {
  pfns = new Float64Array(16);
  count = 0;
}

/**
 * `zone_batchsize`: how many order-0 pages the per-CPU list takes from or
 * gives back to the buddy lists at once — ~0.1 % of the zone, at most 1 MiB,
 * rounded down to 2^n − 1 (63 for a zone of 1 GiB or more; 0, which turns
 * the list off, below 4 MiB).
 * @see mm/page_alloc.c zone_batchsize
 */
export function zoneBatchsize(managedFrames: number): number {
  let batch = Math.floor(Math.min(Math.floor(managedFrames / 1024), 256) / 4);
  if (batch < 1) batch = 1;
  const b = batch + Math.floor(batch / 2);
  return 2 ** Math.floor(Math.log2(b)) - 1;
}

/**
 * Linux's buddy allocator (`struct free_area free_area[NR_PAGE_ORDERS]` of one
 * zone). Allocation takes the smallest order with a free block
 * (`__rmqueue_smallest`), the block most recently put on that list, and carves
 * a new max-order block at the lowest unused address when every list is empty.
 *
 * In front of it sits the **per-CPU page list** for order 0 (`struct
 * per_cpu_pages`): a freed page goes to the head of the list, not back to the
 * buddy lists (`free_frozen_page_commit`), and an order-0 allocation takes the
 * head (`__rmqueue_pcplist`). An empty list is refilled with `batch` pages
 * (`rmqueue_bulk`); a list that reaches `high` gives its `batch` coldest
 * pages back, merging them (`free_pcppages_bulk`). So a page freed and
 * allocated again (a page table, a page faulted in after an munmap) costs no
 * merging and splitting. Pages on the list are free: {@link freeFrames}
 * counts them, `/proc/buddyinfo` ({@link buddyinfo}) does not, and a request
 * the buddy lists cannot meet drains the list and tries again, as
 * `__alloc_pages_direct_reclaim` → `drain_all_pages` does, so whether an
 * allocation succeeds never depends on the list. The model has one list
 * (one CPU's); `high` is `4 × batch`, the lower bound of Linux's
 * `zone_highsize` (which also scales it with the watermarks and CPUs and
 * tunes it at run time).
 * @see mm/page_alloc.c __alloc_pages, __free_pages, rmqueue_pcplist, free_pcppages_bulk
 */
export class BuddyAllocator implements FrameAllocator {
  readonly name = 'buddy';
  readonly totalFrames: number;
  readonly maxOrder = MAX_PAGE_ORDER;
  /** `pcp->batch` ({@link zoneBatchsize}); 0: no per-CPU list. */
  readonly pcpBatch: number;
  /** `pcp->high`: the list gives `batch` pages back when it reaches this many. */
  readonly pcpHigh: number;

  /** `free_area[order].free_list` per order. */
  private readonly areas: FreeArea[] = [];
  /**
   * Free block start → `position × 16 + order` (Linux: `PageBuddy` and the
   * order in `struct page`), so a buddy is found and unlinked in O(1).
   */
  private readonly freeIndex = new PfnIndexMap();
  /** Frames in `[highWater, fullEnd)` are free max-order blocks not on any list. */
  private highWater = 0;
  /** End of the last whole max-order block. */
  private readonly fullEnd: number;
  /** Allocated blocks: first pfn → order (Linux keeps the order in `struct page`). */
  private readonly allocated = new PfnOrderMap();
  /** The largest order ever allocated (bounds {@link isAllocated}'s search). */
  private maxAllocatedOrder = 0;
  /** Free frames, those on the per-CPU list included. */
  private nrFree: number;
  /** The per-CPU list: a ring of `pcpList.length` (a power of two) frames, head at `pcpHead`. */
  private readonly pcpList: Float64Array;
  private pcpHead = 0;
  private pcpCount = 0;

  constructor(options: FrameAllocatorOptions) {
    checkTotalFrames(options.totalFrames);
    this.totalFrames = options.totalFrames;
    this.nrFree = options.totalFrames;
    this.pcpBatch = zoneBatchsize(options.totalFrames);
    this.pcpHigh = 4 * this.pcpBatch;
    this.pcpList = new Float64Array(this.pcpBatch === 0 ? 1 : 2 ** Math.ceil(Math.log2(this.pcpHigh + this.pcpBatch)));
    for (let o = 0; o <= MAX_PAGE_ORDER; o++) this.areas.push(new FreeArea());
    this.fullEnd = this.totalFrames - (this.totalFrames % MAX_ORDER_NR_PAGES);
    // The tail below the last whole max-order block is freed in the largest
    // aligned pieces, as memblock_free_all → __free_pages_core does.
    let pfn = this.fullEnd;
    for (let o = MAX_PAGE_ORDER - 1; o >= 0; o--) {
      if (this.totalFrames - pfn >= POW2[o]!) {
        this.addFree(pfn, o);
        pfn += POW2[o]!;
      }
    }
  }

  /** `__add_to_free_list`. */
  private addFree(pfn: number, order: number): void {
    const area = this.areas[order]!;
    if (area.count === area.pfns.length) {
      const bigger = new Float64Array(area.pfns.length * 2);
      bigger.set(area.pfns);
      area.pfns = bigger;
    }
    area.pfns[area.count] = pfn;
    this.freeIndex.set(pfn, area.count * 16 + order);
    area.count++;
  }

  /** `__del_page_from_free_list` if `pfn` is a free block of exactly `order` (`page_is_buddy`); false otherwise. */
  private delFree(pfn: number, order: number): boolean {
    const v = this.freeIndex.get(pfn);
    if (v < 0 || (v & 15) !== order) return false;
    this.freeIndex.delete(pfn);
    const area = this.areas[order]!;
    const pos = Math.floor(v / 16);
    const last = area.pfns[--area.count]!;
    if (pos !== area.count) {
      area.pfns[pos] = last;
      this.freeIndex.set(last, pos * 16 + order);
    }
    return true;
  }

  freeFrames(): number {
    return this.nrFree;
  }

  /**
   * `__alloc_pages(order)`: `2^order` frames aligned to their size, or -1 if
   * `order` exceeds `MAX_PAGE_ORDER` or no block is free. Order 0 comes from
   * the per-CPU list; a failed request drains the list and tries again.
   * @see mm/page_alloc.c rmqueue, __rmqueue_smallest
   */
  alloc(order: number): number {
    if (!(order >= 0 && order <= MAX_PAGE_ORDER) || !Number.isInteger(order)) return -1;
    let pfn = order === 0 && this.pcpBatch !== 0 ? this.rmqueuePcplist() : this.rmqueueSmallest(order);
    if (pfn < 0) {
      if (this.pcpCount === 0) return -1;
      this.drainPcp();
      pfn = this.rmqueueSmallest(order);
      if (pfn < 0) return -1;
    }
    this.allocated.set(pfn, order);
    if (order > this.maxAllocatedOrder) this.maxAllocatedOrder = order;
    this.nrFree -= POW2[order]!;
    return pfn;
  }

  /** `__rmqueue_smallest`: take a block of `order` off the buddy lists (splitting a larger one), or -1. No accounting. */
  private rmqueueSmallest(order: number): number {
    for (let o = order; o <= MAX_PAGE_ORDER; o++) {
      const area = this.areas[o]!;
      if (area.count > 0) {
        const pfn = area.pfns[--area.count]!;
        this.freeIndex.delete(pfn);
        return this.expand(pfn, o, order);
      }
    }
    if (this.highWater < this.fullEnd) {
      const pfn = this.highWater;
      this.highWater += MAX_ORDER_NR_PAGES;
      return this.expand(pfn, MAX_PAGE_ORDER, order);
    }
    return -1;
  }

  /** `__rmqueue_pcplist`: the head of the per-CPU list, refilled with `batch` pages first if it is empty (`rmqueue_bulk`); -1 if none. */
  private rmqueuePcplist(): number {
    if (this.pcpCount === 0) {
      const list = this.pcpList;
      const mask = list.length - 1;
      for (let i = 0; i < this.pcpBatch; i++) {
        const pfn = this.rmqueueSmallest(0);
        if (pfn < 0) break;
        list[(this.pcpHead + this.pcpCount++) & mask] = pfn; // list_add_tail
      }
      if (this.pcpCount === 0) return -1;
    }
    const pfn = this.pcpList[this.pcpHead]!;
    this.pcpHead = (this.pcpHead + 1) & (this.pcpList.length - 1);
    this.pcpCount--;
    return pfn;
  }

  /** `free_pcppages_bulk`: give the `count` coldest pages of the per-CPU list (its tail) back to the buddy lists. */
  private freePcppagesBulk(count: number): void {
    const list = this.pcpList;
    const mask = list.length - 1;
    for (let i = 0; i < count && this.pcpCount > 0; i++) {
      this.pcpCount--;
      this.mergeIn(list[(this.pcpHead + this.pcpCount) & mask]!, 0);
    }
  }

  /**
   * `drain_local_pages`: give every page on the per-CPU list back to the
   * buddy lists (as a failed allocation does before it tries again).
   * @see mm/page_alloc.c drain_pages, drain_all_pages
   */
  drainPcp(): void {
    this.freePcppagesBulk(this.pcpCount);
  }

  /** Pages on the per-CPU list (`pcp->count`). */
  get pcpPages(): number {
    return this.pcpCount;
  }

  /**
   * `expand`: split the free block of order `high` at `pfn` down to `low`,
   * putting each upper half on its free list; the lower part is the result.
   * @see mm/page_alloc.c expand
   */
  private expand(pfn: number, high: number, low: number): number {
    let size = POW2[high]!;
    while (high > low) {
      high--;
      size /= 2;
      this.addFree(pfn + size, high);
    }
    return pfn;
  }

  /**
   * `__free_pages(pfn, order)`: return a block and merge it with its free
   * buddies. Throws if the block is not allocated with this order (double
   * free or wrong order: a model bug). A block from {@link allocContiguous}
   * may be freed here too.
   * @see mm/page_alloc.c __free_one_page
   */
  free(pfn: number, order: number): void {
    if (order > MAX_PAGE_ORDER) {
      this.freeContiguous(pfn, order);
      return;
    }
    if (this.allocated.get(pfn) !== order) {
      throw new Error(`buddy: free of pfn ${pfn} order ${order}, which is not an allocated block of that order`);
    }
    this.allocated.delete(pfn);
    this.nrFree += POW2[order]!;
    if (order === 0 && this.pcpBatch !== 0) {
      // free_frozen_page_commit: list_add to the head, flush past `high`.
      const mask = this.pcpList.length - 1;
      this.pcpHead = (this.pcpHead - 1) & mask;
      this.pcpList[this.pcpHead] = pfn;
      if (++this.pcpCount >= this.pcpHigh) this.freePcppagesBulk(this.pcpBatch);
      return;
    }
    this.mergeIn(pfn, order);
  }

  /** The `__free_one_page` loop: coalesce while the buddy is free, then list the block (or lower the high-water mark). */
  private mergeIn(pfn: number, order: number): void {
    let size = POW2[order]!;
    while (order < MAX_PAGE_ORDER) {
      const buddy = buddyOf(pfn, size);
      if (!this.delFree(buddy, order)) break;
      if (buddy < pfn) pfn = buddy;
      order++;
      size *= 2;
    }
    if (order === MAX_PAGE_ORDER && pfn + MAX_ORDER_NR_PAGES === this.highWater) {
      this.highWater = pfn;
      while (this.highWater > 0 && this.delFree(this.highWater - MAX_ORDER_NR_PAGES, MAX_PAGE_ORDER)) {
        this.highWater -= MAX_ORDER_NR_PAGES;
      }
      return;
    }
    this.addFree(pfn, order);
  }

  isAllocated(pfn: number): boolean {
    if (!(pfn >= 0 && pfn < this.totalFrames)) return false;
    let size = 1;
    for (let o = 0; o <= this.maxAllocatedOrder; o++, size *= 2) {
      if (this.allocated.get(pfn - (pfn % size)) === o) return true;
    }
    return false;
  }

  /**
   * `alloc_contig_pages(2^order)` for blocks above `MAX_PAGE_ORDER` (gigantic
   * 1 GiB pages are order 18): the lowest size-aligned range whose max-order
   * blocks are all free, or -1. Orders up to `MAX_PAGE_ORDER` go to {@link alloc}.
   * Unlike Linux, nothing is migrated to make room.
   * @see mm/page_alloc.c alloc_contig_pages
   */
  allocContiguous(order: number): number {
    if (!Number.isInteger(order) || order < 0) return -1;
    if (order <= MAX_PAGE_ORDER) return this.alloc(order);
    const pfn = this.findContiguous(order);
    if (pfn >= 0 || this.pcpCount === 0) return pfn;
    this.drainPcp();
    return this.findContiguous(order);
  }

  /** {@link allocContiguous}'s search of the buddy lists (the per-CPU list left as it is). */
  private findContiguous(order: number): number {
    const size = POW2[order]!;
    for (let s = 0; s + size <= this.fullEnd; ) {
      const explicitEnd = Math.min(s + size, this.highWater);
      let blocked = -1;
      for (let b = s; b < explicitEnd; b += MAX_ORDER_NR_PAGES) {
        const v = this.freeIndex.get(b);
        if (v < 0 || (v & 15) !== MAX_PAGE_ORDER) {
          blocked = b;
          break;
        }
      }
      if (blocked >= 0) {
        s = (Math.floor(blocked / size) + 1) * size;
        continue;
      }
      for (let b = s; b < explicitEnd; b += MAX_ORDER_NR_PAGES) this.delFree(b, MAX_PAGE_ORDER);
      for (let b = this.highWater; b < s; b += MAX_ORDER_NR_PAGES) this.addFree(b, MAX_PAGE_ORDER);
      if (s + size > this.highWater) this.highWater = s + size;
      this.allocated.set(s, order);
      if (order > this.maxAllocatedOrder) this.maxAllocatedOrder = order;
      this.nrFree -= size;
      return s;
    }
    return -1;
  }

  /**
   * `free_contig_range`: give back a block from {@link allocContiguous}, as
   * max-order blocks. Throws if it is not allocated with this order.
   * @see mm/page_alloc.c free_contig_range
   */
  freeContiguous(pfn: number, order: number): void {
    if (order <= MAX_PAGE_ORDER) {
      this.free(pfn, order);
      return;
    }
    if (this.allocated.get(pfn) !== order) {
      throw new Error(`buddy: free of contiguous pfn ${pfn} order ${order}, which is not an allocated block of that order`);
    }
    this.allocated.delete(pfn);
    const size = POW2[order]!;
    this.nrFree += size;
    for (let b = pfn + size - MAX_ORDER_NR_PAGES; b >= pfn; b -= MAX_ORDER_NR_PAGES) this.mergeIn(b, MAX_PAGE_ORDER);
  }

  /**
   * Free blocks per order, as `/proc/buddyinfo` counts them (the implicit
   * max-order blocks included).
   */
  buddyinfo(): number[] {
    const counts = this.areas.map((a) => a.count);
    counts[MAX_PAGE_ORDER]! += (this.fullEnd - this.highWater) / MAX_ORDER_NR_PAGES;
    return counts;
  }

  /** Entries the allocator keeps in memory (listed free blocks + allocated blocks): its real cost. */
  trackedEntries(): number {
    return this.freeIndex.size + this.allocated.size;
  }
}
