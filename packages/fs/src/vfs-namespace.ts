/**
 * The machine's file namespace: mounts, names, and the file system calls a
 * trace uses (`openat`, `unlinkat`, `ftruncate`, `pread`/`pwrite` of bytes).
 * @see fs/namei.c, fs/open.c do_sys_openat2, fs/open.c do_sys_ftruncate
 */

import { Errno, O } from '@mmsim/base';
import type { MmKernel, MmStruct, Vma } from '@mmsim/mm-core';
import { makeDevices, pipeInode } from './devices.js';
import type { FdTable } from './fdtable.js';
import { Hugetlb, hugetlbfsType } from './hugetlbfs.js';
import { hugetlbFiles, thpSysfsFiles, vmSysctlFiles } from './hugetlb-sysfs.js';
import { MappingRegistry } from './mappings.js';
import { childPath, dotsTarget, nameTooLong, parentPath, pathTooLong, walkParent, type NamespaceView, type ParentWalk } from './path-walk.js';
import { ShmemInode, shmemZeroSetup, tmpfsType } from './tmpfs.js';
import { Inode, InodeNumbers, OpenFile, type FileSystemType, type SuperBlock } from './vfs.js';

/** The largest file position (`loff_t`'s maximum): a read or write whose end passes it is EINVAL. */
const LLONG_MAX = (1n << 63n) - 1n;

/** The process's umask (the recorder runs with the usual 022). */
const UMASK = 0o022;

/** What `build_open_how` keeps of an `O_PATH` open's flags (`O_PATH_FLAGS`; `O_CLOEXEC` aside). */
const O_PATH_FLAGS = O.PATH | O.DIRECTORY | O.NOFOLLOW | O.CLOEXEC;

/** `__O_TMPFILE`: the bit that, with `O_DIRECTORY`, makes `O_TMPFILE`. */
const TMPFILE_BIT = O.TMPFILE & ~O.DIRECTORY;

/** What a path names: a directory, a device file, or a file in a mount (with the mount and its name there). */
interface Entry {
  readonly inode: Inode;
  readonly mount?: Mount;
  readonly name?: string;
}

/** A mount point. */
interface Mount {
  readonly path: string;
  readonly sb: SuperBlock;
  readonly files: Map<string, Inode>;
}

/** One machine's VFS. */
export class Vfs {
  readonly inodes = new InodeNumbers();
  readonly mappings = new MappingRegistry();
  readonly hugetlb: Hugetlb;
  private readonly types = new Map<string, FileSystemType>();
  private readonly mounts: Mount[] = [];
  private readonly devices: Map<string, Inode>;
  private nextDev = 0x20;
  private readonly shmemSb: SuperBlock;

  constructor(
    readonly kernel: MmKernel,
    extraTypes: readonly FileSystemType[] = [],
  ) {
    this.hugetlb = new Hugetlb(kernel, this.mappings, () => this.inodes.take());
    for (const t of [tmpfsType(this.mappings), hugetlbfsType(() => this.hugetlb), ...extraTypes]) this.types.set(t.name, t);
    const tmpfs = this.types.get('tmpfs')!;
    this.shmemSb = tmpfs.kernMount ? tmpfs.kernMount(kernel, '00:01') : tmpfs.mount(kernel, new Map(), '00:01');
    const zeroSetup = (mm: MmStruct, vma: Vma): number =>
      shmemZeroSetup(mm, vma, () => this.shmemSb.createFile(this.inodes.take()) as ShmemInode);
    kernel.shmemZeroSetup = zeroSetup;
    this.devices = makeDevices(() => this.inodes.take(), zeroSetup);
    for (const [path, inode] of hugetlbFiles(this.hugetlb, () => this.inodes.take())) this.devices.set(path, inode);
    for (const [path, inode] of vmSysctlFiles(kernel, () => this.inodes.take())) this.devices.set(path, inode);
    for (const [path, inode] of thpSysfsFiles(kernel, () => this.inodes.take())) this.devices.set(path, inode);
    for (const h of this.hugetlb.hstates.values()) this.devices.set(`/sys/kernel/mm/hugepages/hugepages-${h.sizeKb}kB`, this.devices.get('/sys')!);
  }

