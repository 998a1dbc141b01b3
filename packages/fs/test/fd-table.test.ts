import { x86_64 } from '@mmsim/arch/x86-64';
import { Errno, NOOP_TRACER, O } from '@mmsim/base';
import { buddyAllocatorFactory, DEFAULT_KERNEL_CONFIG, MmKernel } from '@mmsim/mm-core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FdTable, Vfs } from '../src/index.js';

function vfsWithTmpfs(): Vfs {
  const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 14 }), NOOP_TRACER);
  const vfs = new Vfs(kernel);
  vfs.mount('tmpfs', '/t', new Map());
  return vfs;
}

describe('FdTable.hasFree (alloc_fd against RLIMIT_NOFILE)', () => {
  it('says whether install would find a descriptor below the limit, whatever lies above it', () => {
    const vfs = vfsWithTmpfs();
    const file = () => vfs.pipe(false);
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 8 }),
        fc.array(fc.oneof(fc.record({ at: fc.integer({ min: 0, max: 12 }) }), fc.record({ close: fc.integer({ min: 0, max: 12 }) }), fc.constant('install' as const)), { maxLength: 40 }),
        (limit, ops) => {
          const t = new FdTable(limit);
          for (const op of ops) {
            if (op === 'install') t.install(file());
            else if ('at' in op) t.installAt(op.at, file());
            else t.close(op.close);
            const free = t.hasFree();
            const fd = t.install(file());
            expect(fd >= 0).toBe(free);
            if (fd >= 0) {
              expect(fd).toBeLessThan(limit);
              t.close(fd);
            } else {
              expect(fd).toBe(-Errno.EMFILE);
            }
          }
        },
      ),
    );
  });
});

describe('Vfs.open with a full descriptor table (do_sys_openat2: get_unused_fd_flags before the lookup)', () => {
  it('checks the flags and getname first, then fails with EMFILE before looking the path up', () => {
    const vfs = vfsWithTmpfs();
    const made = vfs.open('/t/a', O.RDWR | O.CREAT);
    expect(typeof made).not.toBe('number');
    expect(vfs.open('/t/a', O.RDWR | O.CREAT | O.DIRECTORY, 0o600, '/', false)).toBe(-Errno.EINVAL);
    expect(vfs.open('', O.RDONLY, 0o600, '/', false)).toBe(-Errno.ENOENT);
    expect(vfs.open(`/${'x/'.repeat(2100)}`, O.RDONLY, 0o600, '/', false)).toBe(-Errno.ENAMETOOLONG);
    expect(vfs.open('/t/a', O.RDONLY, 0o600, '/', false)).toBe(-Errno.EMFILE);
    expect(vfs.open('/t/missing', O.RDONLY, 0o600, '/', false)).toBe(-Errno.EMFILE);
    expect(vfs.open('/dev/zero/x', O.RDONLY, 0o600, '/', false)).toBe(-Errno.EMFILE);
    expect(vfs.open('relative', O.RDONLY, 0o600, -Errno.EBADF, false)).toBe(-Errno.EMFILE);
  });

  it('creates nothing with O_CREAT', () => {
    const vfs = vfsWithTmpfs();
    expect(vfs.open('/t/new', O.RDWR | O.CREAT, 0o600, '/', false)).toBe(-Errno.EMFILE);
    expect(vfs.open('/t/new', O.RDONLY)).toBe(-Errno.ENOENT);
    expect(vfs.open('/t', O.RDWR | O.TMPFILE, 0o600, '/', false)).toBe(-Errno.EMFILE);
    expect(vfs.linkedFiles()).toEqual([]);
  });
});
