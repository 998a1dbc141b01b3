/**
 * A first-fit bitmap frame allocator: the simple alternative to the buddy
 * allocator (Linux used a bitmap allocator, `bootmem`, for early boot memory).
 * One bit per frame, kept sparsely: memory is split into chunks of 2^15 frames
 * (128 MiB); a chunk's 1024-word bitmap exists only while the chunk is partly
 * allocated (an absent chunk is all free, a shared sentinel marks a full one),
 * and a per-chunk free count lets the search skip chunks that cannot fit.
 * @see mm/memblock.c (today's early allocator), mm/bootmem.c (removed in 4.20)
 */

import type { FrameAllocator, FrameAllocatorOptions } from './frame-allocator.js';
import { MAX_PAGE_ORDER, POW2, PfnMap, checkTotalFrames } from './buddy.js';

/** log2 of the frames per bitmap chunk. */
const CHUNK_SHIFT = 15;
/** Frames per bitmap chunk. */
export const BITMAP_CHUNK_FRAMES = 2 ** CHUNK_SHIFT;
const WORDS = BITMAP_CHUNK_FRAMES / 32;
/** The bitmap of a fully allocated chunk (shared, never written). */
const FULL = new Uint32Array(WORDS).fill(0xffffffff);

/**
 * First-fit allocation of size-aligned `2^order` blocks over a sparse bitmap.
 * `maxOrder` is `MAX_PAGE_ORDER` so it can stand in for the buddy allocator;
 * larger blocks come from {@link allocContiguous}.
 */
export class BitmapAllocator implements FrameAllocator {
  readonly name = 'bitmap';
  readonly totalFrames: number;
  readonly maxOrder = MAX_PAGE_ORDER;

  /** Per chunk: `undefined` = all free, {@link FULL} = all allocated, else its bitmap. */
  private readonly chunks: (Uint32Array | undefined)[];
  /** Free frames per chunk. */
  private readonly chunkFree: Int32Array;
  /** Per chunk: every bitmap word below this index is full (where a search may start). */
  private readonly chunkHint: Int32Array;
  private readonly nChunks: number;
  /** No chunk below this one has a free frame. */
  private firstFreeChunk = 0;
  /** Allocated blocks: first pfn → order (to reject a double or mismatched free). */
  private readonly allocated = new PfnMap();
  private nrFree: number;

  constructor(options: FrameAllocatorOptions) {
    checkTotalFrames(options.totalFrames);
    this.totalFrames = options.totalFrames;
    this.nrFree = options.totalFrames;
    this.nChunks = Math.ceil(this.totalFrames / BITMAP_CHUNK_FRAMES);
    this.chunks = new Array<Uint32Array | undefined>(this.nChunks);
    this.chunkFree = new Int32Array(this.nChunks).fill(BITMAP_CHUNK_FRAMES);
    this.chunkHint = new Int32Array(this.nChunks);
    if (this.nChunks > 0) this.chunkFree[this.nChunks - 1] = this.capacity(this.nChunks - 1);
  }

  /** Frames of chunk `c` that exist (the last chunk may be partial). */
  private capacity(c: number): number {
    return Math.min(BITMAP_CHUNK_FRAMES, this.totalFrames - c * BITMAP_CHUNK_FRAMES);
  }

  freeFrames(): number {
    return this.nrFree;
  }

  /** The lowest free size-aligned block of `2^order` frames, or -1 if `order > maxOrder` or none is free. */
  alloc(order: number): number {
    if (!Number.isInteger(order) || order < 0 || order > MAX_PAGE_ORDER) return -1;
    return this.allocAligned(order);
  }

  /**
   * A size-aligned block of any order (gigantic pages, order 18), first fit,
   * or -1: the bitmap counterpart of `alloc_contig_pages`.
   * @see mm/page_alloc.c alloc_contig_pages
   */
  allocContiguous(order: number): number {
    if (!Number.isInteger(order) || order < 0 || order > 40) return -1;
    return this.allocAligned(order);
  }

  private allocAligned(order: number): number {
    const pfn = this.find(order);
    if (pfn < 0) return -1;
    const size = POW2[order]!;
    this.setRange(pfn, size, true);
    this.allocated.set(pfn, order);
    this.nrFree -= size;
    while (this.firstFreeChunk < this.nChunks && this.chunkFree[this.firstFreeChunk] === 0) this.firstFreeChunk++;
    return pfn;
  }

  /** Give back a block from {@link alloc}; throws on a double or mismatched free. */
  free(pfn: number, order: number): void {
    if (this.allocated.get(pfn) !== order) {
      throw new Error(`bitmap: free of pfn ${pfn} order ${order}, which is not an allocated block of that order`);
    }
    this.allocated.delete(pfn);
    const size = POW2[order]!;
    this.setRange(pfn, size, false);
    this.nrFree += size;
    const c = Math.floor(pfn / BITMAP_CHUNK_FRAMES);
    if (c < this.firstFreeChunk) this.firstFreeChunk = c;
  }

  /** Give back a block from {@link allocContiguous}. */
  freeContiguous(pfn: number, order: number): void {
    this.free(pfn, order);
  }

