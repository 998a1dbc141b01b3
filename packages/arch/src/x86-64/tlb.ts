/**
 * The x86-64 TLB: per-CPU caches of leaf translations that the MMU consults
 * before it walks the page tables, and the invalidations Linux performs to
 * keep them coherent with the page tables.
 *
 * Each simulated CPU has a direct-mapped array of {@link X86_TLB_ENTRIES}
 * entries indexed by the low bits of the virtual page number. An entry holds
 * the 4 KiB frame a vpn translates to (a huge leaf is cached per 4 KiB page it
 * translates, as CPUs may "splinter" it), the leaf's order, and the access
 * rights the walk found: writable, user, executable (NX clear), dirty and
 * global. An entry is only created by a successful walk, which has already
 * set `_PAGE_ACCESSED` (and `_PAGE_DIRTY` for a write) in the leaf.
 *
 * Entries are valid by generation ({@link X86TlbCpu}), so a flush of the
 * whole TLB costs O(1) per CPU rather than a scan of its entries, and the
 * MMU's hit check is a tag compare and one masked compare of the entry's
 * stamp and rights.
 *
 * Hardware rules modelled (Intel SDM vol. 3A §4.10):
 * - a write that hits an entry cached without Dirty walks again, so the walk
 *   sets `_PAGE_DIRTY` in the leaf (§4.8);
 * - an access whose rights the cached entry does not grant drops the entry
 *   and walks; a page fault invalidates the TLB entries for its address
 *   (§4.10.4.1), so the fault handler's fix-up is seen on the retry;
 * - global entries (`_PAGE_GLOBAL`) survive a flush of the address space
 *   (a CR3 write); `INVLPG` removes them too.
 *
 * Linux's rule (Documentation/core-api/cachetlb.rst): whenever a present
 * page-table entry is changed or cleared, the TLB entries for it are flushed
 * on every CPU that may cache them — `flush_tlb_page` / `flush_tlb_range` after
 * `ptep_get_and_clear`, `ptep_modify_prot_commit`, `ptep_clear_flush` (COW),
 * `move_ptes` (mremap), `zap_page_range` (munmap, `MADV_DONTNEED`,
 * truncation), `huge_ptep_clear_flush` (hugetlb COW). {@link X86PageTable}
 * calls {@link X86Tlb.flushRange} on every such change itself, so no caller
 * can forget a flush.
 * @see arch/x86/mm/tlb.c flush_tlb_mm_range, flush_tlb_func, native_flush_tlb_one_user
 * @see arch/x86/include/asm/tlbflush.h
 * @see mm/memory.c zap_pte_range, wp_page_copy; mm/mprotect.c change_pte_range; mm/mremap.c move_ptes
 */

/** Entries per CPU (a power of two): the index is `vpn & (X86_TLB_ENTRIES - 1)`. */
export const X86_TLB_ENTRIES = 512;

/**
 * Live slots each CPU lists while it has no more (see {@link X86TlbCpu.liveSlots}):
 * enough for the handful of pages a system call's work leaves cached.
 */
export const X86_TLB_TRACKED_SLOTS = 32;

/** Rights bit of a TLB entry: writes allowed (`_PAGE_RW`). */
export const X86_TLB_WRITE = 1 << 0;
/** Rights bit of a TLB entry: user-mode access allowed (`_PAGE_USER`). */
export const X86_TLB_USER = 1 << 1;
/** Rights bit of a TLB entry: instruction fetch allowed (`_PAGE_NX` clear). */
export const X86_TLB_EXEC = 1 << 2;
/** Rights bit of a TLB entry: the leaf was dirty when cached (`_PAGE_DIRTY`). */
export const X86_TLB_DIRTY = 1 << 3;
/** Rights bit of a TLB entry: a global translation (`_PAGE_GLOBAL`). */
export const X86_TLB_GLOBAL = 1 << 4;

/** One cached translation, for inspection and tests. */
export interface X86TlbEntry {
  /** The virtual page number. */
  readonly vpn: number;
  /** The 4 KiB frame it translates to. */
  readonly pfn: number;
  /** The order of the leaf the translation came from (0, 9 or 18). */
  readonly order: number;
  /** {@link X86_TLB_WRITE} | {@link X86_TLB_USER} | ... */
  readonly rights: number;
}

