/**
 * The RISC-V MMU as a user-mode access sees it: the Sv39/Sv48/Sv57 walk of
 * the privileged specification, its permission checks, the Accessed/Dirty
 * rule, and the page-fault `scause` codes.
 *
 * The walk (privileged spec, "Virtual Address Translation Process"): from the
 * root, read the entry the next 9 bits of the vpn select; V clear, or W set
 * without R, is a page fault; an entry with R, W or X is a leaf (at any
 * level), otherwise it points to the next table. At the leaf: U must be set
 * for a user access; a load needs R (MXR is off for user code), a store W, a
 * fetch X. RISC-V does not tell a missing page from a protection violation:
 * the fault reason is only the cause — instruction (12), load (13) or
 * store/AMO (15) page fault — and `stval` holds the address.
 *
 * Accessed/Dirty: without the Svadu extension the hardware does not write
 * the PTE; an access finding A clear, or a store finding D clear, raises the
 * page fault instead (Svade), and Linux's `handle_pte_fault` sets them
 * (`pte_mkyoung`, `pte_mkdirty`, `ptep_set_access_flags`). With the Svadu
 * extension enabled (`menvcfg.ADUE`; Linux detects it as the `svadu` ISA
 * extension) the walk sets them itself. {@link riscvMmu} models Svade, {@link riscvMmuSvadu} Svadu.
 * @see arch/riscv/mm/fault.c do_page_fault, access_error
 * @see arch/riscv/include/asm/csr.h EXC_*_PAGE_FAULT
 */

import { AccessKind, PteBits, TRANSLATION_SIGSEGV, type ArchMmu, type PageTable, type Translation } from '@mmsim/arch';
import { RiscvCause } from './constants.js';
import { RiscvPageTable } from './page-table.js';
import { SV_A, SV_D, SV_R, SV_U, SV_V, SV_W, SV_X, svEntryPfn } from './pte.js';

/** The cause a faulting access of `access` raises. */
export function riscvFaultCause(access: AccessKind): RiscvCause {
  return access === AccessKind.WRITE
    ? RiscvCause.STORE_PAGE_FAULT
    : access === AccessKind.EXEC
      ? RiscvCause.INST_PAGE_FAULT
      : RiscvCause.LOAD_PAGE_FAULT;
}

const FAULTS: Readonly<Record<number, Translation>> = Object.freeze({
  [RiscvCause.INST_PAGE_FAULT]: Object.freeze({ ok: false, errorCode: RiscvCause.INST_PAGE_FAULT }),
  [RiscvCause.LOAD_PAGE_FAULT]: Object.freeze({ ok: false, errorCode: RiscvCause.LOAD_PAGE_FAULT }),
  [RiscvCause.STORE_PAGE_FAULT]: Object.freeze({ ok: false, errorCode: RiscvCause.STORE_PAGE_FAULT }),
});
const OUTSIDE: Readonly<Record<number, Translation>> = Object.freeze({
  [RiscvCause.INST_PAGE_FAULT]: Object.freeze({ ok: false, errorCode: RiscvCause.INST_PAGE_FAULT, signal: 'SIGSEGV' }),
  [RiscvCause.LOAD_PAGE_FAULT]: Object.freeze({ ok: false, errorCode: RiscvCause.LOAD_PAGE_FAULT, signal: 'SIGSEGV' }),
  [RiscvCause.STORE_PAGE_FAULT]: Object.freeze({ ok: false, errorCode: RiscvCause.STORE_PAGE_FAULT, signal: 'SIGSEGV' }),
});

/** The permission bit an access needs in a leaf. */
function neededBit(access: AccessKind): number {
  return access === AccessKind.WRITE ? SV_W : access === AccessKind.EXEC ? SV_X : SV_R;
}

/**
 * Translate a user-mode access of `access` to `vpn` through `table`.
 * `hardwareAd`: set A/D in the walk (Svadu) rather than fault (Svade).
 * An address at or above the user half (`TASK_SIZE`) faults with SIGSEGV for
 * the process: Linux finds no VMA there.
 */
