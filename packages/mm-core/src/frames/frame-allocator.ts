/**
 * The physical frame allocator seam. Linux's page allocator hands out blocks
 * of `2^order` contiguous frames; mmsim's generic mm code asks for frames only
 * through this interface, so an allocator can be swapped when a machine is built
 * (the `FRAME_ALLOCATOR` token).
 * @see mm/page_alloc.c __alloc_pages, __free_pages
 */
export interface FrameAllocator {
  /** A short name for reports (`buddy`, `bitmap`). */
  readonly name: string;
  /** Frames managed (the simulated RAM size in pages). */
  readonly totalFrames: number;
  /** Frames currently free. */
  freeFrames(): number;
  /**
   * Allocate `2^order` contiguous frames aligned to their size and return the
   * first frame number, or -1 when no such block is free.
   */
  alloc(order: number): number;
  /** Return a block obtained from {@link alloc} with the same order. Freeing a block that is not allocated throws (a model bug). */
  free(pfn: number, order: number): void;
  /** True if `pfn` lies in an allocated block (for invariant checks). */
  isAllocated(pfn: number): boolean;
  /** The largest order this allocator can satisfy (`MAX_PAGE_ORDER`; 10 for the buddy allocator). */
  readonly maxOrder: number;
}

/** Options every frame allocator accepts. */
export interface FrameAllocatorOptions {
  /** Frames of simulated RAM. */
  readonly totalFrames: number;
}

/** A constructor-like factory, so a machine can build the allocator it was configured with. */
export type FrameAllocatorFactory = (options: FrameAllocatorOptions) => FrameAllocator;
