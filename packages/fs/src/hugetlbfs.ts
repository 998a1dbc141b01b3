/**
 * hugetlbfs: files backed by huge pages from an {@link Hstate} pool, with
 * Linux's reservation maps — one per inode for shared mappings, one per VMA
 * for private ones — the hugetlb fault path, truncation, and the internal
 * mounts behind anonymous `MAP_HUGETLB` (`hugetlb_file_setup`).
 * @see fs/hugetlbfs/inode.c, mm/hugetlb.c, Documentation/mm/hugetlbfs_reserv.rst
 */

import { Errno, formatPageResult, traced, u64ToSafeNumber } from '@mmsim/base';
import {
  allocPageTables,
  mmGetUnmappedArea,
  PageKind,
  VM,
  VmFault,
  vmaPageBits,
  type FileOps,
  type MmKernel,
  type MmStruct,
  type PageCacheView,
  type Vma,
  type VmFile,
  type VmOperations,
} from '@mmsim/mm-core';
import { PteBits } from '@mmsim/arch';
import { Hstate, HugetlbSubpool } from './hstate.js';
import type { MappingRegistry } from './mappings.js';
import { memparse } from './memparse.js';
import { checkMountOptions, Inode, InodeLimit, OpenFile, type FileSystemType, type InodeIo, type SuperBlock } from './vfs.js';

const MAP_FIXED = 0x10;
const U64 = (1n << 64n) - 1n;
/** Byte values below this are exact numbers, and no sum of two of them wraps. */
const TWO_52 = 2 ** 52;
const TWO_53N = 1n << 53n;

/**
 * A private mapping's reservation map (`struct resv_map` with
 * `HPAGE_RESV_OWNER`): the huge indices already consumed. Most private
 * mappings consume at most one index, which is kept in a number; a set is
 * made only for a second one.
 */
class PrivateResv {
  /** The one consumed index, or -1 (unused once {@link many} exists). */
  private one = -1;
  /** Every consumed index, once more than one was consumed. */
  private many: Set<number> | null = null;
  refs = 1;

  has(idx: number): boolean {
    return this.many === null ? this.one === idx : this.many.has(idx);
  }

  add(idx: number): void {
    if (this.many !== null) this.many.add(idx);
    else if (this.one < 0 || this.one === idx) this.one = idx;
    else this.many = new Set([this.one, idx]);
  }

  delete(idx: number): void {
    if (this.many !== null) this.many.delete(idx);
    else if (this.one === idx) this.one = -1;
  }

  /** Consumed indices in `[start, end)`. */
  countIn(start: number, end: number): number {
    if (this.many === null) return this.one >= start && this.one < end ? 1 : 0;
    let n = 0;
    for (const idx of this.many) if (idx >= start && idx < end) n++;
    return n;
  }

  /** The consumed indices as a set (a copy while there is at most one). */
  get consumed(): ReadonlySet<number> {
    return this.many ?? new Set(this.one < 0 ? [] : [this.one]);
  }
}

/**
 * The private reservation map a hugetlb VMA owns (`HPAGE_RESV_OWNER`), as a
 * read-only view: the huge indices whose reservation was consumed. Undefined
 * for shared or `MAP_NORESERVE` VMAs. For invariant checks.
 */
export function hugetlbPrivateReservation(vma: Vma): { readonly consumed: ReadonlySet<number> } | undefined {
  return vma.privateData instanceof PrivateResv ? vma.privateData : undefined;
}

/** A hugetlbfs inode: size, huge page cache, and the shared reservation map. */
export class HugetlbInode extends Inode implements PageCacheView, InodeIo {
  private isize = 0n;
  /** `i_size` as an exact number, or -1 when it is 2^53 or more. */
  private isizeNumber = 0;
  // The two maps are made on first use: an anon_hugepage inode of a private
  // mapping never caches nor reserves a page.
  private cacheMap: Map<number, number> | null = null;
  private resvSet: Set<number> | null = null;
  /** The pool's `hugetlbfs_file_operations` (read on every `file->f_op` access). */
  private readonly fops: FileOps;

