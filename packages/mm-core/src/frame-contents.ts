/**
 * The bytes of simulated RAM (`PhysicalMemory`): stored only for frames that
 * were written with something other than zeros, so a frame nobody wrote
 * costs nothing and a 1 TiB machine costs nothing until it is used.
 *
 * Data structures, chosen so that a byte access is a few array reads and a
 * page costs no JavaScript object:
 *
 * - a directory from frame number to content slot: chunks of 4096 frames
 *   (16 MiB of RAM), each an `Int32Array` created on the first write to the
 *   chunk and dropped when its last stored frame is cleared; the directory
 *   itself is a plain array indexed by `pfn >>> 12`;
 * - slabs of 64 page-sized slots (256 KiB `Uint8Array`s) holding the bytes;
 *   a slot is taken from a slab with free slots (a per-slab free bitmap), a
 *   freed slot is zeroed when it is taken again, and an empty slab is kept
 *   for reuse while there are few empty slabs, else released.
 *
 * Costs: `read`/`write` O(1) (a slot is zeroed on reuse: O(page size) once);
 * `clear` O(1); `clearRange` O(frames stored in the range + chunks spanned).
 */

/** Frames per directory chunk (log2). */
const CHUNK_SHIFT = 12;
const CHUNK_FRAMES = 1 << CHUNK_SHIFT;
const CHUNK_MASK = CHUNK_FRAMES - 1;
/** Page slots per slab (log2): 64. */
const SLAB_SHIFT = 6;
const SLAB_SLOTS = 1 << SLAB_SHIFT;
const SLOT_MASK = SLAB_SLOTS - 1;
/** Empty slabs kept for reuse (128 MiB) before further empty slabs are released. */
const KEEP_EMPTY_SLABS = 512;

/** The bytes of simulated RAM, stored only for frames that were written. */
export class PhysicalMemory {
  /** log2 of the page size. */
  private readonly pageShift: number;
  /** Chunk → (slot + 1) per frame, 0 = nothing stored; undefined = chunk has nothing stored. */
  private readonly dir: (Int32Array | undefined)[] = [];
  /** Stored frames per chunk. */
  private chunkStored: Int32Array = new Int32Array(16);
  private readonly slabs: (Uint8Array | undefined)[] = [];
  /** Per slab: free-slot bitmap (two 32-bit words) and slots in use. */
  private slabFreeLo: Int32Array = new Int32Array(16);
  private slabFreeHi: Int32Array = new Int32Array(16);
  private slabLive: Int32Array = new Int32Array(16);
  /** Per slot: 1 if it held data since it was last zeroed. */
  private slotDirty: Uint8Array = new Uint8Array(16 * SLAB_SLOTS);
  /** Slabs that may have free slots (stale entries are skipped). */
  private readonly partial: number[] = [];
  /** Ids of released slabs, for reuse. */
  private readonly releasedIds: number[] = [];
  private emptySlabs = 0;
  private stored = 0;

  constructor(readonly pageSize = 4096) {
    this.pageShift = Math.round(Math.log2(pageSize));
    if (2 ** this.pageShift !== pageSize) throw new RangeError(`page size ${pageSize} is not a power of two`);
  }

  /** The slot (+1) holding frame `pfn`, or 0. */
  private slotOf(pfn: number): number {
    const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
    const chunk = c < this.dir.length ? this.dir[c] : undefined;
    return chunk === undefined ? 0 : chunk[pfn & CHUNK_MASK]!;
  }

  /** Read one byte. */
  read(pfn: number, offset: number): number {
    const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
    const chunk = c < this.dir.length ? this.dir[c] : undefined;
    if (chunk === undefined) return 0;
    const s = chunk[pfn & CHUNK_MASK]!;
    if (s === 0) return 0;
    const slot = s - 1;
    return this.slabs[slot >>> SLAB_SHIFT]![((slot & SLOT_MASK) << this.pageShift) + offset]!;
  }

  /** Write one byte. */
  write(pfn: number, offset: number, value: number): void {
    let s = this.slotOf(pfn);
    if (s === 0) {
      if (value === 0) return;
      s = this.attach(pfn);
    }
    const slot = s - 1;
    this.slabs[slot >>> SLAB_SHIFT]![((slot & SLOT_MASK) << this.pageShift) + offset] = value;
  }

  /** Fill a range of one frame with a byte value. */
  fill(pfn: number, offset: number, length: number, value: number): void {
    let s = this.slotOf(pfn);
    if (s === 0) {
      if (value === 0) return;
      s = this.attach(pfn);
    }
    const slot = s - 1;
    const at = (slot & SLOT_MASK) << this.pageShift;
    // Clamp as TypedArray#fill on a page-sized array would.
    const size = this.pageSize;
    const from = offset < 0 ? Math.max(size + offset, 0) : Math.min(offset, size);
    const stop = offset + length;
    const to = stop < 0 ? Math.max(size + stop, 0) : Math.min(stop, size);
    if (from < to) this.slabs[slot >>> SLAB_SHIFT]!.fill(value, at + from, at + to);
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
    this.releaseSlot(s - 1);
    this.stored--;
    if (--this.chunkStored[c]! === 0) this.dir[c] = undefined;
  }

