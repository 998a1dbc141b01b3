/**
 * The mmap entries: the x86-64 `mmap` system call, `ksys_mmap_pgoff` (the
 * seed article's `sys_mmap_pgoff`) and `vm_mmap_pgoff`, and `munmap`.
 * @see arch/x86/kernel/sys_x86_64.c SYSCALL_DEFINE6(mmap)
 * @see mm/mmap.c ksys_mmap_pgoff, mm/util.c vm_mmap_pgoff, mm/mmap.c __vm_munmap
 */

import { Errno, MAP, formatFlags, MAP_NAMES, PROT_NAMES, traced, u32, u64ToSafeNumber } from '@mmsim/base';
import { doMmap, type DoMmapResult, doMunmap, mmPopulate, type VmFile } from '@mmsim/mm-core';
import { HugetlbInode } from '@mmsim/fs';
import { pagesToResult, type SysResult, type Task } from './task.js';

const U64 = (1n << 64n) - 1n;
/** Arguments below this are exact numbers, and no sum of two of them wraps. */
const TWO_52 = 1n << 52n;

// Each entry calls its body directly when the tracer is off: no argument
// formatter or body closure is allocated per call (traced() would need both).

/** `SYSCALL_DEFINE6(mmap)` on x86-64: reject an unaligned offset first, then `ksys_mmap_pgoff`. */
export function sysMmap(task: Task, addr: bigint, len: bigint, prot: bigint, flags: bigint, fd: bigint, off: bigint): SysResult {
  task.mm.vmaCache.quiesce(); // a system call starts: nothing of the last one is in use (see VmaCache)
  const tracer = task.mm.kernel.tracer;
  if (!tracer.enabled) return mmapBody(task, addr, len, prot, flags, fd, off);
  return traced(
    tracer,
    'sys_mmap',
    () => `addr=0x${addr.toString(16)}, len=0x${len.toString(16)}, prot=${formatFlags(PROT_NAMES, u32(prot))}, flags=${formatFlags(MAP_NAMES, u32(flags))}, fd=${Number(BigInt.asIntN(32, fd))}, off=0x${off.toString(16)}`,
    () => mmapBody(task, addr, len, prot, flags, fd, off),
    formatSys,
  );
}

function mmapBody(task: Task, addr: bigint, len: bigint, prot: bigint, flags: bigint, fd: bigint, off: bigint): SysResult {
  if ((u32(off) & 0xfff) !== 0) return BigInt(-Errno.EINVAL); // off & ~PAGE_MASK, without a bigint result
  return ksysMmapPgoff(task, addr, len, prot, flags, fd, off === 0n ? 0n : off >> 12n);
}

/**
 * `ksys_mmap_pgoff`: look the descriptor up (EBADF), align a hugetlbfs file's
 * length, refuse MAP_HUGETLB elsewhere; for anonymous MAP_HUGETLB pick the
 * pool from the MAP_HUGE_SHIFT bits and set up an `anon_hugepage` file.
 */
export function ksysMmapPgoff(task: Task, addr: bigint, len: bigint, prot: bigint, flagsArg: bigint, fdArg: bigint, pgoff: bigint): SysResult {
  const tracer = task.mm.kernel.tracer;
  if (!tracer.enabled) return ksysMmapPgoffBody(task, addr, len, prot, flagsArg, fdArg, pgoff);
  return traced(
    tracer,
    'ksys_mmap_pgoff',
    () => `addr=0x${addr.toString(16)}, len=0x${len.toString(16)}, prot=0x${prot.toString(16)}, flags=0x${flagsArg.toString(16)}, fd=${Number(BigInt.asIntN(32, fdArg))}, pgoff=0x${pgoff.toString(16)}`,
    () => ksysMmapPgoffBody(task, addr, len, prot, flagsArg, fdArg, pgoff),
    formatSys,
  );
}

/** `ALIGN(len, huge)` in u64 arithmetic; `huge` is a power of two in bytes. */
function hugeAlign(len: bigint, hugeBytes: number): bigint {
  // A length already aligned and below 2^52 (the usual case) is returned as is, without bigint arithmetic.
  if (len >= 0n && len < TWO_52 && u64ToSafeNumber(len) % hugeBytes === 0) return len;
  const huge = BigInt(hugeBytes);
  return (len + huge - 1n) & ~(huge - 1n) & U64;
}

