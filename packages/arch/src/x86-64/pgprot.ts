/**
 * `protection_map` and `vm_get_page_prot` for x86-64.
 * @see arch/x86/mm/pgprot.c protection_map, vm_get_page_prot
 * @see arch/x86/include/asm/pgtable_types.h PAGE_NONE, PAGE_SHARED, PAGE_COPY, PAGE_READONLY
 */

import { PteBits } from '../contract/page-table.js';
import type { VmProtection } from '../contract/arch.js';

const { PRESENT, WRITE, USER, EXEC, ACCESSED, PROTNONE, READ } = PteBits;

/**
 * `PAGE_NONE` = `_PAGE_ACCESSED | _PAGE_GLOBAL` (bit 8, which is
 * `_PAGE_PROTNONE` without `_PAGE_PRESENT`): raw `0x120`.
 */
export const X86_PAGE_NONE = PROTNONE | ACCESSED;
/**
 * `PAGE_READONLY` = `P | USER | A | NX` (raw `0x8000000000000025`). READ is the
 * neutral marker of a present x86 entry (x86 cannot map a page unreadable).
 */
export const X86_PAGE_READONLY = PRESENT | USER | ACCESSED | READ;
/** `PAGE_READONLY_EXEC` = `P | USER | A` (raw `0x25`). */
export const X86_PAGE_READONLY_EXEC = PRESENT | USER | ACCESSED | READ | EXEC;
/** `PAGE_COPY` (= `PAGE_COPY_NOEXEC`) = `P | USER | A | NX`: no RW, so the first write faults (COW). */
export const X86_PAGE_COPY = PRESENT | USER | ACCESSED | READ;
/** `PAGE_COPY_EXEC` = `P | USER | A`. */
export const X86_PAGE_COPY_EXEC = PRESENT | USER | ACCESSED | READ | EXEC;
/** `PAGE_SHARED` = `P | RW | USER | A | NX` (raw `0x8000000000000027`). */
export const X86_PAGE_SHARED = PRESENT | WRITE | USER | ACCESSED | READ;
/** `PAGE_SHARED_EXEC` = `P | RW | USER | A` (raw `0x27`). */
export const X86_PAGE_SHARED_EXEC = PRESENT | WRITE | USER | ACCESSED | READ | EXEC;

/**
 * `protection_map[16]` in {@link PteBits}, indexed like Linux by
 * `VM_READ (1) | VM_WRITE (2) | VM_EXEC (4) | VM_SHARED (8)`.
 * @see arch/x86/mm/pgprot.c protection_map
 */
export const x86ProtectionMap: readonly number[] = Object.freeze([
  /* VM_NONE */ X86_PAGE_NONE,
  /* VM_READ */ X86_PAGE_READONLY,
  /* VM_WRITE */ X86_PAGE_COPY,
  /* VM_WRITE | VM_READ */ X86_PAGE_COPY,
  /* VM_EXEC */ X86_PAGE_READONLY_EXEC,
  /* VM_EXEC | VM_READ */ X86_PAGE_READONLY_EXEC,
  /* VM_EXEC | VM_WRITE */ X86_PAGE_COPY_EXEC,
  /* VM_EXEC | VM_WRITE | VM_READ */ X86_PAGE_COPY_EXEC,
  /* VM_SHARED */ X86_PAGE_NONE,
  /* VM_SHARED | VM_READ */ X86_PAGE_READONLY,
  /* VM_SHARED | VM_WRITE */ X86_PAGE_SHARED,
  /* VM_SHARED | VM_WRITE | VM_READ */ X86_PAGE_SHARED,
  /* VM_SHARED | VM_EXEC */ X86_PAGE_READONLY_EXEC,
  /* VM_SHARED | VM_EXEC | VM_READ */ X86_PAGE_READONLY_EXEC,
  /* VM_SHARED | VM_EXEC | VM_WRITE */ X86_PAGE_SHARED_EXEC,
  /* VM_SHARED | VM_EXEC | VM_WRITE | VM_READ */ X86_PAGE_SHARED_EXEC,
]);

/**
 * `vm_get_page_prot(vm_flags)` on x86-64: the `protection_map` entry for the
 * VMA's read/write/exec/shared bits (protection keys are not modelled, so no
 * pkey bits are ORed in). READ is set for every present result: on x86 a
 * write-only or exec-only mapping is readable by the hardware.
 * @see arch/x86/mm/pgprot.c vm_get_page_prot
 */
export function x86ProtectionBits(prot: VmProtection): number {
  const index = (prot.read ? 1 : 0) | (prot.write ? 2 : 0) | (prot.exec ? 4 : 0) | (prot.shared ? 8 : 0);
  return x86ProtectionMap[index]!;
}