/** Hit, miss and flush counters of a TLB (all CPUs together). */
export interface X86TlbStats {
  /**
   * Lookups answered by a cached entry. Counted per slot
   * ({@link X86TlbCpu.hitCounts}) and summed when read, so that a hit stores
   * to a different place each time rather than incrementing one counter (a
   * chain through memory from one hit to the next); reading it costs
   * O(CPUs × entries).
   */
  hits: number;
  /** Lookups that had to walk (no entry, or an entry without the needed rights). */
  misses: number;
  /** Entries installed after a successful walk. */
  fills: number;
  /** Calls of {@link X86Tlb.flushRange} (one per changed leaf: one shootdown to every CPU). */
  rangeFlushes: number;
  /** Calls of {@link X86Tlb.flushAll} / {@link X86Tlb.flushAllIncludingGlobal}. */
  fullFlushes: number;
  /** Entries actually removed by flushes. */
  entriesFlushed: number;
}

/**
 * Bits of {@link X86TlbCpu.state} below the stamp: the rights
 * ({@link X86_TLB_WRITE} ... {@link X86_TLB_GLOBAL}).
 */
export const X86_TLB_RIGHTS_BITS = 5;
/** Mask of the stamp part of {@link X86TlbCpu.state} (the generation an entry was filled under). */
export const X86_TLB_STAMP_MASK = -1 << X86_TLB_RIGHTS_BITS;
/** Mask of the rights part of {@link X86TlbCpu.state}. */
const RIGHTS_MASK = (1 << X86_TLB_RIGHTS_BITS) - 1;
/**
 * Stamps are taken from a counter below this limit (so that `stamp << 5`
 * stays a positive int32); when it is reached the live entries are
 * renumbered (once every ~2^25 full flushes).
 */
const STAMP_LIMIT = 1 << 26;

/**
 * One CPU's TLB: parallel arrays, one slot per index.
 *
 * Validity is by generation, so that a flush of the whole TLB is O(1), as a
 * CR3 write is for the hardware: each slot's {@link state} carries the stamp
 * it was filled under, and a slot is live only while its stamp is the CPU's
 * current one — {@link gen} for ordinary entries, {@link globalGen} for
 * global ones. `flush_tlb_mm` takes a new {@link gen} (globals survive), a
 * flush including globals takes new values of both, `INVLPG` zeroes the one
 * slot's stamp. Stamp 0 is never current, so an empty slot never matches.
 */
export class X86TlbCpu {
  // The fields assigned in the constructor are `declare`d so that they are
  // created with their first value (not as undefined first): the JIT then
  // keeps precise field types and the MMU's inlined hit check stays short.
  /** The CPU number (`smp_processor_id()`). */
  declare readonly id: number;
  /** The vpn cached in each slot (meaningful only while the slot is live; -1 for a slot never filled). */
  declare readonly tags: Float64Array;
  /** The 4 KiB frame of each slot. */
  declare readonly pfns: Float64Array;
  /** The leaf order of each slot. */
  declare readonly orders: Uint8Array;
  /** Per slot: `stamp << X86_TLB_RIGHTS_BITS | rights` (rights: {@link X86_TLB_WRITE} ...); stamp 0 = empty. */
  declare readonly state: Int32Array;
  /** `entries - 1`. */
  declare readonly mask: number;
  /** Hits answered through each slot, whatever it held (see {@link X86TlbStats.hits}). */
  declare readonly hitCounts: Float64Array;
  /** The stamp of live non-global entries (never 0). */
  gen = 1;
  /** The stamp of live global entries (never 0, never equal to {@link gen}). */
  globalGen = 2;
  /** `gen << X86_TLB_RIGHTS_BITS`: what the MMU's hit check compares a slot's stamp bits with. */
  genBits = 1 << X86_TLB_RIGHTS_BITS;
  /** Live non-global entries. */
  live = 0;
  /** Live global entries. */
  liveGlobal = 0;
  /** Lowest vpn of any live entry (a lower bound; +Infinity when none is live). */
  lo = Infinity;
  /** One past the highest vpn of any live entry (an upper bound; -Infinity when none is live). */
  hi = -Infinity;
  /**
   * Slots filled since the CPU last had no live entry, while there are at most
   * {@link liveSlots}`.length` of them ({@link listComplete}): a range flush then
   * visits these instead of every slot of the range (after a flush that leaves
   * a neighbour's entry live, a huge page's range spans all the slots). May hold
   * slots no longer live, and a slot twice.
   */
  declare readonly liveSlots: Int32Array;
  /** Entries of {@link liveSlots} in use. */
  listed = 0;
  /** True while every live slot is in {@link liveSlots}. */
  listComplete = true;

