/**
 * tmpfs (shmem): files whose pages live only in the page cache, the `->fault`
 * that allocates a page for a hole, `->map_pages` for fault-around, truncation
 * that unmaps the pages past the new end, and `shmem_zero_setup` for shared
 * anonymous memory.
 * @see mm/shmem.c
 */

import { Errno } from '@mmsim/base';
import {
  PageFlags,
  PageKind,
  VmFault,
  vmEnoughMemory,
  vmUnacctMemory,
  type FileOps,
  type MmKernel,
  type MmStruct,
  type PageCacheView,
  type Vma,
  type VmOperations,
} from '@mmsim/mm-core';
import { checkMountOptions, Inode, InodeLimit, MAX_LFS_FILESIZE, OpenFile, type FileSystemType, type InodeIo, type SuperBlock } from './vfs.js';
import type { MappingRegistry } from './mappings.js';
import { memparse } from './memparse.js';
import { PageIndex } from './page-index.js';

/**
 * The block limit of a tmpfs mount (`shmem_sb_info.max_blocks` and
 * `used_blocks`): how many pages its files may hold in the page cache
 * together. A mount without `size=` or `nr_blocks=` gets half the RAM
 * (`shmem_default_max_blocks`); `size=0` means no limit (`max` Infinity).
 * The kernel's own mount behind shared anonymous memory has none at all
 * (its inodes carry no `ShmemBlocks`).
 * @see mm/shmem.c shmem_inode_acct_blocks, shmem_default_max_blocks
 */
export class ShmemBlocks {
  /** Pages held now. */
  used = 0;

  /** @param max pages allowed (Infinity: unlimited) */
  constructor(readonly max: number) {}
}

/** {@link ShmemInode.getOrCreate}'s answer when no frame is left. */
export const SHMEM_NO_MEMORY = -1;
/** {@link ShmemInode.getOrCreate}'s answer when the mount's block limit is reached (`-ENOSPC`). */
export const SHMEM_NO_SPACE = -2;

/** A shmem inode: size, page cache, and the mappings to shoot down on truncate. */
export class ShmemInode extends Inode implements PageCacheView, InodeIo {
  private isize = 0n;
  /** `i_size` in pages, rounded up (a number: the fault path compares with it, exact below 2^53). */
  private eofIndex = 0;
  /** Page index → frame. */
  readonly cache = new PageIndex();
  /** Pages charged to `vm_committed_as` for an accounted (shared anonymous) object. */
  accountedPages = 0;
  /**
   * Pages reclaim took out of the cache whose blocks the mount still counts
   * (Linux's `alloced - swapped - nrpages`): given back at this inode's next
   * {@link recalc}, not when the page goes.
   */
  private lazilyFreed = 0;

  /** Pages reclaim took out of the cache that the mount still counts (until this inode's next recalc). */
  get lazilyFreedPages(): number {
    return this.lazilyFreed;
  }

  constructor(
    ino: number,
    dev: string,
    readonly kernel: MmKernel,
    readonly mappings: MappingRegistry,
    /** The mount's block limit; null on the kernel's internal mount (no limit). */
    readonly blocks: ShmemBlocks | null = null,
  ) {
    super(ino, dev, 'reg');
  }

  /** `shmem_file_open` sets `FMODE_CAN_ODIRECT` (Linux 6.6+). */
  override get canODirect(): boolean {
    return true;
  }

  override get pageCache(): PageCacheView {
    return this;
  }

  size(): bigint {
    return this.isize;
  }

  /** Set `i_size` directly (creation of shmem objects). */
  setSize(size: bigint): void {
    this.isize = size;
    this.eofIndex = Number((size + 4095n) >> 12n);
  }

  /** `DIV_ROUND_UP(i_size, PAGE_SIZE)`: page `index` lies wholly past `i_size` when `index >= endIndex()`. */
  endIndex(): number {
    return this.eofIndex;
  }

  lookup(index: number): number {
    return this.cache.get(index);
  }

  /**
   * `shmem_get_folio`: the page for `index`, allocating a zeroed one;
   * {@link SHMEM_NO_SPACE} past the mount's block limit
   * (`shmem_inode_acct_blocks`), {@link SHMEM_NO_MEMORY} without a frame.
   */
  getOrCreate(index: number): number {
    let pfn = this.cache.get(index);
    if (pfn >= 0) return pfn;
    const blocks = this.blocks;
    if (blocks !== null && blocks.used >= blocks.max) {
      // shmem_alloc_and_add_folio: on ENOSPC, this inode's own pages that reclaim
      // dropped are given back first, and the charge is tried again (other inodes'
      // stay charged until their own recalc).
      this.recalc();
      if (blocks.used >= blocks.max) return SHMEM_NO_SPACE;
    }
    pfn = this.kernel.allocPages(PageKind.FILE, 0);
    if (pfn < 0) return SHMEM_NO_MEMORY;
    if (blocks !== null) blocks.used++;
    const desc = this.kernel.page(pfn)!;
    desc.inode = this;
    desc.index = index;
    this.cache.set(index, pfn);
    this.recalc(); // shmem_recalc_inode(inode, pages, 0) once the folio is in the cache
    return pfn;
  }