export function riscvTranslate(table: RiscvPageTable, vpn: number, access: AccessKind, hardwareAd: boolean): Translation {
  const cause = riscvFaultCause(access);
  if (!(vpn >= 0 && vpn < table.info.taskSizePages)) return OUTSIDE[cause]!;
  const leaf = table.leafEntry(vpn);
  if (leaf === null) return FAULTS[cause]!;
  const e = leaf.t.entries;
  const k = 2 * leaf.i;
  const lo = e[k]!;
  if ((lo & SV_V) === 0) return FAULTS[cause]!; // not valid (PROT_NONE included)
  if ((lo & (SV_R | SV_W)) === SV_W) return FAULTS[cause]!; // reserved encoding
  if ((lo & SV_U) === 0) return FAULTS[cause]!; // a user access to a supervisor page
  if ((lo & neededBit(access)) === 0) return FAULTS[cause]!;
  const ad = access === AccessKind.WRITE ? SV_A | SV_D : SV_A;
  if ((lo & ad) !== ad) {
    if (!hardwareAd) return FAULTS[cause]!; // Svade: the kernel sets A/D in the fault handler
    e[k] = (lo | ad) >>> 0;
  }
  const offsetInLeaf = leaf.order === 0 ? 0 : vpn % 2 ** leaf.order;
  return { ok: true, pfn: svEntryPfn(lo, e[k + 1]!) + offsetInLeaf, offsetInLeaf };
}

/** The same checks through the neutral {@link PageTable} interface, for a table of another type. */
function translateGeneric(table: PageTable, vpn: number, access: AccessKind, taskSizePages: number, hardwareAd: boolean): Translation {
  const cause = riscvFaultCause(access);
  if (!(vpn >= 0 && vpn < taskSizePages)) return OUTSIDE[cause]!;
  const leaf = table.lookup(vpn);
  if (leaf === null || (leaf.bits & PteBits.PRESENT) === 0 || (leaf.bits & PteBits.USER) === 0) return FAULTS[cause]!;
  const need = access === AccessKind.WRITE ? PteBits.WRITE : access === AccessKind.EXEC ? PteBits.EXEC : PteBits.READ;
  if ((leaf.bits & need) === 0) return FAULTS[cause]!;
  const ad = PteBits.ACCESSED | (access === AccessKind.WRITE ? PteBits.DIRTY : 0);
  if ((leaf.bits & ad) !== ad) {
    if (!hardwareAd) return FAULTS[cause]!;
    table.setBits(vpn, leaf.bits | ad);
  }
  const offsetInLeaf = leaf.order === 0 ? 0 : vpn % 2 ** leaf.order;
  return { ok: true, pfn: leaf.pfn + offsetInLeaf, offsetInLeaf };
}

/** The cause in words (`load page fault`), as Linux's `show_regs` / the spec name it. */
export function describeRiscvCause(cause: number): string {
  switch (cause) {
    case RiscvCause.INST_PAGE_FAULT:
      return 'instruction page fault';
    case RiscvCause.LOAD_PAGE_FAULT:
      return 'load page fault';
    case RiscvCause.STORE_PAGE_FAULT:
      return 'store/AMO page fault';
    default:
      return `scause ${cause}`;
  }
}

/**
 * An {@link ArchMmu} for the given Accessed/Dirty behaviour and user-space
 * size (for foreign tables). Its `translatePfn` is `translate` with the result
 * encoded as a number (it allocates as `translate` does).
 */
export function createRiscvMmu(hardwareAd: boolean, taskSizePages: number): ArchMmu {
  const translate = (table: PageTable, vpn: number, access: AccessKind): Translation =>
    table instanceof RiscvPageTable ? riscvTranslate(table, vpn, access, hardwareAd) : translateGeneric(table, vpn, access, taskSizePages, hardwareAd);
  return {
    translate,
    translatePfn(table: PageTable, vpn: number, access: AccessKind): number {
      const t = translate(table, vpn, access);
      return t.ok ? t.pfn : t.signal === 'SIGSEGV' ? TRANSLATION_SIGSEGV : -1 - t.errorCode;
    },
    describeErrorCode: describeRiscvCause,
  };
}

/** The Sv39 MMU without Svadu (A/D updates fault: Svade). */
export const riscvMmu: ArchMmu = createRiscvMmu(false, 2 ** 26);
/** The Sv39 MMU with Svadu (the walk sets A/D). */
export const riscvMmuSvadu: ArchMmu = createRiscvMmu(true, 2 ** 26);
