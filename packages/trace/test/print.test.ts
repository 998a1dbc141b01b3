import { describe, expect, it } from 'vitest';
import {
  formatArgs,
  formatMapsLine,
  formatResult,
  formatStep,
  parseTrace,
  printTrace,
  type CallStep,
  type MapsLine,
  type MapsStep,
  type TraceResult,
  type TraceStep,
} from '../src/index.js';

const line = (over: Partial<MapsLine>): MapsLine => ({
  start: 0x400000n, end: 0x401000n, perms: 'r--p', offset: 0n, dev: '00:00', inode: 0n, name: '', ...over,
});

describe('formatMapsLine', () => {
  it('pads the name to column 73 and zero-pads hex to 8 digits', () => {
    const text = formatMapsLine(line({ name: '[heap]', inode: 1n }));
    expect(text).toBe('00400000-00401000 r--p 00000000 00:00 1' + ' '.repeat(34) + '[heap]');
    expect(text.indexOf('[heap]')).toBe(73);
    const wide = formatMapsLine(line({ start: 0xffffffffff600000n, end: 0xffffffffff601000n, perms: '--xp', name: '[vsyscall]' }));
    expect(wide.indexOf('[vsyscall]')).toBe(73);
  });

  it('ends a nameless line with one space after the inode', () => {
    expect(formatMapsLine(line({ perms: 'rw-p' }))).toBe('00400000-00401000 rw-p 00000000 00:00 0 ');
  });

  it('puts one space before the name when the prefix is already 72 characters or more', () => {
    const long = line({
      start: 0x7ffff7ff5000n, end: 0x7ffff7ff7000n, offset: 0xfffffffffffff000n, dev: 'fe:00',
      inode: 18446744073709551615n, name: '/x',
    });
    const text = formatMapsLine(long);
    expect(text).toBe('7ffff7ff5000-7ffff7ff7000 r--p fffffffffffff000 fe:00 18446744073709551615 /x');
    const exactly72 = line({ offset: 0xfffffffffffff000n, inode: 10n ** 19n, dev: '0000:000000' });
    const prefix = formatMapsLine({ ...exactly72, name: '' }).trimEnd();
    expect(prefix.length).toBe(72);
    expect(formatMapsLine({ ...exactly72, name: '/y' })).toBe(prefix + ' /y');
  });
});

describe('formatResult', () => {
  it('spells each result as strace does', () => {
    const v = (value: bigint): TraceResult => ({ kind: 'value', value });
    expect(formatResult('mmap', v(0x7ffff7ff4000n))).toBe('0x7ffff7ff4000');
    expect(formatResult('mmap_pgoff', v(0x1000n))).toBe('0x1000');
    expect(formatResult('mremap', v(0x1000n))).toBe('0x1000');
    expect(formatResult('brk', v(0x4cf000n))).toBe('0x4cf000');
    expect(formatResult('peek', v(0n))).toBe('0x0');
    expect(formatResult('fpeek', v(0x5an))).toBe('0x5a');
    expect(formatResult('rss', v(16n))).toBe('16');
    expect(formatResult('openat', v(3n))).toBe('3');
    expect(formatResult('mmap', { kind: 'error', errno: 'ENOMEM', message: undefined })).toBe(
      '-1 ENOMEM (Cannot allocate memory)',
    );
    expect(formatResult('munmap', { kind: 'error', errno: 'EINVAL', message: 'whatever' })).toBe('-1 EINVAL (Invalid argument)');
    expect(formatResult('hugepages', { kind: 'hugepages', total: 4n, free: 3n, rsvd: 1n, surp: 0n })).toBe(
      'total=4 free=3 rsvd=1 surp=0',
    );
    expect(formatResult('peek', { kind: 'signal', signal: 'SIGSEGV' })).toBe('SIGSEGV');
    expect(formatResult('fpeek', { kind: 'eof' })).toBe('EOF');
    expect(formatResult('mmap', { kind: 'unknown' })).toBe('?');
  });
});

describe('printTrace', () => {
  const text = [
    '# mmsim-trace 1',
    '# scenario',
    '@kernel release=6.18.44 arch=x86_64',
    '@config page_size=4096',
    '@mount hugetlbfs /mnt/h pagesize=2M',
    '@fd 0 pipe O_RDONLY',
    '@brk start=0x4ad000 cur=0x4cf000',
    '@maps',
    '00400000-00401000 r--p 00000000 00:00 1                                  /bin/x',
    '@end',
    'mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ?',
    '# a comment among the steps',
    'peek(0x7ffff7ff5000) = ?',
    '@maps',
    '@end',
    '',
  ].join('\n');
  const trace = parseTrace(text, 's.trace');
  const steps = trace.body.filter((b): b is TraceStep => b.kind !== 'comment');

  it('prints a trace back unchanged', () => {
    expect(printTrace(trace)).toBe(text);
  });

  it('prints replacement results and maps lines', () => {
    const maps: MapsLine[] = [line({ start: 0x7ffff7ff5000n, end: 0x7ffff7ff6000n, perms: 'rw-p' })];
    const results = new Map<TraceStep, TraceResult | readonly MapsLine[]>([
      [steps[0]!, { kind: 'value', value: 0x7ffff7ff5000n }],
      [steps[1]!, { kind: 'value', value: 0n }],
      [steps[2]!, maps],
    ]);
    const printed = printTrace(trace, results);
    expect(printed).toContain('MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff5000\n');
    expect(printed).toContain('peek(0x7ffff7ff5000) = 0x0\n');
    expect(printed.endsWith('@maps\n7ffff7ff5000-7ffff7ff6000 rw-p 00000000 00:00 0 \n@end\n')).toBe(true);
    expect(printed).toContain('# a comment among the steps\n');
  });

  it('formatStep and formatArgs', () => {
    const call = steps[0] as CallStep;
    expect(formatArgs(call.args)).toBe('NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0');
    expect(formatStep(call, { kind: 'error', errno: 'EPERM', message: undefined })).toBe(
      'mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 EPERM (Operation not permitted)',
    );
    expect(formatStep(steps[2] as MapsStep)).toBe('@maps\n@end');
  });
});
