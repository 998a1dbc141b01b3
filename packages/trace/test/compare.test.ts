import { describe, expect, it } from 'vitest';
import {
  compareResults,
  compareTraces,
  mapsEqual,
  parseTrace,
  resultsEqual,
  withTmpfileInode,
  type MapsLine,
  type TraceResult,
  type TraceStep,
} from '../src/index.js';
import { goldenTraces } from './helpers.js';

const [file, golden] = goldenTraces().find(([f]) => f === 'seed-flags.trace')!;
const expected = parseTrace(golden, file);
const lines = golden.split('\n');
/** The golden text with line `n` (1-based) replaced. */
const edit = (n: number, f: (l: string) => string): string => lines.map((l, i) => (i === n - 1 ? f(l) : l)).join('\n');
const lineOf = (prefix: string): number => lines.findIndex((l) => l.startsWith(prefix)) + 1;

describe('compareTraces', () => {
  it('a trace agrees with itself', () => {
    const c = compareTraces(expected, parseTrace(golden, file));
    const steps = expected.body.filter((b) => b.kind !== 'comment').length;
    expect(c).toEqual({ matched: steps, total: steps, divergences: [] });
  });

  it('ignores errno messages, dev/inode columns and alignment', () => {
    const n = lineOf('mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x800)');
    const maps = lines.lastIndexOf('@maps') + 2;
    let text = edit(n, (l) => l.replace('(Invalid argument)', '(something else)'));
    text = text
      .split('\n')
      .map((l, i) => (i === maps - 1 ? l.replace(/ 00:00 1 +/, ' fe:01 99 ') : l))
      .join('\n');
    expect(compareTraces(expected, parseTrace(text, 'actual')).divergences).toEqual([]);
  });

  it('detects a changed result', () => {
    const n = lineOf('peek(0x7ffff7ff1000)');
    const actual = parseTrace(edit(n, (l) => l.replace('= 0xc3', '= SIGSEGV')), 'actual');
    const c = compareTraces(expected, actual);
    expect(c.total - c.matched).toBe(1);
    expect(c.divergences).toEqual([
      expect.objectContaining({
        kind: 'result', pos: { file, line: n }, step: 'peek(0x7ffff7ff1000)', expected: '0xc3', actual: 'SIGSEGV',
      }),
    ]);
    const errno = parseTrace(edit(lineOf('mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0x800)'), (l) => l.replace('EINVAL (Invalid argument)', 'ENOMEM')), 'a');
    expect(compareTraces(expected, errno).divergences[0]).toMatchObject({
      expected: '-1 EINVAL (Invalid argument)',
      actual: '-1 ENOMEM (Cannot allocate memory)',
    });
  });

  it('detects a changed maps line', () => {
    const maps = lines.lastIndexOf('@maps') + 1;
    const n = lines.findIndex((l, i) => i >= maps && l.includes('/dev/shm/mmsim/lib')) + 1;
    const actual = parseTrace(edit(n, (l) => l.replace('r--p', 'rw-p')), 'actual');
    const c = compareTraces(expected, actual);
    expect(c.divergences).toHaveLength(1);
    expect(c.divergences[0]).toEqual({
      kind: 'maps',
      index: expect.any(Number),
      pos: { file, line: maps },
      step: '@maps',
      expected: '-7ffff7fed000-7ffff7ff1000 r--p 00004000 /dev/shm/mmsim/lib',
      actual: '+7ffff7fed000-7ffff7ff1000 rw-p 00004000 /dev/shm/mmsim/lib',
    });
  });

  it('counts ? results, changed arguments, missing and extra steps', () => {
    const n = lineOf('rss(');
    const unknown = compareTraces(expected, parseTrace(edit(n, (l) => l.replace(/= \d+$/, '= ?')), 'a'));
    expect(unknown.divergences).toEqual([expect.objectContaining({ kind: 'result', actual: '?' })]);
    const args = compareTraces(expected, parseTrace(edit(n, (l) => l.replace('rss(0x7ffff7fed000)', 'rss(0x7ffff7fee000)')), 'a'));
    expect(args.divergences).toEqual([expect.objectContaining({ kind: 'call', actual: 'rss(0x7ffff7fee000) = 16' })]);
    const spelled = compareTraces(expected, parseTrace(golden.replace('MAP_PRIVATE|MAP_ANONYMOUS, -1', '0x22, -1'), 'a'));
    expect(spelled.divergences).toEqual([]);
    const truncated = parseTrace(lines.slice(0, n - 1).join('\n') + '\n', 'a');
    const missing = compareTraces(expected, truncated);
    expect(missing.divergences.map((d) => d.kind)).toEqual(['missing', 'missing']);
    expect(missing.total).toBe(missing.matched + 2);
    const extra = compareTraces(truncated, expected);
    expect(extra.divergences.map((d) => d.kind)).toEqual(['extra', 'extra']);
    expect(extra.divergences[0]!.pos).toEqual({ file, line: n });
  });
});

