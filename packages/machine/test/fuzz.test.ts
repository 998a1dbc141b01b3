// A short run of the system-call fuzzer (tools/fuzz): random 64-bit arguments
// biased to edge values on every entry, with checkInvariants after each call.
// `npm run fuzz -- --calls N --seed S` runs longer ones over the built packages.
import { describe, expect, it } from 'vitest';
// @ts-expect-error — plain JavaScript shared with the command-line fuzzer
import { runFuzz } from '../../../tools/fuzz/fuzz-core.mjs';

interface FuzzResult {
  executed: number;
  failures: Array<{ call: number; message: string }>;
  stats: Record<string, number>;
}

describe('system-call fuzzer', () => {
  it('20,000 random calls: no exception, every result plausible, every invariant holds, nothing leaks', () => {
    const res = runFuzz({ seed: 20261126, calls: 20_000, stopOnFailure: false, maxFailures: 5 }) as FuzzResult;
    expect(res.failures.map((f) => f.message)).toEqual([]);
    expect(res.executed).toBe(20_000);
    // Every entry was driven.
    for (const call of ['sys_mmap', 'mmap_pgoff', 'munmap', 'mprotect', 'mremap', 'madvise', 'brk', 'mlock', 'munlock', 'openat', 'close', 'dup', 'unlinkat', 'ftruncate', 'fill', 'fpeek', 'peek', 'poke', 'rss', 'hugepages', 'maps']) {
      expect(Object.keys(res.stats).some((k) => k === call || (call === 'sys_mmap' && k === 'mmap')), call).toBe(true);
    }
  });
});
