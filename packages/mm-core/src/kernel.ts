/**
 * The machine-wide memory-management state every address space shares: the
 * architecture, the frame allocator, the frame descriptors and contents, the
 * committed-memory counter and the tunables. One per simulated machine.
 */

import { Errno, type Tracer } from '@mmsim/base';
import type { ArchFeatures, Architecture } from '@mmsim/arch';
import type { KernelConfig } from './config.js';
import type { FrameAllocator } from './frames/frame-allocator.js';
import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';
import { MemMap, PageKind, PhysicalMemory, type PageDesc } from './page.js';

/** Machine-wide mm state (Linux's globals: `mem_map`, `vm_committed_as`, sysctls...). */
export class MmKernel {
  readonly memmap = new MemMap();
  readonly phys: PhysicalMemory;
  readonly features: ArchFeatures;
  /** `vm_committed_as` in pages: memory promised to `VM_ACCOUNT` mappings and shmem. */
  committedAs = 0;
  /**
   * The part of {@link committedAs} that no mapping will ever give back:
   * Linux 6.18's `mremap` shrink-and-move charges the part its shrink
   * unmapped (see `mremap.ts` `moveVma`). For invariant checks.
   */
  leakedCommit = 0;
  /** The last stamp given to a file-backed VMA going into its file's `i_mmap` (see `i-mmap.ts`). */
  iMmapSeq = 0;
  /** The shared zero page (`ZERO_PAGE(0)`). */
  readonly zeroPfn: number;
  /**
   * `shmem_zero_setup`: give a new shared anonymous VMA its `/dev/zero (deleted)`
   * shmem file (set by the fs layer); 0 or `-errno`.
   */
  shmemZeroSetup: (mm: MmStruct, vma: Vma) => number = () => -Errno.ENODEV;
  /** Give a hugetlb page whose last mapping went away back to its pool (set by hugetlbfs). */
  releaseHugetlbPage: (pfn: number) => void = () => {};
  /** `hugetlb_total_pages()`, provided by hugetlbfs once it is set up. */
  hugetlbTotalPages: () => number = () => 0;
  /** `totalram_pages()`. */
  readonly totalRamPages: number;
  /** `total_swap_pages`. */
  readonly totalSwapPages: number;
  /** `fault_around_pages`: how many pages a read fault maps around itself (1: none). */
  readonly faultAroundPages: number;
  /** The working `mmap_min_addr` (max of the DAC sysctl and the LSM value), in bytes. */
  get mmapMinAddr(): bigint {
    const c = this.config;
    return c.mmapMinAddr > c.lsmMmapMinAddr ? c.mmapMinAddr : c.lsmMmapMinAddr;
  }
  /** The tunables; sysctl writes change them at run time ({@link setSysctl}). */
  readonly config: KernelConfig;

  constructor(
    readonly arch: Architecture,
    config: KernelConfig,
    readonly frames: FrameAllocator,
    readonly tracer: Tracer,
  ) {
    this.config = { ...config };
    this.features = { la57: config.la57, gbpages: config.gbpages };
    this.phys = new PhysicalMemory(1 << arch.pageShift);
    this.totalRamPages = Math.floor(config.memTotalKb / 4);
    this.totalSwapPages = Math.floor(config.swapTotalKb / 4);
    this.faultAroundPages = faultAroundPages(config.faultAroundBytes);
    const zero = frames.alloc(0);
    if (zero < 0) throw new Error('mmsim: no memory for the zero page');
    this.zeroPfn = zero;
    this.memmap.add(zero, PageKind.ZERO, 0);
  }

  /** Change a `/proc/sys/vm` (or transparent_hugepage sysfs) tunable, as a write to its file does. */
  setSysctl<K extends 'maxMapCount' | 'mmapMinAddr' | 'overcommitMemory' | 'overcommitRatio' | 'overcommitKbytes' | 'adminReserveKbytes' | 'userReserveKbytes' | 'useZeroPage'>(key: K, value: KernelConfig[K]): void {
    (this.config as { -readonly [P in keyof KernelConfig]: KernelConfig[P] })[key] = value;
  }

