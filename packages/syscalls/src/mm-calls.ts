/**
 * The other memory-management system calls: `mprotect`, `mremap`, `madvise`,
 * `brk`, `mlock`, `munlock`. Arguments arrive as u64 values, results leave as
 * raw syscall results.
 * @see mm/mprotect.c, mm/mremap.c, mm/madvise.c, mm/mmap.c (brk), mm/mlock.c
 */

import { doBrk, doMadvise, doMlock, doMprotect, doMremap, doMunlock } from '@mmsim/mm-core';
import type { SysResult, Task } from './task.js';

/** `mprotect(addr, len, prot)`. */
export function sysMprotect(task: Task, addr: bigint, len: bigint, prot: bigint): SysResult {
  task.mm.vmaCache.quiesce();
  const r = doMprotect(task.mm, addr, len, prot);
  return r === 0 ? 0n : BigInt(r);
}

/** `mremap(old_addr, old_size, new_size, flags, new_addr)`. */
export function sysMremap(task: Task, addr: bigint, oldLen: bigint, newLen: bigint, flags: bigint, newAddr = 0n): SysResult {
  task.mm.vmaCache.quiesce();
  return doMremap(task.mm, addr, oldLen, newLen, flags, newAddr);
}

/** `madvise(addr, len, advice)`. */
export function sysMadvise(task: Task, addr: bigint, len: bigint, advice: bigint): SysResult {
  task.mm.vmaCache.quiesce();
  return BigInt(doMadvise(task.mm, addr, len, advice));
}

/** `brk(addr)`: always an address. */
export function sysBrk(task: Task, addr: bigint): SysResult {
  task.mm.vmaCache.quiesce();
  return doBrk(task.mm, addr);
}

/** `mlock(addr, len)`. */
export function sysMlock(task: Task, addr: bigint, len: bigint): SysResult {
  task.mm.vmaCache.quiesce();
  return BigInt(doMlock(task.mm, addr, len));
}

/** `munlock(addr, len)`. */
export function sysMunlock(task: Task, addr: bigint, len: bigint): SysResult {
  task.mm.vmaCache.quiesce();
  return BigInt(doMunlock(task.mm, addr, len));
}
