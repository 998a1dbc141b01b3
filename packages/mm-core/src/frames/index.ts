/**
 * Physical frame allocators: the {@link FrameAllocator} contract and its two
 * implementations, the buddy allocator (Linux's) and a first-fit bitmap
 * allocator, with factories a machine picks from at build time.
 * @see mm/page_alloc.c
 */

import type { FrameAllocator, FrameAllocatorFactory, FrameAllocatorOptions } from './frame-allocator.js';
import { BitmapAllocator } from './bitmap.js';
import { BuddyAllocator } from './buddy.js';

export * from './frame-allocator.js';
export { BuddyAllocator, MAX_FRAMES, MAX_ORDER_NR_PAGES, MAX_PAGE_ORDER, zoneBatchsize } from './buddy.js';
export { BITMAP_CHUNK_FRAMES, BitmapAllocator } from './bitmap.js';

/**
 * A frame allocator that can also hand out blocks above `maxOrder`, as
 * `alloc_contig_pages` does for gigantic (1 GiB) huge pages. Both mmsim
 * allocators implement it; it extends the contract without changing it.
 * @see mm/page_alloc.c alloc_contig_pages, free_contig_range
 */
export interface ContiguousFrameAllocator extends FrameAllocator {
  /** A size-aligned block of `2^order` frames for any order, or -1. */
  allocContiguous(order: number): number;
  /** Give back a block from {@link ContiguousFrameAllocator.allocContiguous}. */
  freeContiguous(pfn: number, order: number): void;
}

/** True if `allocator` can allocate above `maxOrder` (`alloc_contig_pages`). */
export function canAllocContiguous(allocator: FrameAllocator): allocator is ContiguousFrameAllocator {
  const a = allocator as Partial<ContiguousFrameAllocator>;
  return typeof a.allocContiguous === 'function' && typeof a.freeContiguous === 'function';
}

/** Builds a {@link BuddyAllocator} (Linux's page allocator). */
export const buddyAllocatorFactory = ((options: FrameAllocatorOptions): BuddyAllocator =>
  new BuddyAllocator(options)) satisfies FrameAllocatorFactory & ((options: FrameAllocatorOptions) => ContiguousFrameAllocator);

/** Builds a {@link BitmapAllocator} (first-fit bitmap). */
export const bitmapAllocatorFactory = ((options: FrameAllocatorOptions): BitmapAllocator =>
  new BitmapAllocator(options)) satisfies FrameAllocatorFactory & ((options: FrameAllocatorOptions) => ContiguousFrameAllocator);
