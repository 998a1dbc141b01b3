/**
 * The huge page tunables and counters as files: `/proc/sys/vm/nr_hugepages`,
 * `/proc/sys/vm/nr_overcommit_hugepages` (the default pool) and
 * `/sys/kernel/mm/hugepages/hugepages-<N>kB/*`, readable with `fpeek` and
 * writable with `fill` (a one-digit-repeated number such as `"5"` or `"55"`),
 * plus the `HugePages_*` lines of `/proc/meminfo`.
 * @see mm/hugetlb_sysctl.c, mm/hugetlb_sysfs.c, mm/hugetlb.c hugetlb_report_meminfo
 */

import { Errno } from '@mmsim/base';
import type { FileOps, MmKernel } from '@mmsim/mm-core';
import type { Hstate } from './hstate.js';
import type { Hugetlb } from './hugetlbfs.js';
import { Inode, type InodeIo } from './vfs.js';

const NO_MMAP: FileOps = { mmap: null, regularSizeLimit: true };

/** A text file whose content is computed on read and parsed on write (a sysctl or sysfs attribute). */
export class ValueInode extends Inode implements InodeIo {
  constructor(
    ino: number,
    dev: string,
    private readonly read: () => string,
    private readonly write: ((value: bigint) => number) | undefined,
    /** A sysctl (`proc_dointvec` and friends): reads and writes past offset 0 do nothing. */
    private readonly sysctl = false,
    /** The permission bits, if not 0644 (writable) or 0444. */
    mode?: number,
  ) {
    super(ino, dev, 'reg');
    this.mode = mode ?? (write ? 0o644 : 0o444);
  }
  size(): bigint {
    return 0n;
  }
  fileOps(): FileOps {
    return NO_MMAP;
  }
  io(): InodeIo {
    return this;
  }
  protected evict(): void {}

  /** A sysctl takes every write past its start whole (and ignores it). */
  get swallowsWrites(): boolean {
    return this.sysctl;
  }

  /**
   * The bits bind root too: a sysctl's through `sysctl_perm`, a sysfs
   * attribute's through `kernfs_fop_open` (no write bit or no `store`: a
   * write open is EACCES, whatever the capabilities).
   */
  override get permissionByModeOnly(): boolean {
    return true;
  }

  /** A sysfs attribute (kernfs, `seq_open`); the sysctls are proc files of their own. */
  override get seqFileOpen(): boolean {
    return !this.sysctl;
  }

  readByte(offset: bigint): number | 'EOF' {
    if (this.sysctl && offset !== 0n) return 'EOF';
    const text = this.read();
    return offset < BigInt(text.length) ? text.charCodeAt(Number(offset)) : 'EOF';
  }

  /**
   * A write of `length` copies of one byte, parsed as a decimal number. Of
   * nothing, nothing is written (0). A sysctl ignores a write past its start
   * (`sysctl_writes_strict`, 1 by default) yet reports it written whole; a
   * sysfs attribute's `store` gets the bytes wherever they were written.
   * @see kernel/sysctl.c proc_first_pos_non_zero_ignore; fs/kernfs/file.c kernfs_fop_write_iter
   */
  writeFill(offset: bigint, length: bigint, value: number): bigint | number {
    if (!this.write) return -Errno.EACCES;
    if (length === 0n) return 0n;
    if (offset !== 0n && this.sysctl) return length;
    if (length > 64n) return -Errno.EINVAL;
    const text = String.fromCharCode(value).repeat(Number(length)).trim();
    if (!/^\d+$/.test(text)) return -Errno.EINVAL;
    const err = this.write(BigInt(text));
    return err < 0 ? err : length;
  }

  truncate(): number {
    return 0;
  }
}

/** `hugetlb_report_meminfo`: the hugetlb lines of /proc/meminfo. */
export function hugetlbMeminfo(hugetlb: Hugetlb): string {
  let totalKb = 0;
  let lines = '';
  const def = hugetlb.defaultHstate();
  for (const h of hugetlb.hstates.values()) {
    totalKb += h.sizeKb * h.total;
    if (h === def) {
      const n = (v: number): string => String(v).padStart(5);
      lines +=
        `HugePages_Total:   ${n(h.total)}\n` +
        `HugePages_Free:    ${n(h.free)}\n` +
        `HugePages_Rsvd:    ${n(h.resv)}\n` +
        `HugePages_Surp:    ${n(h.surplus)}\n` +
        `Hugepagesize:   ${String(h.sizeKb).padStart(8)} kB\n`;
    }
  }
  return lines + `Hugetlb:        ${String(totalKb).padStart(8)} kB\n`;
}

