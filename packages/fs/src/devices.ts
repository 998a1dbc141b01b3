/**
 * The files every Linux system has outside the mounts a trace names:
 * `/dev/zero`, `/dev/null`, `/dev/full`, `/dev/random`, `/dev/urandom`, pipes, the
 * `/proc/sys/vm/*` files and directories — with their mmap behaviour.
 * @see drivers/char/mem.c mmap_zero, fs/pipe.c, fs/proc/proc_sysctl.c
 */

import { Errno } from '@mmsim/base';
import { mmGetUnmappedArea, thpGetUnmappedAreaFile, type FileOps, type MmStruct, type Vma, type VmFile } from '@mmsim/mm-core';
import { Inode, type InodeIo, type InodeType } from './vfs.js';

const NO_MMAP: FileOps = { mmap: null, regularSizeLimit: false };

/** A character device, FIFO, directory or procfs file: no page cache. */
export class SpecialInode extends Inode {
  constructor(
    ino: number,
    dev: string,
    type: InodeType,
    private readonly ops: FileOps,
    private readonly byteIo?: InodeIo,
  ) {
    super(ino, dev, type);
  }
  size(): bigint {
    return 0n;
  }
  fileOps(): FileOps {
    return this.ops;
  }
  io(): InodeIo | undefined {
    return this.byteIo;
  }
  protected evict(): void {}
}

/** `/dev/zero`'s `mmap_zero`: shared mappings become shmem objects, private ones anonymous memory. */
export function devZeroOps(shmemZeroSetup: (mm: MmStruct, vma: Vma) => number): FileOps {
  return {
    regularSizeLimit: false,
    // get_unmapped_area_zero: shared → shmem_get_unmapped_area (shmem huge pages are off: the
    // plain search); private → thp_get_unmapped_area, 2 MiB-aligned with the offset.
    // (Was the plain search for both; found by tools/fuzz/kernel.)
    getUnmappedArea: (mm, _file, addr, length, pgoff, flags) =>
      flags & 0x01 /* MAP_SHARED */
        ? mmGetUnmappedArea(mm, addr === 0n ? 0 : Number(addr >> 12n), length, pgoff, flags)
        : thpGetUnmappedAreaFile(mm, addr, length, pgoff, flags),
    mmap(file: VmFile, vma: Vma, mm: MmStruct): number {
      if (vma.flags & 0x8 /* VM_SHARED */) {
        const err = shmemZeroSetup(mm, vma);
        if (!err) file.put();
        return err;
      }
      vma.ops = null;
      return 0;
    },
  };
}

/** Reads of zeros, writes swallowed. */
const ZERO_IO: InodeIo = {
  readByte: () => 0,
  writeFill: (_o, length) => length,
  swallowsWrites: true,
  truncate: () => -Errno.EINVAL,
};

/** Reads at EOF, writes swallowed. */
const NULL_IO: InodeIo = {
  readByte: () => 'EOF',
  writeFill: (_o, length) => length,
  swallowsWrites: true,
  truncate: () => -Errno.EINVAL,
};

/** `/dev/full`: reads of zeros (`read_iter_zero`), every write `ENOSPC` (`write_full`), even of nothing. */
const FULL_IO: InodeIo = {
  readByte: () => 0,
  writeFill: () => -Errno.ENOSPC,
  truncate: () => -Errno.EINVAL,
};

/** Build the device inodes of a machine. */
export function makeDevices(
  nextIno: () => number,
  shmemZeroSetup: (mm: MmStruct, vma: Vma) => number,
): Map<string, Inode> {
  const m = new Map<string, Inode>();
  m.set('/dev/zero', new SpecialInode(nextIno(), '00:05', 'chr', devZeroOps(shmemZeroSetup), ZERO_IO));
  m.set('/dev/null', new SpecialInode(nextIno(), '00:05', 'chr', NO_MMAP, NULL_IO));
  m.set('/dev/random', new SpecialInode(nextIno(), '00:05', 'chr', NO_MMAP, ZERO_IO));
  m.set('/dev/urandom', new SpecialInode(nextIno(), '00:05', 'chr', NO_MMAP, ZERO_IO));
  m.set('/dev/full', new SpecialInode(nextIno(), '00:05', 'chr', NO_MMAP, FULL_IO));
  for (const dir of ['/', '/dev', '/dev/shm', '/proc', '/proc/sys', '/proc/sys/vm', '/tmp', '/mnt', '/sys', '/sys/kernel', '/sys/kernel/mm', '/sys/kernel/mm/hugepages', '/sys/kernel/mm/transparent_hugepage']) {
    m.set(dir, new SpecialInode(nextIno(), '00:02', 'dir', NO_MMAP));
  }
  for (const inode of m.values()) inode.mode = inode.type === 'dir' ? 0o755 : 0o666;
  return m;
}

/** A pipe end's inode (no mmap method: ENODEV, or EACCES for the write end which is not readable). */
export function pipeInode(ino: number): SpecialInode {
  return new SpecialInode(ino, '00:0e', 'fifo', NO_MMAP, NULL_IO);
}
