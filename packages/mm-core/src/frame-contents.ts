/**
 * The bytes of simulated RAM (`PhysicalMemory`): stored only for frames that
 * were written with something other than zeros, so a frame nobody wrote
 * costs nothing and a 1 TiB machine costs nothing until it is used.
 *
 * Data structures, chosen so that a byte access is a few typed-array reads
 * and a stored page costs no JavaScript object:
 *
 * - a directory from frame number to content slot: chunks of 4096 frames
 *   (16 MiB of RAM), each an `Int32Array` created on the first write to the
 *   chunk and dropped when its last stored frame is cleared, which also
 *   counts the stored frames of each group of 64 and of the whole chunk; the
 *   directory itself is a plain array indexed by `pfn >>> 12`;
 * - one arena of page-sized slots, a `Uint8Array` over a resizable
 *   `ArrayBuffer` (up to 4 GiB; it grows by doubling without copying, and
 *   shrinks when most of it is free, after moving the pages in use to the
 *   front): a read is `arena[slot * pageSize + offset]`, with the arena's
 *   memory address hoisted out of any loop. Pages beyond the arena's limit
 *   (more than 4 GiB of written data) go to an overflow map of page arrays;
 * - a stack of free slots; a freed slot is zeroed when it is taken again —
 *   only the span of it that was ever written (each slot records the lowest
 *   and highest byte written since it was last zeroed), so a page that got a
 *   few bytes costs a few bytes to clear, not a 4 KiB memset.
 * - line slots ({@link LineArena}): a frame whose non-zero bytes all lie in
 *   one 64-byte line (the common first touch: a store into a fresh page) is
 *   kept as that line alone, in a dense arena of lines, until a non-zero
 *   byte goes to another line, a fill or copy needs the page, or a read
 *   wants it cached: then it moves to a page slot ("promotion"). A page slot
 *   per first touch means one host page per simulated page, i.e. a host TLB
 *   and cache miss per fault (~200 ns of a ~550 ns anonymous fault); 64
 *   lines share a host page.
 * - a read cache in front of the directory: a direct-mapped table of
 *   {@link READ_CACHE_FRAMES} frames (by `pfn` modulo its size) holding each
 *   cached frame's arena byte offset, so that a repeated read of a stored
 *   frame is a tag compare, a typed-array read and the byte. It holds
 *   only frames stored in the arena's page slots (a line frame that is
 *   read gets promoted, see `readLine`), and is updated wherever a frame's
 *   slot changes (attach, promotion, clear, shrink).
 *
 * Costs: `read`/`write`/`clear` O(1) (a reused slot is zeroed once: O(bytes
 * of it written)); `isZero` O(1) for a frame with nothing stored, else O(its
 * line or written span); `clearRange` O(frames stored in the range + 64-frame groups spanned);
 * shrinking O(slots) when it happens (amortised over the frees that led to it).
 */

import { extendTo } from './dense-index.js';

/** Frames per directory chunk (log2). */
const CHUNK_SHIFT = 12;
const CHUNK_FRAMES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_FRAMES - 1;
/** Frames per group (log2): a chunk counts the stored frames of each group, so that `clearRange` skips empty ones. */
const GROUP_SHIFT = 6;
const GROUP_FRAMES = 1 << GROUP_SHIFT;
/** A chunk's layout: its frames' entries, then the stored frames per group, then the stored frames of the chunk. */
const CHUNK_GROUPS = CHUNK_FRAMES >> GROUP_SHIFT;
const CHUNK_COUNT_AT = CHUNK_FRAMES + CHUNK_GROUPS;
const CHUNK_LENGTH = CHUNK_COUNT_AT + 1;
/** The arena's size limit (resizable buffers reach 4 GiB here). */
const ARENA_MAX_BYTES = 2 ** 32;
/** Initial arena size. */
const ARENA_MIN_BYTES = 1 << 20;
/** Free arena space kept for reuse before the arena shrinks. */
const ARENA_KEEP_FREE_BYTES = 128 << 20;
/** Emptied directory chunks kept for reuse. */
const SPARE_CHUNKS = 16;
/** Frames the read cache holds (a power of two): the TLB's reach, 2 MiB of 4 KiB pages. */
export const READ_CACHE_FRAMES = 512;
const READ_CACHE_MASK = READ_CACHE_FRAMES - 1;
/** Bytes per line slot (log2): a cache line. */
const LINE_SHIFT = 6;
const LINE_BYTES = 1 << LINE_SHIFT;
const LINE_MASK = LINE_BYTES - 1;
/**
 * Directory entries from here up name line slots (`LINE_TAG + slot`); below
 * it, positive entries are page slots + 1 (at most 2^32 / 64 of them).
 */