  constructor(
    ino: number,
    dev: string,
    readonly hstate: Hstate,
    private readonly mappings: MappingRegistry,
    /** The mount's subpool (`size=`, `min_size=`), or null (none: the internal mounts, a mount without either). */
    readonly subpool: HugetlbSubpool | null = null,
  ) {
    super(ino, dev, 'reg');
    this.fops = hugetlbFileOps(hstate);
  }

  /** The huge page cache (`i_mapping`): huge page index → head frame. */
  get cache(): Map<number, number> {
    return (this.cacheMap ??= new Map());
  }

  /** `inode->i_mapping->private_data` resv_map: huge indices reserved (or faulted) for shared mappings. */
  get resvMap(): Set<number> {
    return (this.resvSet ??= new Set());
  }

  /** The head frame cached at huge index `idx`, or undefined (`filemap_lock_hugetlb_folio`). */
  cachedHead(idx: number): number | undefined {
    return this.cacheMap === null ? undefined : this.cacheMap.get(idx);
  }

  size(): bigint {
    return this.isize;
  }

  /** Set `i_size`. */
  setSize(size: bigint): void {
    this.isize = size;
    this.isizeNumber = size >= 0n && size < TWO_53N ? Number(size) : -1;
  }

  /** `i_size >> huge_page_shift`: whole huge pages (of `pages` base pages, a power of two) below the size. */
  sizeInHugePages(pages: number): number {
    const n = this.isizeNumber;
    return n >= 0 ? Math.floor(n / (pages * 4096)) : Number(this.isize >> BigInt(Math.log2(pages * 4096)));
  }

  override get pageCache(): PageCacheView {
    return this;
  }

  lookup(index: number): number {
    const head = this.cachedHead(Math.floor(index / this.hstate.pages));
    return head === undefined ? -1 : head + (index & (this.hstate.pages - 1));
  }

  fileOps(): FileOps {
    return this.fops;
  }

  io(): InodeIo {
    return this;
  }

  readByte(offset: bigint): number | 'EOF' {
    if (offset >= this.isize) return 'EOF';
    const pfn = this.lookup(Number(offset >> 12n));
    return pfn < 0 ? 0 : this.hstate.kernel.phys.read(pfn, Number(offset & 0xfffn));
  }

  /** hugetlbfs has no `write_iter`: `pwrite` fails with EINVAL. */
  writeFill(): number {
    return -Errno.EINVAL;
  }

  /** `hugetlbfs_setattr` → `hugetlb_vmtruncate`: sizes must be huge-page multiples. */
  truncate(size: bigint): number {
    const hpBytes = BigInt(this.hstate.pages) << 12n;
    if (size % hpBytes !== 0n) return -Errno.EINVAL;
    // hugetlb_vmtruncate runs for every size change, growing included: it
    // unmaps and frees pages past the new end and drops their reservations.
    this.setSize(size);
    const from = Number(size / hpBytes);
    this.mappings.unmapFrom(this, from * this.hstate.pages);
    this.removePages(from);
    return 0;
  }

  /**
   * `hugetlbfs_punch_hole`: zero the partial huge pages at the edges, unmap
   * the whole ones from every mapping (private copies too) and free them.
   */
  punchHole(offset: bigint, len: bigint): number {
    const hp = BigInt(this.hstate.pages) << 12n;
    const holeStart = ((offset + hp - 1n) / hp) * hp;
    const holeEnd = ((offset + len) / hp) * hp;
    const zero = (from: bigint, to: bigint): void => {
      for (let pos = from; pos < to; ) {
        const pfn = this.lookup(Number(pos >> 12n));
        const chunk = 4096n - (pos & 0xfffn) < to - pos ? 4096n - (pos & 0xfffn) : to - pos;
        if (pfn >= 0) this.hstate.kernel.phys.fill(pfn, Number(pos & 0xfffn), Number(chunk), 0);
        pos += chunk;
      }
    };
    if (offset < holeStart) zero(offset, offset + len < holeStart ? offset + len : holeStart);
    if (holeEnd > holeStart) {
      this.mappings.unmapFrom(this, Number(holeStart >> 12n), Number(holeEnd >> 12n));
    }
    if (offset + len > holeEnd && offset + len > holeStart) zero(holeEnd, offset + len);
    if (holeEnd > holeStart) this.removePages(Number(holeStart / hp), Number(holeEnd / hp));
    return 0;
  }

