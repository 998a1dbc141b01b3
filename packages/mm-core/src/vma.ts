/**
 * `struct vm_area_struct`: one contiguous range of a process's address space
 * with uniform flags, file and page offset. Addresses are virtual page numbers.
 * @see include/linux/mm_types.h struct vm_area_struct
 */

import type { VmFile } from './file.js';
import type { MmStruct } from './mm.js';
import type { AnonVma } from './page.js';

/** Outcomes of a fault handler (`vm_fault_t`). @see include/linux/mm_types.h VM_FAULT_* */
export const VmFault = {
  OK: 0,
  OOM: 0x1,
  SIGBUS: 0x2,
  SIGSEGV: 0x40,
} as const;

/** A page a file's `->fault` found or created in its page cache. */
export interface FilePage {
  readonly pfn: number;
}

/** `struct vm_operations_struct`: the hooks a file (or special mapping) attaches to its VMAs. */
export interface VmOperations {
  /** `->name`: the maps name of a special mapping (`[vdso]`). */
  readonly name?: string;
  /**
   * `->fault`: the page-cache frame for file page `pgoff`, allocating it if
   * needed; `-VmFault.SIGBUS` past end of file, `-VmFault.OOM` without memory.
   */
  fault?(vma: Vma, pgoff: number): number;
  /**
   * `->map_pages` (fault-around): the frame of `pgoff` if it is already cached
   * and up to date, else -1. Never allocates.
   */
  cachedPage?(vma: Vma, pgoff: number): number;
  /** Take over the whole fault (hugetlb: `hugetlb_fault`). Returns a {@link VmFault} value. */
  hugeFault?(mm: MmStruct, vma: Vma, vpn: number, write: boolean): number;
  /** Called as a huge page at `vpn` is unmapped from `vma`, before its mapping is dropped (hugetlb reservation restore). */
  zapHugePage?(vma: Vma, vpn: number, pfn: number): void;
  /** `->open`: a VMA was duplicated (split). */
  open?(vma: Vma): void;
  /** `->close`: a VMA is going away. */
  close?(vma: Vma, mm: MmStruct): void;
  /** `->may_split`: 0, or `-EINVAL` to refuse a split at `vpn`. */
  maySplit?(vma: Vma, vpn: number): number;
  /** Huge page order of the mapping (hugetlb), for alignment checks. */
  readonly hugeOrder?: number;
  /** A special mapping (`_install_special_mapping`): vdso, vvar. */
  readonly special?: boolean;
  /** Pages of a special mapping that have no backing page and raise SIGBUS when touched. */
  readonly unbackedPages?: (vma: Vma, vpn: number) => boolean;
}

/**
 * 2^30: page numbers are kept as a high and a low part below it (see
 * {@link Vma}). V8's small integers are 31-bit signed on 64-bit Node builds,
 * so 2^30 is the largest power of two whose remainders all fit.
 */
const SPLIT = 0x40000000;

/**
 * One VMA.
 *
 * `start`, `end` and `pgoff` are page numbers up to 2^52, above V8's small
 * integers (2^30), and a number field that holds one is a separate 16-byte
 * heap box: three boxes per VMA, each a cache miss of its own among 120,000
 * VMAs and an allocation for every new VMA. They are therefore stored as two
 * small integers each (`hi * 2^30 + lo`, exact for integers below 2^52) behind
 * accessors that V8 inlines, so a VMA is one flat object. (Both parts are
 * made int32 with `| 0`: a float result that happens to be integral would
 * otherwise make the field a double, boxed again.)
 */
export class Vma {
  /** `anon_vma`, assigned at the first anonymous fault (or inherited by merge/split). */
  anonVma: AnonVma | null = null;
  /** `vm_private_data`: the per-VMA hugetlb reservation map, for example. */
  privateData: unknown = undefined;
  /** @internal The `VmaTree` slot of this VMA while it is linked in one (0: not linked). */
  treeSlot = 0;
  /** When a file-backed VMA last went into its file's `i_mmap` (see `i-mmap.ts`). */
  iMmapSeq = 0;
  private startHi = 0;
  private startLo = 0;
  private endHi = 0;
  private endLo = 0;
  private pgoffHi = 0;
  private pgoffLo = 0;

  constructor(
    start: number,
    end: number,
    /** `vm_flags` ({@link VM}). */
    public flags: number,
    pgoff: number,
    /** `vm_file`, holding a reference. */
    public file: VmFile | null,
    /** `vm_ops`; `null` means anonymous memory (`vma_is_anonymous`). */
    public ops: VmOperations | null,
  ) {
    this.start = start;
    this.end = end;
    this.pgoff = pgoff;
  }

  /** `vm_start` as a page number. After changing it on a linked VMA, call `mm.vmas.updated(vma)`. */
  get start(): number {
    return this.startHi * SPLIT + this.startLo;
  }
  set start(vpn: number) {
    const hi = Math.floor(vpn / SPLIT) | 0;
    this.startHi = hi;
    this.startLo = (vpn - hi * SPLIT) | 0;
  }

