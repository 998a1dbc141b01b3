import { describe, expect, it } from 'vitest';
import { compareTraces, parseTrace, printTrace, type CallStep } from '../src/index.js';
import { goldenTraces } from './helpers.js';

const golden = goldenTraces();

describe('golden traces', () => {
  it('are there', () => {
    expect(golden.length).toBeGreaterThanOrEqual(50);
  });

  it.each(golden)('%s parses and prints back byte for byte', (file, text) => {
    const trace = parseTrace(text, file);
    expect(trace.header.maps.length).toBeGreaterThan(0);
    expect(trace.body.length).toBeGreaterThan(0);
    expect(printTrace(trace)).toBe(text);
    const again = parseTrace(printTrace(trace), file);
    const self = compareTraces(trace, again);
    expect(self.divergences).toEqual([]);
    expect(self.matched).toBe(self.total);
  });

  it('reads the header of seed-flags.trace', () => {
    const [, text] = golden.find(([f]) => f === 'seed-flags.trace')!;
    const { header, headerComments, body } = parseTrace(text, 'seed-flags.trace');
    expect(header.kernel).toEqual({ release: '6.18.44-fc-v669', arch: 'x86_64' });
    expect(header.config.mem_total_kb).toBe(24684084);
    expect(header.config.rlimit_as).toBe('unlimited');
    expect(header.config.rlimit_stack).toBe(8388608n);
    expect(header.config.thp).toBe('madvise');
    expect(header.rawConfig).toHaveLength(23);
    expect(header.mounts.map((m) => [m.fstype, m.path, m.options.get('pagesize')])).toEqual([
      ['tmpfs', '/dev/shm/mmsim', undefined],
      ['hugetlbfs', '/mnt/mmsim-huge', '2M'],
      ['hugetlbfs', '/mnt/mmsim-huge1g', '1G'],
    ]);
    expect(header.fds).toEqual([
      { fd: 0, target: 'pipe', flags: 'O_RDONLY' },
      { fd: 1, target: 'pipe', flags: 'O_WRONLY' },
      { fd: 2, target: '/dev/null', flags: 'O_RDWR' },
    ]);
    expect(header.brk).toEqual({ start: 0x9c0000n, cur: 0x9e2000n });
    expect(header.maps[0]).toEqual({
      start: 0x400000n, end: 0x401000n, perms: 'r--p', offset: 0n, dev: '00:00', inode: 1n,
      name: '/usr/local/bin/mmsim-rec',
    });
    expect(header.maps[5]!.name).toBe('');
    expect(headerComments[0]).toMatch(/^The seed's last step/);
    const first = body[0] as CallStep;
    expect(first.call).toBe('mmap');
    expect(first.pos.line).toBe(30);
    expect(first.args.map((a) => a.value)).toEqual([0n, 4096n, 3n, 0x1822n, 2n ** 64n - 1n, 0n]);
    expect(first.result).toEqual({ kind: 'value', value: 0x7ffff7ff6000n });
    const comment = body.find((b) => b.kind === 'comment');
    expect(comment).toMatchObject({ text: 'the x86-64 entry rejects an offset that is not page aligned, before anything else' });
  });
});
