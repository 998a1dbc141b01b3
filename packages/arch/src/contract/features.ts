/**
 * CPU and kernel features that change an architecture's answers (trace
 * `@config` keys `la57`, `gbpages`, ...).
 */
export interface ArchFeatures {
  /** 5-level paging (x86 LA57). */
  readonly la57: boolean;
  /** 1 GiB pages supported by the CPU (x86 `pdpe1gb`), so a 1 GiB hstate exists. */
  readonly gbpages: boolean;
}
