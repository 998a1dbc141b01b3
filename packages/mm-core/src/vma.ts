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

/** One VMA. */
export class Vma {
  /** `anon_vma`, assigned at the first anonymous fault (or inherited by merge/split). */
  anonVma: AnonVma | null = null;
  /** `vm_private_data`: the per-VMA hugetlb reservation map, for example. */
  privateData: unknown = undefined;
  /** @internal The `VmaTree` slot of this VMA while it is linked in one (0: not linked). */
  treeSlot = 0;

  constructor(
    /** `vm_start` as a page number. After changing it on a linked VMA, call `mm.vmas.updated(vma)`. */
    public start: number,
    /** `vm_end` as a page number (exclusive). After changing it on a linked VMA, call `mm.vmas.updated(vma)`. */
    public end: number,
    /** `vm_flags` ({@link VM}). */
    public flags: number,
    /** `vm_pgoff`: file page of `start`, or `start` at creation for anonymous memory. */
    public pgoff: number,
    /** `vm_file`, holding a reference. */
    public file: VmFile | null,
    /** `vm_ops`; `null` means anonymous memory (`vma_is_anonymous`). */
    public ops: VmOperations | null,
  ) {}

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
