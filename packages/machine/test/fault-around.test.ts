// fault_around_bytes other than the default: what a write to debugfs leaves in
// fault_around_pages (mm/memory.c fault_around_bytes_set: at least a page, a
// power of two rounded down, at most 512 pages, EINVAL above), and the window
// a read fault then maps (do_fault_around: from ALIGN_DOWN(pte_off, nr), or
// the VMA's start, to nr pages on, clamped to the VMA and the PTE table).
//
// The recording host runs with kernel lockdown, which closes debugfs, so no
// golden trace varies fault_around_bytes; the expected Rss values below are
// derived by hand from those two functions for each case.
import { describe, expect, it } from 'vitest';
import { faultAroundPages } from '@mmsim/mm-core';
import { parseTrace, TraceSyntaxError, type CallStep } from '@mmsim/trace';
import { replayTrace } from '../src/index.js';

describe('fault_around_bytes_set', () => {
  it('keeps at least one page, rounds down to a power of two and stops at 512 pages', () => {
    const cases: [number, number][] = [
      [0, 1], [1, 1], [4096, 1], [8191, 1], [8192, 2], [12288, 2], [16384, 4], [65536, 16],
      [65535, 8], [1 << 20, 256], [2097152, 512], [2101247, 512],
    ];
    for (const [bytes, pages] of cases) expect([bytes, faultAroundPages(bytes)]).toEqual([bytes, pages]);
  });

  it('refuses what the kernel refuses (above 512 pages) and what is not a byte count', () => {
    expect(() => faultAroundPages(2101248)).toThrow(/EINVAL/);
    expect(() => faultAroundPages(-1)).toThrow(RangeError);
    expect(() => faultAroundPages(1.5)).toThrow(RangeError);
  });

  it('a trace header above 512 pages is an error with its line', () => {
    expect(() => parseTrace(`# mmsim-trace 1\n@config fault_around_bytes=4194304\n@maps\n@end\n`, 'f.trace')).toThrow(TraceSyntaxError);
    expect(() => parseTrace(`# mmsim-trace 1\n@config fault_around_bytes=4194304\n@maps\n@end\n`, 'f.trace')).toThrow(/f\.trace:2:.*EINVAL/);
  });
});

/**
 * A 16-page tmpfs file, all cached (written), mapped shared at a 2 MiB
 * boundary (PTE index = page index); a read at `page`, then the Rss.
 */
function rssAfterRead(faultAroundBytes: number, page: number, mapPages = 16): number {
  const text = `# mmsim-trace 1
@config fault_around_bytes=${faultAroundBytes}
@mount tmpfs /dev/shm
@fd 0 pipe O_RDONLY
@fd 1 pipe O_WRONLY
@fd 2 /dev/null O_RDWR
@maps
@end
openat(AT_FDCWD, "/dev/shm/f", O_RDWR|O_CREAT, 0600) = ?
fill(3, 0, 65536, 0x5a) = ?
mmap(0x100000000, ${mapPages * 4096}, PROT_READ, MAP_SHARED|MAP_FIXED, 3, 0) = ?
peek(${`0x${(0x100000000 + page * 4096).toString(16)}`}) = ?
rss(0x100000000) = ?
`;
  const trace = parseTrace(text, 'fault-around.trace');
  const { results } = replayTrace(trace);
  const steps = trace.body.filter((s): s is CallStep => s.kind === 'call');
  const peek = results.get(steps[3]!);
  expect(peek).toEqual({ kind: 'value', value: 0x5an });
  const rss = results.get(steps[4]!);
  if (!rss || rss.kind !== 'value') throw new Error(`rss: ${JSON.stringify(rss)}`);
  return Number(rss.value);
}

describe('do_fault_around with fault_around_pages from the setter', () => {
  it('maps the aligned window of nr pages that holds the fault, clamped to the VMA', () => {
    // nr = 16 (the default): pages 0-15, the whole VMA.
    expect(rssAfterRead(65536, 5)).toBe(64);
    // nr = 2: ALIGN_DOWN(5, 2) = 4 → pages 4 and 5.
    expect(rssAfterRead(8192, 5)).toBe(8);
    // 12288 bytes is 2 pages after rounding down, not 3 (which would map pages 3-5).
    expect(rssAfterRead(12288, 5)).toBe(8);
    // nr = 4: pages 4-7.
    expect(rssAfterRead(16384, 5)).toBe(16);
    // nr = 1 (4096, and 0 raised to a page): no fault-around, only the faulting page.
    expect(rssAfterRead(4096, 5)).toBe(4);
    expect(rssAfterRead(0, 5)).toBe(4);
    // nr = 512: clamped to the VMA's 16 pages.
    expect(rssAfterRead(2097152, 9)).toBe(64);
    // nr = 8 in a 6-page VMA: pages 0-5 (to_pte stops at the VMA's end).
    expect(rssAfterRead(32768, 1, 6)).toBe(24);
  });
});
