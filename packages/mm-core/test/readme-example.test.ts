// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { x86_64 } from '@mmsim/arch/x86-64';
import { MAP, NOOP_TRACER, PROT } from '@mmsim/base';
import { bitmapAllocatorFactory, DEFAULT_KERNEL_CONFIG, doMmap, formatVmFlags, MmKernel, MmStruct, procMaps, userAccess, vmaRssKb } from '../src/index.js';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      // One machine's mm state over an architecture and a frame allocator (4 GiB of RAM)...
      const frames = bitmapAllocatorFactory({ totalFrames: 1 << 20 });
      const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, frames, NOOP_TRACER);
      // ...and one process's address space.
      const mm = new MmStruct(kernel, {
        rlimitStack: 8n << 20n,
        rlimitAs: 'unlimited',
        rlimitData: 'unlimited',
        rlimitMemlock: 8n << 20n,
        privileged: false,
      });

      // do_mmap works in pages: the result is a vpn (or -errno).
      const { result } = doMmap(mm, null, 0n, 0x3000n, PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP.ANONYMOUS, 0n);
      const addr = BigInt(result) << 12n;
      console.log(addr.toString(16)); // 7ffff7ffc000
      const [vma] = mm.vmas.all();
      console.log(formatVmFlags(vma!.flags)); // rd wr mr mw me ac

      // Loads and stores go through the MMU; a miss enters the fault handler.
      console.log(userAccess(mm, addr + 0x1000n)); // { signal: null, value: 0 }  (the zero page)
      console.log(userAccess(mm, addr + 0x1000n, 0x2a)); // { signal: null, value: 0 }  (COW: a page of its own)
      console.log(userAccess(mm, addr + 0x1000n)); // { signal: null, value: 42 }
      console.log(userAccess(mm, addr + 0x3000n)); // { signal: 'SIGSEGV' }
      console.log(vmaRssKb(mm, vma!), kernel.committedAs, kernel.phys.storedFrames); // 4 3 1
      console.log(procMaps(mm).map((e) => `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms}`)); // [ '7ffff7ffc000-7ffff7fff000 rw-p' ]
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        '7ffff7ffc000',
        'rd wr mr mw me ac ',
        '{ signal: null, value: 0 }',
        '{ signal: null, value: 0 }',
        '{ signal: null, value: 42 }',
        '{ signal: \'SIGSEGV\' }',
        '4 3 1',
        '[ \'7ffff7ffc000-7ffff7fff000 rw-p\' ]',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'console.log(userAccess(mm, addr + 0x1000n)); // { signal: null, value: 42 }');
});
