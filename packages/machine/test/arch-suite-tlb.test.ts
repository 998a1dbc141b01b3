// No stale translation survives the operations after which Linux flushes the
// TLB: munmap (LTP mmap19's swap of two files), mprotect, COW, mremap,
// MADV_DONTNEED, truncation, hugetlb COW. Each scenario first makes the MMU
// cache the old translation (by accessing the page), then changes the
// mapping, then checks what the next access sees. The scenarios run on every
// registered architecture; on x86-64, whose MMU has a TLB, the suite also
// checks that the TLB really answered (hits) and, as a control, that the
// mmap19 scenario does catch a TLB that is not flushed.
import { describe, expect, it } from 'vitest';
import { MADV, MREMAP } from '@mmsim/base';
import { X86PageTable } from '@mmsim/arch/x86-64';
import { hugepages, sysFpeek, sysMadvise, sysMmap, sysMprotect, sysMremap, sysMunmap, sysOpenat, sysFtruncate } from '@mmsim/syscalls';
import type { Machine } from '../src/index.js';
import {
  ARCHITECTURES,
  FIXED,
  NO_FD,
  PAGE,
  PRIVATE,
  PRIVATE_ANON,
  RO,
  RW,
  SHARED,
  machineFor,
  mmapOk,
  read,
  tmpfsFile,
  write,
} from './arch-suite-lib.js';

const LEN = 4n * PAGE;

/**
 * LTP mmap19: map two files, write through both, unmap both, map each at the
 * other's old address, and read back: each mapping must show its own file.
 * Returns what the two reads saw.
 */
function mmap19(m: Machine): { m1: number | string; m2: number | string; swapped: boolean } {
  const fd1 = tmpfsFile(m, 'mmap19-1', LEN, 0);
  const fd2 = tmpfsFile(m, 'mmap19-2', LEN, 0);
  const a1 = mmapOk(m, 0n, LEN, RW, SHARED, fd1);
  const a2 = mmapOk(m, 0n, LEN, RW, SHARED, fd2);
  const n = LEN / 2n + 3n;
  expect(write(m, a1 + n, 0x61)).toBe(0); // 'a'
  expect(write(m, a2 + n, 0x62)).toBe(0); // 'b'
  expect(read(m, a1 + n)).toBe(0x61);
  expect(read(m, a2 + n)).toBe(0x62);
  expect(sysMunmap(m, a1, LEN)).toBe(0n);
  expect(sysMunmap(m, a2, LEN)).toBe(0n);
  const b1 = sysMmap(m, a2, LEN, RW, SHARED, fd1, 0n); // file 1 where file 2 was
  const b2 = sysMmap(m, a1, LEN, RW, SHARED, fd2, 0n);
  return { m1: read(m, b1 + n), m2: read(m, b2 + n), swapped: b1 === a2 && b2 === a1 };
}

function x86Tlb(m: Machine) {
  return m.mm.pageTable instanceof X86PageTable ? m.mm.pageTable.tlb : null;
}

