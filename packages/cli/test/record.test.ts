/**
 * The pure parts of `mmsim record`: step encoding for the executor, parsing
 * its output, @maps renumbering, the golden header, the scenario conversion,
 * the "cannot record here" decision and the host-settings plan. Nothing here
 * needs root or touches the host.
 */
import { describe, expect, it } from 'vitest';
import { parseTrace, type CallStep, type MapsLine, type Trace, type TraceStep } from '@mmsim/trace';
import {
  adjustPads,
  buildGoldenTrace,
  cannotRecordReason,
  cStringBytes,
  describePads,
  encodeSetup,
  encodeStep,
  encodeStepList,
  errnoInfo,
  exeLayout,
  goldenConfig,
  NO_PADS,
  normalizeSetting,
  parseExecutorOutput,
  parseRawMaps,
  planSettings,
  modelThpSettings,
  noexecConflict,
  recordedComments,
  recordingOf,
  RecordError,
  renumberMaps,
  scenarioOf,
  toOutcome,
  type HostFacts,
  type HostProbe,
  type LayoutNote,
} from '../src/record-command.js';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { recordExitCode, recorderDir, restoreHost } from '../src/record-command.js';
import { printTrace } from '@mmsim/trace';

const HEADER = `# mmsim-trace 1
# a small scenario
@kernel release=6.18.44-fc-v669 arch=x86_64
@config page_size=4096 aslr=0 layout=topdown privileged=0 rlimit_stack=8388608 rlimit_as=unlimited rlimit_data=unlimited rlimit_memlock=8388608 max_map_count=65530 mmap_min_addr=65536 lsm_mmap_min_addr=65536 overcommit_memory=0 overcommit_ratio=50 mem_total_kb=24684084 swap_total_kb=0 fault_around_bytes=65536 thp=madvise hugepages_2048kB=4 hugepages_1048576kB=0 overcommit_hugepages_2048kB=0 overcommit_hugepages_1048576kB=0 gbpages=1 la57=0
@mount tmpfs /dev/shm/mmsim
@mount hugetlbfs /mnt/mmsim-huge pagesize=2M
@fd 0 pipe O_RDONLY
@fd 1 pipe O_WRONLY
@fd 2 /dev/null O_RDWR
@brk start=0x9c0000 cur=0x9e2000
@maps
00400000-00401000 r--p 00000000 00:00 1                                  /usr/local/bin/mmsim-rec
00401000-0047b000 r-xp 00001000 00:00 1                                  /usr/local/bin/mmsim-rec
0047b000-004a3000 r--p 0007b000 00:00 1                                  /usr/local/bin/mmsim-rec
004a3000-004a7000 r--p 000a2000 00:00 1                                  /usr/local/bin/mmsim-rec
004a7000-004aa000 rw-p 000a6000 00:00 1                                  /usr/local/bin/mmsim-rec
004aa000-009c0000 rw-p 00000000 00:00 0 
009c0000-009e2000 rw-p 00000000 00:00 0                                  [heap]
7ffff7ff7000-7ffff7ffb000 r--p 00000000 00:00 0                          [vvar]
7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]
@end
`;

const SCENARIO =
  HEADER +
  `# first the file
openat(AT_FDCWD, "/dev/shm/mmsim/a", O_RDWR|O_CREAT, 0600) = ?
ftruncate(3, 8192) = ?
mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = ?
poke(0x7ffff7ff5000, 0x41) = ?
peek(0x7ffff7ff5000) = ?
fpeek(3, 9000) = ?
mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|MAP_HUGE_1GB, -1, 0) = ?
hugepages(2048kB) = ?
rss(0x10) = ?
@maps
@end
`;

function scenario(text = SCENARIO): Trace {
  return parseTrace(text, 'scenario.trace');
}

function steps(trace: Trace): TraceStep[] {
  return trace.body.filter((s): s is TraceStep => s.kind !== 'comment');
}

function callOf(line: string): CallStep {
  const t = parseTrace(HEADER + line + ' = ?\n', 'x.trace');
  return steps(t)[0] as CallStep;
}

const HOST: HostFacts = {
  release: '6.18.44-test',
  arch: 'x86_64',
  memTotalKb: 24731708,
  swapTotalKb: 0,
  gbpages: 1,
  la57: 0,
  lsmMmapMinAddr: 65536n,
  faultAroundBytes: undefined,
  staticBinary: true,
  pkeys: true,
  pkeysHidden: true,
};

const FITTED: LayoutNote = { kind: 'fitted', detail: 'bss +0x2bf000' };

const EXEC_MAPS = [
  '00400000-00401000 r--p 00000000 fe:00 2146795                            /usr/local/bin/mmsim-rec',
  '00401000-0047b000 r-xp 00001000 fe:00 2146795                            /usr/local/bin/mmsim-rec',
  '009c0000-009e2000 rw-p 00000000 00:00 0                                  [heap]',
  '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]',
];

/** What the executor prints for SCENARIO. */
const OUTPUT = [
  'I 9c0000 9e2000',
  'M',
  ...EXEC_MAPS,
  '.',
  'V 3',
  'V 0',
  'V 7ffff7ff5000',
  'V 0',
  'V 41',
  'F',
  'N 12',
  'H 4 4 0 0',
  'N 14',
  'M',
  ...EXEC_MAPS.slice(0, 2),
  '7ffff7ff5000-7ffff7ff7000 rw-s 00000000 00:2d 17                         /dev/shm/mmsim/a',
  ...EXEC_MAPS.slice(2),
  '.',
  'Z',
  'Q exit 0',
  '',
].join('\n');