  /**
   * @param id the CPU number (`smp_processor_id()`)
   * @param entries slots (a power of two)
   */
  constructor(id: number, entries: number, tracked = X86_TLB_TRACKED_SLOTS) {
    this.id = id;
    this.liveSlots = new Int32Array(tracked);
    this.tags = new Float64Array(entries).fill(-1);
    this.pfns = new Float64Array(entries);
    this.orders = new Uint8Array(entries);
    this.state = new Int32Array(entries);
    this.mask = entries - 1;
    this.hitCounts = new Float64Array(entries);
  }

  /** Hits answered by this CPU's TLB (the sum of {@link hitCounts}). */
  hits(): number {
    let n = 0;
    for (let i = 0; i <= this.mask; i++) n += this.hitCounts[i]!;
    return n;
  }

  /** True if slot `i` holds a live translation (filled since the last flush that covered it). */
  isLive(i: number): boolean {
    const stamp = this.state[i]! >> X86_TLB_RIGHTS_BITS;
    return stamp === this.gen || stamp === this.globalGen;
  }

  /** The rights bits ({@link X86_TLB_WRITE} ...) of slot `i`. */
  rightsAt(i: number): number {
    return this.state[i]! & RIGHTS_MASK;
  }

  /** The cached translation of `vpn`, or null. */
  entry(vpn: number): X86TlbEntry | null {
    const i = vpn & this.mask;
    if (this.tags[i] !== vpn || !this.isLive(i)) return null;
    return { vpn, pfn: this.pfns[i]!, order: this.orders[i]!, rights: this.rightsAt(i) };
  }

  /** Every cached translation, ascending by vpn. */
  entries(): X86TlbEntry[] {
    const out: X86TlbEntry[] = [];
    for (let i = 0; i <= this.mask; i++) {
      if (this.isLive(i)) out.push({ vpn: this.tags[i]!, pfn: this.pfns[i]!, order: this.orders[i]!, rights: this.rightsAt(i) });
    }
    return out.sort((a, b) => a.vpn - b.vpn);
  }

  /** Number of live entries on this CPU. */
  size(): number {
    return this.live + this.liveGlobal;
  }

  /** Invalidate live slot `i`, as `INVLPG` does one entry (its stamp becomes 0). */
  drop(i: number): void {
    if (this.state[i]! & X86_TLB_GLOBAL) this.liveGlobal--;
    else this.live--;
    this.state[i] = 0;
    if (this.live + this.liveGlobal === 0) this.emptied();
  }

  /** No entry is live any more: the bounds and the slot list start afresh. */
  emptied(): void {
    this.lo = Infinity;
    this.hi = -Infinity;
    this.listed = 0;
    this.listComplete = true;
  }

  /** Record that slot `i` became live (see {@link liveSlots}). */
  track(i: number): void {
    if (!this.listComplete) return;
    if (this.listed < this.liveSlots.length) this.liveSlots[this.listed++] = i;
    else this.listComplete = false;
  }
}

/**
 * {@link X86Tlb.stats}: plain counters, and `hits`, an own enumerable
 * accessor that sums {@link X86TlbCpu.hitCounts} (setting it sets the sum).
 * The accessor's functions are shared, so every TLB's counters have one
 * shape and the code that bumps them stays monomorphic.
 */
class X86TlbCounters implements X86TlbStats {
  declare hits: number;
  misses = 0;
  fills = 0;
  rangeFlushes = 0;
  fullFlushes = 0;
  entriesFlushed = 0;
  readonly #cpus: readonly X86TlbCpu[];
  #hitsBias = 0;

  constructor(cpus: readonly X86TlbCpu[]) {
    this.#cpus = cpus;
    Object.defineProperty(this, 'hits', X86TlbCounters.#HITS);
  }

  #sum(): number {
    let n = 0;
    for (const cpu of this.#cpus) n += cpu.hits();
    return n;
  }

  static readonly #HITS: PropertyDescriptor = {
    enumerable: true,
    get(this: X86TlbCounters): number {
      return this.#hitsBias + this.#sum();
    },
    set(this: X86TlbCounters, value: number): void {
      this.#hitsBias = value - this.#sum();
    },
  };
}

