/**
 * `protection_map` and `vm_get_page_prot` for RISC-V.
 *
 * Unlike x86, RISC-V can express every combination of R, W and X, so:
 * - a `PROT_EXEC`-only mapping really is execute-only (`PAGE_EXEC`: X without
 *   R), and a load from it faults;
 * - a `PROT_WRITE`-only private mapping gets `PAGE_COPY` = `PAGE_READ`
 *   (readable, not writable: the first store is a COW fault), and a shared
 *   one `PAGE_SHARED` = `PAGE_WRITE` (R and W, since W without R is reserved).
 * Every user protection carries `_PAGE_BASE` = `V | A | U`; `PAGE_NONE` is
 * `_PAGE_PROT_NONE | _PAGE_READ` without V.
 * @see arch/riscv/mm/init.c protection_map
 * @see arch/riscv/include/asm/pgtable.h PAGE_NONE, PAGE_READ, PAGE_WRITE, PAGE_EXEC, PAGE_READ_EXEC, PAGE_WRITE_EXEC, PAGE_COPY, PAGE_SHARED
 */

import { PteBits, type VmProtection } from '@mmsim/arch';

const { PRESENT, READ, WRITE, EXEC, USER, ACCESSED, PROTNONE } = PteBits;

/** `_PAGE_BASE` = `_PAGE_PRESENT | _PAGE_ACCESSED | _PAGE_USER`. */
export const RISCV_PAGE_BASE = PRESENT | ACCESSED | USER;
/** `PAGE_NONE` = `_PAGE_PROT_NONE | _PAGE_READ` (raw `0x22`: G and R, V clear). */
export const RISCV_PAGE_NONE = PROTNONE | READ;
/** `PAGE_READ` = `_PAGE_BASE | _PAGE_READ` (raw `0x53`). */
export const RISCV_PAGE_READ = RISCV_PAGE_BASE | READ;
/** `PAGE_WRITE` = `_PAGE_BASE | _PAGE_READ | _PAGE_WRITE` (raw `0x57`). */
export const RISCV_PAGE_WRITE = RISCV_PAGE_BASE | READ | WRITE;
/** `PAGE_EXEC` = `_PAGE_BASE | _PAGE_EXEC` (raw `0x59`: execute-only). */
export const RISCV_PAGE_EXEC = RISCV_PAGE_BASE | EXEC;
/** `PAGE_READ_EXEC` = `_PAGE_BASE | _PAGE_READ | _PAGE_EXEC` (raw `0x5b`). */
export const RISCV_PAGE_READ_EXEC = RISCV_PAGE_BASE | READ | EXEC;
/** `PAGE_WRITE_EXEC` = `_PAGE_BASE | _PAGE_READ | _PAGE_EXEC | _PAGE_WRITE` (raw `0x5f`). */
export const RISCV_PAGE_WRITE_EXEC = RISCV_PAGE_BASE | READ | EXEC | WRITE;
/** `PAGE_COPY` = `PAGE_READ`. */
export const RISCV_PAGE_COPY = RISCV_PAGE_READ;
/** `PAGE_COPY_EXEC` = `PAGE_READ_EXEC`. */
export const RISCV_PAGE_COPY_EXEC = RISCV_PAGE_READ_EXEC;
/** `PAGE_SHARED` = `PAGE_WRITE`. */
export const RISCV_PAGE_SHARED = RISCV_PAGE_WRITE;
/** `PAGE_SHARED_EXEC` = `PAGE_WRITE_EXEC`. */
export const RISCV_PAGE_SHARED_EXEC = RISCV_PAGE_WRITE_EXEC;

/**
 * `protection_map[16]` in {@link PteBits}, indexed by
 * `VM_READ (1) | VM_WRITE (2) | VM_EXEC (4) | VM_SHARED (8)`.
 * @see arch/riscv/mm/init.c protection_map
 */
export const riscvProtectionMap: readonly number[] = Object.freeze([
  /* VM_NONE */ RISCV_PAGE_NONE,
  /* VM_READ */ RISCV_PAGE_READ,
  /* VM_WRITE */ RISCV_PAGE_COPY,
  /* VM_WRITE | VM_READ */ RISCV_PAGE_COPY,
  /* VM_EXEC */ RISCV_PAGE_EXEC,
  /* VM_EXEC | VM_READ */ RISCV_PAGE_READ_EXEC,
  /* VM_EXEC | VM_WRITE */ RISCV_PAGE_COPY_EXEC,
  /* VM_EXEC | VM_WRITE | VM_READ */ RISCV_PAGE_COPY_EXEC,
  /* VM_SHARED */ RISCV_PAGE_NONE,
  /* VM_SHARED | VM_READ */ RISCV_PAGE_READ,
  /* VM_SHARED | VM_WRITE */ RISCV_PAGE_SHARED,
  /* VM_SHARED | VM_WRITE | VM_READ */ RISCV_PAGE_SHARED,
  /* VM_SHARED | VM_EXEC */ RISCV_PAGE_EXEC,
  /* VM_SHARED | VM_EXEC | VM_READ */ RISCV_PAGE_READ_EXEC,
  /* VM_SHARED | VM_EXEC | VM_WRITE */ RISCV_PAGE_SHARED_EXEC,
  /* VM_SHARED | VM_EXEC | VM_WRITE | VM_READ */ RISCV_PAGE_SHARED_EXEC,
]);

/**
 * `vm_get_page_prot(vm_flags)` on RISC-V (`DECLARE_VM_GET_PAGE_PROT`: the
 * `protection_map` entry, nothing ORed in).
 */
export function riscvProtectionBits(prot: VmProtection): number {
  return riscvProtectionMap[(prot.read ? 1 : 0) | (prot.write ? 2 : 0) | (prot.exec ? 4 : 0) | (prot.shared ? 8 : 0)]!;
}

/**
 * `access_error` of arch/riscv/mm/fault.c: a fetch needs `VM_EXEC`, a load
 * `VM_READ` or `VM_WRITE` ("write implies read"; `VM_EXEC` alone does not
 * make a page readable, unlike x86), a store `VM_WRITE`. `vmFlags` holds the
 * VMA's `VM_READ (1) | VM_WRITE (2) | VM_EXEC (4)` bits.
 * @see arch/riscv/mm/fault.c access_error
 */
export function riscvAccessError(vmFlags: number, write: boolean, exec = false): boolean {
  if (exec) return (vmFlags & 4) === 0;
  if (write) return (vmFlags & 2) === 0;
  return (vmFlags & 3) === 0;
}
