// The kernel fuzzer's recorder-safety rules (tools/fuzz/kernel/lib/safety.mjs)
// decide which generated steps may run on the host as root. A path may be
// opened or removed only where the kernel's walk stays inside the scenario's
// own mounts: these cases pin the rules down, the dangerous ones especially.
import { describe, expect, it } from 'vitest';
import { parseCallStep } from '@mmsim/trace';
// @ts-expect-error — plain JavaScript shared with the command-line fuzzer
import { lexical, unsafeReason } from '../../../tools/fuzz/kernel/lib/safety.mjs';

const ctx = { ranges: [], accessRanges: [], mounts: ['/dev/shm/mmsim', '/mnt/mmsim-huge'] };
const verdict = (text: string): string => (unsafeReason(parseCallStep(`${text} = ?`, { file: 'safety', line: 1 }), ctx) as string | undefined) ?? 'ok';

describe('the kernel fuzzer keeps scenarios inside their mounts', () => {
  it('resolves `.`, `..` and repeated slashes by the letter', () => {
    expect(lexical('/dev/shm/mmsim/./a')).toBe('/dev/shm/mmsim/a');
    expect(lexical('//dev/shm/mmsim//../mmsim/a/')).toBe('/dev/shm/mmsim/a');
    expect(lexical('/../..')).toBe('/');
  });

  it('allows a path that stays in a mount, however spelled, and the mount roots themselves', () => {
    expect(verdict('openat(AT_FDCWD, "/dev/shm/mmsim/./a", O_RDWR|O_CREAT, 0600)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/dev/shm/mmsim/../mmsim/a", O_RDWR|O_CREAT|O_TRUNC, 0600)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/mnt/mmsim-huge/", O_RDWR|O_TMPFILE, 0600)')).toBe('ok');
    expect(verdict('unlinkat(AT_FDCWD, "/dev/shm/mmsim", AT_REMOVEDIR)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/dev/null", O_RDWR)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/proc/sys/vm/nr_hugepages", O_WRONLY)')).toBe('ok');
  });

  it('refuses whatever could reach the host outside them', () => {
    expect(verdict('openat(AT_FDCWD, "/dev/shm/mmsim/../x", O_RDWR|O_CREAT, 0600)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/dev/shm/mmsim/..", O_RDWR|O_TMPFILE, 0600)')).toMatch(/outside the mounts/);
    expect(verdict('unlinkat(AT_FDCWD, "/dev/shm/mmsim/..", AT_REMOVEDIR)')).toMatch(/outside the mounts/);
    // A relative path starts wherever the recorder runs, whatever it spells.
    expect(verdict('openat(AT_FDCWD, "dev/shm/mmsim/x", O_RDWR|O_CREAT, 0600)')).toMatch(/outside the mounts/);
    expect(verdict('unlinkat(AT_FDCWD, "dev/shm/mmsim/x", 0)')).toMatch(/outside the mounts/);
    expect(verdict('openat(3, "x", O_RDWR|O_CREAT, 0600)')).toMatch(/relative to a descriptor/);
    expect(verdict('openat(AT_FDCWD, "/dev/null", O_RDWR|O_TRUNC)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/proc/sys/vm/nr_hugepages", O_WRONLY|O_TRUNC)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/proc/sys/vm/max_map_count", O_WRONLY)')).toMatch(/outside the mounts/);
  });

  it('lets sysctlSequence write only the system files whose writes cannot hurt the host', () => {
    for (const path of ['/proc/sys/vm/overcommit_ratio', '/proc/sys/vm/overcommit_kbytes', '/proc/sys/vm/legacy_va_layout', '/proc/sys/vm/drop_caches', '/sys/kernel/mm/transparent_hugepage/use_zero_page', '/dev/full']) {
      expect(verdict(`openat(AT_FDCWD, "${path}", O_RDWR)`)).toBe('ok');
      expect(verdict(`openat(AT_FDCWD, "${path}", O_RDWR|O_TRUNC)`)).toMatch(/outside the mounts/);
    }
    // overcommit_memory may only be read: a 2 would stop every allocation on a host over its commit limit.
    expect(verdict('openat(AT_FDCWD, "/proc/sys/vm/overcommit_memory", O_RDONLY)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/proc/sys/vm/overcommit_memory", O_RDWR)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/proc/sys/vm/overcommit_memory", O_WRONLY)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages", O_RDONLY)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages", O_WRONLY)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/proc/sys/kernel/randomize_va_space", O_RDONLY)')).toMatch(/outside the mounts/);
    expect(verdict('openat(AT_FDCWD, "/sys/kernel/mm/transparent_hugepage/hpage_pmd_size", O_RDONLY)')).toBe('ok');
    expect(verdict('openat(AT_FDCWD, "/sys/kernel/mm/transparent_hugepage/enabled", O_WRONLY)')).toMatch(/outside the mounts/);
  });

  it('keeps calls that allocate for every page of their range within the populate limit', () => {
    const within = 'madvise(0x100000000, 268435456, MADV_GUARD_INSTALL)';
    const beyond = 'madvise(0x100000000, 1099511627776, MADV_GUARD_INSTALL)'; // page tables for 1 TiB: 2 GiB
    expect(verdict(within)).toBe('ok');
    expect(verdict(beyond)).toMatch(/larger than the limit/);
    expect(verdict('madvise(0x100000000, 1099511627776, MADV_POPULATE_WRITE)')).toMatch(/larger than the limit/);
    expect(verdict('madvise(0x100000000, 1099511627776, MADV_DONTNEED)')).toBe('ok');
  });
});

describe('the kernel fuzzer keeps mremap off the recorder\'s own mappings', () => {
  // The recorder's stack, as a header's @maps gives it.
  const stack: [bigint, bigint] = [0x7ffffffde000n, 0x7ffffffff000n];
  const ctx2 = { ...ctx, ranges: [stack] };
  const judge = (text: string): string => (unsafeReason(parseCallStep(`${text} = ?`, { file: 'safety', line: 1 }), ctx2) as string | undefined) ?? 'ok';

  it('allows a shrink whose old range passes 2^64: do_vmi_munmap refuses it before the source changes', () => {
    // 0x100000000 + 0xffffffff00000000 is exactly 2^64; the range "covers" the stack only by wrapping.
    expect(judge('mremap(0x100000000, 0xffffffff00000000, 4096, 0)')).toBe('ok');
    expect(judge('mremap(0x100000000, 0xffffffff00001000, 4096, MREMAP_MAYMOVE|MREMAP_FIXED, 0x110000000)')).toBe('ok');
  });

  it('still refuses the recorder\'s mappings as a source or a destination', () => {
    expect(judge('mremap(0x100000000, 0x7fff00000000, 4096, 0)')).toMatch(/recorder's own mappings/); // no wrap: covers the stack
    expect(judge('mremap(0x7ffffffde000, 0xffff800000022000, 4096, 0)')).toMatch(/recorder's own mappings/); // wraps, from the stack
    expect(judge('mremap(0x100000000, 0xffffffff00000000, 4096, MREMAP_MAYMOVE|MREMAP_FIXED, 0x7ffffffde000)')).toMatch(/MREMAP_FIXED over/);
  });
});
