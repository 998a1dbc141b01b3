/**
 * The file system calls a trace uses, with Linux's errno results.
 * @see fs/open.c do_sys_openat2, fs/file.c close_fd, fs/namei.c do_unlinkat,
 *      fs/open.c do_sys_ftruncate, fs/read_write.c ksys_pread64/ksys_pwrite64
 */

import { AT, Errno, s32, u32 } from '@mmsim/base';
import type { SysResult, Task } from './task.js';

/**
 * Where a relative path of an `*at` call starts: the directory `dirfd` was
 * opened on (`O_PATH` included), or EBADF/ENOTDIR. The process's working
 * directory is not modelled: a relative path with `AT_FDCWD` is ENOENT.
 * @see fs/namei.c path_init
 */
function startDir(task: Task, dirfd: bigint, path: string): string | number {
  if (path.startsWith('/') || path === '') return '/'; // (an empty path is ENOENT, before the descriptor is looked at)
  const fd = s32(dirfd);
  if (fd === AT.FDCWD) return -Errno.ENOENT;
  const file = fd < 0 ? undefined : task.files.peek(fd);
  if (!file) return -Errno.EBADF;
  return file.inode.type === 'dir' ? file.openPath : -Errno.ENOTDIR;
}

/** `openat(dirfd, path, flags, mode)`; a relative path starts at `dirfd`'s directory. */
export function sysOpenat(task: Task, dirfd: bigint, path: string, flags: bigint, mode: bigint): SysResult {
  const file = task.vfs.open(path, Number(flags & 0xffffffffn), Number(mode & 0o7777n), startDir(task, dirfd, path), task.files.hasFree());
  if (typeof file === 'number') return BigInt(file);
  const fd = task.files.install(file);
  if (fd < 0) file.put();
  return BigInt(fd);
}

/** `close(fd)`. */
export function sysClose(task: Task, fd: bigint): SysResult {
  return BigInt(task.files.close(s32(fd)));
}

/** `dup(fd)`. */
export function sysDup(task: Task, fd: bigint): SysResult {
  const n = s32(fd);
  return BigInt(n < 0 ? -Errno.EBADF : task.files.dup(n));
}

/**
 * `unlinkat(dirfd, path, flags)`: `unlink`, or `rmdir` with `AT_REMOVEDIR`; a
 * relative path starts at `dirfd`'s directory. `flags` is an `int`: bits above
 * the low 32 never reach the check for unknown flags.
 */
export function sysUnlinkat(task: Task, dirfd: bigint, path: string, flags: bigint): SysResult {
  const flag = u32(flags);
  if (flag & ~AT.REMOVEDIR) return BigInt(-Errno.EINVAL);
  return BigInt(task.vfs.unlink(path, (flag & AT.REMOVEDIR) !== 0, startDir(task, dirfd, path)));
}

/** `ftruncate(fd, length)`. */
export function sysFtruncate(task: Task, fd: bigint, length: bigint): SysResult {
  return BigInt(task.vfs.ftruncate(task.files, s32(fd), BigInt.asIntN(64, length)));
}

/** How much one `pwrite64` of the trace recorder's `fill` writes at most (its buffer). */
export const FILL_CHUNK = 65536n;

/**
 * The trace's `fill`: `length` bytes of one value written at `offset` as the
 * recorder writes them, by `pwrite64` calls of at most {@link FILL_CHUNK}
 * bytes, each at the offset where the last one ended, until one writes
 * nothing or fails: the bytes written, or the first call's error. (It differs
 * from one `pwrite64` of `length` bytes only near the largest file offset,
 * where the chunk that would pass it is EINVAL and the ones before it stand.)
 * @see fs/read_write.c ksys_pwrite64
 */
export function sysFill(task: Task, fd: bigint, offset: bigint, length: bigint, value: bigint): SysResult {
  const n = s32(fd);
  const len = BigInt.asIntN(64, length);
  if (BigInt.asIntN(64, offset) < 0n || len < 0n) return BigInt(-Errno.EINVAL);
  if (n < 0) return BigInt(-Errno.EBADF);
  return BigInt(task.vfs.fillChunked(task.files, n, BigInt.asIntN(64, offset), len, Number(value & 0xffn), FILL_CHUNK));
}

/** `pread64` of one byte (the trace's `fpeek`): the byte, `'EOF'`, or `-errno`. */
export function sysFpeek(task: Task, fd: bigint, offset: bigint): SysResult | 'EOF' {
  const n = s32(fd);
  if (BigInt.asIntN(64, offset) < 0n) return BigInt(-Errno.EINVAL);
  if (n < 0) return BigInt(-Errno.EBADF);
  const r = task.vfs.fpeek(task.files, n, BigInt.asIntN(64, offset));
  return r === 'EOF' ? 'EOF' : BigInt(r);
}
