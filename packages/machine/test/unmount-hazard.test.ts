// The kernel fuzzer does not record a scenario whose end would break the
// host's huge page pools (tools/fuzz/kernel/lib/unmount.mjs): Linux 6.18 lets a
// failed reservation take a min_size= mount's minimum, and unmounting then
// drives HugePages_Rsvd below zero (judged on the recorded probe); and it
// leaks the reservation of the part of a private hugetlb mapping that mremap
// leaves behind.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
// @ts-expect-error — plain JavaScript shared with the kernel fuzzer
import { unmountHazard } from '../../../tools/fuzz/kernel/lib/unmount.mjs';

const probe = fileURLToPath(new URL('../../../conformance/fuzz/fuzz-probe-hugetlb-min-reserve-fail.trace', import.meta.url));
const text = readFileSync(probe, 'utf8');

describe('unmountHazard', () => {
  it('passes the recorded probe, which ends with the minimum whole again', () => {
    expect(unmountHazard(text, probe)).toBeUndefined();
  });

  it('stops the same scenario cut right after the failed reservation: the unmount would underflow the pool', () => {
    const lines = text.split('\n');
    const cut = lines.findIndex((l) => l.startsWith('hugepages(1048576kB) = total=1 free=1 rsvd=0'));
    expect(cut).toBeGreaterThan(0);
    expect(unmountHazard(lines.slice(0, cut + 1).join('\n') + '\n', probe)).toMatch(/1048576kB pool below zero/);
  });

  it('stops a scenario that moves part of a private hugetlb mapping: Linux leaks that reservation', () => {
    const leak = `# mmsim-trace 1
@config hugepages_2048kB=2
@fd 0 pipe O_RDONLY
@fd 1 pipe O_WRONLY
@fd 2 /dev/null O_RDWR
@maps
@end
mmap(0x100000000, 4194304, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_FIXED, -1, 0) = ?
mremap(0x100000000, 2097152, 2097152, MREMAP_MAYMOVE|MREMAP_FIXED, 0x100800000) = ?
`;
    expect(unmountHazard(leak, 'leak.trace')).toMatch(/leave 1 reservation\(s\) of the 2048kB pool held for good \(leaked by the kernel/);
    // Moving the whole mapping leaks nothing.
    expect(unmountHazard(leak.replace('mremap(0x100000000, 2097152, 2097152', 'mremap(0x100000000, 4194304, 4194304'), 'whole.trace')).toBeUndefined();
  });

  it('passes a min_size= mount without a maximum: the failed reservation refills the minimum there', () => {
    const lines = text.replace('pagesize=1G size=2G min_size=1G', 'pagesize=1G min_size=1G').split('\n');
    const cut = lines.findIndex((l) => l.startsWith('hugepages(1048576kB) = total=1 free=1 rsvd=0'));
    expect(unmountHazard(lines.slice(0, cut + 1).join('\n') + '\n', probe)).toBeUndefined();
  });
});
