// Step 2: protection_map — what `vm_get_page_prot` gives each combination of
// VM_READ, VM_WRITE, VM_EXEC and VM_SHARED, in the contract's neutral PteBits.

// --- snippet: protection-map ---
import { PteBits, type VmProtection } from '@mmsim/arch';

const { PRESENT, READ, WRITE, EXEC, USER, ACCESSED, PROTNONE } = PteBits;
const BASE = PRESENT | USER | ACCESSED;

/** `protection_map[VM_READ | VM_WRITE | VM_EXEC | VM_SHARED]`. Private writable = read-only: the first write is a COW fault. */
export const sketchProtectionMap: readonly number[] = [
  PROTNONE, BASE | READ, BASE | READ, BASE | READ, BASE | EXEC, BASE | READ | EXEC, BASE | READ | EXEC, BASE | READ | EXEC,
  PROTNONE, BASE | READ, BASE | READ | WRITE, BASE | READ | WRITE, BASE | EXEC, BASE | READ | EXEC, BASE | READ | WRITE | EXEC, BASE | READ | WRITE | EXEC,
];

/** `vm_get_page_prot`. */
export function sketchProtectionBits(prot: VmProtection): number {
  return sketchProtectionMap[(prot.read ? 1 : 0) | (prot.write ? 2 : 0) | (prot.exec ? 4 : 0) | (prot.shared ? 8 : 0)]!;
}
// --- end snippet ---