  /** Mount a filesystem (`@mount FSTYPE PATH opts`). Throws on an unknown type (a setup error, not a syscall). */
  mount(fstype: string, path: string, options: ReadonlyMap<string, string>): void {
    const type = this.types.get(fstype);
    if (!type) throw new Error(`unknown filesystem type '${fstype}'`);
    const dev = `00:${(this.nextDev++).toString(16).padStart(2, '0')}`;
    this.mounts.push({ path: path.replace(/\/+$/, ''), sb: type.mount(this.kernel, options, dev), files: new Map() });
  }

  /** The mounted filesystems, as `[path, super block]` (for invariant checks). */
  superBlocks(): Array<[string, SuperBlock]> {
    return this.mounts.map((m) => [m.path, m.sb]);
  }

  /** Every file linked in a mount, as `[path, inode]` (for invariant checks and test clean-up). */
  linkedFiles(): Array<[string, Inode]> {
    const out: Array<[string, Inode]> = [];
    for (const m of this.mounts) for (const [name, inode] of m.files) out.push([`${m.path}/${name}`, inode]);
    return out;
  }

  /**
   * Walk `path` up to its last component, a relative one from the directory
   * `start` (a canonical path, or the errno finding it failed with, returned
   * after the flag checks as `path_init` fails after `build_open_flags`).
   */
  private walk(path: string, start: string | number): ParentWalk | number {
    return getnameError(path) || this.walkNamed(path, start);
  }

  /** {@link walk} for a path `getname` took. */
  private walkNamed(path: string, start: string | number): ParentWalk | number {
    if (typeof start === 'number') return start;
    return walkParent(this.view, path.startsWith('/') ? path : `${start}/${path}`);
  }

  /** The namespace as the path walk sees it. */
  private readonly view: NamespaceView = {
    isDir: (p) => this.dirAt(p) !== undefined,
    exists: (p) => this.entryAt(p) !== undefined,
  };

  /**
   * The directory at the canonical path `p`: one of the system's fixed
   * directories, a mount's root, or a directory on the way to a mount (the
   * mounts' roots share the inode of `/`: nothing tells them apart).
   */
  private dirAt(p: string): Inode | undefined {
    const dev = this.devices.get(p);
    if (dev) return dev.type === 'dir' ? dev : undefined;
    const below = p === '/' ? '/' : `${p}/`;
    return this.mounts.some((m) => m.path === p || m.path.startsWith(below)) ? this.devices.get('/')! : undefined;
  }

  /** What the canonical path `p` names: a directory, a device file, or a file in a mount (with the mount and its name there). */
  private entryAt(p: string): Entry | undefined {
    const dir = this.dirAt(p);
    if (dir) return { inode: dir };
    const dev = this.devices.get(p);
    if (dev) return { inode: dev };
    const parent = parentPath(p);
    const mount = this.mounts.find((m) => m.path === parent);
    const name = p.slice(parent === '/' ? 1 : parent.length + 1);
    const inode = mount?.files.get(name);
    return inode ? { inode, mount, name } : undefined;
  }

  /** Make an open file for a pipe end (initial descriptors). */
  pipe(write: boolean): OpenFile {
    return new OpenFile(pipeInode(this.inodes.take()), 'pipe:[0]', !write, write);
  }

