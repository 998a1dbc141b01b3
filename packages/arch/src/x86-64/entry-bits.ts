/**
 * The x86-64 page-table entry format and its translation to and from the
 * architecture-neutral {@link PteBits}.
 *
 * An entry is 64 bits; mmsim stores it exactly, as two unsigned 32-bit halves
 * (`lo` = bits 31..0, `hi` = bits 63..32), so no `bigint` is needed on the hot
 * path. `bigint` helpers are provided for inspection and tests.
 *
 * | bit | name |
 * |---|---|
 * | 0 | `_PAGE_PRESENT` |
 * | 1 | `_PAGE_RW` |
 * | 2 | `_PAGE_USER` |
 * | 3 | `_PAGE_PWT` |
 * | 4 | `_PAGE_PCD` |
 * | 5 | `_PAGE_ACCESSED` |
 * | 6 | `_PAGE_DIRTY` |
 * | 7 | `_PAGE_PSE` (PMD/PUD leaf) / `_PAGE_PAT` (4 KiB PTE) |
 * | 8 | `_PAGE_GLOBAL`; `_PAGE_PROTNONE` when P = 0 |
 * | 9 | `_PAGE_SPECIAL` (`_PAGE_BIT_SOFTW1`) |
 * | 11 | `_PAGE_SOFT_DIRTY` (`_PAGE_BIT_SOFTW3`) |
 * | 12 | `_PAGE_PAT_LARGE` (PMD/PUD leaf) |
 * | 12..51 | physical frame number (`PTE_PFN_MASK`; 21..51 / 30..51 in 2 MiB / 1 GiB leaves) |
 * | 59..62 | protection key (`_PAGE_PKEY_BIT0..3`) |
 * | 63 | `_PAGE_NX` |
 *
 * Non-present entries that are not empty (PROT_NONE here) store the frame
 * number inverted, as Linux does since the L1TF mitigation.
 * @see arch/x86/include/asm/pgtable_types.h
 * @see arch/x86/include/asm/pgtable-invert.h protnone_mask, __pte_needs_invert
 */

import { PteBits } from '../contract/page-table.js';
import type { PteView } from '../contract/page-table.js';

/** `_PAGE_BIT_PRESENT` (0). @see arch/x86/include/asm/pgtable_types.h */
export const X86_PAGE_BIT_PRESENT = 0;
/** `_PAGE_BIT_RW` (1). */
export const X86_PAGE_BIT_RW = 1;
/** `_PAGE_BIT_USER` (2). */
export const X86_PAGE_BIT_USER = 2;
/** `_PAGE_BIT_PWT` (3). */
export const X86_PAGE_BIT_PWT = 3;
/** `_PAGE_BIT_PCD` (4). */
export const X86_PAGE_BIT_PCD = 4;
/** `_PAGE_BIT_ACCESSED` (5). */
export const X86_PAGE_BIT_ACCESSED = 5;
/** `_PAGE_BIT_DIRTY` (6). */
export const X86_PAGE_BIT_DIRTY = 6;
/** `_PAGE_BIT_PSE` (7): a PMD or PUD entry that maps a page (a leaf). */
export const X86_PAGE_BIT_PSE = 7;
/** `_PAGE_BIT_PAT` (7) in a 4 KiB PTE. */
export const X86_PAGE_BIT_PAT = 7;
/** `_PAGE_BIT_GLOBAL` (8). */
export const X86_PAGE_BIT_GLOBAL = 8;
/** `_PAGE_BIT_PROTNONE` = `_PAGE_BIT_GLOBAL` (8), meaningful only when P = 0. */
export const X86_PAGE_BIT_PROTNONE = 8;
/** `_PAGE_BIT_SPECIAL` = `_PAGE_BIT_SOFTW1` (9). */
export const X86_PAGE_BIT_SPECIAL = 9;
/** `_PAGE_BIT_SOFT_DIRTY` = `_PAGE_BIT_SOFTW3` (11). */
export const X86_PAGE_BIT_SOFT_DIRTY = 11;
/** `_PAGE_BIT_PAT_LARGE` (12): PAT in a 2 MiB / 1 GiB leaf. */
export const X86_PAGE_BIT_PAT_LARGE = 12;
/** `_PAGE_BIT_PKEY_BIT0` (59). */
export const X86_PAGE_BIT_PKEY_BIT0 = 59;
/** `_PAGE_BIT_NX` (63). */
export const X86_PAGE_BIT_NX = 63;

