// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { AccessKind, type ArchFeatures, type PageTableFrameSource } from '../src/index.js';
import { x86_64 } from '@mmsim/arch/x86-64';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      const features: ArchFeatures = { la57: false, gbpages: true };
      const space = x86_64.addressSpace;
      console.log(x86_64.hugePageSizes(features).map((h) => `${h.level} ${1 << (h.shift - 20)} MiB`).join(', '));
      // PMD 2 MiB, PUD 1024 MiB
      console.log((BigInt(space.taskSize(features)) << 12n).toString(16)); // 7ffffffff000
      const layout = space.pickMmapLayout({ rlimitStack: 8n << 20n, legacy: false, randomize: false, features });
      console.log((BigInt(layout.mmapBase) << 12n).toString(16)); // 7ffff7fff000

      // Page-table pages come from the machine's frame allocator; here, a counter.
      let nextFrame = 0x100;
      const frames: PageTableFrameSource = { allocTableFrame: () => nextFrame++, freeTableFrame: () => {} };
      const table = x86_64.createPageTable(frames, features);

      // A private writable mapping starts without the write bit (PAGE_COPY): the first write is a COW fault.
      const vpn = 0x7ffff7ff0;
      table.map(vpn, 0x1234, 0, x86_64.protectionBits({ read: true, write: true, exec: false, shared: false }));
      console.log(x86_64.mmu.translate(table, vpn, AccessKind.READ)); // { ok: true, pfn: 4660, offsetInLeaf: 0 }
      const write = x86_64.mmu.translate(table, vpn, AccessKind.WRITE);
      console.log(write.ok ? 'mapped' : x86_64.mmu.describeErrorCode(write.errorCode)); // PROT|WRITE|USER
      console.log(x86_64.describeLeaf(table.lookup(vpn)!)); // pte 0x8000000001234025 pfn 0x1234 4K PRESENT|USER|ACCESSED|NX
      console.log(table.tablePages()); // 4: the PGD, one PUD, one PMD and one PTE table
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        'PMD 2 MiB, PUD 1024 MiB',
        '7ffffffff000',
        '7ffff7fff000',
        '{ ok: true, pfn: 4660, offsetInLeaf: 0 }',
        'PROT|WRITE|USER',
        'pte 0x8000000001234025 pfn 0x1234 4K PRESENT|USER|ACCESSED|NX',
        '4',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'console.log(x86_64.describeLeaf(table.lookup(vpn)!)); // pte 0x8000000001234025 pfn 0x1234 4K PRESENT|USER|ACCESSED|NX');
});