describe('recorderDir', () => {
  it('finds tools/trace-recorder (the executor source) from where the module is', () => {
    const saved = process.env['MMSIM_RECORDER_DIR'];
    delete process.env['MMSIM_RECORDER_DIR'];
    try {
      expect(existsSync(join(recorderDir(), 'executor.c'))).toBe(true);
    } finally {
      if (saved !== undefined) process.env['MMSIM_RECORDER_DIR'] = saved;
    }
  });
});

describe('recordExitCode', () => {
  it('says 6 first when the host was not put back, then 1 for an unrecordable step or a divergence, else 0', () => {
    expect(recordExitCode({ unrecordable: 0, divergences: 0, notRestored: 0 })).toBe(0);
    expect(recordExitCode({ unrecordable: 2, divergences: 0, notRestored: 0 })).toBe(1);
    expect(recordExitCode({ unrecordable: 0, divergences: 1, notRestored: 0 })).toBe(1);
    expect(recordExitCode({ unrecordable: 1, divergences: 1, notRestored: 1 })).toBe(6);
  });
});

describe('restoreHost', () => {
  // Settings and the state file in a scratch directory stand in for /proc/sys and /var/tmp: nothing
  // here touches the host's files, so a recording running on this host at the same time is not
  // disturbed (and does not disturb the test).
  function scratch(settings: Record<string, string>): { dir: string; stateFile: string } {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-restore-test-'));
    for (const [name, value] of Object.entries(settings)) writeFileSync(join(dir, name), value);
    const stateFile = join(dir, 'mmsim-record.state');
    writeFileSync(stateFile, '{}\n');
    return { dir, stateFile };
  }
  const saved = (settings: { path: string; original: string }[]) => ({
    version: 1,
    pid: 1,
    started: '2026-11-27T00:00:00.000Z',
    settings,
    createdDirs: [],
    mounts: [],
    binary: null,
  });

  it('puts back what it can, reports each setting it could not, and keeps the state file', () => {
    const { dir, stateFile } = scratch({ max_map_count: '120202\n' });
    const writable = join(dir, 'max_map_count');
    const missing = join(dir, 'no-such-dir', 'nr_hugepages');
    const problems = restoreHost(
      saved([
        { path: writable, original: '65530' },
        { path: missing, original: '0' },
      ]),
      stateFile,
    );
    expect(readFileSync(writable, 'utf8')).toBe('65530\n');
    expect(problems.filter((p) => !p.includes('HugePages_Rsvd'))).toEqual([
      expect.stringMatching(new RegExp(`^cannot restore ${missing}=0: ENOENT`)),
      `${missing} is (unreadable), was 0`,
    ]);
    expect(readFileSync(stateFile, 'utf8')).toBe('{}\n');
  });

  it('removes the state file once everything is put back', () => {
    const { dir, stateFile } = scratch({ nr_hugepages: '6\n' });
    const setting = join(dir, 'nr_hugepages');
    const problems = restoreHost(saved([{ path: setting, original: '0' }]), stateFile);
    expect(readFileSync(setting, 'utf8')).toBe('0\n');
    // (Only a host whose huge page reservations went below zero has a problem left here: then the file stays.)
    expect(problems.filter((p) => !p.includes('HugePages_Rsvd'))).toEqual([]);
    expect(existsSync(stateFile)).toBe(problems.length > 0);
  });
});

describe('encodeStep', () => {
  it('writes numbers as u64 hex, flags already decoded', () => {
    expect(encodeStep(callOf('mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_HUGETLB|MAP_HUGE_2MB, -1, 0x2000)'))).toBe(
      'mmap 0 2000 3 54040001 ffffffffffffffff 2000',
    );
    expect(encodeStep(callOf('mmap_pgoff(0x1000, 4096, PROT_NONE, MAP_PRIVATE, 3, 0xffffffffffffe)'))).toBe(
      'pgoff 1000 1000 0 2 3 ffffffffffffe',
    );
    expect(encodeStep(callOf('madvise(0x7ffff7ff4000, 8192, MADV_HUGEPAGE)'))).toBe('madvise 7ffff7ff4000 2000 e');
    expect(encodeStep(callOf('brk(NULL)'))).toBe('brk 0');
    expect(encodeStep(callOf('hugepages(1048576kB)'))).toBe('huge 100000');
    expect(encodeStep(callOf('poke(0x1000, 0xa7)'))).toBe('poke 1000 a7');
    expect(encodeStep(callOf('fill(3, 0, 65536, 0xc3)'))).toBe('fill 3 0 10000 c3');
  });

  it('fills optional trailing arguments with 0', () => {
    expect(encodeStep(callOf('mremap(0x10000, 4096, 8192, MREMAP_MAYMOVE)'))).toBe('mremap 10000 1000 2000 1 0');
    expect(encodeStep(callOf('mremap(0x10000, 4096, 8192, MREMAP_MAYMOVE|MREMAP_FIXED, 0x20000)'))).toBe(
      'mremap 10000 1000 2000 3 20000',
    );
    expect(encodeStep(callOf('openat(AT_FDCWD, "/dev/shm/mmsim/data", O_RDONLY)'))).toBe(
      'openat ffffffffffffff9c 2f6465762f73686d2f6d6d73696d2f64617461 0 0',
    );
  });

  it('writes strings as hex bytes, "-" when empty, escapes decoded', () => {
    expect(encodeStep(callOf('openat(AT_FDCWD, "", O_RDWR|O_CREAT, 0600)'))).toBe('openat ffffffffffffff9c - 42 180');
    expect(encodeStep(callOf('unlinkat(AT_FDCWD, "a\\tb\\377", 0)'))).toBe('unlinkat ffffffffffffff9c 610962ff 0');
  });

  it('writes a @maps step as maps', () => {
    const t = scenario();
    expect(encodeStep(steps(t).at(-1)!)).toBe('maps');
  });
});

