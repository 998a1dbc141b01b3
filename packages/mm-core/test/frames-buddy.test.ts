import { describe, expect, it } from 'vitest';
import { BuddyAllocator, MAX_PAGE_ORDER, buddyAllocatorFactory, zoneBatchsize } from '../src/frames/index.js';

const TiB_FRAMES = 2 ** 28; // 1 TiB of 4 KiB frames

describe('BuddyAllocator (mm/page_alloc.c)', () => {
  it('starts with every frame free and MAX_PAGE_ORDER = 10', () => {
    const a = buddyAllocatorFactory({ totalFrames: 4096 });
    expect(a.name).toBe('buddy');
    expect(a.maxOrder).toBe(MAX_PAGE_ORDER);
    expect(a.maxOrder).toBe(10);
    expect(a.totalFrames).toBe(4096);
    expect(a.freeFrames()).toBe(4096);
    expect(a.buddyinfo()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
  });

  it('splits a max-order block on allocation (expand), lower half first', () => {
    const a = new BuddyAllocator({ totalFrames: 2048 });
    expect(a.alloc(0)).toBe(0);
    // 1024 split into 512 + 256 + ... + 1 + 1: one free block of each order 0..9.
    expect(a.buddyinfo()).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
    expect(a.alloc(0)).toBe(1);
    expect(a.alloc(1)).toBe(2);
    expect(a.alloc(2)).toBe(4);
    expect(a.freeFrames()).toBe(2048 - 8);
  });

  it('hands out size-aligned blocks', () => {
    const a = new BuddyAllocator({ totalFrames: 1 << 16 });
    for (let i = 0; i < 200; i++) {
      const order = i % 11;
      const pfn = a.alloc(order);
      expect(pfn).toBeGreaterThanOrEqual(0);
      expect(pfn % 2 ** order).toBe(0);
    }
  });

  it('coalesces freed buddies back to the initial state', () => {
    const a = new BuddyAllocator({ totalFrames: 3 * 1024 + 7 });
    const initial = a.buddyinfo();
    const initialEntries = a.trackedEntries();
    const blocks: [number, number][] = [];
    for (let i = 0; i < 300; i++) {
      const order = (i * 7) % 5;
      const pfn = a.alloc(order);
      if (pfn < 0) break;
      blocks.push([pfn, order]);
    }
    // Free in a scrambled order.
    blocks.sort((x, y) => ((x[0] * 2654435761) % 97) - ((y[0] * 2654435761) % 97));
    for (const [pfn, order] of blocks) a.free(pfn, order);
    expect(a.freeFrames()).toBe(a.totalFrames);
    expect(a.buddyinfo()).toEqual(initial);
    expect(a.trackedEntries()).toBe(initialEntries);
  });

  it('merges a block with its buddy (pfn ^ (1 << order))', () => {
    const a = new BuddyAllocator({ totalFrames: 1024 });
    const x = a.alloc(3);
    const y = a.alloc(3);
    expect(y).toBe(x ^ 8);
    a.free(x, 3);
    expect(a.buddyinfo()[3]).toBe(1);
    a.free(y, 3);
    expect(a.buddyinfo()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('frees the sub-max-order tail in the largest aligned pieces', () => {
    const a = new BuddyAllocator({ totalFrames: 1024 + 512 + 4 + 1 });
    expect(a.buddyinfo()).toEqual([1, 0, 1, 0, 0, 0, 0, 0, 0, 1, 1]);
    expect(a.freeFrames()).toBe(1541);
  });

  it('returns -1 when exhausted or asked for more than MAX_PAGE_ORDER', () => {
    const a = new BuddyAllocator({ totalFrames: 2048 });
    expect(a.alloc(11)).toBe(-1);
    expect(a.alloc(-1)).toBe(-1);
    expect(a.alloc(10)).toBe(0);
    expect(a.alloc(10)).toBe(1024);
    expect(a.alloc(10)).toBe(-1);
    expect(a.alloc(0)).toBe(-1);
    expect(a.freeFrames()).toBe(0);
    expect(new BuddyAllocator({ totalFrames: 0 }).alloc(0)).toBe(-1);
  });

  it('throws on a double free or a free with the wrong order', () => {
    const a = new BuddyAllocator({ totalFrames: 1024 });
    const p = a.alloc(2);
    expect(() => a.free(p, 1)).toThrow();
    expect(() => a.free(p + 1, 0)).toThrow();
    a.free(p, 2);
    expect(() => a.free(p, 2)).toThrow();
    expect(() => a.free(999, 0)).toThrow();
  });

  it('reports isAllocated for every frame of a block', () => {
    const a = new BuddyAllocator({ totalFrames: 4096 });
    const p = a.alloc(4);
    for (let i = 0; i < 16; i++) expect(a.isAllocated(p + i)).toBe(true);
    expect(a.isAllocated(p + 16)).toBe(false);
    expect(a.isAllocated(-1)).toBe(false);
    expect(a.isAllocated(4096)).toBe(false);
    a.free(p, 4);
    expect(a.isAllocated(p)).toBe(false);
  });

  it('allocates gigantic blocks with allocContiguous (alloc_contig_pages)', () => {
    const a = new BuddyAllocator({ totalFrames: 3 * 2 ** 18 });
    const small = a.alloc(0); // breaks the first 1 GiB range
    const g = a.allocContiguous(18);
    expect(g).toBe(2 ** 18);
    expect(a.isAllocated(g + 12345)).toBe(true);
    expect(a.freeFrames()).toBe(3 * 2 ** 18 - 1 - 2 ** 18);
    const g2 = a.allocContiguous(18);
    expect(g2).toBe(2 * 2 ** 18);
    expect(a.allocContiguous(18)).toBe(-1);
    a.free(small, 0);
    const g3 = a.allocContiguous(18);
    expect(g3).toBe(0);
    expect(a.alloc(0)).toBe(-1);
    a.freeContiguous(g, 18);
    a.freeContiguous(g2, 18);
    a.freeContiguous(g3, 18);
    expect(() => a.freeContiguous(g3, 18)).toThrow();
    expect(a.freeFrames()).toBe(a.totalFrames);
    expect(a.buddyinfo()).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 768]);
    expect(a.trackedEntries()).toBe(0);
  });

  it('represents 1 TiB without per-block entries', () => {
    const a = new BuddyAllocator({ totalFrames: TiB_FRAMES });
    expect(a.trackedEntries()).toBe(0);
    expect(a.freeFrames()).toBe(TiB_FRAMES);
    expect(a.buddyinfo()[10]).toBe(TiB_FRAMES / 1024);
    // Allocating touches only what it splits: one max-order block, of which
    // the per-CPU list takes a batch (63 pages: 0..62, leaving 63, 64, 128,
    // 256 and 512 on the free lists).
    expect(a.pcpBatch).toBe(63);
    const p = a.alloc(0);
    expect(a.pcpPages).toBe(62);
    expect(a.trackedEntries()).toBe(1 + 5);
    a.free(p, 0);
    expect(a.pcpPages).toBe(63);
    a.drainPcp();
    expect(a.trackedEntries()).toBe(0);
    // Gigantic pages far up in memory do not materialise the space below them.
    const g = a.allocContiguous(18);
    expect(g).toBe(0);
    expect(a.trackedEntries()).toBe(1);
    a.freeContiguous(g, 18);
    expect(a.trackedEntries()).toBe(0);
  });

  it('sizes the per-CPU list as zone_batchsize does (2^n - 1, at most 63; off below 4 MiB)', () => {
    expect(zoneBatchsize(1024)).toBe(0);
    expect(zoneBatchsize(4095)).toBe(0);
    expect(zoneBatchsize(8192)).toBe(1);
    expect(zoneBatchsize(32768)).toBe(7); // 128 MiB
    expect(zoneBatchsize(65536)).toBe(15); // 256 MiB
    expect(zoneBatchsize(131072)).toBe(31); // 512 MiB
    expect(zoneBatchsize(262144)).toBe(63); // 1 GiB
    expect(zoneBatchsize(TiB_FRAMES)).toBe(63);
    const a = new BuddyAllocator({ totalFrames: 262144 });
    expect([a.pcpBatch, a.pcpHigh]).toEqual([63, 252]);
  });

  it('recycles an order-0 page through the per-CPU list: last freed, first allocated, nothing merged', () => {
    const a = new BuddyAllocator({ totalFrames: 262144 });
    const p = a.alloc(0);
    const q = a.alloc(0);
    const listed = a.buddyinfo();
    const entries = a.trackedEntries();
    a.free(q, 0);
    a.free(p, 0);
    expect(a.buddyinfo()).toEqual(listed);
    expect(a.trackedEntries()).toBe(entries - 2);
    expect(a.freeFrames()).toBe(262144);
    expect(a.isAllocated(p)).toBe(false);
    expect(a.alloc(0)).toBe(p);
    expect(a.alloc(0)).toBe(q);
  });

  it('gives the coldest batch back when the per-CPU list reaches high (free_pcppages_bulk)', () => {
    const a = new BuddyAllocator({ totalFrames: 262144 });
    const pages = Array.from({ length: 300 }, () => a.alloc(0));
    for (const p of pages) a.free(p, 0);
    // 252 reached after 189 + 63 … : every flush gives 63 back; the list stays below high.
    expect(a.pcpPages).toBeLessThan(a.pcpHigh);
    expect(a.pcpPages).toBeGreaterThanOrEqual(a.pcpHigh - a.pcpBatch);
    expect(a.freeFrames()).toBe(262144);
    a.drainPcp();
    expect(a.buddyinfo()).toEqual(new BuddyAllocator({ totalFrames: 262144 }).buddyinfo());
    expect(a.trackedEntries()).toBe(0);
  });

  it('drains the per-CPU list before failing a request it holds the pages for', () => {
    // 2^13 frames (batch 1, high 4): two order-0 pages on the list keep an
    // order-13 range from being whole until they are given back.
    const a = new BuddyAllocator({ totalFrames: 2 ** 13 });
    const p = a.alloc(0);
    const q = a.alloc(0);
    a.free(p, 0);
    a.free(q, 0);
    expect(a.pcpPages).toBe(2);
    const blocks: number[] = [];
    for (let b = a.alloc(10); b >= 0; b = a.alloc(10)) blocks.push(b);
    expect(blocks).toHaveLength(8);
    expect(a.pcpPages).toBe(0);
    for (const b of blocks) a.free(b, 10);
    a.free(a.alloc(0), 0);
    expect(a.pcpPages).toBe(1);
    expect(a.allocContiguous(13)).toBe(0);
    expect(a.pcpPages).toBe(0);
  });

  it('handles frame numbers beyond 2^32', () => {
    const a = new BuddyAllocator({ totalFrames: 2 ** 33 + 3 });
    // Exhaust the small tail, then split a block high above 2^32 after using the low ones up logically.
    expect(a.alloc(1)).toBe(2 ** 33);
    expect(a.alloc(0)).toBe(2 ** 33 + 2);
    a.free(2 ** 33 + 2, 0);
    a.free(2 ** 33, 1);
    // The order-0 page waits on the per-CPU list until drained, with the
    // rest of its batch (0..61 of a split max-order block, whose 62-63 is
    // the second free order-1 block).
    expect(a.pcpPages).toBe(63);
    expect(a.buddyinfo().slice(0, 2)).toEqual([0, 2]);
    a.drainPcp();
    expect(a.buddyinfo().slice(0, 2)).toEqual([1, 1]);
    expect(a.freeFrames()).toBe(a.totalFrames);
  });
});
