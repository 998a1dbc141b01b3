/**
 * The x86-64 MMU as a user-mode access sees it: the page-table walk, the
 * permission checks, Accessed/Dirty updates, and the page-fault error code.
 * @see arch/x86/include/asm/trap_pf.h enum x86_pf_error_code
 * @see arch/x86/mm/fault.c do_user_addr_fault, show_fault_oops
 * @see Intel SDM vol. 3A §4.6 (access rights), §4.7 (page-fault exceptions), §4.8 (A/D flags)
 */

import { AccessKind, PteBits } from '../contract/page-table.js';
import type { PageTable, Translation } from '../contract/page-table.js';
import { TRANSLATION_SIGSEGV, type ArchMmu } from '../contract/arch.js';
import {
  X86_PAGE_ACCESSED,
  X86_PAGE_DIRTY,
  X86_PAGE_GLOBAL,
  X86_PAGE_NX_HI,
  X86_PAGE_PRESENT,
  X86_PAGE_RW,
  X86_PAGE_USER,
  x86EntryPfn,
} from './entry-bits.js';
import { X86PageTable } from './page-table.js';
import { X86_TLB_DIRTY, X86_TLB_EXEC, X86_TLB_GLOBAL, X86_TLB_USER, X86_TLB_WRITE } from './tlb.js';

/** `X86_PF_PROT`: 0 = not-present page, 1 = protection violation. @see arch/x86/include/asm/trap_pf.h */
export const X86_PF_PROT = 1 << 0;
/** `X86_PF_WRITE`: the access was a write. */
export const X86_PF_WRITE = 1 << 1;
/** `X86_PF_USER`: the access came from user mode. */
export const X86_PF_USER = 1 << 2;
/** `X86_PF_RSVD`: a reserved bit was set in a paging entry. */
export const X86_PF_RSVD = 1 << 3;
/** `X86_PF_INSTR`: the access was an instruction fetch. */
export const X86_PF_INSTR = 1 << 4;
/** `X86_PF_PK`: protection-key violation. */
export const X86_PF_PK = 1 << 5;
/** `X86_PF_SHSTK`: shadow-stack access. */
export const X86_PF_SHSTK = 1 << 6;
/** `X86_PF_SGX`: SGX MMU page fault. */
export const X86_PF_SGX = 1 << 15;
/** `X86_PF_RMP`: SEV-SNP RMP violation (bit 31). */
export const X86_PF_RMP = 0x80000000;

const PF_NAMES: ReadonlyArray<readonly [number, string]> = [
  [X86_PF_PROT, 'PROT'],
  [X86_PF_WRITE, 'WRITE'],
  [X86_PF_USER, 'USER'],
  [X86_PF_RSVD, 'RSVD'],
  [X86_PF_INSTR, 'INSTR'],
  [X86_PF_PK, 'PK'],
  [X86_PF_SHSTK, 'SHSTK'],
  [X86_PF_SGX, 'SGX'],
  [X86_PF_RMP, 'RMP'],
];
const KNOWN_PF_BITS = PF_NAMES.reduce((m, [bit]) => m | bit, 0) >>> 0;

/**
 * Result of {@link x86Translate} for a non-canonical address: the CPU raises
 * #GP, not #PF, and Linux sends SIGSEGV (`exc_general_protection`). The
 * contract's {@link TRANSLATION_SIGSEGV}.
 */
export const X86_TRANSLATE_GP = TRANSLATION_SIGSEGV;

const USER_HALF_4LEVEL = 2 ** 35;
const USER_HALF_5LEVEL = 2 ** 44;

/** First vpn past the canonical user half: 2^35 (47-bit) or 2^44 (56-bit). */
function userHalfLimit(levels: number): number {
  return levels === 5 ? USER_HALF_5LEVEL : USER_HALF_4LEVEL;
}

/**
 * The TLB rights an access needs: user, plus write and dirty for a write,
 * plus exec for a fetch (-1, which no entry grants, for an unknown kind).
 * Literal numbers (checked against the named constants in the tests) and a
 * conditional, so that it folds to a constant where `access` is one: an
 * imported constant costs a load and a check in optimised code.
 */
function neededRights(access: AccessKind): number {
  return access === 0 // AccessKind.READ: X86_TLB_USER
    ? 2
    : access === 1 // AccessKind.WRITE: X86_TLB_USER | X86_TLB_WRITE | X86_TLB_DIRTY
      ? 11
      : access === 2 // AccessKind.EXEC: X86_TLB_USER | X86_TLB_EXEC
        ? 6
        : -1;
}