  /**
   * `remove_inode_hugepages` for huge indices `[from, to)`: free the cached
   * pages. A truncation (`to` infinite) then drops every reservation from
   * `from` on (`hugetlb_unreserve_pages(start, LONG_MAX, freed)`). A hole
   * punch drops only the reservation of each page it removes
   * (`remove_inode_single_folio` → `hugetlb_unreserve_pages(idx, idx + 1, 1)`):
   * a reserved index that was never faulted keeps its reservation, so
   * `HugePages_Rsvd` does not move.
   */
  private removePages(from: number, to = Infinity): void {
    if ((this.cacheMap === null || this.cacheMap.size === 0) && (this.resvSet === null || this.resvSet.size === 0)) return; // nothing cached or reserved
    const truncate = to === Infinity;
    let freed = 0;
    for (const [idx, pfn] of [...this.cache]) {
      if (idx < from || idx >= to) continue;
      this.cache.delete(idx);
      const desc = this.hstate.kernel.page(pfn);
      if (desc) desc.inode = undefined;
      if (!desc || desc.mapcount === 0) this.hstate.freePage(pfn);
      freed++;
      if (!truncate) this.unreserveIndices(this.resvMap.delete(idx) ? 1 : 0, 1);
    }
    if (!truncate) return;
    let chg = 0;
    for (const idx of [...this.resvMap]) {
      if (idx >= from) {
        this.resvMap.delete(idx);
        chg++;
      }
    }
    this.unreserveIndices(chg, freed);
  }

  /**
   * The global side of `hugetlb_unreserve_pages` after `region_del` removed
   * `chg` reserve-map entries and `freed` pages went: `hugetlb_acct_memory(h,
   * -gbl)` where `gbl` is what the subpool passes through of `chg - freed`
   * (`hugepage_subpool_put_pages`: all of it without a minimum; below the
   * minimum the subpool keeps them). A negative difference takes a
   * reservation back.
   */
  private unreserveIndices(chg: number, freed: number): void {
    const delta = chg - freed;
    const gbl = this.subpool === null ? delta : this.subpool.put(delta);
    this.hstate.acct(-gbl);
  }

  protected evict(): void {
    this.removePages(0);
  }
}

/** The huge index of `vpn` in a hugetlb VMA (`vma_hugecache_offset`); `pages` is the huge page size in base pages. */
function hugeIndex(vma: Vma, vpn: number, pages: number): number {
  return Math.floor((vma.pgoff + (vpn - vma.start)) / pages);
}

/** `hugetlb_vm_ops` for one pool (made once per pool with its file operations, shared by its VMAs). */
function hugetlbVmOps(h: Hstate): VmOperations {
  return {
    hugeOrder: h.order,
    maySplit(_vma: Vma, vpn: number): number {
      return vpn & (h.pages - 1) ? -Errno.EINVAL : 0;
    },
    open(vma: Vma): void {
      const resv = vma.privateData as PrivateResv | undefined;
      if (resv) resv.refs++;
    },
    close(vma: Vma): void {
      const resv = vma.privateData as PrivateResv | undefined;
      if (!resv) return;
      const start = hugeIndex(vma, vma.start, h.pages);
      const end = hugeIndex(vma, vma.end, h.pages);
      const unconsumed = end - start - resv.countIn(start, end);
      if (unconsumed !== 0) {
        const subpool = (vma.file?.inode as HugetlbInode | undefined)?.subpool ?? null;
        h.acct(-(subpool === null ? unconsumed : subpool.put(unconsumed)));
      }
      resv.refs--;
    },
    zapHugePage(vma: Vma, vpn: number, pfn: number): void {
      // A private page freed while its VMA still owns a reservation map gets the reservation back.
      const resv = vma.privateData as PrivateResv | undefined;
      const memmap = h.kernel.memmap;
      const head = memmap.find(pfn);
      if (!resv || head < 0 || memmap.inode(head) !== undefined || h.surplus !== 0 || memmap.mapcount(head) !== 1) return;
      resv.delete(hugeIndex(vma, vpn, h.pages));
      h.resv++;
      h.keepSubpoolCharge(head); // restore_reserve: the subpool keeps the page, now a reservation
    },
    hugeFault(mm: MmStruct, vma: Vma, vpn: number, write: boolean): number {
      return hugetlbFault(h, mm, vma, vpn, write);
    },
  };
}