describe('compareResults', () => {
  it('compares a replay result map with the trace it ran', () => {
    const steps = expected.body.filter((b): b is TraceStep => b.kind !== 'comment');
    const results = new Map<TraceStep, TraceResult | readonly MapsLine[]>(
      steps.map((s) => [s, s.kind === 'maps' ? s.lines : s.result]),
    );
    expect(compareResults(expected, results)).toEqual({ matched: steps.length, total: steps.length, divergences: [] });
    results.set(steps[0]!, { kind: 'error', errno: 'ENOMEM', message: undefined });
    results.delete(steps[1]!);
    results.delete(steps[steps.length - 1]!);
    const c = compareResults(expected, results);
    expect(c.matched).toBe(steps.length - 3);
    expect(c.divergences.map((d) => [d.kind, d.actual])).toEqual([
      ['result', '-1 ENOMEM (Cannot allocate memory)'],
      ['result', '?'],
      ['maps', '(not produced)'],
    ]);
  });
});

describe('resultsEqual and mapsEqual', () => {
  it('follow the comparison rules', () => {
    expect(resultsEqual({ kind: 'error', errno: 'EINVAL', message: 'a' }, { kind: 'error', errno: 'EINVAL', message: undefined })).toBe(true);
    expect(resultsEqual({ kind: 'value', value: 1n }, { kind: 'value', value: 2n })).toBe(false);
    expect(resultsEqual({ kind: 'unknown' }, { kind: 'unknown' })).toBe(false);
    expect(resultsEqual({ kind: 'eof' }, { kind: 'eof' })).toBe(true);
    const h = { kind: 'hugepages', total: 1n, free: 1n, rsvd: 0n, surp: 0n } as const;
    expect(resultsEqual(h, { ...h, rsvd: 1n })).toBe(false);
    const l: MapsLine = { start: 0n, end: 1n, perms: 'r--p', offset: 0n, dev: '00:00', inode: 0n, name: '' };
    expect(mapsEqual([l], [{ ...l, dev: 'fe:00', inode: 7n }])).toBe(true);
    expect(mapsEqual([l], [{ ...l, name: '[heap]' }])).toBe(false);
    expect(mapsEqual([l], [])).toBe(false);
  });

  it("ignore the inode number in an O_TMPFILE file's name as they ignore the inode column", () => {
    const t: MapsLine = { start: 0n, end: 1n, perms: 'rw-s', offset: 0n, dev: '00:00', inode: 3n, name: '/dev/shm/x/#3 (deleted)' };
    expect(mapsEqual([t], [{ ...t, inode: 3568n, name: '/dev/shm/x/#3568 (deleted)' }])).toBe(true);
    // Only the line's own inode number is the file's: another number, or another directory, is a different name.
    expect(mapsEqual([t], [{ ...t, inode: 3568n, name: '/dev/shm/x/#3567 (deleted)' }])).toBe(false);
    expect(mapsEqual([t], [{ ...t, inode: 3568n, name: '/dev/shm/y/#3568 (deleted)' }])).toBe(false);
    expect(mapsEqual([{ ...t, name: '/dev/shm/x/#3' }], [{ ...t, inode: 4n, name: '/dev/shm/x/#4' }])).toBe(false);
    expect(withTmpfileInode(t, 9n)).toBe('/dev/shm/x/#9 (deleted)');
    expect(withTmpfileInode({ inode: 0n, name: '/#0 (deleted)' }, 9n)).toBe('/#0 (deleted)');
  });
});