for (const a of ARCHITECTURES) {
  describe(`no stale translation: ${a.label}`, () => {
    it('LTP mmap19: two files remapped at swapped addresses read back their own data', () => {
      const m = machineFor(a);
      const r = mmap19(m);
      expect(r.swapped).toBe(true);
      expect(r).toMatchObject({ m1: 0x61, m2: 0x62 });
      const tlb = x86Tlb(m);
      if (tlb) expect(tlb.stats.hits).toBeGreaterThan(0);
    });

    it('munmap then a fresh anonymous mapping at the same address reads zero', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 0x99)).toBe(0);
      expect(read(m, p)).toBe(0x99);
      expect(sysMunmap(m, p, PAGE)).toBe(0n);
      expect(sysMmap(m, p, PAGE, RW, PRIVATE_ANON | FIXED, NO_FD, 0n)).toBe(p);
      expect(read(m, p)).toBe(0);
    });

    it('after mprotect(PROT_READ) a cached writable translation faults on write', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 1)).toBe(0);
      expect(write(m, p, 2)).toBe(0); // the second write is a TLB hit on x86
      expect(sysMprotect(m, p, PAGE, RO)).toBe(0n);
      expect(write(m, p, 3)).toBe('SIGSEGV');
      expect(read(m, p)).toBe(2);
    });

    it('after COW the new page is seen, and the page cache is untouched', () => {
      const m = machineFor(a);
      const fd = tmpfsFile(m, 'cow', PAGE, 0x10);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE, fd);
      expect(read(m, p)).toBe(0x10);
      expect(read(m, p)).toBe(0x10); // cached: the page-cache page, read-only
      expect(write(m, p + 1n, 0x20)).toBe(0); // do_wp_page: a private copy replaces the entry
      expect(read(m, p)).toBe(0x10);
      expect(read(m, p + 1n)).toBe(0x20);
      expect(sysFpeek(m, fd, 1n)).toBe(0x10n);
    });

    it('after COW of the zero page the new page is seen', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(read(m, p)).toBe(0);
      expect(read(m, p)).toBe(0);
      expect(write(m, p, 0x42)).toBe(0);
      expect(read(m, p)).toBe(0x42);
    });

    it('after mremap the old address faults and the new one has the data', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, 2n * PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 0x31)).toBe(0);
      expect(read(m, p)).toBe(0x31);
      const target = mmapOk(m, 0n, 2n * PAGE, RW, PRIVATE_ANON);
      expect(sysMremap(m, p, 2n * PAGE, 2n * PAGE, BigInt(MREMAP.MAYMOVE | MREMAP.FIXED), target)).toBe(target);
      expect(read(m, p)).toBe('SIGSEGV');
      expect(read(m, target)).toBe(0x31);
      expect(sysMmap(m, p, 2n * PAGE, RW, PRIVATE_ANON | FIXED, NO_FD, 0n)).toBe(p);
      expect(read(m, p)).toBe(0);
    });

    it('after MADV_DONTNEED a cached private page reads zero', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 0x55)).toBe(0);
      expect(read(m, p)).toBe(0x55);
      expect(sysMadvise(m, p, PAGE, BigInt(MADV.DONTNEED))).toBe(0n);
      expect(read(m, p)).toBe(0);
    });

    it('after truncation a cached page past EOF gives SIGBUS', () => {
      const m = machineFor(a);
      const fd = tmpfsFile(m, 'trunc', 2n * PAGE, 0x77);
      const p = mmapOk(m, 0n, 2n * PAGE, RW, SHARED, fd);
      expect(read(m, p + PAGE)).toBe(0x77);
      expect(read(m, p + PAGE)).toBe(0x77);
      expect(sysFtruncate(m, fd, PAGE)).toBe(0n);
      expect(read(m, p + PAGE)).toBe('SIGBUS');
      expect(read(m, p)).toBe(0x77);
    });

    it('hugetlb: a private write after a cached read copies, and munmap plus remap sees the file again', () => {
      const m = machineFor(a);
      const fd = sysOpenat(m, -100n, '/mnt/huge/h', 0o102n, 0o600n); // O_RDWR|O_CREAT
      expect(fd).toBeGreaterThanOrEqual(0n);
      expect(sysFtruncate(m, fd, 2n << 20n)).toBe(0n);
      const shared = mmapOk(m, 0n, 2n << 20n, RW, SHARED, fd);
      expect(write(m, shared + 5n, 0x0a)).toBe(0);
      const priv = mmapOk(m, 0n, 2n << 20n, RW, PRIVATE, fd);
      expect(read(m, priv + 5n)).toBe(0x0a);
      expect(read(m, priv + 5n)).toBe(0x0a);
      expect(write(m, priv + 5n, 0x0b)).toBe(0); // hugetlb_wp: the huge entry is replaced
      expect(read(m, priv + 5n)).toBe(0x0b);
      expect(read(m, shared + 5n)).toBe(0x0a);
      expect(sysMunmap(m, priv, 2n << 20n)).toBe(0n);
      expect(sysMmap(m, priv, 2n << 20n, RW, PRIVATE | FIXED, fd, 0n)).toBe(priv);
      expect(read(m, priv + 5n)).toBe(0x0a);
      expect(hugepages(m, 2048)!.total).toBe(4);
    });
  });
}

describe('the x86-64 TLB is consulted, and the suite would catch a missing flush', () => {
  const x86 = ARCHITECTURES[0]!;

  it('repeated accesses hit the TLB; a full munmap leaves no entry behind', () => {
    const m = machineFor(x86);
    const tlb = x86Tlb(m)!;
    const p = mmapOk(m, 0n, 8n * PAGE, RW, PRIVATE_ANON);
    for (let i = 0n; i < 8n; i++) expect(write(m, p + i * PAGE, Number(i))).toBe(0);
    const hitsBefore = tlb.stats.hits;
    for (let i = 0n; i < 8n; i++) expect(read(m, p + i * PAGE)).toBe(Number(i));
    expect(tlb.stats.hits - hitsBefore).toBe(8);
    expect(tlb.size()).toBe(8);
    expect(sysMunmap(m, p, 8n * PAGE)).toBe(0n);
    expect(tlb.size()).toBe(0);
  });

  it('control: with the flushes switched off, mmap19 reads the other file through a stale entry', () => {
    const m = machineFor(x86);
    const tlb = x86Tlb(m)!;
    tlb.flushRange = () => {}; // a kernel that forgot flush_tlb_range
    const r = mmap19(m);
    expect(r.swapped).toBe(true);
    expect(r).toMatchObject({ m1: 0x62, m2: 0x61 }); // wrong: each mapping shows the other file
  });

  it('control: with the flushes switched off, a write after mprotect(PROT_READ) would succeed', () => {
    const m = machineFor(x86);
    x86Tlb(m)!.flushRange = () => {};
    const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
    expect(write(m, p, 1)).toBe(0);
    expect(sysMprotect(m, p, PAGE, RO)).toBe(0n);
    expect(write(m, p, 3)).toBe(0); // the stale writable entry lets the store through
  });
});