/** Map a huge page as one leaf at the block containing `vpn`. */
function mapHuge(h: Hstate, mm: MmStruct, vma: Vma, base: number, pfn: number, writable: boolean): number {
  let bits = vmaPageBits(mm, vma.flags) | PteBits.ACCESSED;
  if (writable) bits |= PteBits.WRITE | PteBits.DIRTY;
  else bits &= ~PteBits.WRITE;
  if (!mm.pageTable.map(base, pfn, h.order, bits)) return VmFault.OOM;
  const memmap = h.kernel.memmap;
  memmap.addMapcount(memmap.find(pfn), 1);
  return VmFault.OK;
}

/**
 * `hugetlb_fault` → `hugetlb_no_page` / `hugetlb_wp`: allocate from the pool
 * (a reserved page first), SIGBUS past EOF or when no page can be had.
 */
function hugetlbFault(h: Hstate, mm: MmStruct, vma: Vma, vpn: number, write: boolean): number {
  const inode = vma.file!.inode as HugetlbInode;
  const base = vpn - (vpn & (h.pages - 1));
  const idx = hugeIndex(vma, base, h.pages);
  const shared = (vma.flags & VM.MAYSHARE) !== 0;
  const leaf = mm.pageTable.lookup(base);
  if (leaf) {
    if (!write || leaf.bits & PteBits.WRITE) {
      mm.pageTable.setBits(base, leaf.bits | PteBits.ACCESSED | (write ? PteBits.DIRTY : 0));
      return VmFault.OK;
    }
    const memmap = h.kernel.memmap;
    const head = memmap.find(leaf.pfn);
    if (shared || (head >= 0 && memmap.inode(head) === undefined)) {
      mm.pageTable.setBits(base, leaf.bits | PteBits.WRITE | PteBits.DIRTY | PteBits.ACCESSED);
      return VmFault.OK;
    }
    // Private write to a page-cache page: copy-on-write into a private page.
    const copy = allocPrivate(h, vma, idx, inode.subpool);
    if (copy < 0) return VmFault.SIGBUS;
    for (let i = 0; i < h.pages; i++) h.kernel.phys.copy(leaf.pfn + i, copy + i);
    mm.pageTable.unmap(base);
    memmap.addMapcount(head, -1);
    return mapHuge(h, mm, vma, base, copy, true);
  }
  // hugetlb_fault calls huge_pte_alloc first: without page-table memory the
  // fault fails (VM_FAULT_OOM) before a page leaves the pool (a private page
  // taken before a failed map would leak, with its reservation).
  if (!allocPageTables(mm, base, h.order, vmaPageBits(mm, vma.flags))) return VmFault.OOM;
  const sizeIdx = inode.sizeInHugePages(h.pages);
  const cached = inode.cachedHead(idx);
  if (shared) {
    if (cached !== undefined) return mapHuge(h, mm, vma, base, cached, (vma.flags & VM.WRITE) !== 0);
    if (idx >= sizeIdx) return VmFault.SIGBUS;
    const useReserve = inode.resvMap.has(idx);
    const pfn = h.allocForFault(useReserve, inode.subpool);
    if (pfn < 0) return VmFault.SIGBUS;
    inode.resvMap.add(idx);
    inode.cache.set(idx, pfn);
    h.kernel.memmap.setInode(pfn, inode);
    h.kernel.memmap.setIndex(pfn, idx);
    return mapHuge(h, mm, vma, base, pfn, (vma.flags & VM.WRITE) !== 0);
  }
  if (idx >= sizeIdx) return VmFault.SIGBUS;
  if (cached !== undefined && !write) return mapHuge(h, mm, vma, base, cached, false);
  const pfn = allocPrivate(h, vma, idx, inode.subpool);
  if (pfn < 0) return VmFault.SIGBUS;
  if (cached !== undefined) for (let i = 0; i < h.pages; i++) h.kernel.phys.copy(cached + i, pfn + i);
  return mapHuge(h, mm, vma, base, pfn, write && (vma.flags & VM.WRITE) !== 0);
}