  isAllocated(pfn: number): boolean {
    if (!(pfn >= 0 && pfn < this.totalFrames)) return false;
    const c = Math.floor(pfn / BITMAP_CHUNK_FRAMES);
    const words = this.chunks[c];
    if (words === undefined) return false;
    const off = pfn - c * BITMAP_CHUNK_FRAMES;
    return ((words[off >>> 5]! >>> (off & 31)) & 1) === 1;
  }

  /** First fit: the lowest free aligned block of `2^order` frames, or -1. */
  private find(order: number): number {
    const size = POW2[order]!;
    if (size > this.totalFrames) return -1;
    if (size >= BITMAP_CHUNK_FRAMES) {
      const span = size / BITMAP_CHUNK_FRAMES;
      for (let c = Math.ceil(this.firstFreeChunk / span) * span; c * BITMAP_CHUNK_FRAMES + size <= this.totalFrames; c += span) {
        let ok = true;
        for (let j = c; j < c + span; j++) {
          if (this.chunkFree[j] !== BITMAP_CHUNK_FRAMES) {
            ok = false;
            break;
          }
        }
        if (ok) return c * BITMAP_CHUNK_FRAMES;
      }
      return -1;
    }
    for (let c = this.firstFreeChunk; c < this.nChunks; c++) {
      if (this.chunkFree[c]! < size) continue;
      const words = this.chunks[c];
      const base = c * BITMAP_CHUNK_FRAMES;
      if (words === undefined) return base; // all free, and capacity ≥ size
      const off = findInChunk(words, order, this.capacity(c), this.chunkHint[c]!);
      if (off >= 0) return base + off;
    }
    return -1;
  }

  /** Mark `count` frames at `pfn` (a size-aligned block) allocated or free. */
  private setRange(pfn: number, count: number, allocate: boolean): void {
    if (count >= BITMAP_CHUNK_FRAMES) {
      const c0 = pfn / BITMAP_CHUNK_FRAMES;
      for (let c = c0; c < c0 + count / BITMAP_CHUNK_FRAMES; c++) {
        this.chunks[c] = allocate ? FULL : undefined;
        this.chunkFree[c] = allocate ? 0 : BITMAP_CHUNK_FRAMES;
        this.chunkHint[c] = allocate ? WORDS : 0;
      }
      return;
    }
    const c = Math.floor(pfn / BITMAP_CHUNK_FRAMES);
    const off = pfn - c * BITMAP_CHUNK_FRAMES;
    let words = this.chunks[c];
    if (words === undefined) words = this.chunks[c] = new Uint32Array(WORDS);
    else if (words === FULL) words = this.chunks[c] = FULL.slice();
    if (count >= 32) {
      words.fill(allocate ? 0xffffffff : 0, off >>> 5, (off + count) >>> 5);
    } else {
      const mask = ((1 << count) - 1) << (off & 31);
      const w = off >>> 5;
      words[w] = allocate ? words[w]! | mask : words[w]! & ~mask;
    }
    const free = (this.chunkFree[c] = this.chunkFree[c]! + (allocate ? -count : count));
    if (free === 0) {
      this.chunks[c] = FULL;
      this.chunkHint[c] = WORDS;
    } else if (free === this.capacity(c)) {
      this.chunks[c] = undefined;
      this.chunkHint[c] = 0;
    } else if (allocate) {
      let h = this.chunkHint[c]!;
      while (h < WORDS && words[h] === 0xffffffff) h++;
      this.chunkHint[c] = h;
    } else if (off >>> 5 < this.chunkHint[c]!) {
      this.chunkHint[c] = off >>> 5;
    }
  }

  /** Chunks whose bitmap is materialised (partly allocated): the allocator's real cost. */
  materializedChunks(): number {
    let n = 0;
    for (const w of this.chunks) if (w !== undefined && w !== FULL) n++;
    return n;
  }

  /** Entries the allocator keeps besides its fixed per-chunk counters. */
  trackedEntries(): number {
    return this.allocated.size + this.materializedChunks();
  }
}

/**
 * The offset of the first free aligned run of `2^order` frames (order < 15) in
 * a chunk bitmap whose words below `from` are full, or -1.
 */
function findInChunk(words: Uint32Array, order: number, limit: number, from: number): number {
  if (order === 0) {
    for (let w = from; w < WORDS; w++) {
      const v = words[w]!;
      if (v === 0xffffffff) continue;
      const inv = ~v;
      const off = w * 32 + (31 - Math.clz32(inv & -inv));
      return off < limit ? off : -1;
    }
    return -1;
  }
  if (order < 5) {
    const size = 1 << order;
    const mask = (1 << size) - 1;
    for (let w = from; w < WORDS; w++) {
      const v = words[w]!;
      if (v === 0xffffffff) continue;
      for (let b = 0; b < 32; b += size) {
        if (((v >>> b) & mask) === 0) {
          const off = w * 32 + b;
          return off + size <= limit ? off : -1;
        }
      }
    }
    return -1;
  }
  const span = POW2[order - 5]!;
  for (let w = Math.floor(from / span) * span; w + span <= WORDS; w += span) {
    if ((w + span) * 32 > limit) return -1;
    let free = true;
    for (let j = w; j < w + span; j++) {
      if (words[j] !== 0) {
        free = false;
        break;
      }
    }
    if (free) return w * 32;
  }
  return -1;
}
