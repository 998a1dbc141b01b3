// The README's example, run: the code between the markers is the README's
// TypeScript block line for line (the imports aside: here they come from
// ../src), and it must print what the README's comments say.
import { format } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { runReplay, type Output } from '../src/index.js';
import { readmeSyncTests } from '../../../tools/test-support/readme-check.js';

describe('README.md', () => {
  it('the example runs and prints what the README says', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    try {
      // --- copied from README.md ---
      // Collect what `mmsim replay` would print (run from packages/cli).
      const lines: string[] = [];
      const io: Output = { out: (text) => lines.push(...text.split('\n')), err: (text) => lines.push(...text.split('\n')) };

      // The seed scenario: every result is "?", and the model fills it in.
      const exit = runReplay(['scenarios/seed-walkthrough.trace'], {}, io);
      console.log(exit); // 0
      console.log(lines.filter((l) => l.startsWith('mmap(')).slice(0, 3).join('\n'));
      // mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x800) = -1 EINVAL (Invalid argument)
      // mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 99, 0) = -1 EBADF (Bad file descriptor)
      // mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7ffff7ff5000

      // --check compares with the recorded results: exit 1 on a divergence, 2 on a bad file.
      lines.length = 0;
      console.log(runReplay(['scenarios/missing.trace'], { check: true }, io), lines); // 2 [ 'scenarios/missing.trace:0: cannot read: no such file' ]
      // --- end of the copy ---
      expect(log.mock.calls.map((args) => format(...args))).toEqual([
        '0',
        'mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x800) = -1 EINVAL (Invalid argument)\nmmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 99, 0) = -1 EBADF (Bad file descriptor)\nmmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7ffff7ff5000',
        '2 [ \'scenarios/missing.trace:0: cannot read: no such file\' ]',
      ]);
    } finally {
      log.mockRestore();
    }
  });

  readmeSyncTests(import.meta.url, 'const exit = runReplay([\'scenarios/seed-walkthrough.trace\'], {}, io);');
});