  /**
   * `shmem_recalc_inode`: give the mount back the blocks of pages reclaim took
   * out of this inode's cache since the last recalc.
   * @see mm/shmem.c shmem_recalc_inode
   */
  private recalc(): void {
    if (this.lazilyFreed === 0) return;
    if (this.blocks !== null) this.blocks.used -= this.lazilyFreed;
    this.lazilyFreed = 0;
  }

  /**
   * Reclaim takes the clean page at `index` out of the cache (`__remove_mapping`):
   * the frame goes now, the block at this inode's next recalc
   * (`shmem_recalc_inode`, see {@link lazilyFreedPages}).
   */
  reclaimClean(index: number): void {
    const pfn = this.cache.delete(index);
    if (pfn < 0) return;
    this.releaseFrame(pfn);
    this.lazilyFreed++;
  }

  fileOps(): FileOps {
    return SHMEM_FILE_OPS;
  }

  io(): InodeIo {
    return this;
  }

  readByte(offset: bigint): number | 'EOF' {
    if (offset >= this.isize) return 'EOF';
    const pfn = this.cache.get(Number(offset >> 12n));
    return pfn < 0 ? 0 : this.kernel.phys.read(pfn, Number(offset & 0xfffn));
  }

  writeFill(offset: bigint, length: bigint, value: number): bigint | number {
    if (length === 0n) return 0n;
    if (offset + length > MAX_LFS_FILESIZE) {
      if (offset >= MAX_LFS_FILESIZE) return -Errno.EFBIG;
      length = MAX_LFS_FILESIZE - offset;
    }
    let pos = offset;
    const end = offset + length;
    while (pos < end) {
      const index = Number(pos >> 12n);
      const inPage = Number(pos & 0xfffn);
      const chunk = Math.min(4096 - inPage, Number(end - pos));
      const pfn = this.getOrCreate(index);
      if (pfn < 0) break; // no page: the write stops short
      this.kernel.phys.fill(pfn, inPage, chunk, value);
      this.kernel.memmap.setFlag(pfn, PageFlags.DIRTY, true); // write_end: folio_mark_dirty
      pos += BigInt(chunk);
    }
    // i_size covers what was written (generic_perform_write's i_size_write); nothing written,
    // nothing changes. (Found by tools/fuzz/kernel: fuzz-file-s2070-4.)
    if (pos === offset) return -Errno.ENOSPC;
    if (pos > this.isize) this.setSize(pos);
    return pos - offset;
  }

  truncate(size: bigint): number {
    if (size > MAX_LFS_FILESIZE) return -Errno.EFBIG;
    const old = this.isize;
    this.setSize(size);
    if (size < old) {
      const firstGone = Number((size + 4095n) >> 12n);
      // unmap_mapping_range(..., even_cows=1): every mapping loses the pages past EOF.
      this.mappings.unmapFrom(this, firstGone);
      this.dropRange(firstGone, Infinity);
      // A partial last page keeps its bytes before EOF; the rest reads as zero.
      if (size & 0xfffn) this.zeroPartial(Number(size >> 12n), Number(size & 0xfffn), 4096);
      this.recalc(); // shmem_undo_range ends with shmem_recalc_inode
    }
    return 0;
  }

  /**
   * `shmem_fallocate(PUNCH_HOLE)`: unmap the whole pages of the hole from every
   * mapping (private copies stay), free them, and zero the partial edges.
   */
  punchHole(offset: bigint, len: bigint): number {
    const end = offset + len;
    const first = Number((offset + 4095n) >> 12n);
    const last = Number(end >> 12n); // exclusive
    if (last > first) {
      this.mappings.unmapFrom(this, first, last, false);
      this.dropRange(first, last);
    }
    const zero = (from: bigint, to: bigint): void => {
      if (to > from) this.zeroPartial(Number(from >> 12n), Number(from & 0xfffn), Number(to - (from & ~0xfffn)));
    };
    if (offset & 0xfffn) zero(offset, end < ((offset + 4095n) & ~0xfffn) ? end : (offset + 4095n) & ~0xfffn);
    if (end & 0xfffn && end >> 12n >= BigInt(first)) zero(end & ~0xfffn, end);
    this.recalc(); // shmem_undo_range ends with shmem_recalc_inode
    return 0;
  }

