/**
 * The architecture contract: everything generic mm code needs from an
 * architecture plug-in. A new architecture is a package that implements this
 * interface and is registered under the `ARCH` token when a machine is built.
 */

import type { ArchFeatures } from './features.js';
import type { ArchAddressSpace } from './layout.js';
import type { AccessKind, PageTable, PageTableFrameSource, PteView, Translation } from './page-table.js';

/** A huge page size the architecture can map with one leaf entry. */
export interface HugePageSize {
  /** log2 of the size in bytes (21 for 2 MiB). */
  readonly shift: number;
  /** log2 of the size in base pages (9 for 2 MiB on 4 KiB pages). */
  readonly order: number;
  /** The page-table level that maps it as a leaf, in the arch's naming (`PMD`, `PUD`). */
  readonly level: string;
}

/** The virtual-memory protections generic mm asks for, from `vm_flags`. */
export interface VmProtection {
  readonly read: boolean;
  readonly write: boolean;
  readonly exec: boolean;
  /** `VM_SHARED`: the mapping writes through to the page cache. */
  readonly shared: boolean;
}

/**
 * {@link ArchMmu.translatePfn}'s result for an access that raises SIGSEGV
 * before any page fault (a non-canonical address on x86-64: #GP; an address
 * outside the user half): -2^33, below every `-1 - errorCode`.
 */
export const TRANSLATION_SIGSEGV = -(2 ** 33);

/** The MMU half of an architecture: the hardware walk and the fault error code. */
export interface ArchMmu {
  /**
   * Walk `table` for a user-mode access to `vpn` as the hardware would,
   * setting Accessed/Dirty on success, or return the page-fault error code.
   */
  translate(table: PageTable, vpn: number, access: AccessKind): Translation;
  /**
   * The same access as {@link translate}, with the result as a number, so
   * that a hot caller allocates nothing: the 4 KiB frame (≥ 0) on success;
   * {@link TRANSLATION_SIGSEGV} where `translate` gives `signal: 'SIGSEGV'`;
   * otherwise `-1 - errorCode` (error codes are unsigned 32-bit, so this is in
   * [-2^32, -1]). Optional: callers fall back to `translate` without it.
   */
  translatePfn?(table: PageTable, vpn: number, access: AccessKind): number;
  /** Decode an error code into words (for explanations). */
  describeErrorCode(errorCode: number): string;
}

/** An architecture plug-in. */
export interface Architecture {
  /** `uname -m` (`x86_64`). */
  readonly name: string;
  /** log2 of the base page size (12). */
  readonly pageShift: number;
  /** Huge page sizes this CPU can use (the hstates hugetlbfs registers). @see hugetlb_add_hstate */
  hugePageSizes(features: ArchFeatures): readonly HugePageSize[];
  /** The default huge page size's shift (`default_hstate`). */
  defaultHugePageShift(features: ArchFeatures): number;
  readonly addressSpace: ArchAddressSpace;
  readonly mmu: ArchMmu;
  /** Make an empty page-table tree (the `pgd`) for a new address space. @see pgd_alloc */
  createPageTable(frames: PageTableFrameSource, features: ArchFeatures): PageTable;
  /**
   * `vm_get_page_prot`: the {@link PteBits} for a VMA's protections (before any
   * write-enable a fault adds). @see arch/x86/mm/pgprot.c protection_map
   */
  protectionBits(prot: VmProtection): number;
  /** Decode a leaf into the architecture's own words, for inspection tools. */
  describeLeaf(leaf: PteView): string;
  /**
   * `access_error`: true if a user access to a VMA whose `VM_READ (1) |
   * VM_WRITE (2) | VM_EXEC (4)` bits are `vmFlags` is refused before the
   * fault is handled (SIGSEGV). Optional: without it, generic mm applies
   * x86's rule — a write needs `VM_WRITE`, a read any of the three (x86 cannot
   * map a page executable but unreadable). RISC-V refuses a read of an
   * execute-only VMA.
   * @see arch/x86/mm/fault.c access_error
   * @see arch/riscv/mm/fault.c access_error
   */
  accessError?(vmFlags: number, write: boolean): boolean;
}
