import { describe, expect, it } from 'vitest';
import { BITMAP_CHUNK_FRAMES, BitmapAllocator, bitmapAllocatorFactory, canAllocContiguous } from '../src/frames/index.js';

describe('BitmapAllocator (first fit)', () => {
  it('allocates the lowest free aligned block', () => {
    const a = bitmapAllocatorFactory({ totalFrames: 4096 });
    expect(a.name).toBe('bitmap');
    expect(a.maxOrder).toBe(10);
    expect(a.alloc(0)).toBe(0);
    expect(a.alloc(1)).toBe(2);
    expect(a.alloc(0)).toBe(1);
    expect(a.alloc(3)).toBe(8);
    expect(a.alloc(5)).toBe(32);
    expect(a.alloc(0)).toBe(4);
    a.free(2, 1);
    expect(a.alloc(0)).toBe(2);
    expect(a.freeFrames()).toBe(4096 - (1 + 1 + 8 + 32 + 1 + 1)); // frames 0, 1, 8..15, 32..63, 4, 2
  });

  it('returns -1 when exhausted, throws on a double free', () => {
    const a = new BitmapAllocator({ totalFrames: 100 });
    expect(a.alloc(7)).toBe(-1); // 128 > 100
    expect(a.alloc(6)).toBe(0);
    expect(a.alloc(6)).toBe(-1); // 64..127 runs past the end
    expect(a.alloc(5)).toBe(64);
    expect(a.alloc(2)).toBe(96);
    expect(a.alloc(0)).toBe(-1);
    expect(a.freeFrames()).toBe(0);
    a.free(96, 2);
    expect(() => a.free(96, 2)).toThrow();
    expect(() => a.free(64, 4)).toThrow();
  });

  it('tracks isAllocated per frame and releases empty chunk bitmaps', () => {
    const a = new BitmapAllocator({ totalFrames: 4 * BITMAP_CHUNK_FRAMES });
    const p = a.alloc(4);
    expect(a.materializedChunks()).toBe(1);
    for (let i = 0; i < 16; i++) expect(a.isAllocated(p + i)).toBe(true);
    expect(a.isAllocated(p + 16)).toBe(false);
    a.free(p, 4);
    expect(a.isAllocated(p)).toBe(false);
    expect(a.materializedChunks()).toBe(0);
  });

  it('allocates gigantic blocks with allocContiguous', () => {
    const a = new BitmapAllocator({ totalFrames: 3 * 2 ** 18 });
    expect(canAllocContiguous(a)).toBe(true);
    expect(a.alloc(11)).toBe(-1);
    a.alloc(0);
    const g = a.allocContiguous(18);
    expect(g).toBe(2 ** 18);
    expect(a.isAllocated(g + 2 ** 18 - 1)).toBe(true);
    expect(a.allocContiguous(18)).toBe(2 * 2 ** 18);
    expect(a.allocContiguous(18)).toBe(-1);
    a.freeContiguous(g, 18);
    expect(a.isAllocated(g)).toBe(false);
    expect(a.allocContiguous(18)).toBe(g);
  });

  it('is sparse: 1 TiB costs no bitmap until used', () => {
    const a = new BitmapAllocator({ totalFrames: 2 ** 28 });
    expect(a.trackedEntries()).toBe(0);
    expect(a.freeFrames()).toBe(2 ** 28);
    a.alloc(0);
    expect(a.materializedChunks()).toBe(1);
  });
});
