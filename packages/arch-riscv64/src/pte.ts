/**
 * The RISC-V page-table entry (Sv39/Sv48/Sv57 share it) and its translation
 * to and from the architecture-neutral {@link PteBits}.
 *
 * | bit | name | Linux |
 * |---|---|---|
 * | 0 | V valid | `_PAGE_PRESENT` |
 * | 1 | R readable | `_PAGE_READ` |
 * | 2 | W writable | `_PAGE_WRITE` |
 * | 3 | X executable | `_PAGE_EXEC` |
 * | 4 | U user | `_PAGE_USER` |
 * | 5 | G global | `_PAGE_GLOBAL`; with V clear, `_PAGE_PROT_NONE` |
 * | 6 | A accessed | `_PAGE_ACCESSED` |
 * | 7 | D dirty | `_PAGE_DIRTY` |
 * | 8 | RSW0 | `_PAGE_SPECIAL` |
 * | 9 | RSW1 | software (soft-dirty / devmap in some versions) |
 * | 10..53 | PPN | `_PAGE_PFN_SHIFT` = 10 |
 * | 61..62 | PBMT (Svpbmt) | `_PAGE_NOCACHE_SVPBMT`, `_PAGE_IO_SVPBMT` |
 * | 63 | N (Svnapot) | `_PAGE_NAPOT` |
 *
 * A valid entry with R = W = X = 0 points to the next level (`_PAGE_TABLE` is
 * just `_PAGE_PRESENT`); a valid entry with any of R, W, X is a leaf, at any
 * level — 4 KiB at the last, 2 MiB ("megapage") one up, 1 GiB ("gigapage")
 * two up. W without R is reserved.
 *
 * Entries are stored exactly as two unsigned 32-bit halves (`lo` = bits
 * 31..0, `hi` = bits 63..32); the frame number needs 44 bits.
 * @see arch/riscv/include/asm/pgtable-bits.h
 * @see The RISC-V Instruction Set Manual, vol. II (privileged), "Sv39: Page-Based 39-bit Virtual-Memory System"
 */

import { PteBits, type PteView } from '@mmsim/arch';

/** V: the entry is valid. */
export const SV_V = 1 << 0;
/** R: readable. */
export const SV_R = 1 << 1;
/** W: writable. */
export const SV_W = 1 << 2;
/** X: executable. */
export const SV_X = 1 << 3;
/** U: accessible in user mode. */
export const SV_U = 1 << 4;
/** G: global mapping. With V clear Linux reads it as `_PAGE_PROT_NONE`. */
export const SV_G = 1 << 5;
/** A: accessed. */
export const SV_A = 1 << 6;
/** D: dirty. */
export const SV_D = 1 << 7;
/** RSW bit 0: Linux's `_PAGE_SPECIAL`. */
export const SV_SPECIAL = 1 << 8;
/** RSW bit 1 (software). */
export const SV_RSW1 = 1 << 9;
/** `_PAGE_PFN_SHIFT`: the PPN starts at bit 10. */
export const SV_PFN_SHIFT = 10;
/** `_PAGE_TABLE` = `_PAGE_PRESENT`: the flags of an entry pointing at a lower table. @see pmd_populate */
export const SV_PAGE_TABLE = SV_V;
/** Largest frame number a PTE can hold (44-bit PPN). */
export const SV_MAX_PFN = 2 ** 44 - 1;

const TWO_22 = 2 ** 22;

/**
 * The low 10 flag bits for neutral `bits`: PROTNONE (V clear, G set) wins
 * over PRESENT, and GLOBAL needs PRESENT (G without V means PROTNONE).
 */
