import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONFIG,
  TraceSyntaxError,
  parseTrace,
  printTrace,
  type CallStep,
  type MapsStep,
} from '../src/index.js';

const HEAD = [
  '# mmsim-trace 1',
  '# a hand-written scenario',
  '@config page_size=4096 mem_total_kb=1048576',
  '@maps',
  '00400000-00401000 r--p 00000000 00:00 1                                  /bin/x',
  '@end',
];
/** A scenario whose line 7 onwards is `lines`. */
const scenario = (...lines: string[]): string => [...HEAD, ...lines].join('\n') + '\n';
const step = (line: string): CallStep => parseTrace(scenario(line), 't.trace').body[0] as CallStep;

/** Parse `text` expecting a TraceSyntaxError at `line` whose reason matches `reason`. */
function rejects(text: string, line: number, reason: RegExp): void {
  let error: unknown;
  try {
    parseTrace(text, 'bad.trace');
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(TraceSyntaxError);
  const e = error as TraceSyntaxError;
  expect(e.message.startsWith(`bad.trace:${line}: `), e.message).toBe(true);
  expect(e.line).toBe(line);
  expect(e.file).toBe('bad.trace');
  expect(e.reason).toMatch(reason);
}

describe('parseTrace accepts', () => {
  it('numbers: decimal, negative as u64, hex, NULL, octal modes', () => {
    const s = step('openat(AT_FDCWD, "/dev/shm/a", O_RDWR|O_CREAT, 0600) = 3');
    expect(s.args.map((a) => a.value)).toEqual([2n ** 64n - 100n, '/dev/shm/a', 0o102n, 0o600n]);
    expect(step('mmap(NULL, 0x1000, 0, MAP_PRIVATE, -1, 0) = ?').args[4]!.value).toBe(2n ** 64n - 1n);
    expect(step('munmap(-9223372036854775808, 18446744073709551615) = 0').args.map((a) => a.value)).toEqual([
      2n ** 63n,
      2n ** 64n - 1n,
    ]);
  });

  it('flag words with unnamed bits, MAP_HUGE_* and PROT_NONE', () => {
    const s = step('mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS|0x4000000, -1, 0) = ?');
    expect(s.args[2]!.value).toBe(0n);
    expect(s.args[3]!.value).toBe(0x4000022n);
    expect(s.args[3]!.text).toBe('MAP_PRIVATE|MAP_ANONYMOUS|0x4000000');
    const huge = step('mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_2MB, -1, 0) = ?');
    expect(huge.args[3]!.value).toBe(0x40022n | (21n << 26n));
    const strace = step('mmap(NULL, 4096, 3, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, 0) = ?');
    expect(strace.args[3]!.value).toBe(huge.args[3]!.value);
    expect(step('madvise(0x1000, 4096, MADV_DONTNEED) = 0').args[2]!.value).toBe(4n);
    expect(step('mremap(0x1000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x200000) = 0x200000').args[3]!.value).toBe(3n);
    expect(step('unlinkat(AT_FDCWD, "/x", AT_REMOVEDIR) = 0').args[2]!.value).toBe(0x200n);
  });

  it('strings with C escapes and hugepages(NkB)', () => {
    expect(step('unlinkat(AT_FDCWD, "a\\"b\\\\c\\n\\x41\\101\\0", 0) = 0').args[1]!.value).toBe('a"b\\c\nAA\0');
    expect(step('unlinkat(AT_FDCWD, "\\303\\251t\\xc3\\xa9", 0) = 0').args[1]!.value).toBe('été');
    const h = step('hugepages(2048kB) = total=4 free=3 rsvd=1 surp=0');
    expect(h.args[0]).toEqual({ kind: 'number', value: 2048n, text: '2048kB' });
    expect(h.result).toEqual({ kind: 'hugepages', total: 4n, free: 3n, rsvd: 1n, surp: 0n });
  });

  it('every result form', () => {
    expect(step('mmap(NULL, 4096, PROT_READ, MAP_SHARED, 3, 0) = -1 ENOMEM (Cannot allocate memory)').result).toEqual({
      kind: 'error', errno: 'ENOMEM', message: 'Cannot allocate memory',
    });
    expect(step('munmap(0x1000, 4096) = -1 EINVAL').result).toEqual({ kind: 'error', errno: 'EINVAL', message: undefined });
    expect(step('peek(0x1000) = SIGBUS').result).toEqual({ kind: 'signal', signal: 'SIGBUS' });
    expect(step('poke(0x1000, 0x41) = SIGSEGV').result).toEqual({ kind: 'signal', signal: 'SIGSEGV' });
    expect(step('peek(0x1000) = 0x5a').result).toEqual({ kind: 'value', value: 0x5an });
    expect(step('fpeek(3, 8192) = EOF').result).toEqual({ kind: 'eof' });
    expect(step('rss(0x1000) = ?').result).toEqual({ kind: 'unknown' });
    expect(step('brk(NULL) = 0x4cf000').result).toEqual({ kind: 'value', value: 0x4cf000n });
  });

  it('free whitespace around = and after commas, printed canonically', () => {
    const text = scenario('munmap( 0x1000 ,4096 )   =   0', 'rss(0x1000)=4');
    expect(printTrace(parseTrace(text, 't'))).toBe(scenario('munmap(0x1000, 4096) = 0', 'rss(0x1000) = 4'));
  });

  it('defaults for @config keys left out', () => {
    const { config, rawConfig } = parseTrace(scenario(), 't').header;
    expect(config).toEqual({ ...DEFAULT_CONFIG, mem_total_kb: 1048576 });
    expect(rawConfig).toEqual([['page_size', '4096'], ['mem_total_kb', '1048576']]);
    expect(parseTrace('# mmsim-trace 1\n', 't').header.config).toEqual(DEFAULT_CONFIG);
    expect(DEFAULT_CONFIG.mem_total_kb).toBe(16777216);
    expect(DEFAULT_CONFIG.swap_total_kb).toBe(0);
  });

  it('a scenario without a header @maps: later blocks are steps', () => {
    const t = parseTrace('# mmsim-trace 1\nbrk(NULL) = ?\n@maps\n00400000-00401000 r--p 00000000 00:00 0 \n@end\n', 't');
    expect(t.header.maps).toEqual([]);
    expect(t.body.map((b) => b.kind)).toEqual(['call', 'maps']);
    expect((t.body[1] as MapsStep).pos.line).toBe(3);
    expect((t.body[1] as MapsStep).lines[0]!.name).toBe('');
  });
});

describe('parseTrace rejects, naming the line', () => {
  it('a missing or wrong first line', () => {
    rejects('', 1, /missing "# mmsim-trace 1"/);
    rejects('@config page_size=4096\n', 1, /missing "# mmsim-trace 1"/);
    rejects('# mmsim-trace 2\n', 1, /unsupported trace format/);
  });

  it('an unknown call, a wrong argument count', () => {
    rejects(scenario('frob(1) = 0'), 7, /unknown call "frob"/);
    rejects(scenario('munmap(0x1000, 4096) = 0', 'munmap(0x1000) = 0'), 8, /munmap takes 2 arguments, got 1/);
    rejects(scenario('mremap(0x1000, 4096, 8192) = ?'), 7, /mremap takes 4 or 5 arguments, got 3/);
    rejects(scenario('openat(AT_FDCWD, "/a", O_RDONLY, 0, 0) = ?'), 7, /openat takes 3 or 4 arguments, got 5/);
    rejects(scenario('brk() = ?'), 7, /brk takes 1 argument, got 0/);
    rejects(scenario('munmap(0x1000, ) = 0'), 7, /empty argument/);
    rejects(scenario('munmap(0x1000, 4096'), 7, /missing '\)'/);
    rejects(scenario('just some words'), 7, /not a step/);
  });

  it('an unknown symbolic name', () => {
    rejects(scenario('mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_BOGUS, -1, 0) = ?'), 7, /unknown flag name "MAP_BOGUS"/);
    rejects(scenario('mprotect(0x1000, 4096, MAP_PRIVATE) = 0'), 7, /unknown flag name "MAP_PRIVATE"/);
    rejects(scenario('madvise(0x1000, 4096, MADV_BOGUS) = 0'), 7, /unknown advice "MADV_BOGUS"/);
    rejects(scenario('munmap(AT_FDCWD, 4096) = 0'), 7, /unknown symbolic name "AT_FDCWD"/);
    rejects(scenario('mmap(NULL, 4096, PROT_READ||PROT_WRITE, MAP_PRIVATE, -1, 0) = ?'), 7, /empty part/);
  });

  it('a number out of the u64 range or malformed', () => {
    rejects(scenario('munmap(0x10000000000000000, 1) = 0'), 7, /out of the u64 range/);
    rejects(scenario('munmap(18446744073709551616, 1) = 0'), 7, /out of the u64 range/);
    rejects(scenario('munmap(-9223372036854775809, 1) = 0'), 7, /out of the u64 range/);
    rejects(scenario(`munmap(${'9'.repeat(5000)}, 1) = 0`), 7, /out of the u64 range/);
    rejects(scenario('openat(AT_FDCWD, "/a", O_RDWR|O_CREAT, 0800) = 3'), 7, /bad octal mode/);
    rejects(scenario('poke(0x1000, 0x100) = 0'), 7, /above 0xff/);
    rejects(scenario('hugepages(2048) = ?'), 7, /huge page size/);
    rejects(scenario('unlinkat(AT_FDCWD, "/a"..., 0) = 0'), 7, /truncated string/);
    rejects(scenario('unlinkat(AT_FDCWD, "/a, 0) = 0'), 7, /unterminated string/);
    rejects(scenario('unlinkat(AT_FDCWD, "\\q", 0) = 0'), 7, /unknown escape/);
  });

  it('a bad result', () => {
    rejects(scenario('munmap(0x1000, 4096) = hello'), 7, /bad result "hello"/);
    rejects(scenario('munmap(0x1000, 4096) = -1'), 7, /-1 ERRNO/);
    rejects(scenario('munmap(0x1000, 4096) = -5'), 7, /-1 ERRNO/);
    rejects(scenario('munmap(0x1000, 4096) = -1 EBOGUS (Bogus)'), 7, /unknown errno name "EBOGUS"/);
    rejects(scenario('munmap(0x1000, 4096) = -1 ENOMEM (Cannot'), 7, /bad error result/);
    rejects(scenario('munmap(0x1000, 4096) ='), 7, /missing result/);
    rejects(scenario('munmap(0x1000, 4096) 0'), 7, /expected ' = RESULT'/);
    rejects(scenario('mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0) = SIGSEGV'), 7, /mmap cannot return "SIGSEGV"/);
    rejects(scenario('brk(NULL) = -1 ENOMEM (Cannot allocate memory)'), 7, /brk cannot return/);
    rejects(scenario('peek(0x1000) = 0x100'), 7, /returns a byte/);
    rejects(scenario('hugepages(2048kB) = total=1 free=1'), 7, /bad result/);
  });

  it('@config: unknown keys and bad values', () => {
    rejects('# mmsim-trace 1\n@config page_size=4096 colour=blue\n', 2, /unknown @config key "colour"/);
    rejects('# mmsim-trace 1\n@config page_size=4095\n', 2, /page_size=4095/);
    rejects('# mmsim-trace 1\n@config thp=sometimes\n', 2, /thp=sometimes: expected always, madvise, never/);
    rejects('# mmsim-trace 1\n@config aslr=2\n', 2, /aslr=2/);
    rejects('# mmsim-trace 1\n@config rlimit_stack=lots\n', 2, /rlimit_stack/);
    rejects('# mmsim-trace 1\n@config max_map_count=\n', 2, /expected KEY=VALUE/);
    rejects('# mmsim-trace 1\n@config la57=0\n@config la57=0\n', 3, /duplicate @config key "la57"/);
  });

  it('other directives', () => {
    rejects('# mmsim-trace 1\n@frob x\n', 2, /unknown directive "@frob"/);
    rejects('# mmsim-trace 1\n@kernel release=6.18\n', 2, /@kernel lacks arch=/);
    rejects('# mmsim-trace 1\n@fd 0 pipe O_CREAT\n', 2, /bad @fd flags/);
    rejects('# mmsim-trace 1\n@brk start=0x1000\n', 2, /@brk lacks cur=/);
    rejects('# mmsim-trace 1\n@mount tmpfs relative\n', 2, /not absolute/);
    rejects(scenario('brk(NULL) = ?', '@config page_size=4096'), 8, /only allowed in the header/);
    rejects(scenario('@end'), 7, /@end without @maps/);
  });

  it('@maps blocks: unterminated (at the @maps line) or with bad lines', () => {
    rejects(scenario('munmap(0x1000, 4096) = 0', '@maps', '00400000-00401000 r--p 00000000 00:00 1 '), 8, /unterminated @maps block/);
    rejects('# mmsim-trace 1\n@maps\n', 2, /unterminated @maps block/);
    rejects(scenario('@maps', '# a comment', '@end'), 8, /bad maps line/);
    rejects(scenario('@maps', '00401000-00400000 r--p 00000000 00:00 1 ', '@end'), 8, /start is not below end/);
    rejects(scenario('@maps', '00400000-00401000 rw?p 00000000 00:00 1 ', '@end'), 8, /bad maps line/);
    rejects(scenario('@maps', 'munmap(0x1000, 4096) = 0', '@end'), 8, /bad maps line/);
    rejects(scenario('@maps', '@kernel release=1 arch=x', '@end'), 8, /inside the @maps block opened at line 7/);
  });

  it('binary garbage, CRLF, over-long lines', () => {
    rejects('# mmsim-trace 1\n\u0000\u0001\u0002ELF\n', 2, /control character 0x00/);
    rejects('\u0089PNG\r\n\u001a\n', 1, /control character 0x89/);
    rejects('# mmsim-trace 1\r\n', 1, /carriage return/);
    rejects('# mmsim-trace 1\nbrk(NULL) = ?\ufffd\n', 2, /U\+FFFD/);
    const huge = '# mmsim-trace 1\n' + 'x'.repeat(100 * 1024 * 1024);
    const started = performance.now();
    rejects(huge, 2, /longer than 65536 characters/);
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
