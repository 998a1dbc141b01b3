/**
 * `struct mm_struct`: one process's address space — its VMAs, page tables,
 * layout and the counters Linux keeps for limits and /proc.
 * @see include/linux/mm_types.h struct mm_struct
 */

import type { MmapLayout, PageTable, UnmappedAreaContext } from '@mmsim/arch';
import type { Rlimit } from './config.js';
import type { VmFile } from './file.js';
import { GuardMarkers } from './guards.js';
import type { MmKernel } from './kernel.js';
import { PageKind } from './page.js';
import { VmaTree } from './vma-tree.js';
import { VmaCache } from './vma.js';
import { VM, VM_STACK } from './vm-flags.js';

/** The process credentials and limits the mm paths consult (rlimits, capabilities). */
export interface ProcessLimits {
  rlimitStack: Rlimit;
  rlimitAs: Rlimit;
  rlimitData: Rlimit;
  rlimitMemlock: Rlimit;
  /** `CAP_IPC_LOCK`, `CAP_SYS_ADMIN`, `CAP_SYS_RAWIO` (all or nothing here). */
  privileged: boolean;
}

/** One address space. */
export class MmStruct {
  readonly vmas = new VmaTree();
  readonly pageTable: PageTable;
  layout: MmapLayout;
  /** `total_vm`, `data_vm`, `exec_vm`, `stack_vm`, `locked_vm` in pages. */
  totalVm = 0;
  dataVm = 0;
  execVm = 0;
  stackVm = 0;
  lockedVm = 0;
  /** `start_brk`, `brk` (bytes; `brk` may be unaligned). */
  startBrk = 0;
  brk = 0;
  /** `end_data - start_data` of the ELF image, bytes (for the brk RLIMIT_DATA check). */
  dataSegmentSize = 0;
  /** `start_stack` (bytes). */
  startStack = 0;
  /** `def_flags` (VM_LOCKED after `mlockall(MCL_FUTURE)`). */
  defFlags = 0;
  /**
   * Guard markers (`MADV_GUARD_INSTALL`, Linux's `PTE_MARKER_GUARD`): pages
   * whose access raises SIGSEGV until removed; they survive MADV_DONTNEED.
   */
  readonly guards = new GuardMarkers();
  /** `vm_area_cachep` for this address space: freed VMAs for reuse (see {@link VmaCache}). */
  readonly vmaCache = new VmaCache();
  /** @internal The placement callbacks `get_unmapped_area` hands the architecture (see `unmappedAreaContext`). */
  placementContext: UnmappedAreaContext | null = null;
  /**
   * Files a system call dropped the last reference to, released when it
   * returns to user space (`fput` defers the final release to task work):
   * the files of the mappings a `MAP_FIXED` replaced, which keep their
   * hugetlb reservations through the rest of the call, `MAP_POPULATE`
   * included. See {@link releaseDeferredFputs}.
   */
  readonly deferredFputs: VmFile[] = [];

  /** The return to user space: release {@link deferredFputs}. The system-call entries call it. */
  releaseDeferredFputs(): void {
    const files = this.deferredFputs;
    for (let i = 0; i < files.length; i++) files[i]!.put();
    files.length = 0;
  }

  /** Drop the guard markers of `[start, end)` (unmapped or removed). */
  clearGuards(start: number, end: number): void {
    this.guards.remove(start, end);
  }

  constructor(
    readonly kernel: MmKernel,
    readonly limits: ProcessLimits,
  ) {
    const k = kernel;
    this.taskSize = k.arch.addressSpace.taskSize(k.features);
    this.pageTable = k.arch.createPageTable(
      {
        allocTableFrame: () => k.allocPages(PageKind.PAGETABLE, 0),
        freeTableFrame: (pfn) => k.freePages(pfn),
      },
      k.features,
    );
    this.layout = k.arch.addressSpace.pickMmapLayout({
      rlimitStack: limits.rlimitStack,
      legacy: k.config.legacyLayout,
      randomize: k.config.randomize,
      random: seededRandom(k.config.seed),
      features: k.features,
    });
  }

  /** `mm->map_count`. */
  get mapCount(): number {
    return this.vmas.size;
  }

  /** `TASK_SIZE` in pages (fixed for the address space: the architecture and its features decide it). */
  readonly taskSize: number;

  /** `vm_stat_account`. @see mm/mmap.c */
  statAccount(flags: number, pages: number): void {
    this.totalVm += pages;
    if ((flags & (VM.EXEC | VM.WRITE | VM_STACK)) === VM.EXEC) this.execVm += pages;
    else if ((flags & VM_STACK) === VM_STACK) this.stackVm += pages;
    else if (isDataMapping(flags)) this.dataVm += pages;
  }
}

/** `is_data_mapping`: private writable, not a stack. */
export function isDataMapping(flags: number): boolean {
  return (flags & (VM.WRITE | VM.SHARED | VM_STACK)) === VM.WRITE;
}

/**
 * A deterministic source of randomness for ASLR (`aslr=1` traces carry a
 * `seed`): the same seed gives the same layout (mulberry32).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
