/**
 * The address-space layout seam: the limits of a user address space, where
 * `mmap` searches start, and the architecture's `get_unmapped_area`. Linux's
 * generic mm calls `arch_pick_mmap_layout` at exec and
 * `arch_get_unmapped_area[_topdown]` for every non-file placement; both call
 * back into generic helpers (`vm_unmapped_area`, `find_vma`), which generic mm
 * provides through {@link UnmappedAreaContext}.
 * @see arch/x86/mm/mmap.c
 * @see arch/x86/kernel/sys_x86_64.c
 */

import type { ArchFeatures } from './features.js';

/** Where mmap searches start, decided once per process. @see arch_pick_mmap_layout */
export interface MmapLayout {
  /** `mm->mmap_base` for the top-down search (vpn). */
  readonly mmapBase: number;
  /** `mm->mmap_legacy_base`: the bottom-up start (vpn). */
  readonly mmapLegacyBase: number;
  /** `MMF_TOPDOWN`: true unless the legacy layout was chosen. */
  readonly topdown: boolean;
}

/** Process parameters that `arch_pick_mmap_layout` reads. */
export interface LayoutInput {
  /** `RLIMIT_STACK` soft limit in bytes. */
  readonly rlimitStack: bigint | 'unlimited';
  /** Personality `ADDR_COMPAT_LAYOUT` or `vm.legacy_va_layout`. */
  readonly legacy: boolean;
  /** `PF_RANDOMIZE` (ASLR on). */
  readonly randomize: boolean;
  /** Random bits to use when randomizing (a deterministic source). */
  readonly random?: () => number;
  readonly features: ArchFeatures;
}

/** `struct vm_unmapped_area_info`, in pages. @see include/linux/mm.h */
export interface VmUnmappedAreaInfo {
  /** `VM_UNMAPPED_AREA_TOPDOWN`. */
  readonly topdown: boolean;
  readonly length: number;
  readonly lowLimit: number;
  readonly highLimit: number;
  /** Alignment mask in pages (huge page size in pages − 1), or 0. */
  readonly alignMask: number;
  /** The page offset the alignment is relative to. */
  readonly alignOffset: number;
  /** Extra pages to leave below the area (shadow stacks). */
  readonly startGap: number;
}

/** What the architecture's placement functions may ask of the generic address space. */
export interface UnmappedAreaContext {
  readonly layout: MmapLayout;
  /** Generic gap search (`vm_unmapped_area`): a vpn, or `-ENOMEM`. */
  vmUnmappedArea(info: VmUnmappedAreaInfo): number;
  /**
   * `vm_start_gap(find_vma(mm, vpn))`: the guarded start of the first VMA ending
   * above `vpn`, or `Infinity` when there is none.
   */
  nextVmaStartGap(vpn: number): number;
}

/** A placement request as `get_unmapped_area` passes it to the architecture. */
export interface UnmappedAreaRequest {
  /** The hint (vpn, already page-aligned), 0 for none. */
  readonly hint: number;
  /** Length in pages. */
  readonly length: number;
  /** File page offset (for cache colouring; unused on x86 for ordinary files). */
  readonly pgoff: number;
  /** The raw `MAP_*` flags. */
  readonly flags: number;
  /** Huge-page alignment mask in pages (hugetlbfs), or 0. */
  readonly alignMask: number;
}

/** The memory-layout half of an architecture. */
export interface ArchAddressSpace {
  /** `TASK_SIZE` of a 64-bit task, in pages (the first vpn user space cannot map). */
  taskSize(features: ArchFeatures): number;
  /** `DEFAULT_MAP_WINDOW` in pages: the top of the default (47-bit on x86) search window. */
  defaultMapWindow(features: ArchFeatures): number;
  /** True if a virtual address (u64) is canonical (may be translated at all). */
  isCanonical(address: bigint, features: ArchFeatures): boolean;
  /** `arch_pick_mmap_layout`. */
  pickMmapLayout(input: LayoutInput): MmapLayout;
  /**
   * `arch_get_unmapped_area_topdown` / `arch_get_unmapped_area` for the layout in
   * `ctx`: a vpn or `-errno`. `MAP_FIXED` requests never reach it.
   */
  getUnmappedArea(ctx: UnmappedAreaContext, req: UnmappedAreaRequest, features: ArchFeatures): number;
}
