// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { x86_64 } from '@mmsim/arch/x86-64';
import { Errno, errnoName, MAP, NOOP_TRACER, O, PROT } from '@mmsim/base';
import { buddyAllocatorFactory, DEFAULT_KERNEL_CONFIG, doMmap, MmKernel, MmStruct, procMaps, userAccess } from '@mmsim/mm-core';
import { FdTable, Vfs, type OpenFile } from '../src/index.js';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 20 }), NOOP_TRACER);
      const vfs = new Vfs(kernel); // tmpfs and hugetlbfs are built in, and /dev/zero, /dev/null, ...
      vfs.mount('tmpfs', '/dev/shm', new Map());
      vfs.mount('hugetlbfs', '/mnt/huge', new Map([['pagesize', '2M']]));
      const files = new FdTable();

      const file = vfs.open('/dev/shm/data', O.RDWR | O.CREAT);
      if (typeof file === 'number') throw new Error(errnoName(-file));
      const fd = files.install(file);
      console.log(fd, vfs.fill(files, fd, 0n, 5000n, 0x61)); // 0 5000n
      console.log(vfs.fpeek(files, fd, 4999n), vfs.fpeek(files, fd, 5000n)); // 97 EOF
      console.log(vfs.open('/dev/shm/missing', O.RDONLY) === -Errno.ENOENT); // true

      // An OpenFile is mm-core's VmFile: map it and read its page cache through the MMU.
      const mm = new MmStruct(kernel, {
        rlimitStack: 8n << 20n,
        rlimitAs: 'unlimited',
        rlimitData: 'unlimited',
        rlimitMemlock: 8n << 20n,
        privileged: false,
      });
      vfs.mappings.add(mm);
      const addr = BigInt(doMmap(mm, file, 0n, 3n * 4096n, PROT.READ, MAP.SHARED, 0n).result) << 12n;
      console.log(userAccess(mm, addr + 4999n)); // { signal: null, value: 97 }
      console.log(userAccess(mm, addr + 8192n)); // { signal: 'SIGBUS' }  (past the end of the file)
      console.log(procMaps(mm)[0]!.name); // /dev/shm/data

      // hugetlbfs: a shared mapping reserves a page of the pool; the first touch takes it.
      const pool = vfs.hugetlb.hstateForKb(2048)!;
      pool.setMaxHugePages(2);
      const huge = vfs.open('/mnt/huge/h', O.RDWR | O.CREAT) as OpenFile;
      const hugeAddr = BigInt(doMmap(mm, huge, 0n, 2n << 20n, PROT.READ | PROT.WRITE, MAP.SHARED, 0n).result) << 12n;
      console.log(pool.total, pool.free, pool.resv); // 2 2 1
      console.log(userAccess(mm, hugeAddr, 1), pool.free, pool.resv); // { signal: null, value: 0 } 1 0
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        '0 5000n',
        '97 EOF',
        'true',
        '{ signal: null, value: 97 }',
        '{ signal: \'SIGBUS\' }',
        '/dev/shm/data',
        '2 2 1',
        '{ signal: null, value: 0 } 1 0',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'const vfs = new Vfs(kernel); // tmpfs and hugetlbfs are built in, and /dev/zero, /dev/null, ...');
});
