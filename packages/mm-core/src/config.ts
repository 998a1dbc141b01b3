/**
 * The kernel and process parameters the memory-management paths read:
 * sysctls (`/proc/sys/vm/*`), rlimits, capabilities and boot facts. A machine
 * is built from one of these (trace `@config`).
 */

/** An rlimit's soft value in bytes, or unlimited (`RLIM_INFINITY`). */
export type Rlimit = bigint | 'unlimited';

/** Overcommit policy (`vm.overcommit_memory`). @see mm/util.c __vm_enough_memory */
export type OvercommitMode = 0 | 1 | 2;

/** Transparent huge page mode (`/sys/kernel/mm/transparent_hugepage/enabled`). */
export type ThpMode = 'always' | 'madvise' | 'never';

/** Every tunable the model reads. */
export interface KernelConfig {
  /** Simulated RAM in kB (`MemTotal`). */
  readonly memTotalKb: number;
  /** `SwapTotal` in kB. */
  readonly swapTotalKb: number;
  /** `vm.max_map_count`. */
  readonly maxMapCount: number;
  /** `vm.mmap_min_addr` (the DAC value), bytes. */
  readonly mmapMinAddr: bigint;
  /** `CONFIG_LSM_MMAP_MIN_ADDR`, bytes. */
  readonly lsmMmapMinAddr: bigint;
  readonly overcommitMemory: OvercommitMode;
  readonly overcommitRatio: number;
  /** `vm.overcommit_kbytes` (0: use the ratio). */
  readonly overcommitKbytes: number;
  /** `vm.admin_reserve_kbytes`. */
  readonly adminReserveKbytes: number;
  /** `vm.user_reserve_kbytes`. */
  readonly userReserveKbytes: number;
  /** `fault_around_bytes` (debugfs). */
  readonly faultAroundBytes: number;
  readonly thp: ThpMode;
  /** `/sys/kernel/mm/transparent_hugepage/use_zero_page`: a read fault where a THP could go maps the huge zero page (else a THP). */
  readonly useZeroPage: boolean;
  /** 5-level paging. */
  readonly la57: boolean;
  /** 1 GiB pages supported by the CPU. */
  readonly gbpages: boolean;
  /** `vm.legacy_va_layout` or personality `ADDR_COMPAT_LAYOUT`. */
  readonly legacyLayout: boolean;
  /** ASLR (`PF_RANDOMIZE`); false for personality `ADDR_NO_RANDOMIZE`. */
  readonly randomize: boolean;
  /** Seed for the deterministic randomness used when `randomize` is true. */
  readonly seed: number;
  /** The process has every capability (root). */
  readonly privileged: boolean;
  readonly rlimitStack: Rlimit;
  readonly rlimitAs: Rlimit;
  readonly rlimitData: Rlimit;
  readonly rlimitMemlock: Rlimit;
}

/** The defaults a hand-written scenario gets (the trace format's defaults, Linux's boot values). */
export const DEFAULT_KERNEL_CONFIG: KernelConfig = {
  memTotalKb: 16 * 1024 * 1024,
  swapTotalKb: 0,
  maxMapCount: 65530,
  mmapMinAddr: 65536n,
  lsmMmapMinAddr: 65536n,
  overcommitMemory: 0,
  overcommitRatio: 50,
  overcommitKbytes: 0,
  adminReserveKbytes: 8192,
  userReserveKbytes: 131072,
  faultAroundBytes: 65536,
  thp: 'madvise',
  useZeroPage: true,
  la57: false,
  gbpages: true,
  legacyLayout: false,
  randomize: false,
  seed: 0,
  privileged: false,
  rlimitStack: 8n * 1024n * 1024n,
  rlimitAs: 'unlimited',
  rlimitData: 'unlimited',
  rlimitMemlock: 8n * 1024n * 1024n,
};

/** An rlimit in pages (`rlimit(...) >> PAGE_SHIFT`), `Infinity` when unlimited. */
export function rlimitPages(limit: Rlimit): number {
  if (limit === 'unlimited') return Infinity;
  // Asked on every mmap and mprotect (RLIMIT_AS, then RLIMIT_DATA): the last two
  // conversions are remembered, since a bigint shift costs tens of ns and allocates.
  if (limit === recentLimits[0]) return recentPages[0]!;
  if (limit === recentLimits[1]) return recentPages[1]!;
  const pages = Number(limit >> 12n);
  recentLimits[1] = recentLimits[0]!;
  recentPages[1] = recentPages[0]!;
  recentLimits[0] = limit;
  recentPages[0] = pages;
  return pages;
}
const recentLimits: bigint[] = [-1n, -1n];
const recentPages: number[] = [0, 0];