/** A page for a private mapping, using its reservation for `idx` if it still has one. */
function allocPrivate(h: Hstate, vma: Vma, idx: number, subpool: HugetlbSubpool | null): number {
  const resv = vma.privateData as PrivateResv | undefined;
  const useReserve = resv !== undefined && !resv.has(idx);
  const pfn = h.allocForFault(useReserve, subpool);
  if (pfn < 0) return -1;
  resv?.add(idx);
  return pfn;
}

/**
 * `hugetlb_reserve_pages` for huge indices `[from, to)`: shared mappings
 * reserve what the inode's map lacks, private ones the whole range in a new
 * per-VMA map. False when the pool (with surplus) cannot cover it.
 */
export function hugetlbReservePages(h: Hstate, inode: HugetlbInode, from: number, to: number, vma: Vma | null, vmFlags: number): boolean {
  const tracer = h.kernel.tracer;
  if (!tracer.enabled) return reservePages(h, inode, from, to, vma, vmFlags);
  return traced(
    tracer,
    'hugetlb_reserve_pages',
    () => `from=${from}, to=${to}, vm_flags=0x${vmFlags.toString(16)}`,
    () => reservePages(h, inode, from, to, vma, vmFlags),
  );
}

function reservePages(h: Hstate, inode: HugetlbInode, from: number, to: number, vma: Vma | null, vmFlags: number): boolean {
  if (from > to) return false;
  if (vmFlags & VM.NORESERVE) return true;
  const shared = !vma || (vmFlags & VM.MAYSHARE) !== 0;
  let chg = to - from;
  if (shared) {
    chg = 0;
    for (let i = from; i < to; i++) if (!inode.resvMap.has(i)) chg++;
  }
  // The mount's subpool first (ENOMEM past its size=; its minimum's reserve
  // covers what it can), then the pool for the rest.
  const subpool = inode.subpool;
  const rsvBefore = subpool === null ? 0 : subpool.rsv;
  const gbl = subpool === null ? chg : subpool.get(chg);
  if (gbl < 0) return false;
  if (h.acct(gbl) < 0) {
    // out_put_pages: what the minimum covered goes back to it, and what the
    // pool refused no longer counts against the maximum.
    if (subpool !== null) {
      if (chg !== gbl) h.acct(-subpool.put(chg - gbl));
      if (gbl !== 0) subpool.unchargeUsed(gbl);
      if (subpool.rsv < rsvBefore) subpool.minLost += rsvBefore - subpool.rsv;
    }
    return false;
  }
  if (shared) for (let i = from; i < to; i++) inode.resvMap.add(i);
  else vma!.privateData = new PrivateResv();
  return true;
}

const fileOpsCache = new WeakMap<Hstate, FileOps>();

/** `hugetlbfs_file_operations` for one pool. */
export function hugetlbFileOps(h: Hstate): FileOps {
  let ops = fileOpsCache.get(h);
  if (ops) return ops;
  const vmOps = hugetlbVmOps(h);
  ops = {
    hugePageOrder: h.order,
    regularSizeLimit: true,
    honoursFixedPlacement: true,
    mmap: (file: VmFile, vma: Vma) => hugetlbfsFileMmap(h, vmOps, file, vma),
    punchHole: (file: VmFile, offset: bigint, len: bigint) => (file.inode as HugetlbInode).punchHole(offset, len),
    getUnmappedArea: (mm, _file, addr, length, pgoff, flags) => {
      const tracer = h.kernel.tracer;
      if (!tracer.enabled) return hugetlbGetUnmappedArea(h, mm, addr, length, pgoff, flags);
      return traced(
        tracer,
        'hugetlb_get_unmapped_area',
        () => `addr=0x${addr.toString(16)}, len=0x${(length * 4096).toString(16)}`,
        () => hugetlbGetUnmappedArea(h, mm, addr, length, pgoff, flags),
        formatPageResult,
      );
    },
  };
  fileOpsCache.set(h, ops);
  return ops;
}