  /**
   * `openat(dirfd, path, flags, mode)`: an open file or `-errno`, with
   * `build_open_how`'s and `build_open_flags`' checks first, then `do_open`'s
   * order: EEXIST, EISDIR, then `may_open`'s permission check (skipped for a
   * file this call created). Without CAP_DAC_OVERRIDE the owner's permission
   * bits decide (the process is uid 0 and owns every file). Access mode 3
   * asks for read and write permission and gives neither (`OPEN_FMODE`).
   * A relative `path` starts at `start`: the canonical path of `dirfd`'s
   * directory, or the errno looking `dirfd` up gave (`path_init`).
   * `fdAvailable` false: the caller's descriptor table is full, which
   * `do_sys_openat2` finds (`get_unused_fd_flags`: EMFILE) after the flag
   * checks and `getname` and before the path is looked up — nothing is
   * created, whatever the path names.
   * @see fs/open.c build_open_how, build_open_flags, do_sys_openat2; fs/namei.c do_open, do_tmpfile, path_init
   */
  open(path: string, flags: number, mode = 0o600, start: string | number = '/', fdAvailable = true): OpenFile | number {
    // build_open_how: "O_PATH beats everything else".
    if (flags & O.PATH) flags &= O_PATH_FLAGS;
    const pathOnly = (flags & O.PATH) !== 0;
    const acc = flags & O.ACCMODE;
    // build_open_flags: O_CREAT|O_DIRECTORY is EINVAL (since Linux 6.4), which also covers O_TMPFILE|O_CREAT. (Found by tools/fuzz/kernel.)
    if (flags & O.CREAT && flags & O.DIRECTORY) return -Errno.EINVAL;
    const mayRead = !pathOnly && acc !== O.WRONLY;
    const mayWrite = !pathOnly && (acc !== O.RDONLY || (flags & O.TRUNC) !== 0);
    // O_TMPFILE is __O_TMPFILE|O_DIRECTORY, and the unnamed file must be writable.
    if (flags & TMPFILE_BIT && (!(flags & O.DIRECTORY) || acc === O.RDONLY)) return -Errno.EINVAL;
    const named = getnameError(path);
    if (named) return named;
    if (!fdAvailable) return -Errno.EMFILE;
    const walk = this.walkNamed(path, start);
    if (typeof walk === 'number') return walk;
    const readable = !pathOnly && (acc === O.RDONLY || acc === O.RDWR);
    const writable = !pathOnly && (acc === O.WRONLY || acc === O.RDWR);
    if (flags & TMPFILE_BIT) return this.openTmpfile(walk, flags, mode, readable, writable);
    const last = this.lastLookup(walk, flags, mode);
    if (typeof last === 'number') return last;
    const { target, inode, created } = last;
    // do_open.
    if (flags & O.CREAT) {
      if (flags & O.EXCL && !created) return -Errno.EEXIST;
      if (inode.type === 'dir') return -Errno.EISDIR;
    }
    // O_DIRECTORY, or slashes after the name (LOOKUP_DIRECTORY), on something that is not a directory. (Found by tools/fuzz/kernel.)
    if ((flags & O.DIRECTORY || walk.trailingSlash) && inode.type !== 'dir') return -Errno.ENOTDIR;
    if (inode.type === 'dir' && mayWrite) return -Errno.EISDIR;
    if (!created && !pathOnly && (!this.kernel.config.privileged || inode.permissionByModeOnly)) {
      if ((mayRead && !(inode.mode & 0o400)) || (mayWrite && !(inode.mode & 0o200))) return -Errno.EACCES;
    }
    // do_dentry_open: O_DIRECT needs FMODE_CAN_ODIRECT. A file O_CREAT made stays made.
    if (flags & O.DIRECT && !inode.canODirect) return -Errno.EINVAL;
    if (flags & O.TRUNC && !created && mayWrite && inode.type === 'reg') {
      const err = inode.io()?.truncate(0n) ?? 0;
      if (err) return err;
    }
    return new OpenFile(inode, target, readable, writable, pathOnly, (flags & O.APPEND) !== 0);
  }

  /**
   * `open_last_lookups`: what the walk's last component names — `.`, `..` or
   * `/` the directory itself (`handle_dots`), a name the file there, made
   * first with `O_CREAT` if it is missing (only a mount's root takes new
   * files) — with its canonical path, or `-errno`.
   */
  private lastLookup(walk: ParentWalk, flags: number, mode: number): { target: string; inode: Inode; created: boolean } | number {
    if (walk.type !== 'norm') {
      const target = dotsTarget(walk);
      return { target, inode: this.dirAt(target)!, created: false };
    }
    // O_CREAT with slashes after the name, before the name is looked up.
    if (flags & O.CREAT && walk.trailingSlash) return -Errno.EISDIR;
    const last = this.lookupLast(walk);
    if (typeof last === 'number') return last;
    const { target, found } = last;
    if (found) return { target, inode: found.inode, created: false };
    if (!(flags & O.CREAT)) return -Errno.ENOENT;
    const mount = this.mounts.find((m) => m.path === walk.dir);
    if (!mount) return -Errno.ENOENT;
    const inode = this.createIn(mount, mode);
    if (typeof inode === 'number') return inode;
    mount.files.set(walk.last, inode);
    return { target, inode, created: true };
  }

