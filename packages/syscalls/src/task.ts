/**
 * The simulated process the system calls act on (`current`): its address
 * space, its descriptor table, and the machine's VFS.
 * @see include/linux/sched.h struct task_struct
 */

import { safeNumberToU64 } from '@mmsim/base';
import type { FdTable, Vfs } from '@mmsim/fs';
import type { MmStruct } from '@mmsim/mm-core';

/** `current`, the part memory-management calls use. */
export interface Task {
  readonly mm: MmStruct;
  readonly files: FdTable;
  readonly vfs: Vfs;
}

/** A raw system-call result: a value, or `-errno` in [-4095, -1] (as the kernel returns it in `rax`). */
export type SysResult = bigint;

/** True if a raw result is an error (`IS_ERR_VALUE`). */
export function isSysError(result: SysResult): boolean {
  return result < 0n && result >= -4095n;
}

/** Convert a kernel-internal result (vpn or `-errno`) to a byte address result. */
export function pagesToResult(result: number): SysResult {
  // result * 4096 is exact (a page number below 2^41 times a power of two).
  return result < 0 ? BigInt(result) : safeNumberToU64(result * 4096);
}
