// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { x86_64 } from '@mmsim/arch/x86-64';
import { formatCallGraph, MAP, PROT, RecordingTracer, u64 } from '@mmsim/base';
import { buddyAllocatorFactory, DEFAULT_KERNEL_CONFIG, MmKernel, MmStruct } from '@mmsim/mm-core';
import { FdTable, Vfs } from '@mmsim/fs';
import { maps, peek, poke, sysMmap, sysMprotect, sysMunmap, type Task } from '../src/index.js';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      // A Task is what the calls act on (`current`): an mm, a descriptor table and the machine's VFS.
      // (@mmsim/machine builds one for you: createMachine() returns a Machine, which is a Task.)
      const tracer = new RecordingTracer();
      const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 20 }), tracer);
      const vfs = new Vfs(kernel);
      const mm = new MmStruct(kernel, {
        rlimitStack: 8n << 20n,
        rlimitAs: 'unlimited',
        rlimitData: 'unlimited',
        rlimitMemlock: 8n << 20n,
        privileged: false,
      });
      vfs.mappings.add(mm);
      const task: Task = { mm, files: new FdTable(), vfs };

      // Arguments are u64 bigints, results raw: an address, or -errno.
      const RW = BigInt(PROT.READ | PROT.WRITE);
      const ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);
      const addr = sysMmap(task, 0n, 8192n, RW, ANON, -1n, 0n);
      console.log(addr.toString(16)); // 7ffff7ffd000

      // The path the call took, as ftrace's function_graph would show it (the seed article's walk).
      console.log(formatCallGraph(tracer.take()).join('\n'));
      // sys_mmap(addr=0x0, len=0x2000, prot=PROT_READ|PROT_WRITE, flags=MAP_PRIVATE|MAP_ANONYMOUS, fd=-1, off=0x0) {
      //   ksys_mmap_pgoff(addr=0x0, len=0x2000, prot=0x3, flags=0x22, fd=-1, pgoff=0x0) {
      //     vm_mmap_pgoff(file=NULL, addr=0x0, len=0x2000) {
      //       do_mmap(file=NULL, addr=0x0, len=0x2000, prot=0x3, flags=0x22, pgoff=0x0) {
      //         get_unmapped_area(addr=0x0, len=0x2000, pgoff=0x0, flags=0x22) = 0x7ffff7ffd000
      //         mmap_region(addr=0x7ffff7ffd000, len=0x2000, vm_flags=0x73, pgoff=0x7ffff7ffd) = 0x7ffff7ffd000
      //       } = 0x7ffff7ffd000
      //     } = 0x7ffff7ffd000
      //   } = 0x7ffff7ffd000
      // } = 0x7ffff7ffd000

      console.log(sysMmap(task, 0n, u64(-1), RW, ANON, -1n, 0n)); // -12n  (ENOMEM: PAGE_ALIGN wrapped to 0)
      console.log(sysMmap(task, 0n, 4096n, RW, BigInt(MAP.PRIVATE), 7n, 0n)); // -9n  (EBADF: fd 7 is not open)
      console.log(sysMunmap(task, addr + 1n, 4096n)); // -22n  (EINVAL: not page aligned)

      // What a program observes: loads and stores through the MMU, /proc/self/maps.
      console.log(poke(task, addr, 0x2a), peek(task, addr)); // { signal: null, value: 0 } { signal: null, value: 42 }
      console.log(sysMprotect(task, addr, 4096n, BigInt(PROT.READ)), poke(task, addr, 1)); // 0n { signal: 'SIGSEGV' }
      console.log(maps(task, false).map((e) => `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms}`));
      // [ '7ffff7ffd000-7ffff7ffe000 r--p', '7ffff7ffe000-7ffff7fff000 rw-p' ]
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        '7ffff7ffd000',
        'sys_mmap(addr=0x0, len=0x2000, prot=PROT_READ|PROT_WRITE, flags=MAP_PRIVATE|MAP_ANONYMOUS, fd=-1, off=0x0) {\n  ksys_mmap_pgoff(addr=0x0, len=0x2000, prot=0x3, flags=0x22, fd=-1, pgoff=0x0) {\n    vm_mmap_pgoff(file=NULL, addr=0x0, len=0x2000) {\n      do_mmap(file=NULL, addr=0x0, len=0x2000, prot=0x3, flags=0x22, pgoff=0x0) {\n        get_unmapped_area(addr=0x0, len=0x2000, pgoff=0x0, flags=0x22) = 0x7ffff7ffd000\n        mmap_region(addr=0x7ffff7ffd000, len=0x2000, vm_flags=0x73, pgoff=0x7ffff7ffd) = 0x7ffff7ffd000\n      } = 0x7ffff7ffd000\n    } = 0x7ffff7ffd000\n  } = 0x7ffff7ffd000\n} = 0x7ffff7ffd000',
        '-12n',
        '-9n',
        '-22n',
        '{ signal: null, value: 0 } { signal: null, value: 42 }',
        '0n { signal: \'SIGSEGV\' }',
        '[ \'7ffff7ffd000-7ffff7ffe000 r--p\', \'7ffff7ffe000-7ffff7fff000 rw-p\' ]',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'console.log(sysMmap(task, 0n, u64(-1), RW, ANON, -1n, 0n)); // -12n  (ENOMEM: PAGE_ALIGN wrapped to 0)');
});