  /**
   * The partial-page step of `shmem_undo_range` (truncation and hole
   * punching): bytes `[from, to)` of the cached page at `index` become zero,
   * and the folio is marked dirty first (`folio_mark_dirty`), so reclaim keeps
   * it even if it was only ever read. Nothing happens for an uncached page.
   */
  private zeroPartial(index: number, from: number, to: number): void {
    const pfn = this.cache.get(index);
    if (pfn < 0) return;
    this.kernel.memmap.setFlag(pfn, PageFlags.DIRTY, true);
    this.kernel.phys.fill(pfn, from, to - from, 0);
  }

  /**
   * Drop the cached pages with index in `[first, last)` (linear in the
   * chunks of the index the range meets: a hole punched page by page, as
   * `MADV_PAGEOUT` does for each clean page, stays linear in the pages).
   */
  private dropRange(first: number, last: number): void {
    this.cache.removeRange(first, last, (pfn) => this.dropPage(pfn));
  }

  /** A page leaves the page cache: its block goes back to the mount, its frame when nothing maps it. */
  private dropPage(pfn: number): void {
    if (this.blocks !== null) this.blocks.used--;
    this.releaseFrame(pfn);
  }

  /** The frame of a page that left the cache: freed when nothing maps it, else freed by the last unmap. */
  private releaseFrame(pfn: number): void {
    const desc = this.kernel.page(pfn);
    if (!desc) return;
    desc.inode = undefined;
    if (desc.mapcount === 0) this.kernel.freePages(pfn);
    else desc.kind = PageKind.ANON; // still mapped somewhere: freed by the last unmap
  }

  protected evict(): void {
    this.cache.removeRange(0, Infinity, (pfn) => this.dropPage(pfn));
    this.recalc();
    if (this.accountedPages) this.kernel.committedAs -= this.accountedPages;
    this.accountedPages = 0;
  }
}

/** `shmem_vm_ops`: fault from the page cache, fault-around over cached pages. */
export const SHMEM_VM_OPS: VmOperations = {
  fault(vma: Vma, pgoff: number): number {
    const inode = vma.file!.inode as ShmemInode;
    if (pgoff >= inode.endIndex()) return -VmFault.SIGBUS; // pgoff << PAGE_SHIFT >= i_size
    const pfn = inode.getOrCreate(pgoff);
    // shmem_fault: vmf_error(-ENOSPC) is VM_FAULT_SIGBUS, -ENOMEM VM_FAULT_OOM.
    if (pfn === SHMEM_NO_SPACE) return -VmFault.SIGBUS;
    return pfn < 0 ? -VmFault.OOM : pfn;
  },
  cachedPage(vma: Vma, pgoff: number): number {
    return (vma.file!.inode as ShmemInode).lookup(pgoff);
  },
};

/** `shmem_file_operations` (`shmem_mmap`: install the vm_ops). */
export const SHMEM_FILE_OPS: FileOps = {
  mmap(_file, vma: Vma): number {
    vma.ops = SHMEM_VM_OPS;
    return 0;
  },
  punchHole: (file, offset, len) => (file.inode as ShmemInode).punchHole(offset, len),
  reclaimClean: (file, index) => (file.inode as ShmemInode).reclaimClean(index),
  regularSizeLimit: true,
};

/** Options tmpfs accepts that the model would answer wrongly without (ownership and permissions, NUMA policy, inode numbering, swap, quotas). */
const TMPFS_NOT_MODELLED = ['mode', 'uid', 'gid', 'mpol', 'inode32', 'inode64', 'noswap', 'quota', 'usrquota', 'grpquota'];

/** A tmpfs instance. */
export class TmpfsSuperBlock implements SuperBlock {
  readonly type = 'tmpfs';
  /** The inode limit (`nr_inodes=`; none when it is 0), or undefined. */
  readonly inodes?: InodeLimit;

  constructor(
    readonly dev: string,
    private readonly kernel: MmKernel,
    private readonly mappings: MappingRegistry,
    /** The block limit its files share. */
    readonly blocks: ShmemBlocks,
    /** `max_inodes` (`Infinity`: no limit, as for the internal mount). */
    maxInodes = Infinity,
  ) {
    if (maxInodes !== Infinity) this.inodes = new InodeLimit(maxInodes);
  }

  createFile(ino: number): Inode {
    return new ShmemInode(ino, this.dev, this.kernel, this.mappings, this.blocks);
  }
}