/** `hugetlb_get_unmapped_area` → `generic_hugetlb_get_unmapped_area`: a vpn or `-errno`. */
function hugetlbGetUnmappedArea(h: Hstate, mm: MmStruct, addr: bigint, length: number, pgoff: number, flags: number): number {
  if (length & (h.pages - 1)) return -Errno.EINVAL;
  const a = u64ToSafeNumber(addr);
  if (a >= 0 && a < TWO_52) {
    // The usual case on exact numbers (no alignment below 2^52 wraps): the same checks.
    const hpBytes = h.pages * 4096;
    if (flags & MAP_FIXED) return a % hpBytes !== 0 ? -Errno.EINVAL : a / 4096;
    return mmGetUnmappedArea(mm, Math.ceil(a / hpBytes) * h.pages, length, pgoff, flags, h.pages - 1);
  }
  const hpBytes = BigInt(h.pages) << 12n;
  if (flags & MAP_FIXED) {
    if (addr & (hpBytes - 1n)) return -Errno.EINVAL;
    return Number(addr >> 12n);
  }
  const addr0 = addr ? ((addr + hpBytes - 1n) & ~(hpBytes - 1n)) & U64 : 0n;
  return mmGetUnmappedArea(mm, Number(addr0 >> 12n), length, pgoff, flags, h.pages - 1);
}

/** `hugetlbfs_file_mmap`. */
function hugetlbfsFileMmap(h: Hstate, vmOps: VmOperations, file: VmFile, vma: Vma): number {
  const tracer = h.kernel.tracer;
  if (!tracer.enabled) return fileMmap(h, vmOps, file, vma);
  return traced(
    tracer,
    'hugetlbfs_file_mmap',
    () => `file=${file.path()}, vm_start=0x${(vma.start * 4096).toString(16)}, vm_end=0x${(vma.end * 4096).toString(16)}`,
    () => fileMmap(h, vmOps, file, vma),
  );
}

function fileMmap(h: Hstate, vmOps: VmOperations, file: VmFile, vma: Vma): number {
  const inode = file.inode as HugetlbInode;
  vma.flags |= VM.HUGETLB | VM.DONTEXPAND;
  vma.ops = vmOps;
  if (vma.pgoff >= 2 ** 51) return -Errno.EINVAL;
  if (vma.pgoff & (h.pages - 1)) return -Errno.EINVAL;
  // pgoff < 2^51 and a VMA's pages < 2^45: the end offset in pages is exact, and in bytes too (× 2^12).
  const endPages = vma.pages + vma.pgoff;
  const from = Math.floor(vma.pgoff / h.pages);
  const to = Math.floor(endPages / h.pages);
  if (!hugetlbReservePages(h, inode, from, to, vma, vma.flags)) return -Errno.ENOMEM;
  if (vma.flags & VM.WRITE && inode.size() < endPages * 4096) inode.setSize(BigInt(endPages) << 12n);
  return 0;
}

/**
 * `hugetlbfs_size_to_hpages` for `size=` and `min_size=`: bytes (K/M/G/… suffixes) or a
 * percentage of the pool's persistent size, in whole huge pages (rounded
 * down). Throws on a value Linux rejects.
 */
