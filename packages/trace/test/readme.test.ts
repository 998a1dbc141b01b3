import { describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { compareTraces, parseTrace, printTrace, type TraceResult, type TraceStep } from '../src/index.js';

describe('README', () => {
  it('runs the usage example', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => undefined);
    // --- copied from README.md "Usage" ---
    const golden = parseTrace(
      [
        '# mmsim-trace 1',
        '@config page_size=4096',
        '@maps',
        '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
        '@end',
        'mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff4000',
        'peek(0x7ffff7ff4000) = 0x0',
        '',
      ].join('\n'),
      'example.trace',
    );

    // A replay's results, keyed by the steps it ran, printed as a trace.
    const [mmap, peek] = golden.body as TraceStep[];
    const results = new Map<TraceStep, TraceResult>([
      [mmap!, { kind: 'value', value: 0x7ffff7ff4000n }],
      [peek!, { kind: 'signal', signal: 'SIGSEGV' }],
    ]);
    const replayed = printTrace(golden, results);

    // Judge the replay against the golden trace.
    const { matched, total, divergences } = compareTraces(golden, parseTrace(replayed, 'replay.trace'));
    console.log(`${matched}/${total} steps agree`); // 1/2 steps agree
    for (const d of divergences) {
      console.log(`${d.pos.file}:${d.pos.line}: ${d.step}: expected ${d.expected}, got ${d.actual}`);
      // example.trace:7: peek(0x7ffff7ff4000): expected 0x0, got SIGSEGV
    }
    // --- end of the copy ---
    expect(log.mock.calls).toEqual([
      ['1/2 steps agree'],
      ['example.trace:7: peek(0x7ffff7ff4000): expected 0x0, got SIGSEGV'],
    ]);
    log.mockRestore();
  });

  it('the copy above matches README.md', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)![1]!;
    const self = readFileSync(new URL(import.meta.url), 'utf8');
    const copy = /--- copied from README.md "Usage" ---\n([\s\S]*?)\n\s*\/\/ --- end of the copy ---/.exec(self)![1]!;
    const normalize = (s: string): string[] =>
      s.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('import '));
    expect(normalize(copy)).toEqual(normalize(example));
  });
});