/**
 * The inode limit of a tmpfs mount from its options (`shmem_parse_one`):
 * `nr_inodes=N` (K/M/G suffixes, no percentage); 0 is no limit; without it,
 * half the RAM's pages (`shmem_default_max_inodes` on a 64-bit machine
 * without highmem). Throws on a value Linux rejects.
 */
export function tmpfsMaxInodes(totalRamPages: number, options: ReadonlyMap<string, string>): number {
  const text = options.get('nr_inodes');
  if (text === undefined) return Math.floor(totalRamPages / 2);
  const p = memparse(text);
  // ctx->inodes > ULONG_MAX / BOGO_INODE_SIZE (1024) is a bad value.
  if (p === null || p.rest !== '' || p.value > (1n << 54n) - 1n) throw new Error(`tmpfs: bad value for nr_inodes: ${text}`);
  return p.value === 0n ? Infinity : Number(p.value);
}

/**
 * The block limit of a tmpfs mount from its options (`shmem_parse_one`):
 * `nr_blocks=N` pages, or `size=BYTES` (rounded up to pages) or `size=N%` of
 * the RAM; 0 is no limit; without either, half the RAM. Throws on a value
 * Linux rejects (the mount fails with EINVAL).
 */
export function tmpfsMaxBlocks(totalRamPages: number, options: ReadonlyMap<string, string>): number {
  let blocks = BigInt(Math.floor(totalRamPages / 2));
  for (const [key, text] of options) {
    if (key !== 'size' && key !== 'nr_blocks') continue;
    const p = memparse(text);
    if (p === null) throw new Error(`tmpfs: bad value for ${key}: ${text}`);
    if (key === 'nr_blocks') {
      if (p.rest !== '') throw new Error(`tmpfs: bad value for nr_blocks: ${text}`);
      blocks = p.value;
      continue;
    }
    let bytes = p.value;
    let rest = p.rest;
    if (rest.startsWith('%')) {
      bytes = ((bytes << 12n) * BigInt(totalRamPages)) / 100n;
      rest = rest.slice(1);
    }
    if (rest !== '') throw new Error(`tmpfs: bad value for size: ${text}`);
    blocks = (bytes + 4095n) >> 12n;
  }
  return blocks === 0n ? Infinity : Number(blocks);
}

/** The `tmpfs` filesystem type. */
export function tmpfsType(mappings: MappingRegistry): FileSystemType {
  return {
    name: 'tmpfs',
    mount: (kernel, options, dev) => {
      checkMountOptions('tmpfs', options, ['size', 'nr_blocks', 'nr_inodes', 'huge'], TMPFS_NOT_MODELLED);
      // Shmem THPs (huge=always, within_size, advise) are not modelled: refuse rather than answer as huge=never.
      const huge = options.get('huge');
      if (huge !== undefined && huge !== 'never') throw new Error(`tmpfs: huge=${huge} is not modelled (shmem huge pages); only huge=never`);
      return new TmpfsSuperBlock(dev, kernel, mappings, new ShmemBlocks(tmpfsMaxBlocks(kernel.totalRamPages, options)), tmpfsMaxInodes(kernel.totalRamPages, options));
    },
    // shm_mnt, behind shared anonymous memory and /dev/zero: shmem_fill_super leaves the
    // internal instance unlimited (no default half-the-RAM block or inode limit).
    kernMount: (kernel, dev) => new TmpfsSuperBlock(dev, kernel, mappings, new ShmemBlocks(Infinity)),
  };
}

/**
 * `shmem_zero_setup`: a shared anonymous VMA gets a fresh unlinked shmem file
 * named `/dev/zero`, charged to the committed total unless `VM_NORESERVE`.
 */
export function shmemZeroSetup(
  mm: MmStruct,
  vma: Vma,
  makeInode: () => ShmemInode,
): number {
  const pages = vma.pages;
  const inode = makeInode();
  if (!(vma.flags & 0x200000) /* VM_NORESERVE */) {
    if (vmEnoughMemory(mm, pages)) return -Errno.ENOMEM;
    inode.accountedPages = pages;
  }
  inode.setSize(BigInt(pages) << 12n);
  inode.nlink = 0;
  const file = new OpenFile(inode, '/dev/zero', true, true);
  vma.file = file;
  // vm_pgoff stays as mmap gave it: 0 for MAP_SHARED|MAP_ANONYMOUS, the offset for a shared
  // mapping of /dev/zero — which then shows in /proc/PID/maps and makes the pages past
  // `size - offset` lie beyond the new object's end (SIGBUS). (Found by tools/fuzz/kernel.)
  vma.ops = SHMEM_VM_OPS;
  return 0;
}

export { vmUnacctMemory };