export function svFlags(bits: number): number {
  let f = 0;
  const protnone = (bits & PteBits.PROTNONE) !== 0;
  if (protnone) f |= SV_G;
  else if (bits & PteBits.PRESENT) {
    f |= SV_V;
    if (bits & PteBits.GLOBAL) f |= SV_G;
  }
  if (bits & PteBits.READ) f |= SV_R;
  if (bits & PteBits.WRITE) f |= SV_W;
  if (bits & PteBits.EXEC) f |= SV_X;
  if (bits & PteBits.USER) f |= SV_U;
  if (bits & PteBits.ACCESSED) f |= SV_A;
  if (bits & PteBits.DIRTY) f |= SV_D;
  if (bits & PteBits.SPECIAL) f |= SV_SPECIAL;
  return f;
}

/** The low half of the entry for `pfn` with flag bits `flags` (`pfn_pte`). */
export function svEntryLo(pfn: number, flags: number): number {
  return (((pfn % TWO_22) * 1024) | flags) >>> 0;
}

/** The high half of the entry for `pfn` (PPN bits 43..22 in bits 53..32). */
export function svEntryHi(pfn: number): number {
  return Math.floor(pfn / TWO_22) >>> 0;
}

/** The frame number of an entry (`pte_pfn`). */
export function svEntryPfn(lo: number, hi: number): number {
  return (lo >>> SV_PFN_SHIFT) + (hi & 0x3fffff) * TWO_22;
}

/** The neutral {@link PteBits} of a leaf entry's flag bits. */
export function svEntryBits(lo: number): number {
  let bits = 0;
  if (lo & SV_V) {
    bits |= PteBits.PRESENT;
    if (lo & SV_G) bits |= PteBits.GLOBAL;
  } else if (lo & SV_G) {
    bits |= PteBits.PROTNONE;
  }
  if (lo & SV_R) bits |= PteBits.READ;
  if (lo & SV_W) bits |= PteBits.WRITE;
  if (lo & SV_X) bits |= PteBits.EXEC;
  if (lo & SV_U) bits |= PteBits.USER;
  if (lo & SV_A) bits |= PteBits.ACCESSED;
  if (lo & SV_D) bits |= PteBits.DIRTY;
  if (lo & SV_SPECIAL) bits |= PteBits.SPECIAL;
  return bits;
}

/** Join two halves into the 64-bit entry. */
export function svEntryToBigint(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}

/** `pte_val(pfn_pte(pfn, prot))` for neutral `bits`, as a 64-bit value. */
export function encodeSvEntry(pfn: number, bits: number): bigint {
  return svEntryToBigint(svEntryLo(pfn, svFlags(bits)), svEntryHi(pfn));
}

/** Decode a 64-bit leaf entry into the neutral view (the caller knows the order). */
export function decodeSvEntry(entry: bigint, order: number): PteView {
  const lo = Number(entry & 0xffffffffn);
  const hi = Number((entry >> 32n) & 0xffffffffn);
  return { pfn: svEntryPfn(lo, hi), order, bits: svEntryBits(lo) };
}

const NAMES: ReadonlyArray<readonly [number, string]> = [
  [SV_V, 'V'],
  [SV_R, 'R'],
  [SV_W, 'W'],
  [SV_X, 'X'],
  [SV_U, 'U'],
  [SV_G, 'G'],
  [SV_A, 'A'],
  [SV_D, 'D'],
  [SV_SPECIAL, 'SPECIAL'],
  [SV_RSW1, 'RSW1'],
];

/**
 * The flag names of an entry, e.g. `V|R|W|U|A|D`; a non-present entry with G
 * reads `PROT_NONE` instead of `G` (Linux's `_PAGE_PROT_NONE`), and the
 * Svpbmt / Svnapot bits of the high half are named when set.
 */
export function svFlagNames(lo: number, hi: number): string {
  const names: string[] = [];
  for (const [bit, name] of NAMES) {
    if (!(lo & bit)) continue;
    names.push(bit === SV_G && !(lo & SV_V) ? 'PROT_NONE' : name);
  }
  const pbmt = (hi >>> 29) & 3;
  if (pbmt === 1) names.push('PBMT=NC');
  else if (pbmt === 2) names.push('PBMT=IO');
  if (hi & 0x80000000) names.push('N');
  return names.length === 0 ? '0' : names.join('|');
}