/**
 * The TLBs of a machine's CPUs for one address space (the entries tagged with
 * its PCID). {@link current} is the CPU the process runs on; flushes reach
 * every CPU, as Linux's shootdown IPIs reach every CPU in `mm_cpumask`.
 *
 * Costs: a lookup and a fill O(1); {@link flushAll} and
 * {@link flushAllIncludingGlobal} O(CPUs) (a new generation, see
 * {@link X86TlbCpu}); {@link flushRange} O(1) per CPU whose live entries lie
 * all inside the range or that has none, otherwise O(min(pages, entries)), or
 * O(live entries) while a CPU has at most {@link X86_TLB_TRACKED_SLOTS}.
 * The counters in {@link stats} are exact.
 *
 * A TLB belongs to one page table: only translations of valid user vpns of
 * that table are ever filled, so a tag match implies a valid vpn (the MMU
 * relies on it to check bounds only on a miss).
 */
export class X86Tlb {
  /** One TLB per CPU. */
  declare readonly cpus: readonly X86TlbCpu[];
  /** The TLB of the CPU the process runs on (what the MMU consults). */
  declare current: X86TlbCpu;
  /** Counters (`hits` is summed over the CPUs' slots when read; setting it sets the sum). */
  declare readonly stats: X86TlbStats;
  /** The next unused stamp (shared by the CPUs; stamps 1 and 2 are every CPU's initial ones). */
  private nextStamp = 3;

  /**
   * @param nrCpus CPUs (each with its own TLB)
   * @param entriesPerCpu slots per CPU (a power of two)
   * @param trackedPerCpu live slots each CPU lists for range flushes ({@link X86TlbCpu.liveSlots})
   */
  constructor(nrCpus = 1, entriesPerCpu = X86_TLB_ENTRIES, trackedPerCpu = X86_TLB_TRACKED_SLOTS) {
    if (!Number.isInteger(nrCpus) || nrCpus < 1) throw new RangeError(`a TLB needs at least one CPU, not ${nrCpus}`);
    if (!Number.isInteger(entriesPerCpu) || entriesPerCpu < 1 || (entriesPerCpu & (entriesPerCpu - 1)) !== 0) {
      throw new RangeError(`TLB entries per CPU must be a power of two, not ${entriesPerCpu}`);
    }
    if (!Number.isInteger(trackedPerCpu) || trackedPerCpu < 0) throw new RangeError(`tracked slots per CPU must be a count, not ${trackedPerCpu}`);
    const cpus: X86TlbCpu[] = [];
    for (let i = 0; i < nrCpus; i++) cpus.push(new X86TlbCpu(i, entriesPerCpu, trackedPerCpu));
    this.cpus = cpus;
    this.current = cpus[0]!;
    this.stats = new X86TlbCounters(cpus);
  }

  /** Run the process on CPU `id` from now on (its TLB keeps what it cached before). */
  switchTo(id: number): void {
    const cpu = this.cpus[id];
    if (cpu === undefined) throw new RangeError(`no CPU ${id}`);
    this.current = cpu;
  }

  /**
   * The lookup the MMU makes when its inlined hit check
   * ({@link X86TlbCpu.genBits}) did not answer: a live entry for `vpn` on the
   * current CPU granting the `need` rights gives its frame (a hit); one that
   * lacks them is dropped (the access walks again, to set Dirty or to fault);
   * -1 for a miss. Counts the hit or the miss.
   */
  lookup(vpn: number, need: number): number {
    const cpu = this.current;
    const i = vpn & cpu.mask;
    if (cpu.tags[i] === vpn && cpu.isLive(i)) {
      if ((cpu.state[i]! & need) === need) {
        cpu.hitCounts[i]!++;
        return cpu.pfns[i]!;
      }
      cpu.drop(i);
    }
    this.stats.misses++;
    return -1;
  }

  /** Install a translation in the current CPU's TLB, replacing whatever the slot held. */
  fill(vpn: number, pfn: number, order: number, rights: number): void {
    const cpu = this.current;
    const i = vpn & cpu.mask;
    if (cpu.isLive(i)) cpu.drop(i);
    const global = (rights & X86_TLB_GLOBAL) !== 0;
    cpu.tags[i] = vpn;
    cpu.pfns[i] = pfn;
    cpu.orders[i] = order;
    cpu.state[i] = ((global ? cpu.globalGen : cpu.gen) << X86_TLB_RIGHTS_BITS) | (rights & RIGHTS_MASK);
    if (global) cpu.liveGlobal++;
    else cpu.live++;
    if (vpn < cpu.lo) cpu.lo = vpn;
    if (vpn >= cpu.hi) cpu.hi = vpn + 1;
    cpu.track(i);
    this.stats.fills++;
  }