const LINE_TAG = 2 ** 30;
/** Reads of frames kept as lines between two promotions of the frames read (see readLine). */
const READ_PROMOTE_BATCH = 64;
/** The line arena's size limit in lines (1 GiB of lines): past it, frames get page slots. */
const LINE_MAX_SLOTS = 2 ** 24;
/** Initial line arena size in lines. */
const LINE_MIN_SLOTS = 4096;
/** Free line slots kept for reuse before the line arena shrinks (8 MiB of lines). */
const LINE_KEEP_FREE_SLOTS = 1 << 17;

/**
 * The line slots of {@link PhysicalMemory}: 64-byte slots, each holding the
 * one line of a frame that has non-zero bytes in that line only, in dense
 * typed arrays (grown by doubling, shrunk when mostly free). A free slot is
 * all zeros except the bytes a frame wrote, which {@link take} zeroes.
 */
class LineArena {
  /** The lines' bytes: slot `s` at `s * 64`. */
  bytes: Uint8Array = new Uint8Array(0);
  /** The same memory as 8-byte words, to zero a line in eight stores. */
  words: Float64Array = new Float64Array(0);
  /** Per slot: which line of its frame it holds (byte offset >> 6). */
  lineOf: Int32Array = new Int32Array(0);
  /** Per slot: the frame stored there, or -1. */
  pfnOf: Float64Array = new Float64Array(0);
  /** Free slots (a stack; the lowest on top after a grow). */
  free: Int32Array = new Int32Array(0);
  freeTop = 0;
  /** Slots the arena holds now. */
  slots = 0;

  /** A zeroed slot holding line `line` of frame `pfn`, or -1 when the arena is at its limit. */
  take(pfn: number, line: number): number {
    if (this.freeTop === 0 && !this.resize(Math.min(LINE_MAX_SLOTS, Math.max(LINE_MIN_SLOTS, 2 * this.slots)))) return -1;
    const slot = this.free[--this.freeTop]!;
    const words = this.words;
    const w = slot << (LINE_SHIFT - 3);
    for (let i = 0; i < LINE_BYTES >> 3; i++) words[w + i] = 0;
    this.lineOf[slot] = line;
    this.pfnOf[slot] = pfn;
    return slot;
  }

  /** Give slot `slot` back (its bytes are zeroed when it is taken again). */
  release(slot: number): void {
    this.pfnOf[slot] = -1;
    this.free[this.freeTop++] = slot;
  }

  /** True when so much of the arena is free that {@link PhysicalMemory} should compact it. */
  wantsShrink(): boolean {
    return this.freeTop > LINE_KEEP_FREE_SLOTS && 4 * (this.slots - this.freeTop) < this.slots;
  }

