/**
 * The index of a file's page cache: page index → frame.
 * @see include/linux/xarray.h (`address_space.i_pages`), mm/filemap.c
 */

/** Slots per chunk (a PTE table's worth of pages: 2 MiB of file). */
const CHUNK = 512;
/** Where a chunk keeps its count of occupied slots (after the slots). */
const COUNT = CHUNK;

/**
 * A file's page cache index (Linux's `address_space.i_pages` xarray): page
 * index → frame. The slots live in chunks of 512 — a `Float64Array` each,
 * frame + 1 per slot (0 for a hole), the count of occupied slots after them —
 * found by chunk number in a `Map`, with the chunk used last remembered. A
 * file faulted in page by page costs one `Map` look-up per 512 pages instead
 * of a look-up and an insertion per page (and no rehashing as it grows), and
 * an index up to 2^51 (`MAX_LFS_FILESIZE` in pages) is exact. A chunk goes
 * when its last page does.
 *
 * Iteration is in ascending index order.
 */
export class PageIndex implements Iterable<[number, number]> {
  private readonly chunks = new Map<number, Float64Array>();
  private lastKey = -1;
  private lastChunk: Float64Array | null = null;
  /** Pages in the index. */
  size = 0;

  /** The chunk holding slot `key * 512`, or undefined. */
  private chunk(key: number): Float64Array | undefined {
    if (key === this.lastKey) return this.lastChunk!;
    const c = this.chunks.get(key);
    if (c !== undefined) {
      this.lastKey = key;
      this.lastChunk = c;
    }
    return c;
  }

  /** The frame at `index`, or -1 for a hole. */
  get(index: number): number {
    const key = Math.floor(index / CHUNK);
    const c = this.chunk(key);
    return c === undefined ? -1 : c[index - key * CHUNK]! - 1;
  }

  /** Whether a page is cached at `index`. */
  has(index: number): boolean {
    return this.get(index) >= 0;
  }

  /** Cache frame `pfn` (≥ 0) at `index`, replacing what was there. */
  set(index: number, pfn: number): void {
    const key = Math.floor(index / CHUNK);
    let c = this.chunk(key);
    if (c === undefined) {
      c = new Float64Array(CHUNK + 1);
      this.chunks.set(key, c);
      this.lastKey = key;
      this.lastChunk = c;
    }
    const slot = index - key * CHUNK;
    if (c[slot] === 0) {
      c[COUNT]!++;
      this.size++;
    }
    c[slot] = pfn + 1;
  }

  /** Remove the page at `index`: its frame, or -1 if there was none. */
  delete(index: number): number {
    const key = Math.floor(index / CHUNK);
    const c = this.chunk(key);
    if (c === undefined) return -1;
    const slot = index - key * CHUNK;
    const pfn = c[slot]! - 1;
    if (pfn < 0) return -1;
    c[slot] = 0;
    this.size--;
    if (--c[COUNT]! === 0) this.dropChunk(key);
    return pfn;
  }

  /**
   * Remove every page with index in `[first, last)` (`last` may be Infinity),
   * in ascending order, handing each frame and index to `removed`. The
   * callback must not add pages to this index.
   */
  removeRange(first: number, last: number, removed: (pfn: number, index: number) => void): void {
    if (this.size === 0 || !(first < last)) return;
    const firstKey = Math.floor(first / CHUNK);
    const lastKey = last === Infinity ? Infinity : Math.floor((last - 1) / CHUNK);
    const keys: number[] = [];
    if (lastKey - firstKey < this.chunks.size) {
      for (let k = firstKey; k <= lastKey; k++) if (this.chunks.has(k)) keys.push(k);
    } else {
      for (const k of this.chunks.keys()) if (k >= firstKey && k <= lastKey) keys.push(k);
      keys.sort((a, b) => a - b);
    }
    for (const key of keys) {
      const c = this.chunks.get(key)!;
      const base = key * CHUNK;
      const from = Math.max(first - base, 0);
      const to = Math.min(last - base, CHUNK);
      for (let slot = from; slot < to && c[COUNT]! > 0; slot++) {
        const pfn = c[slot]! - 1;
        if (pfn < 0) continue;
        c[slot] = 0;
        c[COUNT]!--;
        this.size--;
        removed(pfn, base + slot);
      }
      if (c[COUNT] === 0) this.dropChunk(key);
    }
  }

  /** Remove every page without reporting them. */
  clear(): void {
    this.chunks.clear();
    this.lastKey = -1;
    this.lastChunk = null;
    this.size = 0;
  }

  /** `[index, frame]` of every cached page, in ascending index order. */
  *[Symbol.iterator](): IterableIterator<[number, number]> {
    const keys = [...this.chunks.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const c = this.chunks.get(key);
      if (c === undefined) continue;
      for (let slot = 0; slot < CHUNK; slot++) if (c[slot]! > 0) yield [key * CHUNK + slot, c[slot]! - 1];
    }
  }

  private dropChunk(key: number): void {
    this.chunks.delete(key);
    if (key === this.lastKey) {
      this.lastKey = -1;
      this.lastChunk = null;
    }
  }
}
