/**
 * The VFS objects a mapping needs: inodes, open files (`struct file` with a
 * reference count), and the filesystem-type seam that tmpfs, hugetlbfs and the
 * device nodes implement.
 * @see include/linux/fs.h struct inode, struct file, struct file_operations
 */

import type { FileOps, MmKernel, PageCacheView, VmFile, VmInode } from '@mmsim/mm-core';

/** What kind of object an inode is (`S_IFMT`). */
export type InodeType = 'reg' | 'dir' | 'chr' | 'fifo';

/** The maximum size of a regular file (`MAX_LFS_FILESIZE`). */
export const MAX_LFS_FILESIZE = (1n << 63n) - 1n;

/** Operations an open file supports besides `mmap` (`read_iter`, `write_iter`, `setattr`). */
export interface InodeIo {
  /** `pread` of one byte: the byte, `'EOF'`, or `-errno`. */
  readByte(offset: bigint): number | 'EOF';
  /** `pwrite` of `length` copies of `value`: bytes written or `-errno`. */
  writeFill(offset: bigint, length: bigint, value: number): bigint | number;
  /** Every write past a fill's first is taken whole and leaves nothing behind (`/dev/null`, `/dev/zero`'s `write_null`; a sysctl, past its start). */
  readonly swallowsWrites?: boolean;
  /** `ftruncate`: 0 or `-errno`. */
  truncate(size: bigint): number;
}

/** `struct inode`. */
export abstract class Inode implements VmInode {
  /** Link count; 0 once unlinked. */
  nlink = 1;
  /** Open files and mappings referring to the inode (`i_count`-like). */
  users = 0;
  /** Permission bits (`i_mode & 07777`); every file here is owned by uid 0, the process's uid. */
  mode = 0o644;
  private evicted = false;
  /** The mount's inode limit this inode is counted in (given back when it is evicted), or null. */
  inodeLimit: InodeLimit | null = null;

  constructor(
    readonly ino: number,
    readonly dev: string,
    readonly type: InodeType,
  ) {}

  abstract size(): bigint;
  get pageCache(): PageCacheView | undefined {
    return undefined;
  }
  /** The `f_op` for files opened on this inode. */
  abstract fileOps(): FileOps;
  /** Byte I/O for `fill`/`fpeek`/`ftruncate`, if the inode supports it. */
  abstract io(): InodeIo | undefined;
  /** The file lives on a `noexec` mount. */
  get noexec(): boolean {
    return false;
  }
  /** Opening the file with `O_DIRECT` is allowed (`FMODE_CAN_ODIRECT`, which its `->open` sets); otherwise it is EINVAL. */
  get canODirect(): boolean {
    return false;
  }
  /**
   * Opened through `seq_open` (kernfs: sysfs attributes), which clears
   * `FMODE_PWRITE`; `kernfs_fop_open` gives it back only to a file opened for
   * writing, so `pwrite` of one opened read-only is `ESPIPE`, not `EBADF`.
   */
  get seqFileOpen(): boolean {
    return false;
  }
  /**
   * Its permission bits decide even for a process with every capability: a
   * sysctl's `proc_sys_permission` → `sysctl_perm` reads the owner's bits for
   * uid 0 and knows no `CAP_DAC_OVERRIDE` (root cannot read `drop_caches`),
   * and `kernfs_fop_open` refuses a write open of a sysfs file without a
   * write bit.
   */
  get permissionByModeOnly(): boolean {
    return false;
  }
  /** Release everything the inode holds (`evict_inode`). */
  protected abstract evict(): void;

  /** Drop a user; evict when unlinked and unused (`iput_final`). */
  release(): void {
    this.users--;
    this.maybeEvict();
  }

  /** Called after an unlink or the last release. */
  maybeEvict(): void {
    if (!this.evicted && this.nlink === 0 && this.users <= 0) {
      this.evicted = true;
      this.evict();
      this.inodeLimit?.give();
    }
  }
}