  /**
   * Make the arena hold exactly `slots` slots, keeping those below (on a
   * shrink the caller moved every slot in use there); false if it holds that
   * many already. The free stack is rebuilt, lowest slot on top.
   */
  resize(slots: number): boolean {
    if (slots === this.slots) return false;
    const keep = Math.min(this.slots, slots);
    const buffer = new ArrayBuffer(slots * LINE_BYTES);
    const bytes = new Uint8Array(buffer);
    bytes.set(this.bytes.subarray(0, keep * LINE_BYTES));
    this.bytes = bytes;
    this.words = new Float64Array(buffer);
    const lineOf = new Int32Array(slots);
    lineOf.set(this.lineOf.subarray(0, keep));
    this.lineOf = lineOf;
    const pfnOf = new Float64Array(slots).fill(-1);
    pfnOf.set(this.pfnOf.subarray(0, keep));
    this.pfnOf = pfnOf;
    const free = new Int32Array(slots);
    let top = 0;
    for (let s = slots - 1; s >= 0; s--) if (pfnOf[s] === -1) free[top++] = s;
    this.free = free;
    this.freeTop = top;
    this.slots = slots;
    return true;
  }
}

function canResize(): boolean {
  try {
    const b = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resizable?: boolean })(0, {
      maxByteLength: 4096,
    });
    return b.resizable === true;
  } catch {
    return false;
  }
}
const RESIZABLE = canResize();

type ResizableBuffer = ArrayBuffer & { resize(length: number): void };

/** The bytes of simulated RAM, stored only for frames that were written. */
export class PhysicalMemory {
  /**
   * Chunk → entry per frame: arena slot + 1, {@link LINE_TAG} + line slot, a
   * negative overflow key, or 0 = nothing stored; undefined = chunk has nothing stored.
   */
  private readonly dir: (Int32Array | undefined)[] = [];
  private buffer: ArrayBuffer | null = null;
  private arena: Uint8Array = new Uint8Array(0);
  /** Slots the arena holds now. */
  private slots = 0;
  /** Per slot: the frame stored there, or -1. */
  private slotPfn: Float64Array = new Float64Array(0);
  /**
   * Per slot `s`: `[2s]` the lowest and `[2s + 1]` one past the highest byte
   * offset written since the slot was last zeroed (`pageSize`, 0 when
   * clean). Every byte of the slot outside the span is zero: whatever writes
   * into the arena must widen the span ({@link written}).
   */
  private slotSpan: Int32Array = new Int32Array(0);
  /** Free slots (a stack). */
  private free: Int32Array = new Int32Array(0);
  private freeTop = 0;
  /** Frames kept as one line (see the file comment). */
  private readonly lines = new LineArena();
  /** Whether frames may be kept as one line (pages larger than a line). */
  private declare readonly lineMode: boolean;
  /** Frames kept as lines that were read, to promote ({@link readLine}). */
  private readonly readQueue = new Float64Array(READ_PROMOTE_BATCH);
  private readQueued = 0;
  /** Pages that did not fit the arena (keys -1, -2, …). */
  private readonly overflow = new Map<number, Uint8Array>();
  /** Emptied directory chunks kept for reuse. */
  private readonly spareChunks: Int32Array[] = [];
  private nextOverflowKey = -1;
  private stored = 0;
  /** Read cache: the frame in each entry, or -1 (see the file comment). */
  private readonly cachePfn = new Float64Array(READ_CACHE_FRAMES).fill(-1);
  /** Read cache: the arena byte offset of the cached frame's page. */
  private readonly cacheAt = new Float64Array(READ_CACHE_FRAMES);
  /** Bytes per frame (a power of two). */
  declare readonly pageSize: number;
  /** The arena's size limit. */
  private declare readonly maxArenaBytes: number;

  /**
   * @param pageSize bytes per frame (a power of two)
   * @param maxArenaBytes the arena's size limit (4 GiB; smaller in tests of the overflow)
   */
  constructor(pageSize = 4096, maxArenaBytes = ARENA_MAX_BYTES) {
    // Assigned here rather than as parameter properties: a field created
    // with its value keeps an exact type for the JIT (see read).
    this.pageSize = pageSize;
    this.maxArenaBytes = maxArenaBytes;
    this.lineMode = pageSize > LINE_BYTES;
    if (!(pageSize > 0 && 2 ** Math.round(Math.log2(pageSize)) === pageSize)) throw new RangeError(`page size ${pageSize} is not a power of two`);
  }