/** The values of `/sys/kernel/mm/hugepages/hugepages-<N>kB/`, by file name. */
export function hugepagesSysfs(h: Hstate): Record<string, number> {
  return {
    nr_hugepages: h.total,
    nr_hugepages_mempolicy: h.total,
    free_hugepages: h.free,
    resv_hugepages: h.resv,
    surplus_hugepages: h.surplus,
    nr_overcommit_hugepages: h.overcommit,
  };
}

/** `nr_hugepages` store: resize the persistent pool. */
function storeNr(h: Hstate, value: bigint): number {
  if (value > 0xffffffffn) return -Errno.EINVAL;
  h.setMaxHugePages(Number(value));
  return 0;
}

/** `nr_overcommit_hugepages` store (refused for gigantic pages, which cannot be surplus). */
function storeOvercommit(h: Hstate, value: bigint): number {
  if (h.gigantic) return -Errno.EINVAL;
  if (value > 0xffffffffn) return -Errno.EINVAL;
  h.overcommit = Number(value);
  return 0;
}

/** A parser of the values from `lo` to `hi`: the number, or undefined (EINVAL). */
const inRange = (lo: number, hi: number) => (v: bigint): number | undefined => (v >= BigInt(lo) && v <= BigInt(hi) ? Number(v) : undefined);

/** A file over a number: `parse` takes the value written (undefined: EINVAL), `store` keeps it. */
function numericInode(
  ino: number,
  dev: string,
  read: () => number | bigint,
  parse: (v: bigint) => number | undefined,
  store: (n: number) => void,
  sysctl: boolean,
  mode?: number,
): ValueInode {
  const write = (v: bigint): number => {
    const n = parse(v);
    if (n === undefined) return -Errno.EINVAL;
    store(n);
    return 0;
  };
  return new ValueInode(ino, dev, () => `${read()}\n`, write, sysctl, mode);
}

/**
 * The other `/proc/sys/vm` tunables the model reads, as files: reads give the
 * value, writes change it (`mmap_min_addr` needs CAP_SYS_RAWIO); with them
 * `legacy_va_layout` (which only the next exec reads) and the write-only
 * `drop_caches` and `compact_memory`, which have nothing to act on here.
 * @see kernel/sysctl.c, mm/util.c overcommit_policy_handler, security/min_addr.c
 */
export function vmSysctlFiles(kernel: MmKernel, nextIno: () => number): Map<string, Inode> {
  const files = new Map<string, Inode>();
  const c = kernel.config;
  const numeric = (name: string, read: () => number | bigint, parse: (v: bigint) => number | undefined, store: (n: number) => void, mode?: number): void => {
    files.set(`/proc/sys/vm/${name}`, numericInode(nextIno(), '00:16', read, parse, store, true, mode));
  };
  const int = (v: bigint): number | undefined => (v <= 0x7fffffffn ? Number(v) : undefined);
  const ulong = (v: bigint): number | undefined => (v < 2n ** 64n ? Number(v) : undefined);
  numeric('max_map_count', () => c.maxMapCount, int, (n) => kernel.setSysctl('maxMapCount', n));
  files.set('/proc/sys/vm/mmap_min_addr', new ValueInode(nextIno(), '00:16', () => `${c.mmapMinAddr}\n`, (v) => {
    if (!c.privileged) return -Errno.EPERM;
    kernel.setSysctl('mmapMinAddr', v);
    return 0;
  }, true));
  numeric('overcommit_memory', () => c.overcommitMemory, inRange(0, 2), (n) => kernel.setSysctl('overcommitMemory', n as 0 | 1 | 2));
  // overcommit_ratio_handler and overcommit_kbytes_handler: setting one clears the other.
  numeric('overcommit_ratio', () => c.overcommitRatio, int, (n) => {
    kernel.setSysctl('overcommitRatio', n);
    kernel.setSysctl('overcommitKbytes', 0);
  });
  numeric('overcommit_kbytes', () => c.overcommitKbytes, ulong, (n) => {
    kernel.setSysctl('overcommitKbytes', n);
    kernel.setSysctl('overcommitRatio', 0);
  });
  // __vm_enough_memory's reserves in mode 2 (proc_doulongvec_minmax: any unsigned long).
  numeric('admin_reserve_kbytes', () => c.adminReserveKbytes, ulong, (n) => kernel.setSysctl('adminReserveKbytes', n));
  numeric('user_reserve_kbytes', () => c.userReserveKbytes, ulong, (n) => kernel.setSysctl('userReserveKbytes', n));
  // The sysctl only; a process's layout is chosen at exec (the header's layout=), so a write changes nothing here.
  let legacyVaLayout = 0;
  numeric('legacy_va_layout', () => legacyVaLayout, int, (n) => (legacyVaLayout = n));
  // Write-only actions with nothing to act on in the model: dropping clean caches (tmpfs pages
  // are never clean page cache; 6.18 takes 1 to 63, measured) and compacting memory (1).
  numeric('drop_caches', () => 0, inRange(1, 63), () => {}, 0o200);
  numeric('compact_memory', () => 0, inRange(1, 1), () => {}, 0o200);
  return files;
}