/**
 * The allocation-free MMU for a user-mode access: the 4 KiB frame (≥ 0) on
 * success, otherwise `-1 - errorCode`, or {@link X86_TRANSLATE_GP} for a
 * non-canonical address (the encoding of {@link ArchMmu.translatePfn}).
 * The leaf's order is {@link x86TranslatedOrder}.
 *
 * The current CPU's TLB ({@link X86PageTable.tlb}) is consulted first: a hit
 * that grants the access answers without a walk. A hit that does not (a write
 * to an entry cached without Dirty, or rights the entry lacks) drops the entry
 * and walks, as the hardware does. The walk sets `_PAGE_ACCESSED` (and
 * `_PAGE_DIRTY` for a write) in the leaf and fills the TLB. Upper-level
 * entries are always `_PAGE_TABLE` (P RW U A D, no NX), so the leaf alone
 * decides the access rights.
 *
 * This function is only the TLB hit of an ordinary (non-global) entry, small
 * enough for the JIT to inline into the caller's loop; everything else is in
 * {@link x86TranslateSlow}. The address is checked only there: a TLB entry is
 * only ever filled for a valid user vpn, so a tag match implies one.
 * @see Intel SDM vol. 3A §4.6 (access rights), §4.8 (A/D), §4.10 (TLBs)
 */
export function x86Translate(table: X86PageTable, vpn: number, access: AccessKind): number {
  const tlb = table.tlb;
  if (tlb !== null) {
    const cpu = tlb.current;
    const i = vpn & cpu.mask;
    // neededRights(access), written out: a call of a module function costs
    // a check that the binding still holds it, even when inlined.
    const need = access === 0 ? 2 : access === 1 ? 11 : access === 2 ? 6 : -1;
    // X86_TLB_STAMP_MASK is -32 (a literal here, see neededRights).
    if (cpu.tags[i] === vpn && (cpu.state[i]! & (-32 | need)) === (cpu.genBits | need)) {
      cpu.hitCounts[i]!++; // stats.hits
      return cpu.pfns[i]!;
    }
  }
  // The unary plus tells the JIT the result is a number, so a caller's loop
  // keeps the frame as a raw double on the hit path instead of boxing it.
  return +x86TranslateSlow(table, vpn, access);
}

/**
 * {@link x86Translate} past its inlined hit check: the address check, the
 * rest of the TLB lookup ({@link X86Tlb.lookup}: global entries, an entry
 * without the needed rights), and the page-table walk with its TLB fill.
 */
export function x86TranslateSlow(table: X86PageTable, vpn: number, access: AccessKind): number {
  if (!(vpn >= 0 && vpn < userHalfLimit(table.levels))) return X86_TRANSLATE_GP;
  const tlb = table.tlb;
  if (tlb !== null) {
    const pfn = tlb.lookup(vpn, neededRights(access));
    if (pfn >= 0) return pfn;
  }
  const code = access === AccessKind.WRITE ? X86_PF_USER | X86_PF_WRITE : access === AccessKind.EXEC ? X86_PF_USER | X86_PF_INSTR : X86_PF_USER;
  const t = table.locate(vpn);
  if (t === null) return -1 - code;
  const e = t.entries;
  const k = table.locIndex;
  const lo = e[k]!;
  const hi = e[k + 1]!;
  if ((lo & X86_PAGE_PRESENT) === 0) return -1 - code;
  if ((lo & X86_PAGE_USER) === 0) return -1 - (code | X86_PF_PROT);
  if (access === AccessKind.WRITE) {
    if ((lo & X86_PAGE_RW) === 0) return -1 - (code | X86_PF_PROT);
    if ((lo & (X86_PAGE_ACCESSED | X86_PAGE_DIRTY)) !== (X86_PAGE_ACCESSED | X86_PAGE_DIRTY)) e[k] = lo | X86_PAGE_ACCESSED | X86_PAGE_DIRTY;
  } else {
    if (access === AccessKind.EXEC && (hi & X86_PAGE_NX_HI) !== 0) return -1 - (code | X86_PF_PROT);
    if ((lo & X86_PAGE_ACCESSED) === 0) e[k] = lo | X86_PAGE_ACCESSED;
  }
  const order = table.locOrder;
  const base = x86EntryPfn(lo, hi, order);
  const pfn = order === 0 ? base : base + (vpn & ((1 << order) - 1));
  if (tlb !== null) {
    const now = e[k]!;
    const rights =
      X86_TLB_USER |
      (now & X86_PAGE_RW ? X86_TLB_WRITE : 0) |
      (now & X86_PAGE_DIRTY ? X86_TLB_DIRTY : 0) |
      (now & X86_PAGE_GLOBAL ? X86_TLB_GLOBAL : 0) |
      (hi & X86_PAGE_NX_HI ? 0 : X86_TLB_EXEC);
    tlb.fill(vpn, pfn, order, rights);
  }
  return pfn;
}

/**
 * The order of the leaf (0, 9 or 18) that a successful {@link x86Translate}
 * of `vpn` just used: the TLB entry it hit or filled, or — without a TLB —
 * the walk's. Only meaningful right after a success.
 */
export function x86TranslatedOrder(table: X86PageTable, vpn: number): number {
  const tlb = table.tlb;
  if (tlb === null) return table.locOrder;
  const cpu = tlb.current;
  return cpu.orders[vpn & cpu.mask]!;
}

