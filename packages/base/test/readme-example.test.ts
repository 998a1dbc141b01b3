// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { alignUp64, errnoMessage, Errno, formatCallGraph, formatFlags, MAP, MAP_NAMES, RecordingTracer, traced, u64 } from '../src/index.js';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      // u64 arithmetic wraps as C does: PAGE_ALIGN of a length near 2^64 is 0.
      console.log(alignUp64(u64(-4095), 4096n)); // 0n
      console.log(errnoMessage(Errno.ENOMEM)); // Cannot allocate memory
      console.log(formatFlags(MAP_NAMES, MAP.PRIVATE | MAP.ANONYMOUS | MAP.HUGETLB | MAP.HUGE_2MB));
      // MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB

      // The tracer seam: modelled kernel functions report entry and exit; a
      // RecordingTracer keeps the tree, printed as ftrace's function_graph would.
      const tracer = new RecordingTracer();
      traced(tracer, 'do_mmap', () => 'len=0x2000', () =>
        traced(tracer, 'get_unmapped_area', () => 'len=0x2000', () => -Errno.ENOMEM),
      );
      console.log(formatCallGraph(tracer.take()).join('\n'));
      // do_mmap(len=0x2000) {
      //   get_unmapped_area(len=0x2000) = -ENOMEM
      // } = -ENOMEM
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        '0n',
        'Cannot allocate memory',
        'MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB',
        'do_mmap(len=0x2000) {\n  get_unmapped_area(len=0x2000) = -ENOMEM\n} = -ENOMEM',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'console.log(errnoMessage(Errno.ENOMEM)); // Cannot allocate memory');
});