describe('cStringBytes', () => {
  it('decodes C escapes and UTF-8', () => {
    expect([...cStringBytes('"a\\n\\x41\\101\\0é"')]).toEqual([0x61, 0x0a, 0x41, 0x41, 0x00, 0xc3, 0xa9]);
  });
});

describe('encodeSetup / encodeStepList', () => {
  it('encodes rlimits, personality, privilege, break and pkeys', () => {
    const t = scenario();
    expect(encodeSetup(t.header.config)).toEqual([
      'mmsim-exec 1',
      'R 800000 ffffffffffffffff ffffffffffffffff 800000',
      'P 40000',
      'C 0',
      'B 0',
      'K 1',
    ]);
    const legacy = { ...t.header.config, layout: 'legacy' as const, privileged: 1 as const, rlimit_stack: 'unlimited' as const };
    expect(encodeSetup(legacy, { brk: 0x9e2000n, hidePkeys: false })).toEqual([
      'mmsim-exec 1',
      'R ffffffffffffffff ffffffffffffffff ffffffffffffffff 800000',
      'P 240000',
      'C 1',
      'B 9e2000',
      'K 0',
    ]);
    expect(encodeSetup({ ...t.header.config, aslr: 1 })[2]).toBe('P 0');
  });

  it('lists the steps between S and E, comments left out', () => {
    const text = encodeStepList(scenario(), { brk: 0x9e2000n });
    const lines = text.split('\n');
    expect(lines.slice(6, 9)).toEqual(['S', 'openat ffffffffffffff9c 2f6465762f73686d2f6d6d73696d2f61 42 180', 'ftruncate 3 2000']);
    expect(lines.at(-2)).toBe('E');
    expect(lines.filter((l) => l !== '').length).toBe(6 + 1 + 10 + 1);
    expect(text.endsWith('E\n')).toBe(true);
  });
});

describe('parseExecutorOutput', () => {
  it('reads the starting state, one result per step and the status', () => {
    const out = parseExecutorOutput(OUTPUT);
    expect(out.brk).toEqual({ start: 0x9c0000n, cur: 0x9e2000n });
    expect(out.maps).toEqual(EXEC_MAPS);
    expect(out.complete).toBe(true);
    expect(out.ended).toBe('exit 0');
    expect(out.results.map((r) => r.kind)).toEqual([
      'value', 'value', 'value', 'value', 'value', 'eof', 'errno', 'hugepages', 'errno', 'maps',
    ]);
    expect(out.results[7]).toEqual({ kind: 'hugepages', total: 4n, free: 4n, rsvd: 0n, surp: 0n });
  });

  it('reads signals, unrecordable steps, setup failures', () => {
    const out = parseExecutorOutput('D setrlimit failed\nQ exit 2\n');
    expect(out.fatal).toBe('setrlimit failed');
    expect(out.complete).toBe(false);
    const more = parseExecutorOutput('I 1000 1000\nM\n.\nG 11\nG 7\nX mmap_pgoff: too big\nQ signal 9\n');
    expect(more.results).toEqual([
      { kind: 'signal', signo: 11 },
      { kind: 'signal', signo: 7 },
      { kind: 'unrecordable', reason: 'mmap_pgoff: too big' },
    ]);
    expect(more.ended).toBe('signal 9');
  });

  it('treats a @maps step right after the header as a step', () => {
    const out = parseExecutorOutput('I 1000 1000\nM\n.\nM\n.\nZ\n');
    expect(out.maps).toEqual([]);
    expect(out.results).toEqual([{ kind: 'maps', lines: [] }]);
  });

  it('rejects what is not in the protocol', () => {
    expect(() => parseExecutorOutput('I 1000 1000\nM\n00400000-00401000 r--p 00000000 00:00 0\n')).toThrow(/unterminated maps block/);
    expect(() => parseExecutorOutput('W what\n')).toThrow(RecordError);
    expect(() => parseExecutorOutput('V xyz\n')).toThrow(/bad number/);
  });
});

describe('toOutcome / recordingOf', () => {
  it('maps executor results to trace results', () => {
    const mmap = callOf('mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)');
    expect(toOutcome(mmap, { kind: 'value', value: 0x7ffff7ff6000n })).toEqual({ kind: 'value', value: 0x7ffff7ff6000n });
    expect(toOutcome(mmap, { kind: 'errno', errno: 12 })).toEqual({ kind: 'error', errno: 'ENOMEM', message: 'Cannot allocate memory' });
    expect(toOutcome(mmap, { kind: 'unrecordable', reason: 'x' })).toBeUndefined();
    const peek = callOf('peek(0x1000)');
    expect(toOutcome(peek, { kind: 'signal', signo: 11 })).toEqual({ kind: 'signal', signal: 'SIGSEGV' });
    expect(toOutcome(peek, { kind: 'signal', signo: 7 })).toEqual({ kind: 'signal', signal: 'SIGBUS' });
    expect(() => toOutcome(peek, { kind: 'errno', errno: 14 })).toThrow(/returned errno for peek/);
    expect(() => toOutcome(peek, { kind: 'signal', signo: 4 })).toThrow(RecordError);
    expect(() => toOutcome(mmap, { kind: 'maps', lines: [] })).toThrow(RecordError);
  });

  it('pairs every step with its result and reports a short run', () => {
    const t = scenario();
    const rec = recordingOf(t, parseExecutorOutput(OUTPUT));
    expect(rec.outcomes.size).toBe(10);
    expect(rec.unrecordable.size).toBe(0);
    const cut = OUTPUT.replace('Z\n', '');
    expect(() => recordingOf(t, parseExecutorOutput(cut))).toThrow(/stopped after 10 of 10 steps; it ended with exit 0/);
    const short = OUTPUT.split('\n').slice(0, 10).join('\n') + '\nQ signal 11\n';
    expect(() => recordingOf(t, parseExecutorOutput(short))).toThrow(/stopped after 3 of 10 steps at scenario.trace:\d+ \(poke\); it ended with signal 11/);
  });
});