export function hugetlbfsSizeToPages(h: Hstate, text: string, option = 'size'): number {
  const p = memparse(text);
  if (p === null || (p.rest !== '' && p.rest !== '%')) throw new Error(`hugetlbfs: bad value for ${option}: ${text}`);
  const hugeBytes = BigInt(h.pages) << 12n;
  const bytes = p.rest === '%' ? (p.value * hugeBytes * BigInt(h.maxHugePages)) / 100n : p.value;
  return Number(bytes / hugeBytes);
}

/**
 * `nr_inodes=` of a hugetlbfs mount (`hugetlbfs_parse_param`): a number with
 * an optional K/M/G suffix (a digit first: memparse alone would take a bare
 * suffix); `Infinity` without the option. Throws on a value Linux rejects.
 */
export function hugetlbfsMaxInodes(options: ReadonlyMap<string, string>): number {
  const text = options.get('nr_inodes');
  if (text === undefined) return Infinity;
  const p = /^\d/.test(text) ? memparse(text) : null;
  if (p === null || p.rest !== '') throw new Error(`hugetlbfs: bad value for nr_inodes: ${text}`);
  return Number(p.value);
}

/** A hugetlbfs mount (one page size). */
export class HugetlbfsSuperBlock implements SuperBlock {
  readonly type = 'hugetlbfs';
  constructor(
    readonly dev: string,
    readonly hstate: Hstate,
    private readonly mappings: MappingRegistry,
    /** The mount's subpool (`size=`, `min_size=`), or null. */
    readonly subpool: HugetlbSubpool | null = null,
  ) {}

  /** The inode limit (`nr_inodes=`; the root directory takes one), or undefined (none). */
  inodes?: InodeLimit;

  createFile(ino: number): HugetlbInode {
    return new HugetlbInode(ino, this.dev, this.hstate, this.mappings, this.subpool);
  }
}

/** The hugetlb subsystem of one machine: its pools and internal mounts. */
export class Hugetlb {
  /** Pools by huge page order. */
  readonly hstates = new Map<number, Hstate>();
  /** The internal mount per pool behind `anon_hugepage` files. */
  private readonly internal = new Map<number, HugetlbfsSuperBlock>();
  /** The subpools of every mount made (for invariant checks). */
  readonly subpools: HugetlbSubpool[] = [];
  private readonly defaultOrder: number;

  constructor(
    readonly kernel: MmKernel,
    private readonly mappings: MappingRegistry,
    private readonly nextIno: () => number,
  ) {
    const arch = kernel.arch;
    for (const size of arch.hugePageSizes(kernel.features)) {
      this.hstates.set(size.order, new Hstate(kernel, size.order));
      this.internal.set(size.order, new HugetlbfsSuperBlock('00:11', this.hstates.get(size.order)!, mappings));
    }
    this.defaultOrder = arch.defaultHugePageShift(kernel.features) - arch.pageShift;
    const byOrder: (Hstate | undefined)[] = [];
    for (const [order, h] of this.hstates) byOrder[order] = h;
    kernel.releaseHugetlbPage = (pfn) => {
      const head = kernel.memmap.find(pfn);
      const h = head >= 0 ? byOrder[kernel.memmap.order(head)] : undefined;
      if (h) h.freePage(head);
    };
    kernel.hugetlbTotalPages = () => {
      let n = 0;
      for (const h of this.hstates.values()) n += h.total * h.pages;
      return n;
    };
  }

  /** The default pool (`default_hstate`, 2 MiB on x86-64). */
  defaultHstate(): Hstate | undefined {
    return this.hstates.get(this.defaultOrder);
  }

  /** The pool for a page size given as `MAP_HUGE_SHIFT` log2 (0: the default), or undefined (`hstate_sizelog`). */
  hstateForSizeLog(log: number): Hstate | undefined {
    if (log === 0) return this.hstates.get(this.defaultOrder);
    return this.hstates.get(log - this.kernel.arch.pageShift);
  }

  /** The pool of a size in kB (`hugepages-2048kB`). */
  hstateForKb(kb: number): Hstate | undefined {
    for (const h of this.hstates.values()) if (h.sizeKb === kb) return h;
    return undefined;
  }

