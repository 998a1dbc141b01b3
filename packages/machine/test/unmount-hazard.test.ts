// The kernel fuzzer does not record a scenario whose unmount would break the
// host's huge page pools (tools/fuzz/kernel/lib/unmount.mjs): Linux 6.18 lets a
// failed reservation take a min_size= mount's minimum, and unmounting then
// drives HugePages_Rsvd below zero. Judged on the recorded probe.
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

  it('passes a min_size= mount without a maximum: the failed reservation refills the minimum there', () => {
    const lines = text.replace('pagesize=1G size=2G min_size=1G', 'pagesize=1G min_size=1G').split('\n');
    const cut = lines.findIndex((l) => l.startsWith('hugepages(1048576kB) = total=1 free=1 rsvd=0'));
    expect(unmountHazard(lines.slice(0, cut + 1).join('\n') + '\n', probe)).toBeUndefined();
  });
});
