// The hugetlbfs subpool (`struct hugepage_subpool`): a maximum (size=) and a
// minimum (min_size=) against Linux 6.18's rules, and the global pool's
// counters as mappings reserve and fault pages through a mount (recorded on
// the kernel: conformance/fuzz/fuzz-probe-hugetlb-min-*.trace,
// fuzz-probe-hugetlb-subpool-*.trace).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { x86_64 } from '@mmsim/arch/x86-64';
import { NOOP_TRACER } from '@mmsim/base';
import { buddyAllocatorFactory, DEFAULT_KERNEL_CONFIG, MmKernel, VM } from '@mmsim/mm-core';
import { HugetlbInode, HugetlbSubpool, hugetlbReservePages, Vfs } from '../src/index.js';

function setup(pool: number, options: [string, string][]) {
  const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 16 }), NOOP_TRACER);
  const vfs = new Vfs(kernel);
  const h = vfs.hugetlb.hstateForKb(2048)!;
  h.setMaxHugePages(pool);
  const sb = vfs.hugetlb.mount(new Map([['pagesize', '2M'], ...options]), '00:99');
  const file = (ino: number): HugetlbInode => sb.createFile(ino);
  return { h, subpool: sb.subpool!, file };
}

describe('HugetlbSubpool (hugepage_subpool_get_pages / put_pages)', () => {
  it('serves requests from the minimum first and refills it before the pool sees pages given back', () => {
    const sp = new HugetlbSubpool(null as never, -1, 2);
    expect(sp.get(1)).toBe(0); // from the minimum's reserve
    expect(sp.get(2)).toBe(1); // one left there, one from the pool
    expect(sp.rsv).toBe(0);
    expect(sp.put(1)).toBe(0); // refills the minimum
    expect(sp.put(2)).toBe(1); // one more refills it, one goes to the pool
    expect(sp.rsv).toBe(2);
    expect(sp.used).toBe(0); // not counted without a maximum
  });

  it('counts against the maximum, and refills the minimum only once use is below it', () => {
    const sp = new HugetlbSubpool(null as never, 3, 1);
    expect(sp.get(4)).toBeLessThan(0); // past the maximum: nothing taken
    expect([sp.used, sp.rsv]).toEqual([0, 1]);
    expect(sp.get(3)).toBe(2);
    expect(sp.put(1)).toBe(1); // used 2: not below the minimum
    expect(sp.put(1)).toBe(1); // used 1: not below
    expect(sp.put(1)).toBe(0); // used 0: refills
    expect([sp.used, sp.rsv]).toEqual([0, 1]);
  });

  it('keeps its counters within bounds and balanced for any sequence of matched gets and puts', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1, max: 6 }),
        fc.integer({ min: -1, max: 6 }),
        fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 4 })), { maxLength: 40 }),
        (max, minArg, ops) => {
          const min = max !== -1 && minArg > max ? max : minArg;
          const sp = new HugetlbSubpool(null as never, max, min);
          let held = 0; // pages the callers hold
          let global = 0; // what the pool was asked to reserve, net
          for (const [take, n] of ops) {
            if (take) {
              const g = sp.get(n);
              if (g < 0) continue;
              held += n;
              global += g;
            } else {
              const k = Math.min(n, held);
              held -= k;
              global -= sp.put(k);
            }
            if (max !== -1) expect(sp.used).toBe(held);
            if (min !== -1) expect(sp.rsv).toBeGreaterThanOrEqual(0);
            expect(sp.rsv).toBeLessThanOrEqual(Math.max(min, 0));
            // Every page held is backed either by the pool or by the minimum's reserve taken at mount.
            expect(global + (min === -1 ? 0 : min - sp.rsv)).toBe(held);
          }
        },
      ),
    );
  });
});