/** `_PAGE_PRESENT`, in the low half. */
export const X86_PAGE_PRESENT = 1 << X86_PAGE_BIT_PRESENT;
/** `_PAGE_RW`, in the low half. */
export const X86_PAGE_RW = 1 << X86_PAGE_BIT_RW;
/** `_PAGE_USER`, in the low half. */
export const X86_PAGE_USER = 1 << X86_PAGE_BIT_USER;
/** `_PAGE_PWT`, in the low half. */
export const X86_PAGE_PWT = 1 << X86_PAGE_BIT_PWT;
/** `_PAGE_PCD`, in the low half. */
export const X86_PAGE_PCD = 1 << X86_PAGE_BIT_PCD;
/** `_PAGE_ACCESSED`, in the low half. */
export const X86_PAGE_ACCESSED = 1 << X86_PAGE_BIT_ACCESSED;
/** `_PAGE_DIRTY`, in the low half. */
export const X86_PAGE_DIRTY = 1 << X86_PAGE_BIT_DIRTY;
/** `_PAGE_PSE`, in the low half. */
export const X86_PAGE_PSE = 1 << X86_PAGE_BIT_PSE;
/** `_PAGE_PAT`, in the low half. */
export const X86_PAGE_PAT = 1 << X86_PAGE_BIT_PAT;
/** `_PAGE_GLOBAL`, in the low half. */
export const X86_PAGE_GLOBAL = 1 << X86_PAGE_BIT_GLOBAL;
/** `_PAGE_PROTNONE`, in the low half. */
export const X86_PAGE_PROTNONE = 1 << X86_PAGE_BIT_PROTNONE;
/** `_PAGE_SPECIAL`, in the low half. */
export const X86_PAGE_SPECIAL = 1 << X86_PAGE_BIT_SPECIAL;
/** `_PAGE_SOFT_DIRTY`, in the low half. */
export const X86_PAGE_SOFT_DIRTY = 1 << X86_PAGE_BIT_SOFT_DIRTY;
/** `_PAGE_PAT_LARGE`, in the low half. */
export const X86_PAGE_PAT_LARGE = 1 << X86_PAGE_BIT_PAT_LARGE;
/** `_PAGE_NX` (bit 63) as a mask of the high half (bit 31 of it). */
export const X86_PAGE_NX_HI = 0x80000000;
/** Shift of the 4-bit protection key inside the high half (bit 59 − 32). */
export const X86_PAGE_PKEY_SHIFT_HI = X86_PAGE_BIT_PKEY_BIT0 - 32;
/** Mask of the protection key inside the high half. */
export const X86_PAGE_PKEY_MASK_HI = 0xf << X86_PAGE_PKEY_SHIFT_HI;
/** Bits 51..32 of `PTE_PFN_MASK`, as a mask of the high half. */
export const X86_PFN_MASK_HI = 0xfffff;

/**
 * `_PAGE_TABLE` (`P | RW | USER | ACCESSED | DIRTY`): the flags of an entry that
 * points to a lower-level user page table. @see pmd_populate, pud_populate
 */
export const X86_PAGE_TABLE = X86_PAGE_PRESENT | X86_PAGE_RW | X86_PAGE_USER | X86_PAGE_ACCESSED | X86_PAGE_DIRTY;

/** Largest frame number an entry can hold (52-bit physical addresses). */
export const X86_MAX_PFN = 2 ** 40 - 1;

const TWO_20 = 2 ** 20;

/**
 * The part of the low half that holds frame bits in a leaf of `order`:
 * `PTE_PFN_MASK` for 4 KiB, `PHYSICAL_PMD_PAGE_MASK` / `PHYSICAL_PUD_PAGE_MASK`
 * for 2 MiB / 1 GiB leaves (bit 12 is `_PAGE_PAT_LARGE` there).
 */