  /** A mount of hugetlbfs with `pagesize=` (default pool if absent). */
  mount(options: ReadonlyMap<string, string>, dev: string): HugetlbfsSuperBlock {
    checkMountOptions('hugetlbfs', options, ['pagesize', 'size', 'min_size', 'nr_inodes'], ['mode', 'uid', 'gid']);
    const ps = options.get('pagesize');
    let h = this.hstates.get(this.defaultOrder)!;
    if (ps) {
      const m = /^(\d+)([KMG])?$/i.exec(ps);
      const mult = { K: 1, M: 1024, G: 1024 * 1024 }[(m?.[2] ?? 'K').toUpperCase() as 'K' | 'M' | 'G'];
      const found = m ? this.hstateForKb(Number(m[1]) * mult) : undefined;
      if (!found) throw new Error(`hugetlbfs: unsupported pagesize=${ps}`);
      h = found;
    }
    // hugetlbfs_validate / hugetlbfs_fill_super: a subpool when either limit is given.
    const size = options.get('size');
    const minSize = options.get('min_size');
    const max = size === undefined ? -1 : hugetlbfsSizeToPages(h, size);
    const min = minSize === undefined ? -1 : hugetlbfsSizeToPages(h, minSize, 'min_size');
    if (max !== -1 && min !== -1 && min > max) {
      throw new Error(`hugetlbfs: min_size=${minSize} (${min} pages) is greater than size=${size} (${max} pages): Linux refuses the mount (EINVAL)`);
    }
    let subpool: HugetlbSubpool | null = null;
    if (max !== -1 || min !== -1) {
      subpool = h.newSubpool(max, min);
      if (subpool === null) {
        throw new Error(`hugetlbfs: min_size=${minSize} needs ${min} free unreserved ${h.sizeKb} kB pages (the pool has ${h.free - h.resv}): Linux refuses the mount (ENOMEM)`);
      }
      this.subpools.push(subpool);
    }
    const sb = new HugetlbfsSuperBlock(dev, h, this.mappings, subpool);
    const maxInodes = hugetlbfsMaxInodes(options);
    if (maxInodes !== Infinity) {
      // Unlike tmpfs, 0 is not "no limit": the root directory takes the first inode, and there is none.
      if (maxInodes < 1) throw new Error('hugetlbfs: nr_inodes=0 leaves no inode for the root directory: Linux refuses the mount (ENOMEM)');
      sb.inodes = new InodeLimit(maxInodes);
    }
    return sb;
  }

  /**
   * `hugetlb_file_setup("anon_hugepage", size, VM_NORESERVE, HUGETLB_ANONHUGE_INODE, log)`:
   * an unlinked file on the pool's internal mount; its mapping reserves later.
   */
  fileSetup(size: bigint, sizeLog: number): OpenFile | number {
    const tracer = this.kernel.tracer;
    if (!tracer.enabled) return this.anonFile(size, sizeLog);
    return traced(
      tracer,
      'hugetlb_file_setup',
      () => `name="anon_hugepage", size=0x${size.toString(16)}, acctflag=VM_NORESERVE, page_size_log=${sizeLog}`,
      () => this.anonFile(size, sizeLog),
      (r) => (typeof r === 'number' ? `-${Errno.ENOENT === -r ? 'ENOENT' : 'ENODEV'}` : 'file'),
    );
  }

  private anonFile(size: bigint, sizeLog: number): OpenFile | number {
    const h = this.hstateForSizeLog(sizeLog);
    if (!h) return -Errno.ENODEV;
    const sb = this.internal.get(h.order);
    if (!sb) return -Errno.ENOENT;
    const inode = sb.createFile(this.nextIno());
    inode.setSize(size);
    inode.nlink = 0;
    return new OpenFile(inode, '/anon_hugepage', true, true);
  }
}

/** The `hugetlbfs` filesystem type over a machine's {@link Hugetlb}. */
export function hugetlbfsType(hugetlb: () => Hugetlb): FileSystemType {
  return {
    name: 'hugetlbfs',
    mount: (_kernel: MmKernel, options, dev) => hugetlb().mount(options, dev),
  };
}

export { PageKind };
