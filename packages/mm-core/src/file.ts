/**
 * What generic mm code needs from the VFS: the `struct file` a VMA maps, its
 * inode, and the file operations that take part in `mmap`. The `fs` package
 * implements these for tmpfs, hugetlbfs and the character devices; mm-core
 * never imports it (as Linux's mm calls `f_op->mmap` without knowing the
 * filesystem).
 * @see include/linux/fs.h struct file, struct file_operations
 */

import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';

/** The page cache of an inode (`struct address_space`), as faults see it. */
export interface PageCacheView {
  /** The frame caching page `index`, or -1 (`filemap_get_folio`). */
  lookup(index: number): number;
  /**
   * `DIV_ROUND_UP(i_size, PAGE_SIZE)` as a number, if the cache keeps it
   * (the fault path asks on every read fault; without it `i_size` is read
   * from the inode as a bigint).
   */
  endIndex?(): number;
}

/** `struct inode`, the part mm reads. */
export interface VmInode {
  /** Inode number (maps' INODE column). */
  readonly ino: number;
  /** Device as `MAJ:MIN` (maps' column). */
  readonly dev: string;
  /** `i_size` in bytes. */
  size(): bigint;
  /** The page cache, for inodes that have one. */
  readonly pageCache: PageCacheView | undefined;
}

/** `struct file_operations`, the members `mmap` uses. */
export interface FileOps {
  /**
   * `->mmap`: set up a new VMA (may change its flags and install `vm_ops`);
   * 0 or `-errno`. `null`: the file cannot be mapped (`ENODEV`).
   */
  readonly mmap: ((file: VmFile, vma: Vma, mm: MmStruct) => number) | null;
  /**
   * `->get_unmapped_area`, if the filesystem has its own placement: `addr` is the
   * raw request (bytes), the result a vpn or `-errno`. Called for MAP_FIXED too.
   */
  readonly getUnmappedArea?: (mm: MmStruct, file: VmFile, addr: bigint, length: number, pgoff: number, flags: number) => number;
  /**
   * The file's `->get_unmapped_area` is one `mremap` trusts to honour a fixed
   * address (shmem, hugetlbfs, `thp_get_unmapped_area`), so a move of several
   * VMAs may include its mappings.
   * @see mm/mremap.c vma_multi_allowed
   */
  readonly honoursFixedPlacement?: boolean;
  /** `is_file_hugepages`: the huge page order of a hugetlbfs file. */
  readonly hugePageOrder?: number;
  /**
   * `->fallocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE)`: free the pages of
   * `[offset, offset+len)` (unmapping them everywhere first); 0 or `-errno`.
   * Absent: the filesystem cannot punch holes (`EOPNOTSUPP`).
   */
  readonly punchHole?: (file: VmFile, offset: bigint, len: bigint) => number;
  /**
   * Reclaim takes the clean page-cache page at `index` (mapped nowhere now):
   * it leaves the cache and its frame is freed. What the filesystem charged
   * for it may come back only later (shmem: at the inode's next
   * `shmem_recalc_inode`). Absent: reclaim punches a one-page hole instead.
   * @see mm/vmscan.c shrink_folio_list, __remove_mapping
   */
  readonly reclaimClean?: (file: VmFile, index: number) => void;
  /** `FOP_UNSIGNED_OFFSET`: skip `file_mmap_ok`'s size check. */
  readonly unsignedOffset?: boolean;
  /** `FOP_MMAP_SYNC`: accepts `MAP_SYNC` (DAX). */
  readonly mmapSync?: boolean;
  /** The file is a regular file, block device or socket (`file_mmap_size_max` = `MAX_LFS_FILESIZE`). */
  readonly regularSizeLimit: boolean;
}

/** `struct file`: one open file description. */
export interface VmFile {
  readonly inode: VmInode;
  /** `FMODE_READ`. */
  readonly readable: boolean;
  /** `FMODE_WRITE`. */
  readonly writable: boolean;
  readonly ops: FileOps;
  /** The file lives on a `noexec` mount. */
  readonly noexec: boolean;
  /** `d_path` as /proc/PID/maps prints it (with ` (deleted)` when unlinked). */
  path(): string;
  /** Take a reference (`get_file`). */
  get(): void;
  /** Drop a reference (`fput`); the last one releases the file. */
  put(): void;
}