  /** The directory entry of frame `pfn` (a page slot + 1, a line, an overflow key), or 0. */
  private slotOf(pfn: number): number {
    const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
    const chunk = c < this.dir.length ? this.dir[c] : undefined;
    return chunk === undefined ? 0 : chunk[pfn & CHUNK_MASK]!;
  }

  /**
   * Read one byte. Small enough to be inlined into a caller's loop: a frame
   * in the read cache costs a tag compare and two typed-array reads; the
   * rest is the private `readUncached`.
   */
  read(pfn: number, offset: number): number {
    // `pfn & mask` hashes any number (ToInt32); only a stored frame's own pfn matches its tag.
    const i = pfn & READ_CACHE_MASK;
    if (this.cachePfn[i] === pfn) return this.arena[this.cacheAt[i]! + offset]!;
    return this.readUncached(pfn, offset);
  }

  /** {@link read} through the directory; caches a frame stored in the arena. */
  private readUncached(pfn: number, offset: number): number {
    // Past the directory's end the read gives undefined: no length check on this path.
    const chunk = this.dir[pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES)];
    if (chunk === undefined) return 0;
    const s = chunk[pfn & CHUNK_MASK]!;
    if (s >= LINE_TAG) return this.readLine(pfn, offset, s);
    if (s > 0) {
      const at = (s - 1) * this.pageSize;
      const i = pfn & READ_CACHE_MASK;
      this.cachePfn[i] = pfn;
      this.cacheAt[i] = at;
      return this.arena[at + offset]!;
    }
    return s === 0 ? 0 : this.overflow.get(s)![offset]!;
  }

  /**
   * {@link read} of a frame kept as a line (entry `entry`), from the line.
   * The frame is queued for promotion to a page slot, which the read cache
   * can hold, so that the reads that follow (a program reads what it wrote)
   * hit the cache; the queue is promoted every {@link READ_PROMOTE_BATCH}
   * reads of line frames. Not promoted here and now: a promotion is much
   * more code than a read, and V8 would inline it into {@link read} (it runs
   * on every first read of a written page), making `read` too big to be
   * inlined into a caller's read loop (which then ran at half speed).
   */
  private readLine(pfn: number, offset: number, entry: number): number {
    this.readQueue[this.readQueued++] = pfn;
    if (this.readQueued === READ_PROMOTE_BATCH) this.promoteQueued();
    const slot = entry - LINE_TAG;
    const lines = this.lines;
    return lines.lineOf[slot] === offset >>> LINE_SHIFT ? lines.bytes[(slot << LINE_SHIFT) + (offset & LINE_MASK)]! : 0;
  }

  /** Promote the frames {@link readLine} queued that are still kept as lines. */
  private promoteQueued(): void {
    const n = this.readQueued;
    this.readQueued = 0;
    for (let q = 0; q < n; q++) {
      const pfn = this.readQueue[q]!;
      const s = this.slotOf(pfn);
      if (s >= LINE_TAG) this.promote(pfn, s);
    }
  }

  /** Write one byte. */
  write(pfn: number, offset: number, value: number): void {
    let s = this.slotOf(pfn);
    if (s === 0) {
      if (value === 0) return;
      s = this.attach(pfn, offset >>> LINE_SHIFT);
    }
    if (s >= LINE_TAG) {
      const slot = s - LINE_TAG;
      const lines = this.lines;
      if (lines.lineOf[slot] === offset >>> LINE_SHIFT) {
        lines.bytes[(slot << LINE_SHIFT) + (offset & LINE_MASK)] = value;
        return;
      }
      if (value === 0) return; // a byte outside the line is zero already
      s = this.promote(pfn, s);
    }
    if (s > 0) {
      this.arena[(s - 1) * this.pageSize + offset] = value;
      this.written(s - 1, offset, offset + 1);
    } else this.overflow.get(s)![offset] = value;
  }

  /** Widen slot `slot`'s written span to cover `[from, to)`. */
  private written(slot: number, from: number, to: number): void {
    const span = this.slotSpan;
    const k = slot << 1;
    if (from < span[k]!) span[k] = from;
    if (to > span[k + 1]!) span[k + 1] = to;
  }

  /** Fill a range of one frame with a byte value. */
  fill(pfn: number, offset: number, length: number, value: number): void {
    let s = this.slotOf(pfn);
    if (s === 0) {
      if (value === 0) return;
      s = this.attach(pfn, -1);
    }
    // Clamp as TypedArray#fill on a page-sized array would.
    const size = this.pageSize;
    const from = offset < 0 ? Math.max(size + offset, 0) : Math.min(offset, size);
    const stop = offset + length;
    const to = stop < 0 ? Math.max(size + stop, 0) : Math.min(stop, size);
    if (!(from < to)) return;
    if (s >= LINE_TAG) s = this.promote(pfn, s);
    if (s > 0) {
      const at = (s - 1) * this.pageSize;
      this.arena.fill(value, at + from, at + to);
      this.written(s - 1, from, to);
    } else {
      this.overflow.get(s)!.fill(value, from, to);
    }
  }

  /** Make a frame read as zeros again (`clear_highpage`) and drop its storage. */
  clear(pfn: number): void {
    const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
    const chunk = c < this.dir.length ? this.dir[c] : undefined;
    if (chunk === undefined) return;
    const k = pfn & CHUNK_MASK;
    const s = chunk[k]!;
    if (s === 0) return;
    chunk[k] = 0;
    const i = pfn & READ_CACHE_MASK;
    if (this.cachePfn[i] === pfn) this.cachePfn[i] = -1;
    this.stored--;
    chunk[CHUNK_FRAMES + (k >>> GROUP_SHIFT)]!--;
    if (--chunk[CHUNK_COUNT_AT]! === 0) {
      // Empty (all zeros): keep a few for reuse, a typed array costs microseconds to allocate.
      if (this.spareChunks.length < SPARE_CHUNKS) this.spareChunks.push(chunk);
      this.dir[c] = undefined;
    }
    this.releaseEntry(s);
  }

  /** Clear `count` consecutive frames from `pfn` (a huge page's worth at once). */
  clearRange(pfn: number, count: number): void {
    const end = pfn + count;
    let f = pfn;
    while (f < end && this.stored > 0) {
      const c = f < 4294967296 ? f >>> CHUNK_SHIFT : Math.floor(f / CHUNK_FRAMES);
      const chunkEnd = Math.min(end, (c + 1) * CHUNK_FRAMES);
      const chunk = c < this.dir.length ? this.dir[c] : undefined;
      if (chunk !== undefined) {
        // Group by group, skipping groups with nothing (more) stored (a huge page in a chunk that
        // holds other frames: 8 counts, not 512 entries); stop when the chunk empties.
        for (let g = f; g < chunkEnd && this.dir[c] !== undefined; ) {
          const k = g & CHUNK_MASK;
          const groupEnd = Math.min(chunkEnd, g - (k & (GROUP_FRAMES - 1)) + GROUP_FRAMES);
          const count = CHUNK_FRAMES + (k >>> GROUP_SHIFT);
          // (clear counts each frame out of its group: the scan stops at the group's last stored frame)
          for (; g < groupEnd && chunk[count] !== 0; g++) if (chunk[g & CHUNK_MASK] !== 0) this.clear(g);
          g = groupEnd;
        }
      }
      f = chunkEnd;
    }
  }

  /** Copy one frame's contents to another (`copy_user_highpage`). */
  copy(from: number, to: number): void {
    const src = this.slotOf(from);
    if (src === 0 || from === to) {
      if (src === 0) this.clear(to);
      return;
    }
    if (src >= LINE_TAG) {
      // A line copies to a line (a copy-on-write of a page written in one line stays cheap).
      this.clear(to);
      // Looked up again: freeing `to`'s storage may have compacted the line arena.
      const slot = this.slotOf(from) - LINE_TAG;
      const lines = this.lines;
      const line = lines.lineOf[slot]!;
      const dst = this.attach(to, line);
      const at = line << LINE_SHIFT;
      const bytes = lines.bytes.subarray(slot << LINE_SHIFT, (slot + 1) << LINE_SHIFT);
      if (dst >= LINE_TAG) lines.bytes.set(bytes, (dst - LINE_TAG) << LINE_SHIFT);
      else this.page(dst).set(bytes, at);
      if (dst > 0 && dst < LINE_TAG) this.written(dst - 1, at, at + LINE_BYTES);
      return;
    }
    let dst = this.slotOf(to);
    if (dst === 0) dst = this.attach(to, -1);
    else if (dst >= LINE_TAG) dst = this.promote(to, dst);
    this.page(dst).set(this.page(this.slotOf(from)));
    if (dst > 0) this.written(dst - 1, 0, this.pageSize);
  }

  /**
   * Whether every byte of the frame is zero (`memchr_inv(addr, 0, PAGE_SIZE)
   * == NULL`, as the split of a THP asks of each subpage). A frame with
   * nothing stored costs a directory look-up; a stored one only the bytes
   * that could be non-zero: its line, or the span of its page slot written
   * since the slot was last zeroed.
   */
  isZero(pfn: number): boolean {
    const s = this.slotOf(pfn);
    if (s === 0) return true;
    let bytes: Uint8Array;
    let from: number;
    let to: number;
    if (s >= LINE_TAG) {
      bytes = this.lines.bytes;
      from = (s - LINE_TAG) << LINE_SHIFT;
      to = from + LINE_BYTES;
    } else if (s > 0) {
      bytes = this.arena;
      const at = (s - 1) * this.pageSize;
      from = at + Math.min(this.slotSpan[(s - 1) << 1]!, this.pageSize);
      to = at + this.slotSpan[((s - 1) << 1) + 1]!;
    } else {
      bytes = this.overflow.get(s)!;
      from = 0;
      to = bytes.length;
    }
    for (let i = from; i < to; i++) if (bytes[i] !== 0) return false;
    return true;
  }

  /** Frames that hold data (for memory accounting in benchmarks and tests). */
  get storedFrames(): number {
    return this.stored;
  }

  /** Bytes held for contents: the arenas (slots in use and free) and overflow pages. */
  get contentBytes(): number {
    return this.arena.length + this.lines.bytes.length + this.overflow.size * this.pageSize;
  }

  /** The bytes of a directory entry's page (a view; for copies). */
  private page(entry: number): Uint8Array {
    if (entry > 0) return this.arena.subarray((entry - 1) * this.pageSize, entry * this.pageSize);
    return this.overflow.get(entry)!;
  }

  /**
   * Give a frame that stores nothing zeroed storage: line `line` of it alone
   * if `line` ≥ 0 and the line arena has room, else a page. Returns its
   * directory entry.
   */
  private attach(pfn: number, line: number): number {
    const entry = line >= 0 ? this.takeLine(pfn, line) : this.takeEntry(pfn);
    this.setEntry(pfn, entry);
    this.stored++;
    // The frame was not stored, so it was not cached; cache it if it is in the arena.
    if (entry > 0 && entry < LINE_TAG) this.cache(pfn, entry);
    return entry;
  }

  /** Put frame `pfn` in the read cache, at page slot entry `entry`. */
  private cache(pfn: number, entry: number): void {
    const i = pfn & READ_CACHE_MASK;
    this.cachePfn[i] = pfn;
    this.cacheAt[i] = (entry - 1) * this.pageSize;
  }

  /** A line slot entry for line `line` of `pfn` ({@link LINE_TAG} + slot), or a page entry if lines are off or full. */
  private takeLine(pfn: number, line: number): number {
    if (this.lineMode) {
      const slot = this.lines.take(pfn, line);
      if (slot >= 0) return LINE_TAG + slot;
    }
    return this.takeEntry(pfn);
  }

  /**
   * Promote frame `pfn`, kept as line entry `entry`, to a page (slot or
   * overflow) with the same bytes; returns the new entry.
   */
  private promote(pfn: number, entry: number): number {
    const slot = entry - LINE_TAG;
    const lines = this.lines;
    const at = lines.lineOf[slot]! << LINE_SHIFT;
    const page = this.takeEntry(pfn);
    this.page(page).set(lines.bytes.subarray(slot << LINE_SHIFT, (slot + 1) << LINE_SHIFT), at);
    if (page > 0) {
      this.written(page - 1, at, at + LINE_BYTES);
      this.cache(pfn, page);
    }
    this.setEntry(pfn, page);
    lines.release(slot);
    if (lines.wantsShrink()) this.shrinkLines();
    return page;
  }

  /** Set frame `pfn`'s directory entry to a new non-zero `entry`, counting it in its chunk if it had none. */
  private setEntry(pfn: number, entry: number): void {
    const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
    extendTo(this.dir, c, undefined);
    let chunk = this.dir[c];
    if (chunk === undefined) chunk = this.dir[c] = this.spareChunks.pop() ?? new Int32Array(CHUNK_LENGTH);
    const k = pfn & CHUNK_MASK;
    if (chunk[k] === 0) {
      chunk[CHUNK_COUNT_AT]!++;
      chunk[CHUNK_FRAMES + (k >>> GROUP_SHIFT)]!++;
    }
    chunk[k] = entry;
  }

  /**
   * A zeroed page for `pfn`, as a directory entry: an arena slot + 1, or —
   * when the arena is full — a negative key of the overflow map.
   */
  private takeEntry(pfn: number): number {
    if (this.freeTop === 0 && !this.grow()) {
      const key = this.nextOverflowKey--;
      this.overflow.set(key, new Uint8Array(this.pageSize));
      return key;
    }
    const slot = this.free[--this.freeTop]!;
    const span = this.slotSpan;
    const k = slot << 1;
    const lo = span[k]!;
    const hi = span[k + 1]!;
    if (lo < hi) {
      // Zero what was written; the rest of the slot is zero already.
      const at = slot * this.pageSize;
      if (hi - lo <= 64) {
        const arena = this.arena;
        for (let i = at + lo; i < at + hi; i++) arena[i] = 0;
      } else {
        this.arena.fill(0, at + lo, at + hi);
      }
      span[k] = this.pageSize;
      span[k + 1] = 0;
    }
    this.slotPfn[slot] = pfn;
    return slot + 1;
  }

  private releaseEntry(entry: number): void {
    if (entry < 0) {
      this.overflow.delete(entry);
      return;
    }
    if (entry >= LINE_TAG) {
      this.lines.release(entry - LINE_TAG);
      if (this.lines.wantsShrink()) this.shrinkLines();
      return;
    }
    const slot = entry - 1;
    this.slotPfn[slot] = -1;
    this.free[this.freeTop++] = slot;
    if (this.freeTop * this.pageSize > ARENA_KEEP_FREE_BYTES && 4 * (this.slots - this.freeTop) < this.slots) this.shrink();
  }

  /** Double the arena (up to its limit); false if it cannot grow. */
  private grow(): boolean {
    const old = this.slots;
    const bytes = Math.min(this.maxArenaBytes, Math.max(ARENA_MIN_BYTES, 2 * old * this.pageSize));
    const slots = Math.floor(bytes / this.pageSize);
    if (slots <= old) return false;
    this.resizeArena(slots);
    // New slots are zero; hand them out lowest first.
    const free = new Int32Array(slots);
    free.set(this.free.subarray(0, this.freeTop), slots - old);
    for (let k = 0; k < slots - old; k++) free[k] = slots - 1 - k;
    this.free = free;
    this.freeTop += slots - old;
    return true;
  }

  /** Move the pages in use to the front of the arena and give the rest back, keeping some room. */
  private shrink(): void {
    const live = this.slots - this.freeTop;
    const keep = Math.floor(ARENA_KEEP_FREE_BYTES / this.pageSize);
    let target = Math.max(live + (keep >> 1), Math.floor(ARENA_MIN_BYTES / this.pageSize));
    target = Math.min(this.slots, 2 ** Math.ceil(Math.log2(target)));
    if (target >= this.slots) return;
    // Pages above the target move into free slots below it.
    const holes: number[] = [];
    for (let s = 0; s < target; s++) if (this.slotPfn[s] === -1) holes.push(s);
    let h = 0;
    for (let s = target; s < this.slots; s++) {
      const pfn = this.slotPfn[s]!;
      if (pfn === -1) continue;
      const to = holes[h++]!;
      this.arena.copyWithin(to * this.pageSize, s * this.pageSize, (s + 1) * this.pageSize);
      this.slotPfn[to] = pfn;
      // The page moved whole: its span goes with it.
      this.slotSpan[2 * to] = this.slotSpan[2 * s]!;
      this.slotSpan[2 * to + 1] = this.slotSpan[2 * s + 1]!;
      const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
      this.dir[c]![pfn & CHUNK_MASK] = to + 1;
      const i = pfn & READ_CACHE_MASK;
      if (this.cachePfn[i] === pfn) this.cacheAt[i] = to * this.pageSize;
    }
    this.resizeArena(target);
    const free = new Int32Array(target);
    let top = 0;
    for (let s = target - 1; s >= 0; s--) if (this.slotPfn[s] === -1) free[top++] = s;
    this.free = free;
    this.freeTop = top;
  }

  /** Move the lines in use to the front of the line arena and give the rest back, keeping some room. */
  private shrinkLines(): void {
    const lines = this.lines;
    const live = lines.slots - lines.freeTop;
    const target = Math.min(lines.slots, 2 ** Math.ceil(Math.log2(Math.max(live + (LINE_KEEP_FREE_SLOTS >> 1), LINE_MIN_SLOTS))));
    if (target >= lines.slots) return;
    let hole = 0;
    for (let s = target; s < lines.slots; s++) {
      const pfn = lines.pfnOf[s]!;
      if (pfn === -1) continue;
      while (lines.pfnOf[hole] !== -1) hole++;
      lines.bytes.copyWithin(hole << LINE_SHIFT, s << LINE_SHIFT, (s + 1) << LINE_SHIFT);
      lines.lineOf[hole] = lines.lineOf[s]!;
      lines.pfnOf[hole] = pfn;
      lines.pfnOf[s] = -1;
      this.dir[pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES)]![pfn & CHUNK_MASK] = LINE_TAG + hole;
    }
    lines.resize(target);
  }

  /** Make the arena hold exactly `slots` slots, keeping the contents of those below. */
  private resizeArena(slots: number): void {
    const bytes = slots * this.pageSize;
    if (RESIZABLE) {
      if (this.buffer === null) {
        const Ctor = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
        this.buffer = new Ctor(bytes, { maxByteLength: this.maxArenaBytes });
        this.arena = new Uint8Array(this.buffer);
      } else {
        (this.buffer as ResizableBuffer).resize(bytes);
      }
    } else {
      const arena = new Uint8Array(bytes);
      arena.set(this.arena.subarray(0, Math.min(this.arena.length, bytes)));
      this.buffer = arena.buffer;
      this.arena = arena;
    }
    const pfns = new Float64Array(slots).fill(-1);
    pfns.set(this.slotPfn.subarray(0, Math.min(this.slots, slots)));
    this.slotPfn = pfns;
    const span = new Int32Array(2 * slots);
    const kept = Math.min(this.slots, slots);
    span.set(this.slotSpan.subarray(0, 2 * kept));
    for (let k = kept; k < slots; k++) span[2 * k] = this.pageSize; // new slots are zero: clean
    this.slotSpan = span;
    this.slots = slots;
  }
}