  /** `vm_end` as a page number (exclusive). After changing it on a linked VMA, call `mm.vmas.updated(vma)`. */
  get end(): number {
    return this.endHi * SPLIT + this.endLo;
  }
  set end(vpn: number) {
    const hi = Math.floor(vpn / SPLIT) | 0;
    this.endHi = hi;
    this.endLo = (vpn - hi * SPLIT) | 0;
  }

  /** `vm_pgoff`: file page of `start`, or `start` at creation for anonymous memory. */
  get pgoff(): number {
    return this.pgoffHi * SPLIT + this.pgoffLo;
  }
  set pgoff(page: number) {
    const hi = Math.floor(page / SPLIT) | 0;
    this.pgoffHi = hi;
    this.pgoffLo = (page - hi * SPLIT) | 0;
  }

  /** `vma_pages`. */
  get pages(): number {
    return this.end - this.start;
  }

  /** `vma_is_anonymous`: no `vm_ops`. */
  get isAnonymous(): boolean {
    return this.ops === null;
  }

  /** True if the VMA covers `vpn`. */
  contains(vpn: number): boolean {
    return vpn >= this.start && vpn < this.end;
  }

  /** The file page (`linear_page_index`) of `vpn`. */
  pgoffOf(vpn: number): number {
    return this.pgoff + (vpn - this.start);
  }

  /** `vm_area_dup`: a copy sharing file (with a new reference), ops, anon_vma and private data. */
  dup(): Vma {
    const copy = new Vma(this.start, this.end, this.flags, this.pgoff, this.file, this.ops);
    copy.anonVma = this.anonVma;
    copy.privateData = this.privateData;
    this.file?.get();
    return copy;
  }
}

/** Freed VMAs kept for reuse (and retired ones waiting for the next quiescent point), at most. */
const VMA_CACHE_LIMIT = 4096;

/**
 * `vm_area_cachep`, the slab of `vm_area_struct`s: VMAs that merges and
 * unmaps free are reused by later splits and mappings, so a workload that
 * keeps splitting and merging allocates no objects (in a big address space,
 * every fresh VMA would otherwise survive into the old generation and keep
 * the garbage collector busy).
 *
 * A freed VMA is only **retired** at first: code in the middle of an operation
 * may still hold a reference to it (a merge removes a VMA its caller was
 * walking). It becomes reusable at the next {@link quiesce} — called where
 * a system call starts, when nothing from the previous one is in use — just
 * as Linux frees a VMA only after an RCU grace period (`vm_area_free` →
 * `call_rcu`), so lockless readers never see it reused.
 * @see kernel/fork.c vm_area_alloc, vm_area_dup, vm_area_free
 */
export class VmaCache {
  // Two stacks with explicit tops (a slot above its top may still hold an old
  // reference; at most VMA_CACHE_LIMIT in all): no array resizing per call.
  private retired: Vma[] = [];
  private nRetired = 0;
  private free: Vma[] = [];
  private nFree = 0;

  /** `vm_area_free`: `vma` has left its tree and holds no reference any more. */
  retire(vma: Vma): void {
    if (this.nRetired + this.nFree < VMA_CACHE_LIMIT) this.retired[this.nRetired++] = vma;
  }

  /** A quiescent point: every retired VMA may be reused from now on. */
  quiesce(): void {
    const n = this.nRetired;
    if (n === 0) return;
    if (this.nFree === 0) {
      const t = this.free;
      this.free = this.retired;
      this.retired = t;
      this.nFree = n;
    } else {
      for (let i = 0; i < n; i++) this.free[this.nFree++] = this.retired[i]!;
    }
    this.nRetired = 0;
  }

  /** `vm_area_alloc` + initialisation: a reused VMA or a new one, unlinked. */
  alloc(start: number, end: number, flags: number, pgoff: number, file: VmFile | null, ops: VmOperations | null): Vma {
    if (this.nFree === 0) return new Vma(start, end, flags, pgoff, file, ops);
    const vma = this.free[--this.nFree]!;
    vma.start = start;
    vma.end = end;
    vma.flags = flags;
    vma.pgoff = pgoff;
    vma.file = file;
    vma.ops = ops;
    vma.anonVma = null;
    vma.privateData = undefined;
    vma.treeSlot = 0;
    vma.iMmapSeq = 0;
    return vma;
  }

  /** `vm_area_dup`: as {@link Vma.dup}, from the cache. */
  dup(from: Vma): Vma {
    const copy = this.alloc(from.start, from.end, from.flags, from.pgoff, from.file, from.ops);
    copy.anonVma = from.anonVma;
    copy.privateData = from.privateData;
    from.file?.get();
    return copy;
  }

  /** VMAs waiting for reuse (retired + free), for tests. */
  get size(): number {
    return this.nRetired + this.nFree;
  }
}