export function x86PfnMaskLo(order: number): number {
  return order === 0 ? 0xfffff000 : order === 9 ? 0xffe00000 : 0xc0000000;
}

/**
 * `__pte_needs_invert`: a non-zero entry without `_PAGE_PRESENT` (PROT_NONE,
 * swap) stores its frame number inverted. @see arch/x86/include/asm/pgtable-invert.h
 */
export function x86NeedsInvert(lo: number, hi: number): boolean {
  return (lo !== 0 || hi !== 0) && (lo & X86_PAGE_PRESENT) === 0;
}

/**
 * The flag bits of the low half for neutral `bits` in a leaf of `order`
 * (`_PAGE_PSE` for a huge leaf). PROTNONE wins over PRESENT (Linux's
 * `PAGE_NONE` has no `_PAGE_PRESENT`), and GLOBAL cannot be expressed without
 * PRESENT (bit 8 then means PROTNONE).
 * @see arch/x86/include/asm/pgtable_types.h
 */
export function x86FlagsLo(bits: number, order: number): number {
  let lo = 0;
  const protnone = (bits & PteBits.PROTNONE) !== 0;
  const present = !protnone && (bits & PteBits.PRESENT) !== 0;
  if (present) lo |= X86_PAGE_PRESENT;
  if (bits & PteBits.WRITE) lo |= X86_PAGE_RW;
  if (bits & PteBits.USER) lo |= X86_PAGE_USER;
  if (bits & PteBits.ACCESSED) lo |= X86_PAGE_ACCESSED;
  if (bits & PteBits.DIRTY) lo |= X86_PAGE_DIRTY;
  if (order !== 0) lo |= X86_PAGE_PSE;
  if (protnone) lo |= X86_PAGE_PROTNONE;
  else if (present && bits & PteBits.GLOBAL) lo |= X86_PAGE_GLOBAL;
  if (bits & PteBits.SPECIAL) lo |= X86_PAGE_SPECIAL;
  return lo;
}

/**
 * The low 32 bits of the leaf entry for `pfn` (aligned to `order`) with
 * neutral `bits`: `pfn_pte(pfn, prot)` / `pfn_pmd` / `pfn_pud`, including the
 * L1TF inversion of the frame number in a non-present entry.
 * @see arch/x86/include/asm/pgtable.h pfn_pte
 */
export function x86EntryLo(pfn: number, order: number, bits: number): number {
  const flags = x86FlagsLo(bits, order);
  const invert = flags !== 0 && (flags & X86_PAGE_PRESENT) === 0;
  const p = invert ? ~pfn : pfn; // ~ keeps the low 32 bits, all we need here
  return ((((p & 0xfffff) << 12) & x86PfnMaskLo(order)) | flags) >>> 0;
}

/**
 * The high 32 bits of the leaf entry for `pfn` with neutral `bits`: frame bits
 * 51..32 and `_PAGE_NX` (set when EXEC is absent from a present entry; Linux's
 * `PAGE_NONE` has no NX).
 * @see arch/x86/include/asm/pgtable.h pfn_pte
 */
export function x86EntryHi(pfn: number, order: number, bits: number): number {
  const flags = x86FlagsLo(bits, order);
  const present = (flags & X86_PAGE_PRESENT) !== 0;
  let hi = Math.floor(pfn / TWO_20) & X86_PFN_MASK_HI;
  if (flags !== 0 && !present) hi = ~hi & X86_PFN_MASK_HI;
  if (present && (bits & PteBits.EXEC) === 0) hi |= X86_PAGE_NX_HI;
  return hi >>> 0;
}

/**
 * The frame number stored in a leaf of `order` (`pte_pfn` / `pmd_pfn` /
 * `pud_pfn`, undoing the L1TF inversion).
 * @see arch/x86/include/asm/pgtable.h pte_pfn
 */
export function x86EntryPfn(lo: number, hi: number, order: number): number {
  if (x86NeedsInvert(lo, hi)) {
    lo = ~lo;
    hi = ~hi;
  }
  return ((lo & x86PfnMaskLo(order)) >>> 12) + (hi & X86_PFN_MASK_HI) * TWO_20;
}

