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
  ) {
    super(ino, dev, 'reg');
    this.mode = write ? 0o644 : 0o444;
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

/**
 * The other `/proc/sys/vm` tunables the model reads, as files: reads give the
 * value, writes change it (`mmap_min_addr` needs CAP_SYS_RAWIO).
 * @see kernel/sysctl.c, mm/util.c overcommit_policy_handler, security/min_addr.c
 */
export function vmSysctlFiles(kernel: MmKernel, nextIno: () => number): Map<string, Inode> {
  const files = new Map<string, Inode>();
  const c = kernel.config;
  const int = (v: bigint): number | undefined => (v <= 0x7fffffffn ? Number(v) : undefined);
  files.set('/proc/sys/vm/max_map_count', new ValueInode(nextIno(), '00:16', () => `${c.maxMapCount}\n`, (v) => {
    const n = int(v);
    if (n === undefined) return -Errno.EINVAL;
    kernel.setSysctl('maxMapCount', n);
    return 0;
  }, true));
  files.set('/proc/sys/vm/mmap_min_addr', new ValueInode(nextIno(), '00:16', () => `${c.mmapMinAddr}\n`, (v) => {
    if (!c.privileged) return -Errno.EPERM;
    kernel.setSysctl('mmapMinAddr', v);
    return 0;
  }, true));
  files.set('/proc/sys/vm/overcommit_memory', new ValueInode(nextIno(), '00:16', () => `${c.overcommitMemory}\n`, (v) => {
    if (v > 2n) return -Errno.EINVAL;
    kernel.setSysctl('overcommitMemory', Number(v) as 0 | 1 | 2);
    return 0;
  }, true));
  files.set('/proc/sys/vm/overcommit_ratio', new ValueInode(nextIno(), '00:16', () => `${c.overcommitRatio}\n`, (v) => {
    const n = int(v);
    if (n === undefined) return -Errno.EINVAL;
    kernel.setSysctl('overcommitRatio', n);
    return 0;
  }, true));
  return files;
}

/** The files by path. */
export function hugetlbFiles(hugetlb: Hugetlb, nextIno: () => number): Map<string, Inode> {
  const files = new Map<string, Inode>();
  const def = hugetlb.defaultHstate();
  if (def) {
    files.set('/proc/sys/vm/nr_hugepages', new ValueInode(nextIno(), '00:16', () => `${def.maxHugePages}\n`, (v) => storeNr(def, v), true));
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
