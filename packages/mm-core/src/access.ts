/**
 * User memory accesses as a program makes them: the MMU translates, a miss
 * or a protection violation enters the fault handler, and the access is
 * retried — or ends in SIGSEGV/SIGBUS.
 * @see arch/x86/mm/fault.c exc_page_fault
 */

import { AccessKind } from '@mmsim/arch';
import { doUserAddrFault, type FaultSignal } from './fault.js';
import type { MmStruct } from './mm.js';

/** The outcome of one user access: the byte read (or 0 for a write), or a signal. */
export type AccessResult =
  | { readonly signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL' }
  | { readonly signal: null; readonly value: number };

/** Read (`value` undefined) or write one byte at a user address. */
export function userAccess(mm: MmStruct, address: bigint, value?: number): AccessResult {
  const k = mm.kernel;
  const write = value !== undefined;
  if (!k.arch.addressSpace.isCanonical(address, k.features)) return { signal: 'SIGSEGV' };
  if (address >= BigInt(mm.taskSize) << 12n) return { signal: 'SIGSEGV' };
  const vpn = Number(address >> 12n);
  const offset = Number(address & 0xfffn);
  const access = write ? AccessKind.WRITE : AccessKind.READ;
  for (let attempt = 0; attempt < 3; attempt++) {
    const t = k.arch.mmu.translate(mm.pageTable, vpn, access);
    if (t.ok) {
      if (write) {
        k.phys.write(t.pfn, offset, value);
        return { signal: null, value: 0 };
      }
      return { signal: null, value: k.phys.read(t.pfn, offset) };
    }
    const signal: FaultSignal = doUserAddrFault(mm, vpn, write, t.errorCode);
    if (signal) return { signal };
  }
  return { signal: 'SIGSEGV' };
}
