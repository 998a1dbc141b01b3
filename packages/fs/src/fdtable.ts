/**
 * A process's open-file table: descriptors → open files, lowest free number
 * first, with `fget`/`fput` reference counting.
 * @see fs/file.c alloc_fd, fget, close_fd, dup
 */

import { Errno } from '@mmsim/base';
import type { OpenFile } from './vfs.js';

/** `RLIMIT_NOFILE` default soft limit. */
export const NR_OPEN_DEFAULT = 1024;

/** `struct files_struct`. */
export class FdTable {
  private readonly fds = new Map<number, OpenFile>();
  constructor(private readonly limit = NR_OPEN_DEFAULT) {}

  /** `fget`: the file behind `fd` with a new reference, or undefined (`EBADF`). */
  fget(fd: number): OpenFile | undefined {
    const file = this.fds.get(fd);
    file?.get();
    return file;
  }

  /** The file behind `fd` without taking a reference. */
  peek(fd: number): OpenFile | undefined {
    return this.fds.get(fd);
  }

  /** `alloc_fd` + `fd_install`: the lowest free descriptor, or `-EMFILE`. The table takes over the caller's reference. */
  install(file: OpenFile): number {
    for (let fd = 0; fd < this.limit; fd++) {
      if (!this.fds.has(fd)) {
        this.fds.set(fd, file);
        return fd;
      }
    }
    return -Errno.EMFILE;
  }

  /** Whether {@link install} would find a free descriptor below the limit (`alloc_fd` not EMFILE). */
  hasFree(): boolean {
    if (this.fds.size < this.limit) return true;
    for (let fd = 0; fd < this.limit; fd++) if (!this.fds.has(fd)) return true;
    return false;
  }

  /** Install at a given number (initial descriptors). */
  installAt(fd: number, file: OpenFile): void {
    this.fds.get(fd)?.put();
    this.fds.set(fd, file);
  }

  /** `close_fd`: 0 or `-EBADF`. */
  close(fd: number): number {
    const file = this.fds.get(fd);
    if (!file) return -Errno.EBADF;
    this.fds.delete(fd);
    file.put();
    return 0;
  }

  /** `dup`: a new descriptor for the same open file. */
  dup(fd: number): number {
    const file = this.fds.get(fd);
    if (!file) return -Errno.EBADF;
    file.get();
    const nfd = this.install(file);
    if (nfd < 0) file.put();
    return nfd;
  }

  /** Open descriptors (for invariant checks). */
  entries(): IterableIterator<[number, OpenFile]> {
    return this.fds.entries();
  }
}