/** The files by path. */
export function hugetlbFiles(hugetlb: Hugetlb, nextIno: () => number): Map<string, Inode> {
  const files = new Map<string, Inode>();
  const def = hugetlb.defaultHstate();
  if (def) {
    files.set('/proc/sys/vm/nr_hugepages', new ValueInode(nextIno(), '00:16', () => `${def.maxHugePages}\n`, (v) => storeNr(def, v), true));
    files.set('/proc/sys/vm/nr_hugepages_mempolicy', new ValueInode(nextIno(), '00:16', () => `${def.maxHugePages}\n`, (v) => storeNr(def, v), true));
    files.set('/proc/sys/vm/nr_overcommit_hugepages', new ValueInode(nextIno(), '00:16', () => `${def.overcommit}\n`, (v) => storeOvercommit(def, v), true));
  }
  for (const h of hugetlb.hstates.values()) {
    const dir = `/sys/kernel/mm/hugepages/hugepages-${h.sizeKb}kB`;
    for (const name of Object.keys(hugepagesSysfs(h))) {
      const writer = name === 'nr_hugepages' || name === 'nr_hugepages_mempolicy' ? (v: bigint) => storeNr(h, v) : name === 'nr_overcommit_hugepages' ? (v: bigint) => storeOvercommit(h, v) : undefined;
      files.set(`${dir}/${name}`, new ValueInode(nextIno(), '00:17', () => `${hugepagesSysfs(h)[name]}\n`, writer));
    }
  }
  return files;
}

/**
 * `/sys/kernel/mm/transparent_hugepage`: the modes as Linux prints them (the
 * one in force in brackets), `hpage_pmd_size`, and `use_zero_page`, which a
 * write of 0 or 1 changes (0: a read fault where a THP could go gets a THP,
 * not the huge zero page). A mode takes a word (`always`, `madvise`, …), which
 * a write of one repeated byte can never spell: EINVAL.
 * @see mm/huge_memory.c enabled_show, defrag_show, use_zero_page_store, hpage_pmd_size_show; mm/shmem.c shmem_enabled_show
 */
export function thpSysfsFiles(kernel: MmKernel, nextIno: () => number): Map<string, Inode> {
  const files = new Map<string, Inode>();
  const c = kernel.config;
  const dir = '/sys/kernel/mm/transparent_hugepage';
  const modes = (all: readonly string[], chosen: string): string => `${all.map((m) => (m === chosen ? `[${m}]` : m)).join(' ')}\n`;
  const word = (): number => -Errno.EINVAL;
  files.set(`${dir}/enabled`, new ValueInode(nextIno(), '00:17', () => modes(['always', 'madvise', 'never'], c.thp), word));
  files.set(`${dir}/defrag`, new ValueInode(nextIno(), '00:17', () => modes(['always', 'defer', 'defer+madvise', 'madvise', 'never'], 'madvise'), word));
  files.set(`${dir}/shmem_enabled`, new ValueInode(nextIno(), '00:17', () => modes(['always', 'within_size', 'advise', 'never', 'deny', 'force'], 'never'), word));
  files.set(`${dir}/hpage_pmd_size`, new ValueInode(nextIno(), '00:17', () => `${2 << 20}\n`, undefined));
  files.set(`${dir}/use_zero_page`, numericInode(nextIno(), '00:17', () => (c.useZeroPage ? 1 : 0), inRange(0, 1), (n) => kernel.setSysctl('useZeroPage', n === 1), false));
  return files;
}