/** `struct file`: an open file description shared by duplicated descriptors and mappings. */
export class OpenFile implements VmFile {
  private refs = 1;
  constructor(
    readonly inode: Inode,
    /** The path it was opened by (`d_path`). */
    readonly openPath: string,
    readonly readable: boolean,
    readonly writable: boolean,
    /** Opened with `O_PATH` (no I/O, no mmap). */
    readonly pathOnly = false,
    /** Opened with `O_APPEND`: every write goes to the end of the file (`IOCB_APPEND`). */
    readonly append = false,
  ) {
    inode.users++;
  }

  get ops(): FileOps {
    return this.inode.fileOps();
  }

  get noexec(): boolean {
    return this.inode.noexec;
  }

  path(): string {
    return this.inode.nlink === 0 ? `${this.openPath} (deleted)` : this.openPath;
  }

  get(): void {
    this.refs++;
  }

  put(): void {
    this.refs--;
    if (this.refs === 0) this.inode.release();
  }

  /** Current reference count (for invariant checks). */
  get refCount(): number {
    return this.refs;
  }
}

/** A mounted filesystem type (`struct file_system_type`), the seam for new filesystems. */
export interface FileSystemType {
  /** `tmpfs`, `hugetlbfs`. */
  readonly name: string;
  /** Mount an instance with `options` (`pagesize=2M`); `kernel` is the machine's mm state. */
  mount(kernel: MmKernel, options: ReadonlyMap<string, string>, dev: string): SuperBlock;
  /**
   * `kern_mount`: the kernel's own instance (`SB_KERNMOUNT`), if the type has
   * one that differs from a default user mount (tmpfs: no block or inode
   * limit). Without it, {@link mount} with no options is used.
   */
  kernMount?(kernel: MmKernel, dev: string): SuperBlock;
}

/** A mounted filesystem instance (`struct super_block`). */
export interface SuperBlock {
  readonly type: string;
  /** Create a regular file. */
  createFile(ino: number): Inode;
  /** The device number shown in maps. */
  readonly dev: string;
  /** The mount's inode limit (`nr_inodes=`), if it has one: a file is created only if it can take one. */
  readonly inodes?: InodeLimit;
}

/**
 * A mount's limit on its inodes (`nr_inodes=`): tmpfs's `free_ispace` (one
 * inode each; the root directory takes one when mounted), hugetlbfs's
 * `free_inodes`. An inode counts from its creation until it is evicted
 * (unlinked and no longer open or mapped).
 * @see mm/shmem.c shmem_reserve_inode, shmem_free_inode
 * @see fs/hugetlbfs/inode.c hugetlbfs_dec_free_inodes, hugetlbfs_inc_free_inodes
 */
export class InodeLimit {
  /** Inodes still available. */
  free: number;

  /**
   * A mounted filesystem's limit: its root directory takes the first inode
   * (`shmem_fill_super`, `hugetlbfs_fill_super` create it under the limit).
   * @param max the limit, at least 1 (`nr_inodes=0` on hugetlbfs is refused before)
   */
  constructor(readonly max: number) {
    this.free = max - 1;
  }

  /** Count one more inode; false when none is left (the create fails with ENOSPC). */
  take(): boolean {
    if (this.free <= 0) return false;
    this.free--;
    return true;
  }

  /** An inode was evicted. */
  give(): void {
    this.free++;
  }
}

/**
 * Check a mount's options against what the filesystem accepts (`fs_parse`):
 * an option outside `known` is refused as Linux refuses it (the mount fails
 * with EINVAL), one in `notModelled` because answering as without it would
 * be wrong. Throws an Error that says which.
 */
export function checkMountOptions(fstype: string, options: ReadonlyMap<string, string>, known: readonly string[], notModelled: readonly string[]): void {
  for (const key of options.keys()) {
    if (notModelled.includes(key)) throw new Error(`${fstype}: ${key}= is not modelled; mount without it`);
    if (!known.includes(key)) throw new Error(`${fstype}: unknown mount option '${key}' (Linux refuses the mount: EINVAL); known: ${known.join(', ')}`);
  }
}

/** Allocates inode numbers for one machine (`get_next_ino`). */
export class InodeNumbers {
  private next = 2;
  /** A fresh inode number. */
  take(): number {
    return this.next++;
  }
}
