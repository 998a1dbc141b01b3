/**
 * User memory accesses as a program makes them: the MMU translates, a miss
 * or a protection violation enters the fault handler, and the access is
 * retried — or ends in SIGSEGV/SIGBUS.
 * @see arch/x86/mm/fault.c exc_page_fault
 */

import { u64ToSafeNumber } from '@mmsim/base';
import { AccessKind, TRANSLATION_SIGSEGV, type ArchMmu, type PageTable, type Translation } from '@mmsim/arch';
import { doUserAddrFault, type FaultSignal } from './fault.js';
import type { MmStruct } from './mm.js';
import type { PhysicalMemory } from './frame-contents.js';

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

/** The error code of a failed {@link ArchMmu.translate} (0 if it succeeded, which callers rule out). */
function errorCodeOf(t: Translation): number {
  return t.ok ? 0 : t.errorCode;
}

/**
 * The MMU's answer as {@link ArchMmu.translatePfn} encodes it: the frame
 * (≥ 0) or `-1 - errorCode`. Uses the allocation-free `translatePfn` when the
 * architecture has one; its {@link TRANSLATION_SIGSEGV} (which a user access
 * below `TASK_SIZE` never gets) is resolved through `translate`, so the error
 * code handed on is exactly the one `translate` gives.
 */
function translatePfn(mmu: ArchMmu, table: PageTable, vpn: number, access: AccessKind): number {
  if (mmu.translatePfn === undefined) {
    const t = mmu.translate(table, vpn, access);
    return t.ok ? t.pfn : -1 - errorCodeOf(t);
  }
  const r = mmu.translatePfn(table, vpn, access);
  return r === TRANSLATION_SIGSEGV ? -1 - errorCodeOf(mmu.translate(table, vpn, access)) : r;
}

/** The access itself, once the MMU gave the frame: the byte read, or the write done. */
function complete(phys: PhysicalMemory, pfn: number, offset: number, value: number | undefined): AccessResult {
  if (value !== undefined) {
    phys.write(pfn, offset, value);
    return WRITTEN;
  }
  const byte = phys.read(pfn, offset);
  return READ_VALUES[byte] ?? { signal: null, value: byte };
}

/**
 * Read (`value` undefined) or write one byte at a user address. Allocates
 * nothing unless the access faults (on an architecture with
 * {@link ArchMmu.translatePfn}).
 */
export function userAccess(mm: MmStruct, address: bigint, value?: number): AccessResult {
  const k = mm.kernel;
  const access = value === undefined ? AccessKind.READ : AccessKind.WRITE;
  // Below TASK_SIZE (canonical on every architecture: the user half) the
  // address is an exact number; convert it without bigint arithmetic. This
  // path is kept apart from the bigint one below so that the page number
  // stays an unboxed double (a merge with Number(bigint) would box it).
  const a = u64ToSafeNumber(address);
  if (a >= 0 && a < mm.taskSize * 4096) {
    const vpn = Math.floor(a / 4096);
    const offset = a - vpn * 4096;
    const pfn = translatePfn(k.arch.mmu, mm.pageTable, vpn, access);
    if (pfn >= 0) return complete(k.phys, pfn, offset, value);
    // Given `a`, not `vpn`: the miss inside the MMU also passes `vpn` to a
    // call, and two calls taking the same double make the JIT box it once
    // before the TLB check, i.e. on every access.
    return faultAndRetryAt(mm, a, value, pfn);
  }
  if (!k.arch.addressSpace.isCanonical(address, k.features)) return SIGNALLED.SIGSEGV;
  if (address >= BigInt(mm.taskSize) << 12n) return SIGNALLED.SIGSEGV;
  const vpn = Number(address >> 12n);
  return faultAndRetry(mm, vpn, Number(address & 0xfffn), value, translatePfn(k.arch.mmu, mm.pageTable, vpn, access));
}

/** {@link faultAndRetry} for the address `a` (a number below `TASK_SIZE`). */
function faultAndRetryAt(mm: MmStruct, a: number, value: number | undefined, pfn: number): AccessResult {
  const vpn = Math.floor(a / 4096);
  return faultAndRetry(mm, vpn, a - vpn * 4096, value, pfn);
}

/**
 * The access whose translation gave `pfn`: done if it is a frame; otherwise
 * the page fault is handled and the access retried — three translations at
 * most, then SIGSEGV — or it ends in the fault handler's signal.
 * @see arch/x86/mm/fault.c exc_page_fault
 */
function faultAndRetry(mm: MmStruct, vpn: number, offset: number, value: number | undefined, pfn: number): AccessResult {
  const k = mm.kernel;
  const write = value !== undefined;
  for (let attempt = 1; ; attempt++) {
    if (pfn >= 0) return complete(k.phys, pfn, offset, value);
    const signal: FaultSignal = doUserAddrFault(mm, vpn, write, -1 - pfn);
    if (signal) return SIGNALLED[signal] ?? { signal };
    if (attempt === 3) return SIGNALLED.SIGSEGV;
    pfn = translatePfn(k.arch.mmu, mm.pageTable, vpn, write ? AccessKind.WRITE : AccessKind.READ);
  }
}