  /**
   * `flush_tlb_mm_range(mm, start, end, ...)` for `[startVpn, startVpn + pages)`:
   * drop every entry of the range, global or not, on every CPU, and only those.
   * (Past `tlb_single_page_flush_ceiling` strides Linux flushes the whole TLB
   * instead of `INVLPG` per stride; which other entries survive is visible to
   * no trace, only to the TLB's counters, which here count the range's.)
   */
  flushRange(startVpn: number, pages: number): void {
    this.stats.rangeFlushes++;
    const end = startVpn + pages;
    for (const cpu of this.cpus) {
      if (cpu.live + cpu.liveGlobal === 0 || end <= cpu.lo || startVpn >= cpu.hi) continue;
      if (startVpn <= cpu.lo && end >= cpu.hi) {
        // Every live entry is in the range: drop them all at once.
        this.stats.entriesFlushed += cpu.live + cpu.liveGlobal;
        this.newGenerations(cpu, true);
        continue;
      }
      const from = Math.max(startVpn, cpu.lo);
      const to = Math.min(end, cpu.hi);
      const tags = cpu.tags;
      if (cpu.listComplete && cpu.listed < to - from) {
        // Few live entries: visit them, keeping those outside the range listed.
        const list = cpu.liveSlots;
        const n = cpu.listed;
        let kept = 0;
        for (let r = 0; r < n; r++) {
          const i = list[r]!;
          if (!cpu.isLive(i)) continue;
          const vpn = tags[i]!;
          if (vpn >= from && vpn < to) {
            cpu.drop(i);
            this.stats.entriesFlushed++;
          } else list[kept++] = i;
        }
        cpu.listed = kept;
      } else if (to - from <= cpu.mask) {
        for (let vpn = from; vpn < to; vpn++) {
          const i = vpn & cpu.mask;
          if (tags[i] === vpn && cpu.isLive(i)) {
            cpu.drop(i);
            this.stats.entriesFlushed++;
          }
        }
      } else {
        for (let i = 0; i <= cpu.mask; i++) {
          const vpn = tags[i]!;
          if (vpn >= from && vpn < to && cpu.isLive(i)) {
            cpu.drop(i);
            this.stats.entriesFlushed++;
          }
        }
      }
    }
  }

  /** `flush_tlb_mm`: a CR3 reload on every CPU, dropping every non-global entry. */
  flushAll(): void {
    this.flushEverything(false);
  }

  /** `__flush_tlb_all` (a CR4.PGE toggle): drop every entry, global ones too. */
  flushAllIncludingGlobal(): void {
    this.flushEverything(true);
  }

  private flushEverything(global: boolean): void {
    this.stats.fullFlushes++;
    for (const cpu of this.cpus) {
      this.stats.entriesFlushed += global ? cpu.live + cpu.liveGlobal : cpu.live;
      this.newGenerations(cpu, global);
    }
  }

  /** Invalidate every non-global entry of `cpu` (and the global ones if `global`) by taking new stamps. */
  private newGenerations(cpu: X86TlbCpu, global: boolean): void {
    if (this.nextStamp + 2 > STAMP_LIMIT) this.renumber();
    cpu.gen = this.nextStamp++;
    cpu.genBits = cpu.gen << X86_TLB_RIGHTS_BITS;
    cpu.live = 0;
    if (global) {
      cpu.globalGen = this.nextStamp++;
      cpu.liveGlobal = 0;
    }
    if (cpu.liveGlobal === 0) cpu.emptied();
  }

  /** The stamp counter ran out: give every CPU stamps 1, 2, ... again, keeping its live entries. */
  private renumber(): void {
    let next = 1;
    for (const cpu of this.cpus) {
      const gen = next++;
      const globalGen = next++;
      const state = cpu.state;
      for (let i = 0; i <= cpu.mask; i++) {
        const stamp = state[i]! >> X86_TLB_RIGHTS_BITS;
        const rights = state[i]! & RIGHTS_MASK;
        state[i] = stamp === cpu.gen ? (gen << X86_TLB_RIGHTS_BITS) | rights : stamp === cpu.globalGen ? (globalGen << X86_TLB_RIGHTS_BITS) | rights : 0;
      }
      cpu.gen = gen;
      cpu.globalGen = globalGen;
      cpu.genBits = gen << X86_TLB_RIGHTS_BITS;
    }
    this.nextStamp = next;
  }

  /** Number of valid entries over all CPUs. */
  size(): number {
    let n = 0;
    for (const cpu of this.cpus) n += cpu.size();
    return n;
  }
}
