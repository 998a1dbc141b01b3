// The architecture-independent suite: the same scenarios against every
// registered architecture (arch-suite-lib.ts ARCHITECTURES). Each scenario
// states what Linux guarantees on every architecture; where architectures
// legitimately differ (which protections are readable, which huge page sizes
// exist, how large user space is), the expectation is derived from the
// architecture's own contract answers, never from its name.
import { describe, expect, it } from 'vitest';
import { AccessKind, PteBits } from '@mmsim/arch';
import { MADV, MREMAP, PROT } from '@mmsim/base';
import { hugepages, rss, sysFpeek, sysMadvise, sysMmap, sysMprotect, sysMremap, sysMunmap } from '@mmsim/syscalls';
import { createMachine, pagemap, pageTableWalk } from '../src/index.js';
import {
  ARCHITECTURES,
  FIXED,
  HUGETLB,
  NONE,
  NO_FD,
  PAGE,
  PRIVATE,
  PRIVATE_ANON,
  RO,
  RW,
  SHARED,
  isErr,
  machineFor,
  mmapOk,
  read,
  taskSizeBytes,
  tmpfsFile,
  write,
} from './arch-suite-lib.js';

const ENOMEM = -12n;
const EINVAL = -22n;

for (const a of ARCHITECTURES) {
  describe(`architecture suite: ${a.label}`, () => {
    it('anonymous memory: mmap, write, read back, Rss, munmap, then SIGSEGV', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, 4n * PAGE, RW, PRIVATE_ANON);
      expect(read(m, p + 5n)).toBe(0);
      expect(write(m, p + PAGE + 7n, 0x5a)).toBe(0);
      expect(read(m, p + PAGE + 7n)).toBe(0x5a);
      expect(rss(m, p)).toBe(4); // one anonymous page (the zero page is not counted)
      expect(sysMunmap(m, p, 4n * PAGE)).toBe(0n);
      expect(read(m, p + PAGE + 7n)).toBe('SIGSEGV');
      expect(write(m, p, 1)).toBe('SIGSEGV');
    });

    it("every address mmap returns lies below the architecture's TASK_SIZE and at or above mmap_min_addr", () => {
      const m = machineFor(a);
      const top = taskSizeBytes(m);
      const hints = [0n, 0x10000n, 0x40000000n, top / 2n, top - PAGE, top, top + PAGE, 1n << 47n, 1n << 48n, (1n << 64n) - 1n];
      const lens = [PAGE, 3n * PAGE, 2n << 20n, 1n << 30n];
      let n = 0;
      for (const hint of hints) {
        for (const len of lens) {
          const r = sysMmap(m, hint, len, RW, PRIVATE_ANON, NO_FD, 0n);
          expect(isErr(r), `hint 0x${hint.toString(16)} len 0x${len.toString(16)}`).toBe(false);
          expect(r % PAGE).toBe(0n);
          expect(r).toBeGreaterThanOrEqual(m.kernel.mmapMinAddr);
          expect(r + len).toBeLessThanOrEqual(top);
          n++;
        }
      }
      expect(m.mm.mapCount).toBeGreaterThan(0);
      expect(n).toBe(hints.length * lens.length);
    });

    it('no hint: the top-down layout places the mapping below mmap_base', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(p + PAGE).toBe(BigInt(m.mm.layout.mmapBase) << 12n);
    });

    it('MAP_FIXED: the last page below TASK_SIZE maps, TASK_SIZE itself is ENOMEM, munmap past it is EINVAL', () => {
      const m = machineFor(a);
      const top = taskSizeBytes(m);
      expect(sysMmap(m, top - PAGE, PAGE, RW, PRIVATE_ANON | FIXED, NO_FD, 0n)).toBe(top - PAGE);
      expect(write(m, top - 1n, 9)).toBe(0);
      expect(read(m, top - 1n)).toBe(9);
      expect(sysMmap(m, top, PAGE, RW, PRIVATE_ANON | FIXED, NO_FD, 0n)).toBe(ENOMEM);
      expect(sysMunmap(m, top, PAGE)).toBe(EINVAL);
      expect(sysMunmap(m, top - PAGE, PAGE)).toBe(0n);
    });

    it('non-canonical, kernel and beyond-TASK_SIZE addresses fault with SIGSEGV', () => {
      const m = machineFor(a);
      const top = taskSizeBytes(m);
      for (const addr of [top, top + PAGE * 1000n, 1n << 62n, 0xffffffffff600000n, (1n << 64n) - 1n]) {
        expect(read(m, addr), `0x${addr.toString(16)}`).toBe('SIGSEGV');
        expect(write(m, addr, 1)).toBe('SIGSEGV');
      }
      expect(a.arch.addressSpace.isCanonical(top - 1n, m.kernel.features)).toBe(true);
    });

    it('PROT_NONE faults on read and write, and mprotect makes it accessible', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, 2n * PAGE, NONE, PRIVATE_ANON);
      expect(read(m, p)).toBe('SIGSEGV');
      expect(write(m, p, 1)).toBe('SIGSEGV');
      expect(sysMprotect(m, p, 2n * PAGE, RW)).toBe(0n);
      expect(write(m, p, 1)).toBe(0);
      expect(read(m, p)).toBe(1);
      expect(sysMprotect(m, p, PAGE, NONE)).toBe(0n); // a present page becomes PROT_NONE: its leaf stays, not present to the MMU
      expect(read(m, p)).toBe('SIGSEGV');
      const leaf = m.mm.pageTable.lookup(Number(p >> 12n));
      expect(leaf).not.toBeNull();
      expect(leaf!.bits & PteBits.PROTNONE).toBe(PteBits.PROTNONE);
      expect(m.kernel.arch.mmu.translate(m.mm.pageTable, Number(p >> 12n), AccessKind.READ).ok).toBe(false);
      expect(sysMprotect(m, p, PAGE, RO)).toBe(0n);
      expect(read(m, p)).toBe(1);
    });

    it('mprotect read-only: a write faults and the data stays; read-write again allows it', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 0x11)).toBe(0);
      expect(sysMprotect(m, p, PAGE, RO)).toBe(0n);
      expect(write(m, p, 0x22)).toBe('SIGSEGV');
      expect(read(m, p)).toBe(0x11);
      expect(sysMprotect(m, p, PAGE, RW)).toBe(0n);
      expect(write(m, p, 0x33)).toBe(0);
      expect(read(m, p)).toBe(0x33);
    });

    it('a write to a private file mapping does not reach the file; a shared one does', () => {
      const m = machineFor(a);
      const fd = tmpfsFile(m, 'f', 2n * PAGE, 0xab);
      const priv = mmapOk(m, 0n, 2n * PAGE, RW, PRIVATE, fd);
      const shared = mmapOk(m, 0n, 2n * PAGE, RW, SHARED, fd);
      expect(read(m, priv)).toBe(0xab);
      expect(write(m, priv, 0x01)).toBe(0); // COW
      expect(read(m, priv)).toBe(0x01);
      expect(sysFpeek(m, fd, 0n)).toBe(0xabn);
      expect(read(m, shared)).toBe(0xab);
      expect(pagemap(m, priv)).toMatchObject({ present: true, kind: 'anon', file: false, exclusive: true });
      expect(pagemap(m, shared)).toMatchObject({ present: true, kind: 'file', file: true });
      expect(write(m, shared + PAGE, 0x02)).toBe(0);
      expect(sysFpeek(m, fd, PAGE)).toBe(0x02n);
      expect(read(m, priv + PAGE)).toBe(0x02); // not yet copied: the private mapping still sees the page cache
    });

    it('copy-on-write of the zero page: a read maps the zero page, a write a private page', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(read(m, p)).toBe(0);
      expect(pagemap(m, p)).toMatchObject({ present: true, kind: 'zero', pfn: m.kernel.zeroPfn, file: false, exclusive: false });
      expect(write(m, p, 7)).toBe(0);
      const after = pagemap(m, p);
      expect(after).toMatchObject({ present: true, kind: 'anon' });
      expect(after.pfn).not.toBe(m.kernel.zeroPfn);
      expect(read(m, p)).toBe(7);
    });

    it('MADV_DONTNEED drops private anonymous pages: they read as zero again', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, 2n * PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 9)).toBe(0);
      expect(sysMadvise(m, p, 2n * PAGE, BigInt(MADV.DONTNEED))).toBe(0n);
      expect(pagemap(m, p).present).toBe(false);
      expect(read(m, p)).toBe(0);
    });

    it('mremap moves the data; the old range faults', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, 2n * PAGE, RW, PRIVATE_ANON);
      expect(write(m, p + PAGE, 0x44)).toBe(0);
      const target = mmapOk(m, 0n, 8n * PAGE, NONE, PRIVATE_ANON);
      const q = sysMremap(m, p, 2n * PAGE, 8n * PAGE, BigInt(MREMAP.MAYMOVE | MREMAP.FIXED), target);
      expect(q).toBe(target);
      expect(read(m, q + PAGE)).toBe(0x44);
      expect(read(m, p + PAGE)).toBe('SIGSEGV');
    });

    it("an execute-only mapping is readable exactly when the architecture's protection_map makes it so", () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, BigInt(PROT.EXEC), PRIVATE_ANON);
      const readable = (a.arch.protectionBits({ read: false, write: false, exec: true, shared: false }) & PteBits.READ) !== 0;
      expect(read(m, p)).toBe(readable ? 0 : 'SIGSEGV');
      expect(write(m, p, 1)).toBe('SIGSEGV');
      if (!readable) expect(pagemap(m, p).present).toBe(false); // refused by access_error, nothing mapped
    });

    it('a 2 MiB hugetlb mapping is one aligned leaf; the pool counters move and come back', () => {
      const m = machineFor(a);
      const huge = a.arch.hugePageSizes(m.kernel.features).find((h) => h.shift === 21);
      expect(huge, 'every registered architecture has 2 MiB pages').toBeDefined();
      const len = 2n << 20n;
      const p = mmapOk(m, 0n, len, RW, PRIVATE_ANON | HUGETLB);
      expect(p % len).toBe(0n);
      expect(hugepages(m, 2048)).toMatchObject({ total: 4, free: 4, rsvd: 1 });
      expect(write(m, p + 0x12345n, 0x77)).toBe(0);
      expect(read(m, p + 0x12345n)).toBe(0x77);
      expect(hugepages(m, 2048)).toMatchObject({ free: 3, rsvd: 0 });
      const pm = pagemap(m, p + 0x12345n);
      expect(pm).toMatchObject({ present: true, kind: 'hugetlb', order: 9 });
      expect(pm.pfn % 512).toBe(0x12);
      const walk = pageTableWalk(m, p);
      expect(walk.steps.at(-1)).toMatchObject({ kind: 'leaf', level: huge!.level });
      expect(sysMunmap(m, p, len)).toBe(0n);
      expect(hugepages(m, 2048)).toMatchObject({ free: 4, rsvd: 0 });
    });

    it('a 1 GiB hugetlb mapping where the architecture has gigantic pages', () => {
      const m = machineFor(a);
      const gig = a.arch.hugePageSizes(m.kernel.features).find((h) => h.shift === 30);
      if (!gig) return;
      const len = 1n << 30n;
      const p = mmapOk(m, 0n, len, RW, PRIVATE_ANON | HUGETLB | (30n << 26n));
      expect(p % len).toBe(0n);
      expect(write(m, p + len - 1n, 3)).toBe(0);
      expect(pagemap(m, p + len - 1n)).toMatchObject({ kind: 'hugetlb', order: 18 });
      expect(pageTableWalk(m, p).steps.at(-1)).toMatchObject({ kind: 'leaf' });
      expect(sysMunmap(m, p, len)).toBe(0n);
    });

    it('the walk names every level down to the leaf, and the leaf reads as the architecture describes it', () => {
      const m = machineFor(a);
      const p = mmapOk(m, 0n, PAGE, RW, PRIVATE_ANON);
      expect(write(m, p, 1)).toBe(0);
      const w = pageTableWalk(m, p);
      expect(w.steps).toHaveLength(m.mm.pageTable.levels);
      expect(w.steps.slice(0, -1).every((s) => s.kind === 'table')).toBe(true);
      expect(w.steps.at(-1)!.kind).toBe('leaf');
      expect(new Set(w.steps.map((s) => s.level)).size).toBe(w.steps.length);
      expect(w.leafText).toBe(a.arch.describeLeaf(w.leaf!));
      expect(w.leaf!.bits & (PteBits.ACCESSED | PteBits.DIRTY)).toBe(PteBits.ACCESSED | PteBits.DIRTY);
      const vpn = Number(p >> 12n);
      const idx = w.steps.map((s) => s.index);
      // The indices are the vpn's 9-bit groups, top level first.
      expect(idx).toEqual(idx.map((_, d) => Math.floor(vpn / 2 ** (9 * (idx.length - 1 - d))) % 512));
    });

    it('page-table pages come from the frame allocator and go back on munmap', () => {
      const m = machineFor(a);
      const before = m.mm.pageTable.tablePages();
      const freeBefore = m.frames.freeFrames();
      const p = mmapOk(m, 0n, 16n * PAGE, RW, PRIVATE_ANON);
      for (let i = 0n; i < 16n; i++) expect(write(m, p + i * PAGE, 1)).toBe(0);
      expect(m.mm.pageTable.tablePages()).toBe(before + m.mm.pageTable.levels - 1);
      expect(sysMunmap(m, p, 16n * PAGE)).toBe(0n);
      expect(m.mm.pageTable.tablePages()).toBe(before);
      expect(m.frames.freeFrames()).toBe(freeBefore);
    });

    it('a THP faults only where the 2 MiB has no PTE table; guard markers and a cut VMA leave one, MADV_COLLAPSE makes a THP', () => {
      const m = machineFor(a, { thp: 'always' });
      const BLOCK = 2n << 20n;
      // A 6 MiB mapping is placed 2 MiB-aligned (thp_get_unmapped_area): three whole blocks.
      const p = mmapOk(m, 0n, 3n * BLOCK, RW, PRIVATE_ANON);
      expect(p % BLOCK).toBe(0n);
      const rssKb = () => rss(m, p);
      expect(write(m, p, 1)).toBe(0);
      expect(rssKb()).toBe(2048); // a THP
      // Guard install allocates the PTE table of the block it marks; removing the guard leaves it.
      expect(sysMadvise(m, p + BLOCK, PAGE, BigInt(MADV.GUARD_INSTALL))).toBe(0n);
      expect(write(m, p + BLOCK, 2)).toBe('SIGSEGV');
      expect(sysMadvise(m, p + BLOCK, PAGE, BigInt(MADV.GUARD_REMOVE))).toBe(0n);
      expect(write(m, p + BLOCK + 5n * PAGE, 3)).toBe(0);
      expect(rssKb()).toBe(2048 + 4); // a small page
      // munmap of all but the first page of the last block: the VMA below ends inside the block
      // (free_pgtables' floor), so its table stays; mapped again, the block faults small pages.
      expect(write(m, p + 2n * BLOCK + PAGE, 4)).toBe(0); // a THP
      expect(sysMunmap(m, p + 2n * BLOCK + PAGE, BLOCK - PAGE)).toBe(0n); // its first subpage stays mapped
      expect(rssKb()).toBe(2048 + 4 + 4);
      expect(mmapOk(m, p + 2n * BLOCK + PAGE, BLOCK - PAGE, RW, PRIVATE_ANON | FIXED)).toBe(p + 2n * BLOCK + PAGE);
      expect(write(m, p + 2n * BLOCK + 2n * PAGE, 5)).toBe(0);
      expect(rssKb()).toBe(2048 + 4 + 4 + 4);
      // MADV_COLLAPSE turns the block with the small page into a THP that keeps the byte.
      expect(sysMadvise(m, p + BLOCK, BLOCK, BigInt(MADV.COLLAPSE))).toBe(0n);
      expect(rssKb()).toBe(2048 + 2048 + 4 + 4);
      expect(read(m, p + BLOCK + 5n * PAGE)).toBe(3);
    });

    it('ftruncate shrinking a mapped file: the pages past EOF give SIGBUS', () => {
      const m = machineFor(a);
      const fd = tmpfsFile(m, 't', 2n * PAGE, 0x5c);
      const p = mmapOk(m, 0n, 2n * PAGE, RO, SHARED, fd);
      expect(read(m, p + PAGE)).toBe(0x5c);
      expect(m.files.fget(Number(fd))!.inode.io().truncate(PAGE)).toBe(0);
      expect(read(m, p + PAGE)).toBe('SIGBUS');
      expect(read(m, p)).toBe(0x5c);
    });
  });
}

describe('architecture suite: machines of different architectures are independent', () => {
  it('two machines in one process share nothing', () => {
    const [x, r] = [machineFor(ARCHITECTURES[0]!), machineFor(ARCHITECTURES[2]!)];
    const px = mmapOk(x, 0n, PAGE, RW, PRIVATE_ANON);
    const pr = mmapOk(r, 0n, PAGE, RW, PRIVATE_ANON);
    expect(write(x, px, 1)).toBe(0);
    expect(write(r, pr, 2)).toBe(0);
    expect(read(x, px)).toBe(1);
    expect(read(r, pr)).toBe(2);
    expect(x.arch.name).toBe('x86_64');
    expect(r.arch.name).toBe('riscv64');
    expect(px).not.toBe(pr); // 47-bit versus 38-bit user space
  });

  it('the default architecture is still x86-64', () => {
    expect(createMachine().arch.name).toBe('x86_64');
  });
});