  /** Clear `count` consecutive frames from `pfn` (a huge page's worth at once). */
  clearRange(pfn: number, count: number): void {
    if (this.stored === 0) return;
    const end = pfn + count;
    let f = pfn;
    while (f < end) {
      const c = f < 4294967296 ? f >>> CHUNK_SHIFT : Math.floor(f / CHUNK_FRAMES);
      const chunkEnd = Math.min(end, (c + 1) * CHUNK_FRAMES);
      if (c < this.dir.length && this.dir[c] !== undefined) {
        for (let g = f; g < chunkEnd && this.dir[c] !== undefined; g++) this.clear(g);
      }
      f = chunkEnd;
    }
  }

  /** Copy one frame's contents to another (`copy_user_highpage`). */
  copy(from: number, to: number): void {
    const src = this.slotOf(from);
    if (src === 0) {
      this.clear(to);
      return;
    }
    let dst = this.slotOf(to);
    if (dst === 0) dst = this.attach(to);
    const a = src - 1;
    const b = dst - 1;
    const size = this.pageSize;
    const at = (a & SLOT_MASK) << this.pageShift;
    this.slabs[b >>> SLAB_SHIFT]!.set(this.slabs[a >>> SLAB_SHIFT]!.subarray(at, at + size), (b & SLOT_MASK) << this.pageShift);
  }

  /** Frames that hold data (for memory accounting in benchmarks and tests). */
  get storedFrames(): number {
    return this.stored;
  }

  /** Bytes of slabs allocated for contents (in use or kept for reuse). */
  get slabBytes(): number {
    let n = 0;
    for (const slab of this.slabs) if (slab !== undefined) n += slab.length;
    return n;
  }

  /** Give a frame a zeroed slot; returns slot + 1. */
  private attach(pfn: number): number {
    const slot = this.takeSlot();
    const c = pfn < 4294967296 ? pfn >>> CHUNK_SHIFT : Math.floor(pfn / CHUNK_FRAMES);
    while (this.dir.length <= c) this.dir.push(undefined);
    if (c >= this.chunkStored.length) {
      const grown = new Int32Array(Math.max(c + 1, this.chunkStored.length * 2));
      grown.set(this.chunkStored);
      this.chunkStored = grown;
    }
    let chunk = this.dir[c];
    if (chunk === undefined) chunk = this.dir[c] = new Int32Array(CHUNK_FRAMES);
    chunk[pfn & CHUNK_MASK] = slot + 1;
    this.chunkStored[c]!++;
    this.stored++;
    return slot + 1;
  }

  /** A free, zeroed slot. */
  private takeSlot(): number {
    let id = -1;
    while (this.partial.length > 0) {
      const top = this.partial[this.partial.length - 1]!;
      if (this.slabs[top] !== undefined && (this.slabFreeLo[top]! | this.slabFreeHi[top]!) !== 0) {
        id = top;
        break;
      }
      this.partial.pop();
    }
    if (id < 0) id = this.newSlab();
    if (this.slabLive[id] === 0) this.emptySlabs--;
    let bit: number;
    const lo = this.slabFreeLo[id]!;
    if (lo !== 0) {
      bit = 31 - Math.clz32(lo & -lo);
      this.slabFreeLo[id] = lo & ~(1 << bit);
    } else {
      const hi = this.slabFreeHi[id]!;
      const b = 31 - Math.clz32(hi & -hi);
      this.slabFreeHi[id] = hi & ~(1 << b);
      bit = 32 + b;
    }
    this.slabLive[id]!++;
    const slot = (id << SLAB_SHIFT) | bit;
    if (this.slotDirty[slot] === 1) {
      const at = bit << this.pageShift;
      this.slabs[id]!.fill(0, at, at + this.pageSize);
      this.slotDirty[slot] = 0;
    }
    return slot;
  }

  private releaseSlot(slot: number): void {
    const id = slot >>> SLAB_SHIFT;
    const bit = slot & SLOT_MASK;
    this.slotDirty[slot] = 1;
    const wasFull = (this.slabFreeLo[id]! | this.slabFreeHi[id]!) === 0;
    if (bit < 32) this.slabFreeLo[id] = this.slabFreeLo[id]! | (1 << bit);
    else this.slabFreeHi[id] = this.slabFreeHi[id]! | (1 << (bit - 32));
    if (--this.slabLive[id]! === 0) {
      if (this.emptySlabs < KEEP_EMPTY_SLABS) {
        this.emptySlabs++;
      } else {
        this.slabs[id] = undefined;
        this.releasedIds.push(id);
        return;
      }
    }
    if (wasFull) this.partial.push(id);
  }

  private newSlab(): number {
    let id: number;
    if (this.releasedIds.length > 0) {
      id = this.releasedIds.pop()!;
    } else {
      id = this.slabs.length;
      this.slabs.push(undefined);
      if (id >= this.slabLive.length) {
        const cap = this.slabLive.length * 2;
        const grow = (a: Int32Array): Int32Array => {
          const b = new Int32Array(cap);
          b.set(a);
          return b;
        };
        this.slabFreeLo = grow(this.slabFreeLo);
        this.slabFreeHi = grow(this.slabFreeHi);
        this.slabLive = grow(this.slabLive);
        const dirty = new Uint8Array(cap * SLAB_SLOTS);
        dirty.set(this.slotDirty);
        this.slotDirty = dirty;
      }
    }
    this.slabs[id] = new Uint8Array(SLAB_SLOTS << this.pageShift);
    this.slabFreeLo[id] = -1;
    this.slabFreeHi[id] = -1;
    this.slabLive[id] = 0;
    this.slotDirty.fill(0, id << SLAB_SHIFT, (id + 1) << SLAB_SHIFT);
    this.emptySlabs++;
    this.partial.push(id);
    return id;
  }
}