/**
 * The neutral {@link PteBits} of an x86 leaf entry. READ is reported for every
 * present entry (x86 cannot express a present page that is not readable), EXEC
 * for a present entry without `_PAGE_NX`, GLOBAL only with `_PAGE_PRESENT`.
 * @see arch/x86/include/asm/pgtable.h pte_flags
 */
export function x86EntryBits(lo: number, hi: number): number {
  let bits = 0;
  if (lo & X86_PAGE_PRESENT) {
    bits |= PteBits.PRESENT | PteBits.READ;
    if ((hi & X86_PAGE_NX_HI) === 0) bits |= PteBits.EXEC;
    if (lo & X86_PAGE_GLOBAL) bits |= PteBits.GLOBAL;
  } else if (lo & X86_PAGE_PROTNONE) {
    bits |= PteBits.PROTNONE;
  }
  if (lo & X86_PAGE_RW) bits |= PteBits.WRITE;
  if (lo & X86_PAGE_USER) bits |= PteBits.USER;
  if (lo & X86_PAGE_ACCESSED) bits |= PteBits.ACCESSED;
  if (lo & X86_PAGE_DIRTY) bits |= PteBits.DIRTY;
  if (lo & X86_PAGE_SPECIAL) bits |= PteBits.SPECIAL;
  return bits;
}

/** Join two halves into the 64-bit entry value. */
export function x86EntryToBigint(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** `pte_val` of the leaf `pfn_pte(pfn, bits)` would build, as a 64-bit value. */
export function encodeX86Entry(pfn: number, order: number, bits: number): bigint {
  return x86EntryToBigint(x86EntryLo(pfn, order, bits), x86EntryHi(pfn, order, bits));
}

/** Decode a 64-bit leaf entry of a level whose leaves have `order` into the neutral view. */
export function decodeX86Entry(entry: bigint, order: number): PteView {
  const lo = Number(entry & 0xffffffffn);
  const hi = Number((entry >> 32n) & 0xffffffffn);
  return { pfn: x86EntryPfn(lo, hi, order), order, bits: x86EntryBits(lo, hi) };
}

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [X86_PAGE_PRESENT, 'PRESENT'],
  [X86_PAGE_RW, 'RW'],
  [X86_PAGE_USER, 'USER'],
  [X86_PAGE_PWT, 'PWT'],
  [X86_PAGE_PCD, 'PCD'],
  [X86_PAGE_ACCESSED, 'ACCESSED'],
  [X86_PAGE_DIRTY, 'DIRTY'],
];

/**
 * The `_PAGE_*` names set in an entry, e.g. `PRESENT|RW|USER|ACCESSED|DIRTY|NX`.
 * `isLarge` tells whether bit 7 is `PSE` (PMD/PUD) or `PAT` (PTE) and bit 12
 * `PAT_LARGE` or a frame bit.
 * @see arch/x86/include/asm/pgtable_types.h
 */
export function x86EntryFlagNames(lo: number, hi: number, isLarge: boolean): string {
  const names: string[] = [];
  for (const [mask, name] of FLAG_NAMES) if (lo & mask) names.push(name);
  if (lo & X86_PAGE_PSE) names.push(isLarge ? 'PSE' : 'PAT');
  if (lo & X86_PAGE_GLOBAL) names.push(lo & X86_PAGE_PRESENT ? 'GLOBAL' : 'PROTNONE');
  if (lo & X86_PAGE_SPECIAL) names.push('SPECIAL');
  if (lo & (1 << 10)) names.push('UFFD_WP');
  if (lo & X86_PAGE_SOFT_DIRTY) names.push('SOFT_DIRTY');
  if (isLarge && lo & X86_PAGE_PAT_LARGE) names.push('PAT_LARGE');
  const pkey = (hi & X86_PAGE_PKEY_MASK_HI) >>> X86_PAGE_PKEY_SHIFT_HI;
  if (pkey !== 0) names.push(`PKEY=${pkey}`);
  if (hi & X86_PAGE_NX_HI) names.push('NX');
  return names.length === 0 ? '0' : names.join('|');
}
