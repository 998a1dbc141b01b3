/**
 * Huge page pools (`struct hstate`): total, free, reserved and surplus pages
 * of one size, and the pool operations hugetlbfs builds on.
 * @see mm/hugetlb.c struct hstate, gather_surplus_pages,
 *      return_unused_surplus_pages, alloc_hugetlb_folio, free_huge_folio
 */

import { Errno } from '@mmsim/base';
import { PageKind, type MmKernel } from '@mmsim/mm-core';

/** Frame-allocator extension for gigantic pages (orders above the buddy maximum). */
interface ContiguousAllocator {
  allocContiguous?(order: number): number;
  freeContiguous?(pfn: number, order: number): void;
}

/**
 * A hugetlbfs mount's subpool (`struct hugepage_subpool`), made by `size=`
 * (a maximum) and/or `min_size=` (a minimum).
 *
 * - With a maximum, `used` counts the huge pages the mount's files hold
 *   reserved or allocated (`used_hpages`); a request past `max` fails.
 * - With a minimum, the mount reserves `min` pages in the global pool when it
 *   is mounted and keeps them as `rsv` (`rsv_hpages`): requests are served
 *   from `rsv` first, and what its files give back refills `rsv` up to `min`
 *   before the global pool sees it. `HugePages_Rsvd` includes `rsv`.
 *
 * Both operations return what the global pool must be adjusted by, as
 * Linux's do (the caller passes it to `hugetlb_acct_memory`).
 * @see mm/hugetlb.c hugepage_new_subpool, hugepage_subpool_get_pages, hugepage_subpool_put_pages
 */
export class HugetlbSubpool {
  /** `used_hpages` (counted only with a maximum). */
  used = 0;
  /** `rsv_hpages`: global reservations held for the minimum (0 without one). */
  rsv: number;
  /**
   * Pages `used` still counts that nothing holds: Linux 6.18's
   * `alloc_hugetlb_folio` does not give back the charge of a fault that got
   * it against the maximum and then found no page (its `out_subpool_put`
   * handles only a page the minimum covered). Model bookkeeping for the
   * invariant checks; Linux has no such counter.
   */
  leaked = 0;
  /**
   * Pages of the minimum that `hugetlb_reserve_pages`' failure path handed
   * to the global pool: its put sees `used_hpages` still counting the pages
   * the pool refused, so it does not refill `rsv` (Linux 6.18, recorded:
   * `fuzz-probe-hugetlb-min-reserve-fail`). Later puts below the minimum may
   * refill it. Model bookkeeping for the invariant checks.
   */
  minLost = 0;

  /**
   * @param hstate the pool the mount's pages come from
   * @param max `max_hpages`, or -1 for none
   * @param min `min_hpages`, or -1 for none (already reserved: see {@link Hstate.newSubpool})
   */
  constructor(
    readonly hstate: Hstate,
    readonly max: number,
    readonly min: number,
  ) {
    this.rsv = min === -1 ? 0 : min;
  }

  /**
   * `hugepage_subpool_get_pages`: charge `delta` pages. Returns `-ENOMEM`
   * past the maximum, else how many of them the global pool must reserve
   * (those the minimum's reserve does not cover).
   */
  get(delta: number): number {
    let ret = delta;
    if (this.max !== -1) {
      if (this.used + delta > this.max) return -Errno.ENOMEM;
      this.used += delta;
    }
    if (this.min !== -1 && this.rsv !== 0) {
      if (delta > this.rsv) {
        ret = delta - this.rsv;
        this.rsv = 0;
      } else {
        ret = 0;
        this.rsv -= delta;
      }
    }
    return ret;
  }

  /**
   * `hugepage_subpool_put_pages`: give `delta` pages back. Returns how many
   * global reservations the caller must drop: below the minimum the pages
   * refill `rsv` instead (0 when all of them do).
   */
  put(delta: number): number {
    let ret = delta;
    if (this.max !== -1) this.used -= delta;
    if (this.min !== -1 && this.used < this.min) {
      ret = this.rsv + delta <= this.min ? 0 : this.rsv + delta - this.min;
      this.rsv = Math.min(this.rsv + delta, this.min);
    }
    return ret;
  }

  /**
   * `hugetlb_reserve_pages`' failure path (with the 6.18 stable fix
   * "restore failed global reservations to subpool"): the `gbl` pages the
   * global pool refused no longer count against the maximum.
   */
  unchargeUsed(gbl: number): void {
    if (this.max !== -1) this.used -= gbl;
  }
}

/** One huge page size's pool. */
export class Hstate {
  /** `nr_huge_pages` (Total). */
  total = 0;
  /** `free_huge_pages` (Free, reserved pages included). */
  free = 0;
  /** `resv_huge_pages` (Rsvd). */
  resv = 0;
  /** `surplus_huge_pages` (Surp). */
  surplus = 0;
  /** `nr_overcommit_huge_pages`. */
  overcommit = 0;
  private readonly freeList: number[] = [];
  /** The subpool each allocated page is charged to (`hugetlb_set_folio_subpool`), by head frame. */
  private readonly pageSubpool = new Map<number, HugetlbSubpool>();

