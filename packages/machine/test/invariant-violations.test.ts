// checkInvariants must flag what it claims to check: each case breaks one
// piece of a booted machine's state by hand and expects the matching report.
import { describe, expect, it } from 'vitest';
import { parseTrace } from '@mmsim/trace';
import { bootFromHeader, checkInvariants, type Machine } from '../src/index.js';

function boot(mountOptions: string): Machine {
  const text = `# mmsim-trace 1
@config hugepages_2048kB=2 overcommit_hugepages_2048kB=2
@mount hugetlbfs /mnt/h pagesize=2M${mountOptions}
@brk start=0x9c0000 cur=0x9e2000
@maps
00400000-00401000 r--p 00000000 00:00 1 /usr/local/bin/prog
009c0000-009e2000 rw-p 00000000 00:00 0 [heap]
7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]
@end
`;
  return bootFromHeader(parseTrace(text, 'invariant-violations').header).machine;
}

function pool2M(m: Machine) {
  const h = [...m.vfs.hugetlb.hstates.values()].find((s) => s.sizeKb === 2048);
  if (h === undefined) throw new Error('no 2 MiB pool');
  return h;
}

describe('checkInvariants reports a broken state', () => {
  it('a booted machine is clean', () => {
    expect(checkInvariants(boot(''))).toEqual([]);
    expect(checkInvariants(boot(' min_size=2M'))).toEqual([]);
  });

  it('reservations above free pages: a violation unless a mount holds a minimum (min_size=)', () => {
    const plain = boot('');
    const h = pool2M(plain);
    h.free -= 2; // free 0 (and two pages neither free nor in use)
    h.resv = 1;
    const report = checkInvariants(plain).join('\n');
    expect(report).toContain('hugepages-2048kB: rsvd 1 > free 0');
    expect(report).toContain('hugepages-2048kB: rsvd 1 != 0 outstanding reservations');
    expect(report).toContain('free 0 != 2 pages on the free list');

    // With a minimum, Linux itself gets there (a page freed as surplus refills
    // it: fuzz-probe-hugetlb-min-refill-surplus): only the other reports remain.
    const withMinimum = boot(' min_size=2M');
    const hm = pool2M(withMinimum);
    hm.free -= 2;
    const reportMin = checkInvariants(withMinimum).join('\n');
    expect(hm.resv).toBeGreaterThan(hm.free);
    expect(reportMin).not.toContain('> free');
    expect(reportMin).toContain('free 0 != 2 pages on the free list');
  });

  it("a file-backed VMA never linked into its file's i_mmap, or sharing its stamp", () => {
    const m = boot('');
    const image = m.mm.vmas.all().find((vma) => vma.file !== null)!;
    expect(image.iMmapSeq).toBeGreaterThan(0);
    const linked = image.iMmapSeq;
    image.iMmapSeq = 0;
    expect(checkInvariants(m).join('\n')).toContain('i_mmap stamp 0 outside 1..');
    image.iMmapSeq = linked;
    const heap = m.mm.vmas.all().find((vma) => vma.file === null)!;
    heap.file = image.file; // a second file-backed VMA with the image's stamp
    heap.iMmapSeq = linked;
    expect(checkInvariants(m).join('\n')).toContain(`i_mmap stamp ${linked} shared with another VMA`);
  });
});
