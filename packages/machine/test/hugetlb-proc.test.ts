// The huge page counters as Linux renders them (/proc/meminfo, sysfs) and the
// nr_hugepages sysctl as a file (fpeek/fill), including shrinking a pool whose
// pages are in use (they become surplus) and growing it back.
import { describe, expect, it } from 'vitest';
import { createMachine } from '@mmsim/machine';
import { hugetlbMeminfo, hugepagesSysfs } from '@mmsim/fs';
import { sysFill, sysFpeek, sysMmap, sysMunmap, sysOpenat, poke } from '@mmsim/syscalls';
import { MAP, O, PROT } from '@mmsim/base';

function machineWithPool(pages: number, overcommit = 0) {
  const m = createMachine({ config: { memTotalKb: 1024 * 1024 } });
  const h = m.vfs.hugetlb.hstateForKb(2048)!;
  h.overcommit = overcommit;
  h.setMaxHugePages(pages);
  return { m, h };
}

describe('hugetlb counters as files', () => {
  it('renders /proc/meminfo lines exactly', () => {
    const { m } = machineWithPool(4);
    expect(hugetlbMeminfo(m.vfs.hugetlb)).toBe(
      'HugePages_Total:       4\n' +
        'HugePages_Free:        4\n' +
        'HugePages_Rsvd:        0\n' +
        'HugePages_Surp:        0\n' +
        'Hugepagesize:       2048 kB\n' +
        'Hugetlb:            8192 kB\n',
    );
  });

  it('resizes the pool through /proc/sys/vm/nr_hugepages; pages in use become surplus', () => {
    const { m, h } = machineWithPool(2, 4);
    const flags = BigInt(MAP.SHARED | MAP.ANONYMOUS | MAP.HUGETLB | MAP.FIXED);
    const rw = BigInt(PROT.READ | PROT.WRITE);
    expect(sysMmap(m, 0x100000000n, 0x400000n, rw, flags, -1n, 0n)).toBe(0x100000000n);
    expect(poke(m, 0x100000000n, 1).signal).toBeNull();
    expect(poke(m, 0x100200000n, 2).signal).toBeNull();
    const fd = sysOpenat(m, -100n, '/proc/sys/vm/nr_hugepages', BigInt(O.RDWR), 0n);
    expect(fd).toBeGreaterThanOrEqual(0n);
    expect(sysFpeek(m, fd, 0n)).toBe(0x32n); // "2"
    expect(sysFill(m, fd, 0n, 1n, 0x30n)).toBe(1n); // write "0"
    expect(hugepagesSysfs(h)).toMatchObject({ nr_hugepages: 2, free_hugepages: 0, surplus_hugepages: 2 });
    expect(sysFpeek(m, fd, 0n)).toBe(0x30n);
    expect(sysMunmap(m, 0x100000000n, 0x400000n)).toBe(0n);
    // The surplus pages went back to the kernel as they were freed.
    expect(hugepagesSysfs(h)).toMatchObject({ nr_hugepages: 0, free_hugepages: 0, resv_hugepages: 0, surplus_hugepages: 0 });
    expect(sysFill(m, fd, 0n, 1n, 0x78n)).toBe(-22n); // "x" is not a number
  });
});