  /**
   * `O_TMPFILE`: an unnamed regular file in the directory `path` (a mount's
   * root: the mounts are flat), born unlinked, so that it lives while it is
   * open or mapped. It takes an inode of the mount's `nr_inodes=` like any
   * file. /proc/PID/maps names it `DIR/#INO (deleted)`, the name `d_tmpfile`
   * gives it. The model's fixed directories (`/`, `/dev`, `/tmp`, …) hold no
   * files: there it is EOPNOTSUPP, as on procfs and sysfs, which have no
   * `->tmpfile`.
   * @see fs/namei.c do_tmpfile, vfs_tmpfile; fs/dcache.c d_tmpfile; mm/shmem.c shmem_tmpfile; fs/hugetlbfs/inode.c hugetlbfs_tmpfile
   */
  private openTmpfile(walk: ParentWalk, flags: number, mode: number, readable: boolean, writable: boolean): OpenFile | number {
    // do_tmpfile looks the whole path up as a directory.
    let dir = dotsTarget(walk);
    if (walk.type === 'norm') {
      const last = this.lookupLast(walk);
      if (typeof last === 'number') return last;
      if (!last.found) return -Errno.ENOENT;
      if (last.found.inode.type !== 'dir') return -Errno.ENOTDIR;
      dir = last.target;
    }
    const mount = this.mounts.find((m) => m.path === dir);
    if (!mount) return -Errno.EOPNOTSUPP;
    const inode = this.createIn(mount, mode);
    if (typeof inode === 'number') return inode;
    inode.nlink = 0;
    if (flags & O.DIRECT && !inode.canODirect) {
      // finish_open fails: the file, never named, goes at once.
      inode.maybeEvict();
      return -Errno.EINVAL;
    }
    return new OpenFile(inode, `${mount.path}/#${inode.ino}`, readable, writable, false, (flags & O.APPEND) !== 0);
  }

  /**
   * The directory's lookup of a walk's last name (`lookup_one_qstr_excl` →
   * `->lookup`): its canonical path and what it names (nothing when it is
   * missing), or ENAMETOOLONG for a name no directory looks up.
   */
  private lookupLast(walk: ParentWalk): { target: string; found: Entry | undefined } | number {
    const tooLong = nameTooLong(walk.last);
    if (tooLong) return tooLong;
    const target = childPath(walk.dir, walk.last);
    return { target, found: this.entryAt(target) };
  }

  /** A new regular file on `mount` (not yet named), or ENOSPC when its `nr_inodes=` is used up. */
  private createIn(mount: Mount, mode: number): Inode | number {
    // shmem_reserve_inode / hugetlbfs_dec_free_inodes: the mount's nr_inodes= is used up.
    const limit = mount.sb.inodes;
    if (limit !== undefined && !limit.take()) return -Errno.ENOSPC;
    const inode = mount.sb.createFile(this.inodes.take());
    if (limit !== undefined) inode.inodeLimit = limit;
    inode.mode = mode & 0o7777 & ~UMASK;
    return inode;
  }

  /**
   * `unlinkat(dirfd, path, 0)`, or with `AT_REMOVEDIR` (`rmdir`): 0 or
   * `-errno`; a relative `path` starts at `start` (see {@link open}). Every
   * directory here is a mount's root, a directory a mount lies under, or one
   * of the system's own: none can be removed (a mount point is EBUSY; what
   * the host answers for the others depends on it, and the model says EBUSY
   * for them too). A device file is EACCES.
   * @see fs/namei.c do_unlinkat, do_rmdir, may_delete
   */
  unlink(path: string, removeDir = false, start: string | number = '/'): number {
    const walk = this.walk(path, start);
    if (typeof walk === 'number') return walk;
    if (removeDir) {
      if (walk.type === 'dotdot') return -Errno.ENOTEMPTY;
      if (walk.type === 'dot') return -Errno.EINVAL;
      if (walk.type === 'root') return -Errno.EBUSY;
    } else if (walk.type !== 'norm') return -Errno.EISDIR;
    const last = this.lookupLast(walk);
    if (typeof last === 'number') return last;
    const { found } = last;
    if (!found) return -Errno.ENOENT;
    const isDir = found.inode.type === 'dir';
    if (removeDir) return isDir ? -Errno.EBUSY : -Errno.ENOTDIR;
    if (walk.trailingSlash || isDir) return isDir ? -Errno.EISDIR : -Errno.ENOTDIR;
    if (!found.mount) return -Errno.EACCES;
    found.mount.files.delete(found.name!);
    found.inode.nlink = 0;
    found.inode.maybeEvict();
    return 0;
  }

