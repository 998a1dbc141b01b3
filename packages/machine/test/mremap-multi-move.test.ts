// mremap's move of several VMAs (6.17+ remap_move) and the VMAs that may not
// take part (vma_multi_allowed): a private /dev/zero mapping, whose file has
// its own get_unmapped_area. The golden trace
// conformance/fuzz/fuzz-probe-mremap-multi-move.trace records the same on Linux.
import { describe, expect, it } from 'vitest';
import { createMachine } from '@mmsim/machine';
import { peek, poke, sysMmap, sysMremap, sysOpenat } from '@mmsim/syscalls';
import { Errno, MAP, MREMAP, O, PROT } from '@mmsim/base';

const RW = BigInt(PROT.READ | PROT.WRITE);
const R = BigInt(PROT.READ);
const ANON_FIXED = BigInt(MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED);
const MOVE = BigInt(MREMAP.MAYMOVE | MREMAP.FIXED);
const EFAULT = BigInt(-Errno.EFAULT);

function setup() {
  const m = createMachine({ config: { memTotalKb: 1024 * 1024 } });
  const zero = sysOpenat(m, -100n, '/dev/zero', BigInt(O.RDWR), 0n);
  const zeroPrivate = (addr: bigint, len: bigint) => expect(sysMmap(m, addr, len, RW, BigInt(MAP.PRIVATE | MAP.FIXED), zero, 0n)).toBe(addr);
  const anon = (addr: bigint, len: bigint, prot = R) => expect(sysMmap(m, addr, len, prot, ANON_FIXED, -1n, 0n)).toBe(addr);
  const starts = () => m.mm.vmas.all().map((v) => BigInt(v.start) << 12n);
  return { m, zero, zeroPrivate, anon, starts };
}

describe('mremap moves several VMAs at once (remap_move)', () => {
  it('keeps the gaps between them and ignores a gap at the end', () => {
    const { m, anon, starts } = setup();
    anon(0x200000000n, 0x1000n, RW);
    anon(0x200002000n, 0x1000n);
    expect(poke(m, 0x200000000n, 0x55).signal).toBeNull();
    expect(sysMremap(m, 0x200000000n, 0x4000n, 0x4000n, MOVE, 0x300000000n)).toBe(0x300000000n);
    expect(peek(m, 0x300000000n).value).toBe(0x55);
    expect(starts()).toEqual(expect.arrayContaining([0x300000000n, 0x300002000n]));
    expect(starts()).not.toContain(0x200000000n);
  });

  it('moves the piece of a VMA left in the range when the destination split that VMA', () => {
    // The range ends inside a big VMA whose far part the move's destination unmaps
    // (fuzz-anon-s2177-7): the walk is by address, so the piece still in the range moves.
    const { m, anon, starts } = setup();
    anon(0x200000000n, 0x100000n); // B: 1 MiB read-only
    anon(0x1ffff0000n, 0x10000n, RW); // A: just below it
    expect(poke(m, 0x1ffff0000n, 0x11).signal).toBeNull();
    expect(sysMremap(m, 0x1ffff0000n, 0x20000n, 0x20000n, MOVE, 0x200080000n)).toBe(0x200080000n);
    expect(peek(m, 0x200080000n).value).toBe(0x11);
    expect(peek(m, 0x200000000n).signal).toBe('SIGSEGV'); // B's first 64 KiB moved too
    expect(starts()).toEqual(expect.arrayContaining([0x200010000n, 0x200080000n, 0x200090000n]));
  });

  it('refuses a range that starts in a gap', () => {
    const { m, anon } = setup();
    anon(0x200001000n, 0x1000n);
    expect(sysMremap(m, 0x200000000n, 0x2000n, 0x2000n, MOVE, 0x300000000n)).toBe(EFAULT);
  });
});

describe('a private /dev/zero mapping moves only alone (vma_multi_allowed)', () => {
  it('is EFAULT as the first of several, and nothing moves', () => {
    const { m, zeroPrivate, anon, starts } = setup();
    zeroPrivate(0x200000000n, 0x2000n);
    anon(0x200002000n, 0x2000n);
    expect(sysMremap(m, 0x200000000n, 0x4000n, 0x4000n, MOVE, 0x300000000n)).toBe(EFAULT);
    expect(starts()).toEqual(expect.arrayContaining([0x200000000n, 0x200002000n]));
    // Alone it moves.
    expect(sysMremap(m, 0x200000000n, 0x2000n, 0x2000n, MOVE, 0x300000000n)).toBe(0x300000000n);
  });

  it('is EFAULT when the range runs past it, even into a gap', () => {
    const { m, zeroPrivate } = setup();
    zeroPrivate(0x200000000n, 0x2000n);
    expect(sysMremap(m, 0x200000000n, 0x4000n, 0x4000n, MOVE, 0x300000000n)).toBe(EFAULT);
  });

  it('stops the move when it comes after another VMA, which stays moved', () => {
    const { m, zeroPrivate, anon, starts } = setup();
    anon(0x200000000n, 0x1000n);
    zeroPrivate(0x200002000n, 0x1000n);
    expect(sysMremap(m, 0x200000000n, 0x3000n, 0x3000n, MOVE, 0x300000000n)).toBe(EFAULT);
    expect(starts()).toEqual(expect.arrayContaining([0x300000000n, 0x200002000n]));
    expect(starts()).not.toContain(0x200000000n);
  });

  it('a shared /dev/zero mapping (a shmem object) moves with others', () => {
    const { m, zero, anon, starts } = setup();
    expect(sysMmap(m, 0x200000000n, 0x2000n, RW, BigInt(MAP.SHARED | MAP.FIXED), zero, 0n)).toBe(0x200000000n);
    anon(0x200002000n, 0x1000n);
    expect(sysMremap(m, 0x200000000n, 0x3000n, 0x3000n, MOVE, 0x300000000n)).toBe(0x300000000n);
    expect(starts()).toEqual(expect.arrayContaining([0x300000000n, 0x300002000n]));
  });
});
