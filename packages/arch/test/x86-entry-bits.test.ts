import { describe, expect, it } from 'vitest';
import { PteBits } from '@mmsim/arch';
import {
  X86_PAGE_NX_HI,
  decodeX86Entry,
  encodeX86Entry,
  x86EntryBits,
  x86EntryFlagNames,
  x86EntryHi,
  x86EntryLo,
  x86EntryPfn,
} from '@mmsim/arch/x86-64';

const { PRESENT, WRITE, USER, EXEC, ACCESSED, DIRTY, PROTNONE, SPECIAL, GLOBAL, READ } = PteBits;

describe('x86-64 entry bits (pgtable_types.h)', () => {
  it('encodes a written shared RW anonymous page: P RW U A D NX', () => {
    const bits = PRESENT | WRITE | USER | ACCESSED | DIRTY | READ;
    expect(encodeX86Entry(0x1234, 0, bits)).toBe(0x8000000001234067n);
    expect(decodeX86Entry(0x8000000001234067n, 0)).toEqual({ pfn: 0x1234, order: 0, bits });
  });

  it('encodes an executable private page without NX', () => {
    expect(encodeX86Entry(0xabcde, 0, PRESENT | USER | ACCESSED | READ | EXEC)).toBe(0x00000000abcde025n);
  });

  it('puts frame bits 51..32 in the high half', () => {
    const pfn = 0xf_edcb_a987; // 40-bit frame number
    const raw = encodeX86Entry(pfn, 0, PRESENT | USER | READ | EXEC);
    expect(raw).toBe((BigInt(pfn) << 12n) | 0x5n);
    expect(x86EntryPfn(x86EntryLo(pfn, 0, PRESENT), x86EntryHi(pfn, 0, PRESENT), 0)).toBe(pfn);
  });

  it('sets PSE in huge leaves and keeps the frame aligned', () => {
    expect(encodeX86Entry(0x200, 9, PRESENT | WRITE | USER | ACCESSED | DIRTY | READ)).toBe(0x80000000002000e7n);
    expect(encodeX86Entry(0x40000, 18, PRESENT | USER | ACCESSED | READ | EXEC)).toBe(0x400000a5n);
    expect(decodeX86Entry(0x80000000002000e7n, 9).pfn).toBe(0x200);
  });

  it('encodes PAGE_NONE as PROTNONE|ACCESSED without P, with the frame inverted (L1TF)', () => {
    const raw = encodeX86Entry(0x1234, 0, PROTNONE | ACCESSED);
    // pfn_pte(0x1234, PAGE_NONE) = (~0x1234 << 12) & PTE_PFN_MASK | 0x120
    const expected = ((~0x1234n << 12n) & 0x000ffffffffff000n) | 0x120n;
    expect(raw).toBe(expected);
    expect(decodeX86Entry(raw, 0)).toEqual({ pfn: 0x1234, order: 0, bits: PROTNONE | ACCESSED });
    // A huge PROT_NONE leaf inverts only the bits of PHYSICAL_PMD_PAGE_MASK.
    const huge = encodeX86Entry(0x400, 9, PROTNONE | ACCESSED);
    expect(huge & 0x1ff000n).toBe(0n);
    expect(decodeX86Entry(huge, 9).pfn).toBe(0x400);
  });

  it('uses bit 8 as GLOBAL only when present, and bit 9 as SPECIAL', () => {
    expect(encodeX86Entry(1, 0, PRESENT | GLOBAL | SPECIAL | READ | EXEC)).toBe(0x1301n);
    const lo = x86EntryLo(1, 0, PRESENT | GLOBAL | READ);
    expect(x86EntryBits(lo, 0)).toBe(PRESENT | GLOBAL | READ | EXEC);
    // GLOBAL cannot be expressed without P (bit 8 would mean PROTNONE).
    expect(x86EntryLo(0, 0, PROTNONE | GLOBAL) & 0x1ff).toBe(0x100);
  });

  it('sets NX (bit 63) for a present entry without EXEC', () => {
    expect(x86EntryHi(0, 0, PRESENT | READ) >>> 0).toBe(X86_PAGE_NX_HI);
    expect(x86EntryHi(0, 0, PRESENT | READ | EXEC)).toBe(0);
  });

  it('round-trips every combination of the neutral flags it can express', () => {
    const flags = [WRITE, USER, ACCESSED, DIRTY, SPECIAL];
    for (let m = 0; m < 1 << flags.length; m++) {
      let extra = 0;
      flags.forEach((f, i) => {
        if (m & (1 << i)) extra |= f;
      });
      for (const base of [PRESENT | READ, PRESENT | READ | EXEC, PRESENT | READ | GLOBAL, PROTNONE]) {
        for (const [pfn, order] of [
          [0x12345, 0],
          [0x3fe00, 9],
          [0xc0000, 18],
        ] as const) {
          const bits = base | extra;
          expect(decodeX86Entry(encodeX86Entry(pfn, order, bits), order)).toEqual({ pfn, order, bits });
        }
      }
    }
  });

  it('names the flags', () => {
    expect(x86EntryFlagNames(0x67, X86_PAGE_NX_HI, false)).toBe('PRESENT|RW|USER|ACCESSED|DIRTY|NX');
    expect(x86EntryFlagNames(0x120, 0, false)).toBe('ACCESSED|PROTNONE');
    expect(x86EntryFlagNames(0xa5, 0, true)).toBe('PRESENT|USER|ACCESSED|PSE');
  });
});