  /** `ftruncate(fd, length)`. */
  ftruncate(files: FdTable, fd: number, length: bigint): number {
    if (length < 0n) return -Errno.EINVAL;
    const file = files.peek(fd);
    if (!file || file.pathOnly) return -Errno.EBADF;
    if (file.inode.type !== 'reg' || !file.writable) return -Errno.EINVAL;
    const io = file.inode.io();
    return io ? io.truncate(length) : -Errno.EINVAL;
  }

  /**
   * `pwrite64` of `length` bytes of `value` at `offset`, or at the end with
   * `O_APPEND`: one call, checked in `ksys_pwrite64`'s, `vfs_write`'s and
   * `rw_verify_area`'s order.
   * @see fs/read_write.c ksys_pwrite64, vfs_write, rw_verify_area
   */
  fill(files: FdTable, fd: number, offset: bigint, length: bigint, value: number): bigint | number {
    if (offset < 0n) return -Errno.EINVAL;
    const file = files.peek(fd);
    if (!file || file.pathOnly) return -Errno.EBADF;
    // A pipe is a stream: no FMODE_PWRITE, whatever its access mode.
    if (file.inode.type === 'fifo') return -Errno.ESPIPE;
    // ksys_pwrite64 wants FMODE_PWRITE before vfs_write wants FMODE_WRITE.
    if (!file.writable) return file.inode.seqFileOpen ? -Errno.ESPIPE : -Errno.EBADF;
    const io = file.inode.io();
    if (!io) return -Errno.EINVAL;
    if (offset + length > LLONG_MAX) return -Errno.EINVAL; // rw_verify_area: pos + count overflows loff_t
    // generic_write_checks: with O_APPEND the write starts at the end of the file, whatever the offset.
    return io.writeFill(file.append && file.inode.type === 'reg' ? file.inode.size() : offset, length, value);
  }

  /**
   * {@link fill} in calls of at most `chunk` bytes, each at the offset where
   * the last one ended, until one writes nothing or fails: the bytes written,
   * or the first call's error (the trace recorder's `fill`). A file that
   * swallows writes takes each chunk whole until the one that would pass
   * `LLONG_MAX`, so its total is worked out rather than written chunk by chunk.
   */
  fillChunked(files: FdTable, fd: number, offset: bigint, length: bigint, value: number, chunk: bigint): bigint | number {
    if (length === 0n) return this.fill(files, fd, offset, 0n, value);
    const swallows = files.peek(fd)?.inode.io()?.swallowsWrites === true;
    let done = 0n;
    while (done < length) {
      const n = length - done < chunk ? length - done : chunk;
      const r = this.fill(files, fd, offset + done, n, value);
      if (typeof r === 'number' ? r < 0 : r < 0n) return done === 0n ? r : done;
      if (r === 0n || r === 0) break;
      done += BigInt(r);
      if (swallows && done < length) {
        const room = LLONG_MAX - (offset + done); // the rest fits, or the whole chunks that do
        return length - done <= room ? length : done + (room / chunk) * chunk;
      }
    }
    return done;
  }

  /**
   * `pread64` of one byte at `offset`.
   * @see fs/read_write.c ksys_pread64, vfs_read, rw_verify_area; fs/libfs.c generic_read_dir
   */
  fpeek(files: FdTable, fd: number, offset: bigint): number | 'EOF' {
    if (offset < 0n) return -Errno.EINVAL;
    const file = files.peek(fd);
    if (!file || file.pathOnly) return -Errno.EBADF;
    if (file.inode.type === 'fifo') return -Errno.ESPIPE;
    if (!file.readable) return -Errno.EBADF;
    // A directory can be read (its ->read is generic_read_dir, which says EISDIR); another file without I/O cannot.
    const isDir = file.inode.type === 'dir';
    const io = isDir ? undefined : file.inode.io();
    if (!isDir && !io) return -Errno.EINVAL;
    if (offset + 1n > LLONG_MAX) return -Errno.EINVAL; // rw_verify_area: pos + count overflows loff_t
    return io ? io.readByte(offset) : -Errno.EISDIR;
  }
}

/** `getname`: ENOENT for an empty path, ENAMETOOLONG for one that does not fit in `PATH_MAX`; else 0. */
function getnameError(path: string): number {
  return path === '' ? -Errno.ENOENT : pathTooLong(path);
}
