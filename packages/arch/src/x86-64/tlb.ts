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
  /** Lookups answered by a cached entry. */
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

/** One CPU's TLB: parallel arrays, one slot per index. */
export class X86TlbCpu {
  /** The vpn cached in each slot, or -1 for an empty slot. */
  readonly tags: Float64Array;
  /** The 4 KiB frame of each slot. */
  readonly pfns: Float64Array;
  /** The leaf order of each slot. */
  readonly orders: Uint8Array;
  /** The rights bits ({@link X86_TLB_WRITE} ...) of each slot. */
  readonly rights: Uint8Array;
  /** `entries - 1`. */
  readonly mask: number;

  constructor(
    /** The CPU number (`smp_processor_id()`). */
    readonly id: number,
    entries: number,
  ) {
    this.tags = new Float64Array(entries).fill(-1);
    this.pfns = new Float64Array(entries);
    this.orders = new Uint8Array(entries);
    this.rights = new Uint8Array(entries);
    this.mask = entries - 1;
  }

  /** The cached translation of `vpn`, or null. */
  entry(vpn: number): X86TlbEntry | null {
    const i = vpn & this.mask;
    if (this.tags[i] !== vpn) return null;
    return { vpn, pfn: this.pfns[i]!, order: this.orders[i]!, rights: this.rights[i]! };
  }

  /** Every cached translation, ascending by vpn. */
  entries(): X86TlbEntry[] {
    const out: X86TlbEntry[] = [];
    for (let i = 0; i <= this.mask; i++) {
      const vpn = this.tags[i]!;
      if (vpn >= 0) out.push({ vpn, pfn: this.pfns[i]!, order: this.orders[i]!, rights: this.rights[i]! });
    }
    return out.sort((a, b) => a.vpn - b.vpn);
  }
}

/**
 * The TLBs of a machine's CPUs for one address space (the entries tagged with
 * its PCID). {@link current} is the CPU the process runs on; flushes reach
 * every CPU, as Linux's shootdown IPIs reach every CPU in `mm_cpumask`.
 */
export class X86Tlb {
  /** One TLB per CPU. */
  readonly cpus: readonly X86TlbCpu[];
  /** The TLB of the CPU the process runs on (what the MMU consults). */
  current: X86TlbCpu;
  /** Counters. */
  readonly stats: X86TlbStats = { hits: 0, misses: 0, fills: 0, rangeFlushes: 0, fullFlushes: 0, entriesFlushed: 0 };

  constructor(nrCpus = 1, entriesPerCpu = X86_TLB_ENTRIES) {
    if (!Number.isInteger(nrCpus) || nrCpus < 1) throw new RangeError(`a TLB needs at least one CPU, not ${nrCpus}`);
    if (!Number.isInteger(entriesPerCpu) || entriesPerCpu < 1 || (entriesPerCpu & (entriesPerCpu - 1)) !== 0) {
      throw new RangeError(`TLB entries per CPU must be a power of two, not ${entriesPerCpu}`);
    }
    const cpus: X86TlbCpu[] = [];
    for (let i = 0; i < nrCpus; i++) cpus.push(new X86TlbCpu(i, entriesPerCpu));
    this.cpus = cpus;
    this.current = cpus[0]!;
  }

  /** Run the process on CPU `id` from now on (its TLB keeps what it cached before). */
  switchTo(id: number): void {
    const cpu = this.cpus[id];
    if (cpu === undefined) throw new RangeError(`no CPU ${id}`);
    this.current = cpu;
  }

  /** Install a translation in the current CPU's TLB, replacing whatever the slot held. */
  fill(vpn: number, pfn: number, order: number, rights: number): void {
    const cpu = this.current;
    const i = vpn & cpu.mask;
    cpu.tags[i] = vpn;
    cpu.pfns[i] = pfn;
    cpu.orders[i] = order;
    cpu.rights[i] = rights;
    this.stats.fills++;
  }

  /**
   * `flush_tlb_mm_range(mm, start, end, ...)` for `[startVpn, startVpn + pages)`:
   * drop every entry of the range, global or not, on every CPU (`INVLPG` per
   * page, or the whole TLB when that is cheaper, as Linux's
   * `tlb_single_page_flush_ceiling` decides).
   */
  flushRange(startVpn: number, pages: number): void {
    this.stats.rangeFlushes++;
    const end = startVpn + pages;
    for (const cpu of this.cpus) {
      const tags = cpu.tags;
      if (pages <= cpu.mask) {
        for (let vpn = startVpn; vpn < end; vpn++) {
          const i = vpn & cpu.mask;
          if (tags[i] === vpn) {
            tags[i] = -1;
            this.stats.entriesFlushed++;
          }
        }
      } else {
        for (let i = 0; i <= cpu.mask; i++) {
          const vpn = tags[i]!;
          if (vpn >= startVpn && vpn < end) {
            tags[i] = -1;
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
      for (let i = 0; i <= cpu.mask; i++) {
        if (cpu.tags[i]! < 0) continue;
        if (!global && cpu.rights[i]! & X86_TLB_GLOBAL) continue;
        cpu.tags[i] = -1;
        this.stats.entriesFlushed++;
      }
    }
  }

  /** Number of valid entries over all CPUs. */
  size(): number {
    let n = 0;
    for (const cpu of this.cpus) for (let i = 0; i <= cpu.mask; i++) if (cpu.tags[i]! >= 0) n++;
    return n;
  }
}
