import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReplay } from '@mmsim/cli';
import { replayTrace } from '@mmsim/machine';
import { formatMapsLine, printTrace, type MapsLine } from '@mmsim/trace';
import { ExplorerSession, LoadError, parseAddress, formatSize } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const walkthrough = `${root}packages/cli/scenarios/seed-walkthrough.trace`;
const conformance = `${root}conformance/given/`;
const seeds = ['seed-file-mapping', 'seed-anon-hugetlb', 'seed-anon-hugetlb-1g', 'seed-flags'].map((n) => `${conformance}${n}.trace`);

/** What `mmsim replay --explain FILE` prints, as lines. */
function cliExplain(file: string): string[] {
  let out = '';
  const code = runReplay([file], { explain: true }, { out: (t) => (out += t + '\n'), err: (t) => (out += t + '\n') });
  expect(code).toBe(0);
  return out.replace(/\n$/, '').split('\n');
}

describe('ExplorerSession', () => {
  for (const file of [walkthrough, ...seeds]) {
    it(`shows every step of ${file.split('/').pop()} as mmsim replay --explain prints it`, () => {
      const text = readFileSync(file, 'utf8');
      const session = ExplorerSession.load(text, file);
      const replay = replayTrace(session.trace);
      // Rebuild the whole `mmsim replay --explain` output from what the page shows for each step.
      const rebuilt = printTrace({ ...session.trace, body: [] }).replace(/\n$/, '').split('\n');
      let position = 0;
      for (const item of session.trace.body) {
        if (item.kind === 'comment') {
          rebuilt.push(`# ${item.text}`);
          continue;
        }
        const view = session.view(++position);
        expect(view.entry!.step).toBe(item);
        rebuilt.push(...view.explain);
        if (item.kind === 'maps') {
          // The maps shown at a @maps step are that step's replay result, byte for byte.
          const lines = replay.results.get(item) as MapsLine[];
          expect(view.mapsText).toBe(lines.map(formatMapsLine).join('\n'));
        }
      }
      expect(rebuilt.join('\n')).toBe(cliExplain(file).join('\n'));
      expect(session.recorded === 0 || session.matched === session.recorded).toBe(true);
    });
  }

  it('walks the page tables of a faulted-in 4 KiB page through all four levels', () => {
    const session = ExplorerSession.load(readFileSync(walkthrough, 'utf8'), walkthrough);
    const view = session.view(session.steps.length);
    const data = view.regions.find((r) => r.name === '/dev/shm/mmsim/data')!;
    expect(data.kind).toBe('file');
    const walk = ExplorerSession.walk(view, data.start);
    expect(walk.steps.map((s) => s.level)).toEqual(['PGD', 'PUD', 'PMD', 'PTE']);
    expect(walk.steps.map((s) => s.kind)).toEqual(['table', 'table', 'table', 'leaf']);
    expect(walk.steps[3]!.flags).toContain('PRESENT');
    expect(walk.physical).toBeDefined();
    const huge = view.regions.find((r) => r.kind === 'hugetlb' && r.rssKb === 0 && r.name.startsWith('/anon_hugepage'))!;
    const hugeWalk = ExplorerSession.walk(view, huge.start);
    expect(hugeWalk.steps.map((s) => s.kind)).toEqual(['table', 'table', 'leaf', 'unreached']);
    expect(hugeWalk.steps[2]!.flags).toContain('PSE');
  });

  it('lays the address space out from 0 to TASK_SIZE with every gap', () => {
    const session = ExplorerSession.load(readFileSync(walkthrough, 'utf8'), walkthrough);
    const view = session.view(session.steps.length);
    let at = 0n;
    for (const s of view.segments) {
      if (s.type === 'limit') {
        expect(s.at).toBe(view.taskSize);
        continue;
      }
      const start = s.type === 'gap' ? s.start : s.region.start;
      const end = s.type === 'gap' ? s.end : s.region.end;
      if (start < view.taskSize) expect(start).toBe(at);
      at = end;
    }
    expect(view.segments.filter((s) => s.type === 'vma')).toHaveLength(view.maps.length);
    expect(view.regions.at(-1)!.name).toBe('[vsyscall]');
    expect(view.regions.map((r) => r.kind)).toContain('special');
    expect(view.pools.find((p) => p.sizeKb === 2048)).toMatchObject({ total: 4 });
  });

  it('runs typed steps from the header of the scenario in view, with line numbers of the typed text', () => {
    const base = ExplorerSession.load(readFileSync(walkthrough, 'utf8'), walkthrough).trace;
    const typed = ExplorerSession.load('# two steps\nmmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ?\npoke(0x7ffff7ff5000, 1) = 0\n', 'typed', base);
    expect(typed.steps).toHaveLength(2);
    expect(typed.steps.map((s) => s.line)).toEqual([2, 3]);
    expect(typed.steps[0]!.modelResult).toBe('0x7ffff7ff5000');
    expect(typed.steps[0]!.verdict).toBe('unrecorded');
    expect(typed.steps[1]!.verdict).toBe('match');
    const wrong = ExplorerSession.load('poke(0x7ffff7ff5000, 1) = 0\n', 'typed', base);
    expect(wrong.steps[0]!.verdict).toBe('diverge');
    expect(wrong.steps[0]!.modelResult).toBe('SIGSEGV');
    expect(() => ExplorerSession.load('mmap(NULL)\nfoo(1) = 0\n', 'typed', base)).toThrow(LoadError);
    try {
      ExplorerSession.load('\nmunmap(0x1000, 4096) = 0\nfoo(1) = 0\n', 'typed', base);
    } catch (e) {
      expect((e as LoadError).line).toBe(3);
      expect((e as LoadError).message).toMatch(/^typed:3: /);
    }
  });

  it('formats and parses numbers', () => {
    expect(parseAddress(' 0x7fff_f7ff_5000 ')).toBe(0x7ffff7ff5000n);
    expect(parseAddress('7ffff7ff5000')).toBe(0x7ffff7ff5000n);
    expect(parseAddress('xyz')).toBeUndefined();
    expect(formatSize(4096n)).toBe('4 KiB');
    expect(formatSize(2n << 20n)).toBe('2 MiB');
    expect(formatSize(0x7ffffffff000n)).toBe('128 TiB');
  });
});