const ERROR_RESULTS = new Map<number, Translation>();
const GP_RESULT: Translation = Object.freeze({ ok: false, errorCode: 0, signal: 'SIGSEGV' });

/** A shared, frozen failure result for `errorCode` (there are only a few distinct ones). */
function faultResult(errorCode: number): Translation {
  let r = ERROR_RESULTS.get(errorCode);
  if (r === undefined) {
    r = Object.freeze({ ok: false, errorCode });
    ERROR_RESULTS.set(errorCode, r);
  }
  return r;
}

/** The walk through the neutral {@link PageTable} interface, for a table that is not an {@link X86PageTable}. */
function translateGeneric(table: PageTable, vpn: number, access: AccessKind): Translation {
  if (!(vpn >= 0 && vpn < userHalfLimit(table.levels))) return GP_RESULT;
  const code = access === AccessKind.WRITE ? X86_PF_USER | X86_PF_WRITE : access === AccessKind.EXEC ? X86_PF_USER | X86_PF_INSTR : X86_PF_USER;
  const leaf = table.lookup(vpn);
  if (leaf === null || (leaf.bits & PteBits.PROTNONE) !== 0 || (leaf.bits & PteBits.PRESENT) === 0) return faultResult(code);
  if ((leaf.bits & PteBits.USER) === 0) return faultResult(code | X86_PF_PROT);
  if (access === AccessKind.WRITE && (leaf.bits & PteBits.WRITE) === 0) return faultResult(code | X86_PF_PROT);
  if (access === AccessKind.EXEC && (leaf.bits & PteBits.EXEC) === 0) return faultResult(code | X86_PF_PROT);
  const set = PteBits.ACCESSED | (access === AccessKind.WRITE ? PteBits.DIRTY : 0);
  if ((leaf.bits & set) !== set) table.setBits(vpn, leaf.bits | set);
  const offsetInLeaf = leaf.order === 0 ? 0 : vpn % 2 ** leaf.order; // any order a foreign table uses
  return { ok: true, pfn: leaf.pfn + offsetInLeaf, offsetInLeaf };
}

/**
 * Error-code words, e.g. `PROT|WRITE|USER` (`X86_PF_*` names without the
 * prefix, ascending bit order; unknown bits in hex; `0` for none).
 */
export function describeX86ErrorCode(errorCode: number): string {
  const code = errorCode >>> 0;
  const names: string[] = [];
  for (const [bit, name] of PF_NAMES) if (code & bit) names.push(name);
  const unknown = (code & ~KNOWN_PF_BITS) >>> 0;
  if (unknown !== 0) names.push(`0x${unknown.toString(16)}`);
  return names.length === 0 ? '0' : names.join('|');
}

/**
 * The two `#PF:` lines Linux prints for an oops with this error code, e.g.
 * `user write access in user mode` / `error_code(0x0007) - permissions violation`.
 * @see arch/x86/mm/fault.c show_fault_oops
 */
export function x86FaultOopsText(errorCode: number): string {
  const who = errorCode & X86_PF_USER ? 'user' : 'supervisor';
  const what = errorCode & X86_PF_INSTR ? 'instruction fetch' : errorCode & X86_PF_WRITE ? 'write access' : 'read access';
  const why = !(errorCode & X86_PF_PROT)
    ? 'not-present page'
    : errorCode & X86_PF_RSVD
      ? 'reserved bit violation'
      : errorCode & X86_PF_PK
        ? 'protection keys violation'
        : errorCode & X86_PF_RMP
          ? 'RMP violation'
          : 'permissions violation';
  const hex = (errorCode >>> 0).toString(16).padStart(4, '0');
  return `#PF: ${who} ${what} in ${who === 'user' ? 'user' : 'kernel'} mode\n#PF: error_code(0x${hex}) - ${why}`;
}

/**
 * The x86-64 {@link ArchMmu}. `translate` on an {@link X86PageTable} allocates
 * only the success object; failures are shared frozen objects. `translatePfn`
 * on an {@link X86PageTable} is {@link x86Translate}: it allocates nothing.
 */
export const x86Mmu: ArchMmu = {
  translate(table: PageTable, vpn: number, access: AccessKind): Translation {
    if (!(table instanceof X86PageTable)) return translateGeneric(table, vpn, access);
    const r = x86Translate(table, vpn, access);
    if (r >= 0) {
      const order = x86TranslatedOrder(table, vpn);
      return { ok: true, pfn: r, offsetInLeaf: order === 0 ? 0 : vpn & ((1 << order) - 1) };
    }
    if (r === X86_TRANSLATE_GP) return GP_RESULT;
    return faultResult(-1 - r);
  },
  translatePfn(table: PageTable, vpn: number, access: AccessKind): number {
    if (table instanceof X86PageTable) return x86Translate(table, vpn, access);
    const t = translateGeneric(table, vpn, access);
    return t.ok ? t.pfn : t.signal === 'SIGSEGV' ? X86_TRANSLATE_GP : -1 - t.errorCode;
  },
  describeErrorCode: describeX86ErrorCode,
};
