// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { MAP, PROT, type TraceNode } from '@mmsim/base';
import { createMachine, replayTrace } from '../src/index.js';
import { bitmapAllocatorFactory } from '@mmsim/mm-core';
import { peek, poke, sysMmap } from '@mmsim/syscalls';
import { compareResults, parseTrace, type TraceStep } from '@mmsim/trace';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      // A machine with defaults (x86-64, the buddy allocator, 16 GiB) for whatever you leave out.
      const m = createMachine({ config: { memTotalKb: 1 << 20 }, frameAllocator: bitmapAllocatorFactory });
      console.log(m.arch.name, m.frames.name, m.frames.totalFrames); // x86_64 bitmap 262144
      const addr = sysMmap(m, 0n, 4096n, BigInt(PROT.READ | PROT.WRITE), BigInt(MAP.PRIVATE | MAP.ANONYMOUS), -1n, 0n);
      console.log(addr.toString(16), poke(m, addr, 7), peek(m, addr)); // 7ffff7ffe000 { signal: null, value: 0 } { signal: null, value: 7 }

      // Replaying a trace: its header boots a fresh machine, each step runs on it.
      const trace = parseTrace(
        [
          '# mmsim-trace 1',
          '@config hugepages_2048kB=2',
          '@maps',
          '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
          '@end',
          'mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB, -1, 0) = 0x7ffff7c00000',
          'hugepages(2048kB) = total=2 free=2 rsvd=1 surp=0',
          'poke(0x7ffff7c00000, 0x1) = 0',
          'hugepages(2048kB) = total=2 free=1 rsvd=0 surp=0',
          'peek(0x7ffff7e00000) = SIGSEGV',
          '',
        ].join('\n'),
        'example.trace',
      );
      const replay = replayTrace(trace, { explain: true });
      const { matched, total } = compareResults(trace, replay.results);
      console.log(`${matched} of ${total} steps match`); // 5 of 5 steps match

      // With `explain`, each call step's path through the modelled kernel functions
      // (formatGraph prints it with arguments and results, as ftrace's function_graph).
      const mmapStep = trace.body.find((s) => s.kind === 'call' && s.call === 'mmap') as TraceStep;
      const names = (nodes: readonly TraceNode[], pad = ''): string[] => nodes.flatMap((n) => [pad + n.fn, ...names(n.children, pad + '  ')]);
      console.log(names(replay.graphs.get(mmapStep)!).join('\n'));
      // sys_mmap
      //   ksys_mmap_pgoff
      //     hugetlb_file_setup
      //     vm_mmap_pgoff
      //       do_mmap
      //         get_unmapped_area
      //           hugetlb_get_unmapped_area
      //         mmap_region
      //           hugetlbfs_file_mmap
      //             hugetlb_reserve_pages
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        'x86_64 bitmap 262144',
        '7ffff7ffe000 { signal: null, value: 0 } { signal: null, value: 7 }',
        '5 of 5 steps match',
        'sys_mmap\n  ksys_mmap_pgoff\n    hugetlb_file_setup\n    vm_mmap_pgoff\n      do_mmap\n        get_unmapped_area\n          hugetlb_get_unmapped_area\n        mmap_region\n          hugetlbfs_file_mmap\n            hugetlb_reserve_pages',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'console.log(`${matched} of ${total} steps match`); // 5 of 5 steps match');
});