describe('errnoInfo', () => {
  it('names x86-64 errnos', () => {
    expect(errnoInfo(12)).toEqual({ name: 'ENOMEM', message: 'Cannot allocate memory' });
    expect(errnoInfo(75).name).toBe('EOVERFLOW');
    expect(errnoInfo(110)).toEqual({ name: 'ETIMEDOUT', message: 'Connection timed out' });
    expect(errnoInfo(999)).toEqual({ name: 'E999', message: undefined });
  });
});

function line(start: number, end: number, dev: string, inode: bigint, name: string): MapsLine {
  return { start: BigInt(start), end: BigInt(end), perms: 'rw-p', offset: 0n, dev, inode, name };
}

describe('renumberMaps', () => {
  it('numbers (device, inode) pairs by first appearance across blocks, keeps 0, zeroes devices', () => {
    const out = renumberMaps([
      [line(0x1000, 0x2000, 'fe:00', 2146366n, '/usr/local/bin/mmsim-rec'), line(0x2000, 0x3000, '00:00', 0n, '[heap]')],
      [
        line(0x1000, 0x2000, 'fe:00', 2146366n, '/usr/local/bin/mmsim-rec'),
        line(0x4000, 0x5000, '00:10', 77n, '/mnt/mmsim-huge/big'),
        line(0x5000, 0x6000, '00:2d', 77n, '/dev/shm/mmsim/a'),
      ],
      [line(0x5000, 0x6000, '00:2d', 77n, '/dev/shm/mmsim/a'), line(0x4000, 0x5000, '00:10', 77n, '/mnt/mmsim-huge/big')],
    ]);
    expect(out.map((b) => b.map((l) => `${l.dev} ${l.inode}`))).toEqual([
      ['00:00 1', '00:00 0'],
      ['00:00 1', '00:00 2', '00:00 3'],
      ['00:00 3', '00:00 2'],
    ]);
  });

  it("gives an O_TMPFILE file's name (DIR/#INO (deleted)) its inode's new number, and no other name", () => {
    const [block] = renumberMaps([
      [
        line(0x1000, 0x2000, '00:2d', 3568n, '/dev/shm/mmsim/#3568 (deleted)'),
        line(0x2000, 0x3000, '00:2d', 3569n, '/dev/shm/mmsim/#3568 (deleted)'),
        line(0x3000, 0x4000, '00:2d', 3570n, '/dev/shm/mmsim/#3570'),
      ],
    ]);
    expect(block!.map((l) => l.name)).toEqual(['/dev/shm/mmsim/#1 (deleted)', '/dev/shm/mmsim/#3568 (deleted)', '/dev/shm/mmsim/#3570']);
  });
});