function ksysMmapPgoffBody(task: Task, addr: bigint, len: bigint, prot: bigint, flagsArg: bigint, fdArg: bigint, pgoff: bigint): SysResult {
  const flags = u32(flagsArg);
  let file: VmFile | null = null;
  if (!(flags & MAP.ANONYMOUS)) {
    const fd = u32(fdArg);
    const open = fd <= 0x7fffffff ? task.files.fget(fd) : undefined;
    if (!open || open.pathOnly) {
      open?.put();
      return BigInt(-Errno.EBADF);
    }
    file = open;
    const order = open.ops.hugePageOrder;
    if (order !== undefined) {
      len = hugeAlign(len, 2 ** (order + 12));
    } else if (flags & MAP.HUGETLB) {
      open.put();
      return BigInt(-Errno.EINVAL);
    }
  } else if (flags & MAP.HUGETLB) {
    const sizeLog = (flags >>> MAP.HUGE_SHIFT) & MAP.HUGE_MASK;
    const h = task.vfs.hugetlb.hstateForSizeLog(sizeLog);
    if (!h) return BigInt(-Errno.EINVAL);
    len = hugeAlign(len, h.pages * 4096);
    const created = task.vfs.hugetlb.fileSetup(len, sizeLog);
    if (typeof created === 'number') return BigInt(created);
    file = created;
  }
  // (a comparison, not a shift, on the usual 32-bit flags: no bigint is made per call)
  const flagsHigh = flagsArg > 0xffffffffn ? u32(flagsArg >> 32n) : 0;
  const result = vmMmapPgoff(task, file, addr, len, u32(prot), flags, pgoff, flagsHigh);
  file?.put();
  return result;
}

/**
 * `vm_mmap_pgoff`: `do_mmap` under the mmap lock, then populate if asked
 * (errors ignored). `flagsHigh` is the upper half of the 64-bit flags (see
 * `doMmap`).
 */
export function vmMmapPgoff(task: Task, file: VmFile | null, addr: bigint, len: bigint, prot: number, flags: number, pgoff: bigint, flagsHigh = 0): SysResult {
  const tracer = task.mm.kernel.tracer;
  if (!tracer.enabled) return vmMmapPgoffBody(task, file, addr, len, prot, flags, pgoff, flagsHigh);
  return traced(
    tracer,
    'vm_mmap_pgoff',
    () => `file=${file ? file.path() : 'NULL'}, addr=0x${addr.toString(16)}, len=0x${len.toString(16)}`,
    () => vmMmapPgoffBody(task, file, addr, len, prot, flags, pgoff, flagsHigh),
    formatSys,
  );
}

function vmMmapPgoffBody(task: Task, file: VmFile | null, addr: bigint, len: bigint, prot: number, flags: number, pgoff: bigint, flagsHigh: number): SysResult {
  const { result, populate } = doMmap(task.mm, file, addr, len, prot, flags, pgoff, doMmapOut, flagsHigh);
  if (result >= 0 && populate) mmPopulate(task.mm, result, result + populate, true);
  // The return to user space: the replaced mappings' files go only now, after the populate.
  if (task.mm.deferredFputs.length !== 0) task.mm.releaseDeferredFputs();
  return pagesToResult(result);
}

/** `vm_mmap_pgoff`'s `populate` (with the result): read right after each call, so one object serves all. */
const doMmapOut: DoMmapResult = { result: 0, populate: 0 };

/** `munmap` → `__vm_munmap`: validate the raw range, then unmap. */
export function sysMunmap(task: Task, addr: bigint, len: bigint): SysResult {
  task.mm.vmaCache.quiesce();
  const tracer = task.mm.kernel.tracer;
  if (!tracer.enabled) return munmapBody(task, addr, len);
  return traced(tracer, 'sys_munmap', () => `addr=0x${addr.toString(16)}, len=0x${len.toString(16)}`, () => munmapBody(task, addr, len), formatSys);
}

function munmapBody(task: Task, addr: bigint, len: bigint): SysResult {
  if (addr >= 0n && addr < TWO_52 && len >= 0n && len < TWO_52) {
    // The common case, on exact numbers (nothing below 2^52 wraps): the same checks.
    const a = u64ToSafeNumber(addr);
    const l = u64ToSafeNumber(len);
    const taskBytes = task.mm.taskSize * 4096;
    if ((a & 0xfff) !== 0 || a > taskBytes || l > taskBytes - a || l === 0) return BigInt(-Errno.EINVAL);
    const r = doMunmap(task.mm, a / 4096, a / 4096 + Math.ceil(l / 4096));
    return r === 0 ? 0n : BigInt(r);
  }
  const taskSize = BigInt(task.mm.taskSize) << 12n;
  if (addr & 0xfffn || addr > taskSize || len > taskSize - addr) return BigInt(-Errno.EINVAL);
  const alignedLen = (len + 0xfffn) & ~0xfffn;
  if (alignedLen === 0n) return BigInt(-Errno.EINVAL);
  const start = Number(addr >> 12n);
  return BigInt(doMunmap(task.mm, start, start + Number(alignedLen >> 12n)));
}

/** Format a raw result for the call graph. */
export function formatSys(r: SysResult): string {
  if (r < 0n && r >= -4095n) return `-${Object.entries(Errno).find(([, v]) => v === Number(-r))?.[0] ?? Number(-r)}`;
  return '0x' + r.toString(16);
}

export { HugetlbInode };
