/**
 * User memory accesses as a program makes them: the MMU translates, a miss
 * or a protection violation enters the fault handler, and the access is
 * retried — or ends in SIGSEGV/SIGBUS.
 * @see arch/x86/mm/fault.c exc_page_fault
 */

import { u64ToSafeNumber } from '@mmsim/base';
import { AccessKind } from '@mmsim/arch';
import { doUserAddrFault, type FaultSignal } from './fault.js';
import type { MmStruct } from './mm.js';

/** The outcome of one user access: the byte read (or 0 for a write), or a signal. */
export type AccessResult =
  | { readonly signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL' }
  | { readonly signal: null; readonly value: number };

// The results carry no per-access state but the byte read, so they are shared
// frozen objects: an access allocates nothing.
const SIGNALLED = {
  SIGSEGV: Object.freeze({ signal: 'SIGSEGV' as const }),
  SIGBUS: Object.freeze({ signal: 'SIGBUS' as const }),
  SIGKILL: Object.freeze({ signal: 'SIGKILL' as const }),
};
const WRITTEN: AccessResult = Object.freeze({ signal: null, value: 0 });
const READ_VALUES: readonly AccessResult[] = Array.from({ length: 256 }, (_, value) => Object.freeze({ signal: null, value }));

/** Read (`value` undefined) or write one byte at a user address. */
export function userAccess(mm: MmStruct, address: bigint, value?: number): AccessResult {
  const k = mm.kernel;
  const write = value !== undefined;
  let vpn: number;
  let offset: number;
  // Below TASK_SIZE (canonical on every architecture: the user half) the
  // address is an exact number; convert it without bigint arithmetic.
  const a = u64ToSafeNumber(address);
  if (a >= 0 && a < mm.taskSize * 4096) {
    vpn = Math.floor(a / 4096);
    offset = a - vpn * 4096;
  } else {
    if (!k.arch.addressSpace.isCanonical(address, k.features)) return SIGNALLED.SIGSEGV;
    if (address >= BigInt(mm.taskSize) << 12n) return SIGNALLED.SIGSEGV;
    vpn = Number(address >> 12n);
    offset = Number(address & 0xfffn);
  }
  const access = write ? AccessKind.WRITE : AccessKind.READ;
  for (let attempt = 0; attempt < 3; attempt++) {
    const t = k.arch.mmu.translate(mm.pageTable, vpn, access);
    if (t.ok) {
      if (write) {
        k.phys.write(t.pfn, offset, value);
        return WRITTEN;
      }
      return READ_VALUES[k.phys.read(t.pfn, offset)] ?? { signal: null, value: k.phys.read(t.pfn, offset) };
    }
    const signal: FaultSignal = doUserAddrFault(mm, vpn, write, t.errorCode);
    if (signal) return SIGNALLED[signal] ?? { signal };
  }
  return SIGNALLED.SIGSEGV;
}