  /** The working `mmap_min_addr` in pages, rounded up (`PAGE_ALIGN(mmap_min_addr)`): `vm_unmapped_area`'s floor, the fault check. */
  get mmapMinPages(): number {
    return this.workingMinPages.of(this.mmapMinAddr);
  }
  /** `dac_mmap_min_addr` (the sysctl alone, without the LSM's value) in pages, rounded up: `cap_mmap_addr`'s limit. */
  get dacMmapMinPages(): number {
    return this.dacMinPages.of(this.config.mmapMinAddr);
  }
  // Both converted once per value (a sysctl write may change them): a bigint shift on every mmap is measurable.
  private readonly workingMinPages = new PagesOfBytes();
  private readonly dacMinPages = new PagesOfBytes();

  /**
   * Allocate a zeroed block of `2^order` frames for `kind` and describe it, or
   * return -1 when memory is exhausted (`alloc_pages`, `folio_alloc`).
   */
  allocPages(kind: PageKind, order = 0): number {
    const pfn = this.frames.alloc(order);
    if (pfn < 0) return -1;
    if (order === 0) this.phys.clear(pfn);
    else this.phys.clearRange(pfn, 2 ** order);
    this.memmap.add(pfn, kind, order);
    return pfn;
  }

  /** Free a block allocated by {@link allocPages} (`folio_put` dropping the last reference). */
  freePages(pfn: number): void {
    const memmap = this.memmap;
    const head = memmap.find(pfn);
    if (head < 0 || memmap.kind(head) === PageKind.ZERO) return;
    const order = memmap.order(head);
    memmap.remove(head);
    if (order === 0) this.phys.clear(head);
    else this.phys.clearRange(head, 2 ** order);
    this.frames.free(head, order);
  }

  /**
   * `vm_get_page_prot`: the PTE bits for a VMA's read/write/exec/shared
   * bits (`VM_READ` 1, `VM_WRITE` 2, `VM_EXEC` 4, `VM_SHARED` 8), as the
   * architecture's `protection_map` gives them; cached per combination,
   * since every fault asks (Linux caches it in `vma->vm_page_prot`).
   * @see mm/mmap.c vm_get_page_prot
   */
  pageProt(flags: number): number {
    const i = flags & 15;
    let bits = this.pageProtCache[i]!;
    if (bits < 0) {
      bits = this.arch.protectionBits({ read: (i & 1) !== 0, write: (i & 2) !== 0, exec: (i & 4) !== 0, shared: (i & 8) !== 0 });
      this.pageProtCache[i] = bits;
    }
    return bits;
  }
  private readonly pageProtCache = new Int32Array(16).fill(-1);

  /**
   * A view of the descriptor of the block holding `pfn` (`page_folio`), for
   * code off the hot paths; those use {@link memmap}'s numeric accessors.
   */
  page(pfn: number): PageDesc | undefined {
    return this.memmap.get(pfn);
  }
}

/** `PAGE_ALIGN(bytes) >> PAGE_SHIFT` of a byte count that rarely changes, converted once per value. */
class PagesOfBytes {
  private forBytes = -1n;
  private pages = 0;

  of(bytes: bigint): number {
    if (bytes !== this.forBytes) {
      this.pages = bytes <= 0n ? 0 : Number((bytes + 0xfffn) >> 12n);
      this.forBytes = bytes;
    }
    return this.pages;
  }
}

/**
 * `fault_around_bytes_set`: the pages a write of `bytes` to debugfs
 * `fault_around_bytes` leaves in `fault_around_pages` — at least one page, a
 * power of two (rounded down), at most a PTE table's 512. Throws a RangeError
 * for a value the kernel refuses with `EINVAL` (above 2 MiB) or that no write
 * can carry (negative or not an integer).
 * @see mm/memory.c fault_around_bytes_set
 */
export function faultAroundPages(bytes: number): number {
  if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`fault_around_bytes=${bytes}: not a byte count`);
  if (Math.floor(bytes / 4096) > 512) throw new RangeError(`fault_around_bytes=${bytes}: above 2097152 (512 pages), which the kernel refuses (EINVAL)`);
  let pages = 1;
  while (pages * 2 * 4096 <= bytes) pages *= 2;
  return pages;
}