describe('a min_size= mount against the pool (Linux 6.18)', () => {
  it('reserves its minimum when mounted; shared mappings reserve from it, then from the pool', () => {
    const { h, subpool, file } = setup(3, [['min_size', '4M']]);
    expect([h.free, h.resv]).toEqual([3, 2]);
    const a = file(1);
    expect(hugetlbReservePages(h, a, 0, 1, null, VM.SHARED | VM.MAYSHARE)).toBe(true);
    expect([h.resv, subpool.rsv]).toEqual([2, 1]); // from the minimum: the pool does not move
    const b = file(2);
    expect(hugetlbReservePages(h, b, 0, 2, null, VM.SHARED | VM.MAYSHARE)).toBe(true);
    expect([h.resv, subpool.rsv]).toEqual([3, 0]);
    const c = file(3);
    expect(hugetlbReservePages(h, c, 0, 1, null, VM.SHARED | VM.MAYSHARE)).toBe(false); // the pool has no page left
    expect([h.resv, subpool.rsv]).toEqual([3, 0]);
  });

  it('gives a failed reservation back to the minimum and the maximum (max 4, min 2, two pages taken elsewhere: 3 asked)', () => {
    // The example of the stable fix "restore failed global reservations to subpool".
    const { h, subpool, file } = setup(4, [['size', '8M'], ['min_size', '4M']]);
    expect(h.acct(2)).toBe(0); // consumed globally
    expect(hugetlbReservePages(h, file(1), 0, 3, null, VM.SHARED | VM.MAYSHARE)).toBe(false);
    expect([subpool.used, subpool.rsv, h.resv]).toEqual([0, 2, 4]);
    expect(hugetlbReservePages(h, file(2), 0, 2, null, VM.SHARED | VM.MAYSHARE)).toBe(true); // all from the minimum
    expect([subpool.used, subpool.rsv, h.resv]).toEqual([2, 0, 4]);
  });

  it('hands part of the minimum to the pool when a reservation fails while its use is at the minimum, and says so (minLost)', () => {
    // fuzz-probe-hugetlb-min-reserve-fail: the put sees used_hpages still counting the refused pages.
    const { h, subpool, file } = setup(2, [['size', '6M'], ['min_size', '4M']]);
    expect(hugetlbReservePages(h, file(1), 0, 1, null, VM.SHARED | VM.MAYSHARE)).toBe(true); // from the minimum
    expect(hugetlbReservePages(h, file(2), 0, 2, null, VM.SHARED | VM.MAYSHARE)).toBe(false); // one from it, one refused
    expect([subpool.used, subpool.rsv, subpool.minLost, h.resv]).toEqual([1, 0, 1, 1]);
    // Without a failure nothing is counted lost.
    const other = setup(2, [['size', '6M'], ['min_size', '4M']]);
    expect(hugetlbReservePages(other.h, other.file(1), 0, 2, null, VM.SHARED | VM.MAYSHARE)).toBe(true);
    expect(other.subpool.minLost).toBe(0);
  });

  it('leaks the maximum charge of a fault that finds no page, as 6.18 does', () => {
    const { h, subpool } = setup(1, [['size', '4M']]);
    expect(h.acct(1)).toBe(0); // the only page reserved elsewhere
    expect(h.allocForFault(false, subpool)).toBe(-1);
    expect([subpool.used, subpool.leaked]).toEqual([1, 1]);
    h.acct(-1);
    const pfn = h.allocForFault(false, subpool);
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect(subpool.used).toBe(2);
    expect(h.allocForFault(false, subpool)).toBe(-1); // the subpool is full: refused before the pool is asked
    expect(subpool.leaked).toBe(1);
    h.freePage(pfn);
    expect([subpool.used, h.free, h.resv]).toEqual([1, 1, 0]);
  });

  it('keeps a freed page as a reservation while the minimum is short of it (restore_reserve)', () => {
    const { h, subpool } = setup(2, [['min_size', '2M']]);
    const pfn = h.allocForFault(false, subpool); // served from the minimum's reserve
    expect([h.free, h.resv, subpool.rsv]).toEqual([1, 0, 0]);
    h.freePage(pfn);
    expect([h.free, h.resv, subpool.rsv]).toEqual([2, 1, 1]);
  });
});

describe('Hstate.allocForFault (alloc_hugetlb_folio) with more reservations than free pages', () => {
  // Linux's accounting can get here (conformance/fuzz/fuzz-hugetlb-s2116-250
  // records free=6 rsvd=7); the fields are set directly to reach the state in
  // two steps. available_huge_pages() is free - resv in unsigned arithmetic.
  it('takes a free page for a fault without a reservation: only free == resv stops the dequeue', () => {
    const { h } = setup(1, []);
    h.resv = 2; // free 1 < resv 2
    const pfn = h.allocForFault(false);
    expect(pfn).toBeGreaterThanOrEqual(0);
    expect([h.total, h.free, h.resv, h.surplus]).toEqual([1, 0, 2, 0]);
    h.resv = 0;
  });

  it('makes a surplus page when free == resv', () => {
    const { h } = setup(1, []);
    h.overcommit = 1;
    h.resv = 1; // free 1 == resv 1: the free page is someone's
    expect(h.allocForFault(false)).toBeGreaterThanOrEqual(0);
    expect([h.total, h.free, h.resv, h.surplus]).toEqual([2, 1, 1, 1]);
  });

  it('falls back to a surplus page for a reserved fault when the free list is empty, and consumes the reservation', () => {
    const { h } = setup(0, []);
    h.overcommit = 1;
    h.resv = 1; // free 0 < resv 1
    expect(h.allocForFault(true)).toBeGreaterThanOrEqual(0);
    expect([h.total, h.free, h.resv, h.surplus]).toEqual([1, 0, 0, 1]);
  });
});
