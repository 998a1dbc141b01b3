/**
 * Memory accounting: address-space limits (`RLIMIT_AS`, `RLIMIT_DATA`),
 * overcommit (`vm.overcommit_memory`) and mlock limits.
 * @see mm/mmap.c may_expand_vm, mm/util.c __vm_enough_memory, mm/mlock.c can_do_mlock
 */

import { Errno } from '@mmsim/base';
import { rlimitPages } from './config.js';
import { isDataMapping, type MmStruct } from './mm.js';
import { VM } from './vm-flags.js';

/** `may_expand_vm`: may the address space grow by `pages` of a mapping with `flags`? */
export function mayExpandVm(mm: MmStruct, flags: number, pages: number): boolean {
  if (mm.totalVm + pages > rlimitPages(mm.limits.rlimitAs)) return false;
  if (isDataMapping(flags) && mm.dataVm + pages > rlimitPages(mm.limits.rlimitData)) {
    // Linux lets a soft limit of 0 pass when the hard limit is higher (a
    // Valgrind workaround). Traces give one value per rlimit and the recorder
    // sets the hard limit to it, so that exception never applies here.
    return false;
  }
  return true;
}

/**
 * `__vm_enough_memory` / `security_vm_enough_memory_mm`: charge `pages` to the
 * committed total, or return `-ENOMEM` (and charge nothing) if the overcommit
 * policy refuses.
 */
export function vmEnoughMemory(mm: MmStruct | null, pages: number): number {
  const k = (mm ?? null)?.kernel;
  if (!k) return 0;
  k.committedAs += pages;
  const mode = k.config.overcommitMemory;
  if (mode === 1) return 0;
  if (mode === 0) {
    if (pages > k.totalRamPages + k.totalSwapPages) {
      k.committedAs -= pages;
      return -Errno.ENOMEM;
    }
    return 0;
  }
  let allowed = vmCommitLimit(mm!);
  if (!mm!.limits.privileged) allowed -= Math.floor(k.config.adminReserveKbytes / 4);
  allowed -= Math.min(Math.floor(mm!.totalVm / 32), Math.floor(k.config.userReserveKbytes / 4));
  if (Math.max(k.committedAs, 0) < allowed) return 0;
  k.committedAs -= pages;
  return -Errno.ENOMEM;
}

/** `vm_commit_limit`: the mode-2 ceiling in pages. */
export function vmCommitLimit(mm: MmStruct): number {
  const k = mm.kernel;
  const base = k.config.overcommitKbytes
    ? Math.floor(k.config.overcommitKbytes / 4)
    : Math.floor(((k.totalRamPages - k.hugetlbTotalPages()) * k.config.overcommitRatio) / 100);
  return base + k.totalSwapPages;
}

/** `vm_unacct_memory`. */
export function vmUnacctMemory(mm: MmStruct, pages: number): void {
  mm.kernel.committedAs -= pages;
}

/** `accountable_mapping`: does a new mapping with these flags charge the committed total? */
export function accountableMapping(isHugetlbFile: boolean, flags: number): boolean {
  if (isHugetlbFile) return false;
  return (flags & (VM.NORESERVE | VM.SHARED | VM.WRITE)) === VM.WRITE;
}

/**
 * `can_do_mlock`: a non-zero RLIMIT_MEMLOCK or CAP_IPC_LOCK. The limit is
 * compared in bytes: one below a page (4095) still allows mlock, whose page
 * count then refuses it (`ENOMEM`, `EAGAIN`), not `EPERM`.
 */
export function canDoMlock(mm: MmStruct): boolean {
  if (mm.limits.rlimitMemlock !== 0n) return true;
  return mm.limits.privileged;
}

/** `mlock_future_ok`: may `bytes` more be locked in the future? */
export function mlockFutureOk(mm: MmStruct, flags: number, pages: number): boolean {
  if (!(flags & VM.LOCKED) || mm.limits.privileged) return true;
  return mm.lockedVm + pages <= rlimitPages(mm.limits.rlimitMemlock);
}