describe('the golden trace', () => {
  it('has the complete @config with this host\'s values for what cannot be set', () => {
    const t = scenario();
    const cfg = goldenConfig(t.header.config, HOST);
    expect(cfg.map(([k]) => k)).not.toContain('seed');
    expect(Object.fromEntries(cfg)).toMatchObject({ mem_total_kb: '24731708', hugepages_2048kB: '4', rlimit_as: 'unlimited', mmap_min_addr: '65536' });
    const withSeed = goldenConfig({ ...t.header.config, aslr: 1, seed: 7 }, HOST);
    expect(withSeed.slice(0, 3)).toEqual([['page_size', '4096'], ['aslr', '1'], ['seed', '7']]);
  });

  it('gives fault_around_bytes as the recording set it: the scenario\'s, rounded as the kernel keeps it', () => {
    const t = scenario();
    const fault = (bytes: number, host: number | undefined): string | undefined =>
      Object.fromEntries(goldenConfig({ ...t.header.config, fault_around_bytes: bytes }, { ...HOST, faultAroundBytes: host }))['fault_around_bytes'];
    // debugfs readable (the host had 65536 before): what the plan wrote, not the host's old value.
    expect(fault(8192, 65536)).toBe('8192');
    expect(fault(12288, 65536)).toBe('8192');
    expect(fault(0, 65536)).toBe('4096');
    // debugfs closed: only the default can be recorded, and it stays.
    expect(fault(65536, undefined)).toBe('65536');
    // The plan writes the rounded value, so that reading it back confirms it.
    const plan = planSettings({ ...t.header.config, fault_around_bytes: 12288 }, [2048], true);
    expect(plan.find((s) => s.path === '/sys/kernel/debug/fault_around_bytes')?.value).toBe('8192');
  });

  it('says how it was recorded', () => {
    const t = scenario();
    const c = recordedComments(t.header.config, t.header.rawConfig, HOST, FITTED);
    expect(c[0]).toBe('recorded: process: static /usr/local/bin/mmsim-rec, uid 0, all capabilities dropped before the first snapshot');
    expect(c[1]).toBe('recorded: khugepaged max_ptes_none=0 while recording (background collapse cannot change Rss)');
    expect(c[2]).toBe('recorded: khugepaged asleep while recording (scan_sleep_millisecs 4294967295: no background collapse at all)');
    expect(c[3]).toBe('recorded: pinned to one CPU (LRU batches are per CPU: a migration would change what MADV_FREE marks)');
    expect(c[4]).toBe('recorded: @maps device/inode columns renumbered by first appearance (compare ignores them)');
    expect(c).toContain('recorded: mem_total_kb=24731708 is this host\'s (the scenario asked 24684084)');
    expect(c.some((x) => x.startsWith('recorded: fault_around_bytes not read'))).toBe(true);
    expect(c.some((x) => x.includes('protection keys'))).toBe(true);
    expect(c.at(-1)).toBe('recorded: executable padded to the scenario\'s @maps layout (bss +0x2bf000)');
    const plain = recordedComments({ ...t.header.config, privileged: 1 }, [], { ...HOST, faultAroundBytes: 65536, pkeys: false, staticBinary: false }, { kind: 'natural', detail: '' });
    expect(plain).toEqual([
      'recorded: process: dynamic /usr/local/bin/mmsim-rec, uid 0, every capability kept',
      'recorded: khugepaged max_ptes_none=0 while recording (background collapse cannot change Rss)',
      'recorded: khugepaged asleep while recording (scan_sleep_millisecs 4294967295: no background collapse at all)',
      'recorded: pinned to one CPU (LRU batches are per CPU: a migration would change what MADV_FREE marks)',
      'recorded: @maps device/inode columns renumbered by first appearance (compare ignores them)',
    ]);
  });

  it('prints the scenario with the kernel\'s results, real header and renumbered maps', () => {
    const t = scenario();
    const rec = recordingOf(t, parseExecutorOutput(OUTPUT));
    const { trace, results } = buildGoldenTrace(t, rec, HOST, FITTED, 'golden.trace');
    const text = printTrace(trace, results);
    const lines = text.split('\n');
    expect(lines[0]).toBe('# mmsim-trace 1');
    expect(lines[1]).toBe('# a small scenario');
    expect(lines[2]).toMatch(/^# recorded: process: static/);
    expect(text).toContain('\n@kernel release=6.18.44-test arch=x86_64\n');
    expect(text).toContain(' mem_total_kb=24731708 ');
    expect(text).toContain('\n@brk start=0x9c0000 cur=0x9e2000\n');
    expect(text).toContain('\nopenat(AT_FDCWD, "/dev/shm/mmsim/a", O_RDWR|O_CREAT, 0600) = 3\n');
    expect(text).toContain('\nmmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7ffff7ff5000\n');
    expect(text).toContain('\npeek(0x7ffff7ff5000) = 0x41\n');
    expect(text).toContain('\nfpeek(3, 9000) = EOF\n');
    expect(text).toContain('= -1 ENOMEM (Cannot allocate memory)\n');
    expect(text).toContain('\nhugepages(2048kB) = total=4 free=4 rsvd=0 surp=0\n');
    expect(text).toContain('\nrss(0x10) = -1 EFAULT (Bad address)\n');
    expect(text).toContain('\n# first the file\n');
    expect(text).toContain('00401000-0047b000 r-xp 00001000 00:00 1                                  /usr/local/bin/mmsim-rec\n');
    expect(text).toContain('7ffff7ff5000-7ffff7ff7000 rw-s 00000000 00:00 2                          /dev/shm/mmsim/a\n');
    expect(text).not.toContain('fe:00');
    // It reads back as a golden trace with the same steps.
    const back = parseTrace(text, 'golden.trace');
    expect(steps(back).every((s) => s.kind === 'maps' || s.result.kind !== 'unknown')).toBe(true);
    expect(back.header.fds.map((f) => f.target)).toEqual(['pipe', 'pipe', '/dev/null']);
    expect(back.header.maps).toHaveLength(EXEC_MAPS.length);
    expect(printTrace(back)).toBe(text);
  });

  it('drops earlier recorded: comments and notes steps it could not record', () => {
    const t = scenario(SCENARIO.replace('# a small scenario\n', '# a small scenario\n# recorded: old note\n'));
    const out = OUTPUT.replace('V 7ffff7ff5000', 'X mmap_pgoff: pgoff does not fit');
    const rec = recordingOf(t, parseExecutorOutput(out));
    expect(rec.unrecordable.size).toBe(1);
    const { trace, results } = buildGoldenTrace(t, rec, HOST, { kind: 'natural', detail: '' }, 'g.trace');
    const text = printTrace(trace, results);
    expect(text).not.toContain('old note');
    expect(text).toContain('MAP_SHARED, 3, 0) = ?\n# recorded: not recordable here: mmap_pgoff: pgoff does not fit\n');
  });
});

describe('scenarioOf', () => {
  it('blanks every result and @maps step and drops recorded: comments', () => {
    const golden = parseTrace(
      HEADER.replace('# a small scenario\n', '# a small scenario\n# recorded: khugepaged max_ptes_none=0\n') +
        'mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff6000\n' +
        'peek(0x7ffff7ff6000) = SIGSEGV\n@maps\n7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0                          [stack]\n@end\n',
      'g.trace',
    );
    const text = scenarioOf(golden);
    expect(text).not.toContain('recorded:');
    expect(text).toContain('\nmmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ?\npeek(0x7ffff7ff6000) = ?\n@maps\n@end\n');
    expect(text).toContain('@brk start=0x9c0000 cur=0x9e2000');
    const back = parseTrace(text, 's.trace');
    expect(steps(back)).toHaveLength(3);
  });
});

const PROBE: HostProbe = {
  platform: 'linux',
  machine: 'x86_64',
  uid: 0,
  compiler: '/usr/bin/cc',
  mountTools: true,
  pageSize: 4096,
  pools: new Map([
    [2048, { total: 0, free: 0, rsvd: 0, surp: 0 }],
    [1048576, { total: 0, free: 0, rsvd: 0, surp: 0 }],
  ]),
  gbpages: true,
  la57: false,
  pkeys: true,
  lsmMmapMinAddr: 65536n,
  faultAroundBytes: undefined,
  mountPoints: new Set(['/', '/proc', '/dev/shm']),
  memTotalKb: 24731708,
  swapTotalKb: 0,
  committedAsKb: 1_000_000,
};

describe('cannotRecordReason', () => {
  const t = scenario();
  it('accepts a host that can record', () => {
    expect(cannotRecordReason(PROBE, t)).toBeUndefined();
  });

  it('refuses overcommit_memory=2 when the host has already committed more than that CommitLimit', () => {
    const strict = scenario(SCENARIO.replace(/overcommit_memory=\d/, 'overcommit_memory=2'));
    expect(strict.header.config.overcommit_memory).toBe(2);
    const ratio = strict.header.config.overcommit_ratio;
    const limit = Math.floor((24731708 * ratio) / 100);
    expect(cannotRecordReason({ ...PROBE, committedAsKb: limit - 1 }, strict)).toBeUndefined();
    expect(cannotRecordReason({ ...PROBE, committedAsKb: 68_038_284 }, strict)).toBe(
      `the scenario has overcommit_memory=2 (overcommit_ratio=${ratio}), but this host has already committed 68038284 kB (Committed_AS), more than the CommitLimit of ${limit} kB that would give: every new allocation, the recorder's own too, would fail with ENOMEM`,
    );
    // Other overcommit modes do not care.
    expect(cannotRecordReason({ ...PROBE, committedAsKb: 68_038_284 }, t)).toBeUndefined();
  });

  it.each([
    [{ platform: 'darwin' }, 'not Linux (platform darwin); recording needs a Linux x86-64 kernel'],
    [{ machine: 'aarch64' }, 'not x86-64 (uname -m says aarch64); the traces are x86-64'],
    [{ uid: 1000 }, 'not root (uid 1000); recording sets sysctls and mounts filesystems, run it as root'],
    [{ compiler: undefined }, 'no C compiler (cc, gcc or clang) on PATH to build the executor'],
    [{ mountTools: false }, 'no mount/umount on PATH for the @mount filesystems'],
    [{ pageSize: 16384 }, "the scenario has page_size=4096 but this host's page size is 16384"],
    [{ la57: true }, 'the scenario has la57=0 but this host uses 5-level paging'],
    [{ gbpages: false, pools: new Map([[2048, { total: 0, free: 0, rsvd: 0, surp: 0 }]]) }, 'the scenario has gbpages=1 but this CPU has no 1 GiB pages (pdpe1gb)'],
    [{ pools: new Map([[1048576, { total: 0, free: 0, rsvd: 0, surp: 0 }]]) }, 'the scenario asks for 2048kB huge pages but /sys/kernel/mm/hugepages/hugepages-2048kB does not exist'],
    [
      { pools: new Map([[2048, { total: 4, free: 3, rsvd: 0, surp: 0 }], [1048576, { total: 0, free: 0, rsvd: 0, surp: 0 }]]) },
      "2048kB huge pages are in use on this host (total=4 free=3 rsvd=0 surp=0); the counters would not be the scenario's",
    ],
    [
      { pools: new Map([[2048, { total: 1, free: 1, rsvd: 18446744073709551615, surp: 0 }], [1048576, { total: 0, free: 0, rsvd: 0, surp: 0 }]]) },
      "the kernel's 2048kB HugePages_Rsvd is below zero (it reads about 2^64); Linux 6.18 does this when a min_size= mount lost its minimum to a failed reservation and is then unmounted (tools/fuzz/kernel/host-findings/hugetlb-min-size-resv-underflow.c); the pool cannot shrink until it is repaired as tools/fuzz/kernel/host-findings/hugetlb-1g-resv-underflow-repair.c says",
    ],
    [{ lsmMmapMinAddr: 4096n }, 'the scenario has lsm_mmap_min_addr=65536 but this kernel has CONFIG_LSM_MMAP_MIN_ADDR=4096'],
    [{ mountPoints: new Set(['/', '/dev/shm/mmsim']) }, '/dev/shm/mmsim is already a mount point; unmount it first (a fresh filesystem is mounted there while recording)'],
  ] as Array<[Partial<HostProbe>, string]>)('%# → %s', (change, message) => {
    expect(cannotRecordReason({ ...PROBE, ...change }, t)).toBe(message);
  });

  it('checks the scenario\'s own demands', () => {
    const fault = scenario(SCENARIO.replace('fault_around_bytes=65536', 'fault_around_bytes=4096'));
    expect(cannotRecordReason(PROBE, fault)).toBe(
      'the scenario has fault_around_bytes=4096; setting it needs /sys/kernel/debug/fault_around_bytes, which cannot be read here (debugfs not mounted, or closed by kernel lockdown)',
    );
    expect(cannotRecordReason({ ...PROBE, faultAroundBytes: 65536 }, fault)).toBeUndefined();
    const fds = scenario(SCENARIO.replace('@fd 2 /dev/null O_RDWR', '@fd 2 /dev/zero O_RDWR'));
    expect(cannotRecordReason(PROBE, fds)).toMatch(/^the scenario has @fd lines other than/);
    const la57 = scenario(SCENARIO.replace('la57=0', 'la57=1'));
    expect(cannotRecordReason(PROBE, la57)).toBe('the scenario has la57=1 but this host does not use 5-level paging');
    const nopool = scenario(SCENARIO.replace('hugepages_2048kB=4', 'hugepages_2048kB=0').replace('@mount hugetlbfs /mnt/mmsim-huge pagesize=2M\n', ''));
    expect(cannotRecordReason({ ...PROBE, pools: new Map([[1048576, { total: 0, free: 0, rsvd: 0, surp: 0 }]]) }, nopool)).toBeUndefined();
    const gig = scenario(SCENARIO.replace('hugepages_2048kB=4', 'hugepages_2048kB=0').replace('pagesize=2M', 'pagesize=1G'));
    expect(cannotRecordReason({ ...PROBE, pools: new Map([[2048, { total: 0, free: 0, rsvd: 0, surp: 0 }]]) }, gig)).toBe(
      'the scenario asks for 1048576kB huge pages but /sys/kernel/mm/hugepages/hugepages-1048576kB does not exist',
    );
  });
});

describe('noexec host mounts', () => {
  const noexecProbe: HostProbe = { ...PROBE, mountPoints: new Set(['/', '/proc', '/dev', '/dev/shm']), noexecMounts: new Set(['/proc', '/dev/shm']) };
  const withSteps = (body: string): Trace => scenario(HEADER + body);

  it('refuses a scenario that opens a file on one and asks for PROT_EXEC anywhere', () => {
    const t = withSteps(`openat(AT_FDCWD, "/proc/sys/vm/nr_hugepages", O_RDONLY) = ?\nmmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ?\n`);
    expect(noexecConflict(noexecProbe, t)).toEqual(['/proc/sys/vm/nr_hugepages', '/proc']);
    expect(cannotRecordReason(noexecProbe, t)).toMatch(/opens \/proc\/sys\/vm\/nr_hugepages and asks for PROT_EXEC, but \/proc is mounted noexec here/);
    const mprotect = withSteps(`openat(AT_FDCWD, "/proc/sys/vm/nr_hugepages", O_RDONLY) = ?\nmprotect(0x7ffff7ff5000, 4096, PROT_EXEC) = ?\n`);
    expect(noexecConflict(noexecProbe, mprotect)).toEqual(['/proc/sys/vm/nr_hugepages', '/proc']);
  });

  it('lets through files on exec mounts or on the scenario mounts, and scenarios without PROT_EXEC', () => {
    const exec = `mmap(NULL, 4096, PROT_READ|PROT_EXEC, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = ?\n`;
    expect(noexecConflict(noexecProbe, withSteps(`openat(AT_FDCWD, "/dev/zero", O_RDONLY) = ?\n${exec}`))).toBeUndefined();
    // /dev/shm is noexec on the host, but /dev/shm/mmsim is the scenario's fresh tmpfs.
    expect(noexecConflict(noexecProbe, withSteps(`openat(AT_FDCWD, "/dev/shm/mmsim/a", O_RDWR|O_CREAT, 0600) = ?\n${exec}`))).toBeUndefined();
    expect(noexecConflict(noexecProbe, withSteps(`openat(AT_FDCWD, "/proc/sys/vm/nr_hugepages", O_RDONLY) = ?\n`))).toBeUndefined();
    expect(noexecConflict(PROBE, withSteps(`openat(AT_FDCWD, "/proc/sys/vm/nr_hugepages", O_RDONLY) = ?\n${exec}`))).toBeUndefined();
  });
});

describe('planSettings / normalizeSetting', () => {
  it('sets THP, khugepaged, the sysctls, then each pool (overcommit first)', () => {
    const t = scenario(SCENARIO.replace('overcommit_memory=0', 'overcommit_memory=2').replace('mmap_min_addr=65536 lsm', 'mmap_min_addr=0x100000 lsm'));
    const plan = planSettings(t.header.config, [2048, 1048576], false);
    expect(plan.map((s) => `${s.path}=${s.value}`)).toEqual([
      '/sys/kernel/mm/transparent_hugepage/enabled=madvise',
      '/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none=0',
      '/sys/kernel/mm/transparent_hugepage/khugepaged/scan_sleep_millisecs=4294967295',
      '/proc/sys/vm/legacy_va_layout=0',
      '/proc/sys/vm/overcommit_ratio=50',
      '/proc/sys/vm/overcommit_memory=2',
      '/proc/sys/vm/admin_reserve_kbytes=8192',
      '/proc/sys/vm/user_reserve_kbytes=131072',
      '/proc/sys/vm/max_map_count=65530',
      '/proc/sys/vm/mmap_min_addr=1048576',
      '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages=0',
      '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages=4',
      '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_overcommit_hugepages=0',
      '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages=0',
    ]);
    const aslr = planSettings({ ...t.header.config, aslr: 1 }, [2048], true).map((s) => s.path);
    expect(aslr).toContain('/proc/sys/kernel/randomize_va_space');
    expect(aslr).toContain('/sys/kernel/debug/fault_around_bytes');
    expect(aslr.some((p) => p.includes('1048576kB'))).toBe(false);
  });

  it('puts the THP settings no header carries where the model assumes them, for the files the host has', () => {
    const dir = '/sys/kernel/mm/transparent_hugepage';
    const files = [
      `${dir}/shmem_enabled`,
      `${dir}/use_zero_page`,
      `${dir}/defrag`,
      `${dir}/hugepages-64kB/enabled`,
      `${dir}/hugepages-64kB/shmem_enabled`,
      `${dir}/hugepages-2048kB/enabled`,
      `${dir}/hugepages-2048kB/shmem_enabled`,
      `${dir}/hugepages-8kB/shmem_enabled`,
    ];
    expect(modelThpSettings(files).map((s) => `${s.path.slice(dir.length + 1)}=${s.value}`)).toEqual([
      'shmem_enabled=never',
      'use_zero_page=1',
      'defrag=madvise',
      'hugepages-64kB/enabled=never',
      'hugepages-64kB/shmem_enabled=never',
      'hugepages-2048kB/enabled=inherit',
      'hugepages-2048kB/shmem_enabled=inherit',
      'hugepages-8kB/shmem_enabled=never',
    ]);
    const t = scenario();
    const plan = planSettings(t.header.config, [2048], false, files).map((s) => s.path);
    // Right after the THP mode (restored in reverse: the mode last).
    expect(plan.slice(0, 3)).toEqual([`${dir}/enabled`, `${dir}/shmem_enabled`, `${dir}/use_zero_page`]);
    expect(plan.filter((p) => p.startsWith(dir))).toHaveLength(1 + files.length + 2); // + khugepaged's max_ptes_none and scan_sleep_millisecs
  });

  it('reads back the selected THP mode and trims sysctls', () => {
    expect(normalizeSetting('always [madvise] never\n')).toBe('madvise');
    expect(normalizeSetting('65530\n')).toBe('65530');
  });
});

describe('raw maps lines', () => {
  it('keeps a name as Linux prints it (a newline escaped as \\012, tabs and spaces as they are)', () => {
    const [line] = parseRawMaps(['7f0000000000-7f0000001000 r--s 00000000 00:2a 7 /dev/shm/m/c\\012d\tx  (deleted)']);
    expect(line!.name).toBe('/dev/shm/m/c\\012d\tx  (deleted)');
  });

  it('refuses a name with a control character, which a trace cannot hold', () => {
    expect(() => parseRawMaps(['7f0000000000-7f0000001000 r--s 00000000 00:2a 7 /dev/shm/m/\u0001'])).toThrow(/control character 0x01/);
  });
});

describe('layout fitting', () => {
  const target = exeLayout(scenario().header.maps, 0x9c0000n)!;
  const measuredMaps = (textEnd: number, brk: bigint) =>
    exeLayout(
      parseRawMaps([
        '00400000-00401000 r--p 00000000 fe:00 5 /x',
        `00401000-${textEnd.toString(16).padStart(8, '0')} r-xp 00001000 fe:00 5 /x`,
        `${textEnd.toString(16).padStart(8, '0')}-${(textEnd + 0x28000).toString(16).padStart(8, '0')} r--p ${(textEnd - 0x400000).toString(16).padStart(8, '0')} fe:00 5 /x`,
        `${(textEnd + 0x28000).toString(16).padStart(8, '0')}-${(textEnd + 0x2c000).toString(16).padStart(8, '0')} r--p ${(textEnd + 0x28000 - 0x401000).toString(16).padStart(8, '0')} fe:00 5 /x`,
        `${(textEnd + 0x2c000).toString(16).padStart(8, '0')}-${(textEnd + 0x2f000).toString(16).padStart(8, '0')} rw-p ${(textEnd + 0x2c000 - 0x401000).toString(16).padStart(8, '0')} fe:00 5 /x`,
      ]),
      brk,
    )!;

  it('finds the executable\'s segments', () => {
    expect(target.segments).toHaveLength(5);
    expect(target.brkStart).toBe(0x9c0000n);
    expect(exeLayout([], undefined)).toBeUndefined();
  });

  it('pads the bss (and shorter segments) to reach the target, says when it fits', () => {
    const next = adjustPads(NO_PADS, target, measuredMaps(0x47b000, 0x701000n));
    expect(next).toEqual({ text: 0, rodata: 0, relro: 0, data: 0, bss: 0x2bf000 });
    expect(describePads(next as typeof NO_PADS)).toBe('bss +0x2bf000');
    expect(adjustPads(next as typeof NO_PADS, target, measuredMaps(0x47b000, 0x9c0000n))).toBe('fits');
    expect(adjustPads(NO_PADS, target, measuredMaps(0x479000, 0x6ff000n))).toEqual({ text: 0x2000, rodata: 0, relro: 0, data: 0, bss: 0x2bf000 });
  });

  it('gives up when the executable is larger than the target', () => {
    expect(adjustPads(NO_PADS, target, measuredMaps(0x47d000, 0x703000n))).toBe('impossible');
  });
});

describe.runIf(process.env['MMSIM_RECORD_TESTS'] === '1')('recording on this host (MMSIM_RECORD_TESTS=1, root)', () => {
  it('records a scenario twice, byte for byte the same', async () => {
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { runRecord } = await import('../src/record-command.js');
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-record-test-'));
    const input = join(dir, 'scenario.trace');
    writeFileSync(input, SCENARIO);
    const io = { out: () => undefined, err: (t: string) => process.stderr.write(t + '\n') };
    expect(runRecord(input, { output: join(dir, 'a.trace') }, io)).toBe(0);
    expect(runRecord(input, { output: join(dir, 'b.trace') }, io)).toBe(0);
    const a = readFileSync(join(dir, 'a.trace'), 'utf8');
    expect(readFileSync(join(dir, 'b.trace'), 'utf8')).toBe(a);
    expect(a).toContain('\nmmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7ffff7ff5000\n');
  });
});