  constructor(
    readonly kernel: MmKernel,
    /** log2 of the size in base pages (9 or 18). */
    readonly order: number,
  ) {}

  /** Size in kB (`hugepages-2048kB`). */
  get sizeKb(): number {
    return 4 << this.order;
  }

  /** Size in base pages. */
  get pages(): number {
    return 1 << this.order;
  }

  /** `hstate_is_gigantic`. */
  get gigantic(): boolean {
    return this.order > this.kernel.frames.maxOrder;
  }

  /** `gigantic_page_runtime_supported`: gigantic pages can be allocated and freed after boot. */
  get giganticRuntime(): boolean {
    return (this.kernel.frames as unknown as ContiguousAllocator).freeContiguous !== undefined;
  }

  private allocFrames(): number {
    const frames = this.kernel.frames as unknown as ContiguousAllocator & { alloc(o: number): number };
    if (this.gigantic) return frames.allocContiguous ? frames.allocContiguous(this.order) : -1;
    return frames.alloc(this.order);
  }

  private freeFrames(pfn: number): void {
    const frames = this.kernel.frames as unknown as ContiguousAllocator & { free(p: number, o: number): void };
    if (this.gigantic && frames.freeContiguous) frames.freeContiguous(pfn, this.order);
    else frames.free(pfn, this.order);
  }

  /** Take a fresh huge page from the buddy allocator (`alloc_fresh_hugetlb_folio`). */
  private freshPage(): number {
    const pfn = this.allocFrames();
    if (pfn < 0) return -1;
    this.kernel.phys.clearRange(pfn, this.pages);
    return pfn;
  }

  /** Put a page on the free list. */
  private enqueue(pfn: number): void {
    this.freeList.push(pfn);
    this.free++;
  }

  /** Take a page off the free list. */
  private dequeue(): number {
    const pfn = this.freeList.pop();
    if (pfn === undefined) return -1;
    this.free--;
    return pfn;
  }

  /**
   * `set_max_huge_pages`: resize the persistent pool to `count` (the
   * `nr_hugepages` sysctl). Surplus pages are converted first; shrinking frees
   * only free, unreserved pages and turns pages in use into surplus.
   */
  setMaxHugePages(count: number): void {
    while (this.surplus > 0 && this.persistent() < count) this.surplus--;
    while (this.persistent() < count) {
      const pfn = this.freshPage();
      if (pfn < 0) break;
      this.total++;
      this.enqueue(pfn);
    }
    let persistentFree = this.free;
    if (this.free > this.persistent()) persistentFree = this.free > this.surplus ? this.free - this.surplus : 0;
    const minCount = Math.max(count, this.resv + this.persistent() - persistentFree);
    while (this.persistent() > minCount && this.free > 0) {
      const pfn = this.dequeue();
      this.total--;
      this.freeFrames(pfn);
    }
    while (count < this.persistent() && this.surplus < this.total) this.surplus++;
    this.maxHugePages = this.persistent();
  }

  /** `max_huge_pages`: what `/proc/sys/vm/nr_hugepages` reads back (the persistent pool size after the last resize). */
  maxHugePages = 0;

  /** `persistent_huge_pages`: total minus surplus. */
  persistent(): number {
    return this.total - this.surplus;
  }

  /** `alloc_surplus_hugetlb_folio`: a new page beyond the pool, within `nr_overcommit_hugepages`. */
  private allocSurplus(): number {
    if (this.gigantic) return -1;
    if (this.surplus >= this.overcommit) return -1;
    const pfn = this.freshPage();
    if (pfn < 0) return -1;
    this.total++;
    this.surplus++;
    return pfn;
  }

  /**
   * `hugetlb_acct_memory(delta > 0)` → `gather_surplus_pages`: reserve
   * `delta` pages, adding surplus pages if the free pool is short. 0 or `-ENOMEM`.
   */
  reserve(delta: number): number {
    if (delta <= 0) return 0;
    const needed = this.resv + delta - this.free;
    if (needed <= 0) {
      this.resv += delta;
      return 0;
    }
    const fresh: number[] = [];
    for (let i = 0; i < needed; i++) {
      const pfn = this.allocSurplus();
      if (pfn < 0) {
        for (const p of fresh) {
          this.total--;
          this.surplus--;
          this.freeFrames(p);
        }
        return -Errno.ENOMEM;
      }
      fresh.push(pfn);
    }
    for (const p of fresh) this.enqueue(p);
    this.resv += delta;
    return 0;
  }

