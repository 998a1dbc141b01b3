import { describe, expect, it } from 'vitest';
import { TraceSyntaxError, compareTraces, parseStraceLog, parseTrace, printTrace, type CallStep } from '../src/index.js';

const LOG = `execve("./a.out", ["./a.out"], 0x7ffd6c3b0e50 /* 0 vars */) = 0
brk(NULL)                               = 0x5555556f1000
mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7fbd000
openat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_CLOEXEC) = 3
mmap(NULL, 2037344, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7ffff7dc9000
mprotect(0x7ffff7f9d000, 16384, PROT_READ) = 0
arch_prctl(ARCH_SET_FS, 0x7ffff7fbe740) = 0
munmap(0x7ffff7fbd000, 8192)            = 0
--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x10} ---
mmap(NULL, 4096, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS|MAP_HUGETLB|21<<MAP_HUGE_SHIFT, -1, 0) = -1 ENOMEM (Cannot allocate memory)
+++ exited with 0 +++
`;

const THREADS = `strace: Process 4242 attached
[pid  4241] 12:34:56.000001 mmap(NULL, 4096, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0 <unfinished ...>
[pid  4242] 12:34:56.000002 madvise(0x7ffff7000000, 8388608, MADV_DONTNEED <unfinished ...>
[pid  4241] 12:34:56.000003 <... mmap resumed>) = 0x7ffff7fbc000 <0.000010>
[pid  4242] 12:34:56.000004 <... madvise resumed>) = 0 <0.000020>
4242  1700000000.000005 mremap(0x7ffff7fbc000, 4096, 8192, MREMAP_MAYMOVE) = 0x7ffff7fb0000
4241  mlock(0x7ffff7fb0000, 8192) = -1 EAGAIN (Resource temporarily unavailable)
     0.000010 munlock(0x7ffff7fb0000, 8192) = 0
mmap(NULL, 4096, 0x3 /* PROT_READ|PROT_WRITE */, MAP_SHARED, 3</dev/shm/x>, 0) = 0x7ffff7fa0000
[pid  4242] brk(NULL <unfinished ...>
[pid  4242] +++ killed by SIGKILL +++
`;

describe('parseStraceLog', () => {
  it('keeps the memory calls the format knows and counts the rest', () => {
    const log = parseStraceLog(LOG, 'a.strace');
    expect(log.steps.map((s) => s.call)).toEqual(['brk', 'mmap', 'mmap', 'mprotect', 'munmap', 'mmap']);
    expect(Object.fromEntries(log.skipped)).toEqual({ execve: 1, openat: 1, arch_prctl: 1 });
    expect(log.steps[0]!.result).toEqual({ kind: 'value', value: 0x5555556f1000n });
    expect(log.steps[0]!.pos).toEqual({ file: 'a.strace', line: 2 });
    expect(log.steps[5]!.args[3]!.value).toBe(0x40022n | (21n << 26n));
    expect(log.steps[5]!.result).toEqual({ kind: 'error', errno: 'ENOMEM', message: 'Cannot allocate memory' });
  });

  it('prints as a trace that parses back to the same steps', () => {
    const log = parseStraceLog(LOG, 'a.strace');
    const text = printTrace(log.trace);
    expect(text).toContain('\nmmap(NULL, 2037344, PROT_READ, MAP_PRIVATE|MAP_DENYWRITE, 3, 0) = 0x7ffff7dc9000\n');
    expect(text).toContain('\nbrk(NULL) = 0x5555556f1000\n');
    const again = parseTrace(text, 'a.trace');
    expect(compareTraces(log.trace, again).divergences).toEqual([]);
  });

  it('handles pid prefixes, timestamps, -T, unfinished/resumed pairs, -X verbose and -y', () => {
    const log = parseStraceLog(THREADS, 't.strace');
    const steps = log.steps as CallStep[];
    expect(steps.map((s) => s.call)).toEqual(['mmap', 'madvise', 'mremap', 'mlock', 'munlock', 'mmap']);
    expect(steps[0]!.pos.line).toBe(2);
    expect(steps[0]!.result).toEqual({ kind: 'value', value: 0x7ffff7fbc000n });
    expect(steps[1]!.args[2]!.value).toBe(4n);
    expect(steps[1]!.pos.line).toBe(3);
    expect(steps[3]!.result).toMatchObject({ kind: 'error', errno: 'EAGAIN' });
    expect(steps[5]!.args.map((a) => a.text)).toEqual(['NULL', '4096', '0x3', 'MAP_SHARED', '3', '0']);
    expect(Object.fromEntries(log.skipped)).toEqual({ '(other)': 1, brk: 1 });
  });

  it('reports a known call it cannot read as a TraceSyntaxError', () => {
    expect(() => parseStraceLog('mmap(NULL, 4096, PROT_READ, MAP_BOGUS, -1, 0) = 0x1000\n', 'x.strace')).toThrow(
      TraceSyntaxError,
    );
    expect(() => parseStraceLog('\n\nmunmap(0x1000) = 0\n', 'x.strace')).toThrow(/^x\.strace:3: munmap takes 2/);
  });
});