  /**
   * `hugetlb_acct_memory(-n)` → `return_unused_surplus_pages`: release `n`
   * reservations and free up to `n` unused surplus pages — gigantic ones too
   * where they can be freed at run time (`gigantic_page_runtime_supported`:
   * the frame allocator frees contiguous ranges). A gigantic surplus page
   * comes from shrinking the pool under a reservation; Linux 6.18 frees it
   * when the reservation goes (fuzz-probe-hugetlb-gigantic-surplus).
   */
  unreserve(n: number): void {
    if (n <= 0) return;
    if (!this.gigantic || this.giganticRuntime) {
      let nr = Math.min(n, this.surplus);
      while (nr-- > 0 && this.free > 0) {
        const pfn = this.dequeue();
        this.total--;
        this.surplus--;
        this.freeFrames(pfn);
      }
    }
    this.resv -= n;
  }

  /**
   * `alloc_hugetlb_folio`'s pool part: a page for a fault. `useReserve` takes a
   * reserved page; otherwise only an unreserved free page or a surplus page
   * will do. Returns the head frame or -1 (the fault then raises SIGBUS).
   */
  allocForFault(useReserve: boolean, subpool: HugetlbSubpool | null = null): number {
    // A page without a reservation (map_chg) is charged to the mount's
    // subpool first (-ENOMEM: SIGBUS); gbl is 0 when the subpool's minimum
    // covers it, and the page then comes out of the reserved ones.
    let gbl = 0;
    if (!useReserve) {
      gbl = subpool === null ? 1 : subpool.get(1);
      if (gbl < 0) return -1;
    }
    // dequeue_hugetlb_folio_vma: a page that needs a global reservation of its
    // own comes off the free list only if available_huge_pages(), `free - resv`
    // in unsigned arithmetic, is not zero. Where the kernel's accounting has
    // left more reservations than free pages (fuzz-hugetlb-s2116-250 gets
    // there through private read faults and unmaps of hugetlbfs files), the
    // difference wraps, and a free page is taken all the same. Without a page
    // from the free list, a surplus page (alloc_buddy_hugetlb_folio_with_mpol);
    // either one consumes the reservation it was given (resv_huge_pages--).
    // (Found by tools/fuzz/kernel.)
    let pfn = gbl === 0 || this.free !== this.resv ? this.dequeue() : -1;
    if (pfn < 0) pfn = this.allocSurplus();
    if (pfn >= 0 && gbl === 0) this.resv--;
    if (pfn < 0) {
      // out_subpool_put: 6.18 gives back only a charge the minimum covered;
      // one counted against the maximum stays (see HugetlbSubpool.leaked).
      if (subpool !== null && !useReserve) {
        if (gbl === 0) this.acct(-subpool.put(1));
        else if (subpool.max !== -1) subpool.leaked++;
      }
      return -1;
    }
    this.kernel.phys.clearRange(pfn, this.pages);
    this.kernel.memmap.add(pfn, PageKind.HUGETLB, this.order);
    if (subpool !== null) this.pageSubpool.set(pfn, subpool);
    return pfn;
  }

  /**
   * `hugetlb_acct_memory(delta)`: reserve (`delta` > 0, 0 or `-ENOMEM`) or
   * release (`delta` < 0) global reservations.
   */
  acct(delta: number): number {
    if (delta > 0) return this.reserve(delta);
    if (delta < 0) this.unreserve(-delta);
    return 0;
  }

  /**
   * `hugepage_new_subpool`: a mount's subpool; a minimum is reserved in this
   * pool first. Null when the pool cannot cover the minimum (the mount fails
   * with ENOMEM).
   */
  newSubpool(max: number, min: number): HugetlbSubpool | null {
    if (min !== -1 && this.acct(min) < 0) return null;
    return new HugetlbSubpool(this, max, min);
  }

  /**
   * The page at `pfn` is about to be freed with its reservation restored
   * (`HPageRestoreReserve`): its subpool charge stays, as the reservation's.
   */
  keepSubpoolCharge(pfn: number): void {
    this.pageSubpool.delete(pfn);
  }

  /**
   * `free_huge_folio`: back to the free list, or to the buddy allocator if
   * surplus pages are held; its subpool gets the page back (and may keep it
   * reserved for its minimum).
   */
  freePage(pfn: number): void {
    const subpool = this.pageSubpool.get(pfn);
    if (subpool !== undefined) {
      this.pageSubpool.delete(pfn);
      // Nothing for the global pool to drop: the page refilled the subpool's
      // minimum, so it goes back as a reservation (restore_reserve).
      if (subpool.put(1) === 0) this.resv++;
    }
    this.kernel.memmap.remove(pfn);
    if (this.surplus > 0) {
      this.total--;
      this.surplus--;
      this.freeFrames(pfn);
    } else {
      this.enqueue(pfn);
    }
  }

  /** Pages in use (`total - free`). */
  inUse(): number {
    return this.total - this.free;
  }

  /** The subpool charged for each allocated page, by head frame (read-only view, for invariant checks). */
  subpoolCharges(): ReadonlyMap<number, HugetlbSubpool> {
    return this.pageSubpool;
  }

  /** The head frames on the free list (read-only view, for invariant checks). */
  freeListPfns(): readonly number[] {
    return this.freeList;
  }
}
