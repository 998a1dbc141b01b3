/**
 * Whole-machine consistency checks: what must hold between the VMA tree, the
 * page tables, the frame descriptors (`mem_map`), the frame allocator, the
 * huge page pools, the page caches, the open files and the mm counters after
 * every system call. Linux keeps the same invariants (`validate_mm`,
 * `CONFIG_DEBUG_VM`, `check_mm` at exit); a model that breaks one has a bug
 * even when no trace has noticed yet.
 *
 * {@link checkInvariants} returns human-readable violations; an empty array
 * means the machine is consistent. It only reads state.
 * @see mm/vma.c validate_mm, kernel/fork.c check_mm
 */

import { PteBits, type PteView } from '@mmsim/arch';
import {
  PageFlags as PageFlagsImport,
  PageKind as PageKindImport,
  VM as VmImport,
  VM_ACCESS_FLAGS as ACCESS_IMPORT,
  VM_IGNORE_MERGE as IGNORE_MERGE_IMPORT,
  VM_SPECIAL as SPECIAL_IMPORT,
  VM_STACK as STACK_IMPORT,
  hugeZeroBlockBases,
  isHugeZeroBlock,
  type PageDesc,
  type Vma,
  type VmFile,
} from '@mmsim/mm-core';
import { hugetlbPrivateReservation, HugetlbInode, OpenFile, ShmemInode, type Hstate, type ShmemBlocks, type HugetlbSubpool, type Inode } from '@mmsim/fs';
import type { Machine } from './machine.js';

/** What {@link checkInvariants} should check beyond the always-true invariants. */
export interface InvariantOptions {
  /**
   * Report adjacent VMAs that Linux would have merged (`vma_merge_new_range`
   * rules: same flags but soft-dirty, same `struct file`, contiguous pgoff,
   * compatible anon_vma, not `VM_SPECIAL`, no `->close`). Off by default:
   * Linux itself leaves such pairs behind (the heap is never merged with the
   * bss; a failed MAP_FIXED or a `vma_modify` that fails midway keeps its
   * splits; mremap), so only turn it on for operation mixes that always merge.
   */
  readonly checkMerges?: boolean;
  /**
   * Accept `locked_vm` above the pages of `VM_LOCKED` VMAs. Linux's
   * `MREMAP_DONTUNMAP` of a locked VMA clears `VM_LOCKED` on the source
   * without lowering `locked_vm` ("we won't unmap"), and the model copies
   * that. Below the sum is always a violation.
   */
  readonly allowLockedVmDrift?: boolean;
  /**
   * A pool was shrunk below its pages in use (or `nr_overcommit_hugepages`
   * lowered): surplus pages may then exceed `nr_overcommit_hugepages`, as in
   * Linux's `set_max_huge_pages`.
   */
  readonly poolsShrunk?: boolean;
  /**
   * Accept `HugePages_Rsvd` above the outstanding reservations. Linux's
   * mremap of a private hugetlb mapping drops the source VMA's reservation map
   * (`clear_vma_resv_huge_pages`, for the whole source VMA): what the part
   * left behind had reserved stays counted forever. Below is always a
   * violation (a reservation given back twice).
   */
  readonly allowResvLeak?: boolean;
  /**
   * Pages charged to `committed_as` that no VMA or shmem object accounts for,
   * and rightly so: Linux's stack growth (`acct_stack_growth`) charges a
   * grows-down VMA even without `VM_ACCOUNT`, and nothing gives that back.
   * The caller tracks it; `committed_as` must equal the accounted pages plus
   * this.
   */
  readonly commitDrift?: number;
  /**
   * Also run the VMA tree's own structural check (`VmaTree.verify`, O(n)),
   * where the tree has one. Default true; the tree already samples it itself
   * under Vitest, so long replays may turn it off.
   */
  readonly verifyTree?: boolean;
}

// Local copies of the flag constants: the checks run after every call, and
// under Vitest every read of an imported binding is a getter call.
const VM = { ...VmImport };
const PageKind = { ...PageKindImport };
const LAZYFREE = PageFlagsImport.LAZYFREE;
const DIRTY = PageFlagsImport.DIRTY;
const MLOCKED = PageFlagsImport.MLOCKED;
const VM_ACCESS_FLAGS = ACCESS_IMPORT;
const VM_IGNORE_MERGE = IGNORE_MERGE_IMPORT;
const VM_SPECIAL = SPECIAL_IMPORT;
const VM_STACK = STACK_IMPORT;
const PTE_WRITE = PteBits.WRITE;
const PTE_PRESENT = PteBits.PRESENT;
/** `is_data_mapping`. */
const isDataMapping = (flags: number): boolean => (flags & (VM.WRITE | VM.SHARED | VM_STACK)) === VM.WRITE;

const hex = (vpn: number): string => '0x' + (vpn * 4096).toString(16);
const range = (vma: Vma): string => `${hex(vma.start)}-${hex(vma.end)}`;

/** Check every invariant of `machine`; an empty array means it is consistent. */
export function checkInvariants(machine: Machine, options: InvariantOptions = {}): string[] {
  const out: string[] = [];
  const v = (msg: string): void => {
    if (out.length < 200) out.push(msg);
  };
  const { mm, kernel, vfs, files } = machine;
  const vmas = mm.vmas.all();
  const taskSize = mm.taskSize;

  // ---- VMA tree: sorted, non-empty, disjoint, page-aligned, inside [0, TASK_SIZE) ----
  let prev: Vma | undefined;
  for (const vma of vmas) {
    if (!Number.isInteger(vma.start) || !Number.isInteger(vma.end) || !Number.isInteger(vma.pgoff)) {
      v(`VMA ${vma.start}-${vma.end} pgoff ${vma.pgoff}: not page-aligned (non-integer page numbers)`);
    }
    if (vma.start >= vma.end) v(`VMA ${range(vma)}: empty or inverted`);
    if (vma.start < 0 || vma.end > taskSize) v(`VMA ${range(vma)}: outside [0, TASK_SIZE)`);
    if (vma.pgoff < 0) v(`VMA ${range(vma)}: negative pgoff ${vma.pgoff}`);
    if (prev && prev.end > vma.start) v(`VMAs ${range(prev)} and ${range(vma)}: overlap or out of order`);
    checkVmaFlags(vma, v);
    if (options.checkMerges && prev && wouldMerge(prev, vma)) {
      v(`VMAs ${range(prev)} and ${range(vma)}: adjacent and mergeable, but not merged (flags 0x${vma.flags.toString(16)})`);
    }
    prev = vma;
  }
  if (mm.mapCount !== vmas.length) v(`map_count ${mm.mapCount} != ${vmas.length} VMAs`);
  // ---- i_mmap order: every file-backed VMA was linked, each at its own moment ----
  const stamps = new Set<number>();
  for (const vma of vmas) {
    if (vma.file === null) continue;
    if (vma.iMmapSeq <= 0 || vma.iMmapSeq > kernel.iMmapSeq) v(`VMA ${range(vma)}: i_mmap stamp ${vma.iMmapSeq} outside 1..${kernel.iMmapSeq} (never linked into its file's i_mmap)`);
    else if (stamps.has(vma.iMmapSeq)) v(`VMA ${range(vma)}: i_mmap stamp ${vma.iMmapSeq} shared with another VMA`);
    stamps.add(vma.iMmapSeq);
  }
  // The tree's own structural check (augmented gaps, links), where it has one.
  const tree = mm.vmas as unknown as { verify?: () => string | null };
  if (options.verifyTree !== false && typeof tree.verify === 'function') {
    const problem = tree.verify();
    if (problem) v(`VMA tree: ${problem}`);
  }

  // ---- mm counters (vm_stat_account) ----
  let total = 0;
  let data = 0;
  let exec = 0;
  let stack = 0;
  let locked = 0;
  for (const vma of vmas) {
    const n = vma.pages;
    total += n;
    if ((vma.flags & (VM.EXEC | VM.WRITE | VM_STACK)) === VM.EXEC) exec += n;
    else if ((vma.flags & VM_STACK) === VM_STACK) stack += n;
    else if (isDataMapping(vma.flags)) data += n;
    if (vma.flags & VM.LOCKED) locked += n;
  }
  if (mm.totalVm !== total) v(`total_vm ${mm.totalVm} != ${total} pages in VMAs`);
  if (mm.dataVm !== data) v(`data_vm ${mm.dataVm} != ${data} pages of data VMAs`);
  if (mm.execVm !== exec) v(`exec_vm ${mm.execVm} != ${exec} pages of exec VMAs`);
  if (mm.stackVm !== stack) v(`stack_vm ${mm.stackVm} != ${stack} pages of stack VMAs`);
  if (options.allowLockedVmDrift ? mm.lockedVm < locked : mm.lockedVm !== locked) {
    v(`locked_vm ${mm.lockedVm} != ${locked} pages of VM_LOCKED VMAs`);
  }

  // ---- committed memory: VM_ACCOUNT VMAs plus accounted shmem objects (below) ----
  let accounted = 0;
  for (const vma of vmas) if (vma.flags & VM.ACCOUNT) accounted += vma.pages;

  // ---- page tables: every leaf inside a VMA, with permissions the VMA allows ----
  /** Head frame → leaves mapping part of its block. */
  const use = new Map<number, number>();
  const memmap = kernel.memmap;
  const zeroPfn = kernel.zeroPfn;
  let vi = 0;
  mm.pageTable.forEachLeaf(0, Infinity, (vpn, leaf) => {
    while (vi < vmas.length && vmas[vi]!.end <= vpn) vi++;
    const vma = vmas[vi];
    const at = (): string => `leaf ${hex(vpn)} (pfn 0x${leaf.pfn.toString(16)}, order ${leaf.order})`;
    if (!vma || vma.start > vpn || vpn + 2 ** leaf.order > vma.end) v(`${at()}: not inside a VMA`);
    else checkLeaf(machine, vma, vpn, leaf, at, v);
    if (leaf.pfn === zeroPfn) return;
    const head = memmap.headOf(leaf.pfn);
    const desc = memmap.get(head);
    if (!desc) {
      v(`${at()}: maps a frame with no descriptor (freed or never allocated)`);
      return;
    }
    if (desc.kind === PageKind.PAGETABLE) v(`${at()}: maps a page-table page`);
    use.set(head, (use.get(head) ?? 0) + 1);
  });

  // ---- huge zero blocks: still one PMD, so inside one VMA and all 512 PTEs the zero page alike ----
  for (const base of hugeZeroBlockBases(mm)) {
    const vma = mm.vmas.findVma(base);
    if (!vma || !isHugeZeroBlock(mm, vma, base)) {
      v(`huge zero block ${hex(base)}: not 512 like zero-page PTEs inside one VMA (a split that did not forget it)`);
    }
  }

  // ---- live inodes: linked in a mount, or reachable through an open file or a VMA ----
  const fileRefs = new Map<OpenFile, number>();
  const countRef = (f: VmFile | null | undefined): void => {
    if (!f) return;
    if (!(f instanceof OpenFile)) {
      v(`file ${f.path()}: not a VFS OpenFile`);
      return;
    }
    fileRefs.set(f, (fileRefs.get(f) ?? 0) + 1);
  };
  for (const [, f] of files.entries()) countRef(f);
  for (const vma of vmas) countRef(vma.file);
  const liveInodes = new Set<Inode>();
  for (const [, inode] of vfs.linkedFiles()) liveInodes.add(inode);
  const openPerInode = new Map<Inode, number>();
  for (const [f, refs] of fileRefs) {
    if (f.refCount !== refs) {
      v(`file ${f.path()}: refcount ${f.refCount} != ${refs} (descriptors + VMAs)`);
    }
    liveInodes.add(f.inode);
    openPerInode.set(f.inode, (openPerInode.get(f.inode) ?? 0) + 1);
  }
  for (const [inode, n] of openPerInode) {
    if (inode.users !== n) v(`inode ${inode.ino}: ${inode.users} users != ${n} reachable open files (leaked or lost reference)`);
  }

  for (const inode of liveInodes) if (inode instanceof ShmemInode) accounted += inode.accountedPages;
  // Plus what Linux charges for good: unaccounted stack growth (the caller's
  // commitDrift) and mremap's shrink-and-move (kernel.leakedCommit).
  const commit = accounted + (options.commitDrift ?? 0) + kernel.leakedCommit;
  if (kernel.committedAs !== commit) {
    v(
      `committed_as ${kernel.committedAs} != ${commit} pages (VM_ACCOUNT VMAs and shmem objects` +
        `${options.commitDrift ? ` + ${options.commitDrift} stack growth` : ''}${kernel.leakedCommit ? ` + ${kernel.leakedCommit} mremap shrink-and-move` : ''})`,
    );
  }

  // ---- frame descriptors: each block accounted for exactly once ----
  const hstates = [...vfs.hugetlb.hstates.values()];
  const hstateByOrder = new Map<number, Hstate>(hstates.map((h) => [h.order, h]));
  const hugeInUse = new Map<Hstate, number>();
  let framesInUse = 0;
  let tablePages = 0;
  let zeroPages = 0;
  for (const [pfn, desc] of memmap.entries()) {
    framesInUse += 2 ** desc.order;
    const at = (): string => `page 0x${pfn.toString(16)} (${kindName(desc.kind)}, order ${desc.order})`;
    // A block starting inside another described block (a frame described twice).
    if (memmap.headOf(pfn) !== pfn) v(`${at()}: lies inside the block at 0x${memmap.headOf(pfn).toString(16)}`);
    const mapped = use.get(pfn) ?? 0;
    // PG_swapbacked is cleared (MADV_FREE) only on anonymous folios, and the flag goes with the folio when it is freed.
    if (desc.kind !== PageKind.ANON && memmap.testFlag(pfn, LAZYFREE)) v(`${at()}: lazily freeable but not anonymous`);
    // PG_dirty is kept for page-cache pages, and for anonymous ones only as reclaim reads it after
    // MADV_FREE (set by a write through get_user_pages, cleared by MADV_FREE).
    if (desc.kind !== PageKind.FILE && desc.kind !== PageKind.ANON && memmap.testFlag(pfn, DIRTY)) {
      v(`${at()}: marked dirty but neither anonymous nor page cache`);
    }
    // PG_mlocked only on pages that can be on an LRU list (anonymous or page cache).
    if (desc.kind !== PageKind.ANON && desc.kind !== PageKind.FILE && memmap.testFlag(pfn, MLOCKED)) v(`${at()}: mlocked but neither anonymous nor page cache`);
    switch (desc.kind) {
      case PageKind.ZERO:
        zeroPages++;
        if (pfn !== kernel.zeroPfn) v(`${at()}: a second zero page`);
        break;
      case PageKind.PAGETABLE:
        tablePages++;
        break;
      case PageKind.ANON:
        if (desc.inode !== undefined) v(`${at()}: anonymous page with a page-cache owner`);
        if (desc.mapcount !== mapped) v(`${at()}: mapcount ${desc.mapcount} != ${mapped} mapping leaves`);
        if (mapped === 0) v(`${at()}: anonymous page mapped nowhere (leaked)`);
        break;
      case PageKind.FILE: {
        if (desc.mapcount !== mapped) v(`${at()}: mapcount ${desc.mapcount} != ${mapped} mapping leaves`);
        const inode = desc.inode;
        // No owner: a special mapping's page (vdso), kept by its vm_special_mapping;
        // checkLeaf makes sure such pages are only mapped in special VMAs.
        if (inode === undefined) break;
        if (inode.pageCache?.lookup(desc.index) !== pfn) v(`${at()}: not in inode ${inode.ino}'s page cache at index ${desc.index}`);
        // tmpfs inodes are all known to the VFS (linked, open or mapped); others
        // (the program image on its disk) may keep their page cache unreferenced.
        if (inode instanceof ShmemInode && !liveInodes.has(inode)) {
          v(`${at()}: cached by tmpfs inode ${inode.ino}, which is neither linked nor open (leaked)`);
        }
        break;
      }
      case PageKind.HUGETLB: {
        if (desc.mapcount !== mapped) v(`${at()}: mapcount ${desc.mapcount} != ${mapped} mapping leaves`);
        const h = hstateByOrder.get(desc.order);
        if (!h) {
          v(`${at()}: no huge page pool of this order`);
          break;
        }
        hugeInUse.set(h, (hugeInUse.get(h) ?? 0) + 1);
        const inode = desc.inode;
        if (inode === undefined) {
          if (mapped === 0) v(`${at()}: private hugetlb page mapped nowhere and not on the free list (leaked)`);
        } else if (!(inode instanceof HugetlbInode)) {
          v(`${at()}: hugetlb page cached by a non-hugetlbfs inode`);
        } else {
          if (inode.cache.get(desc.index) !== pfn) v(`${at()}: not in inode ${inode.ino}'s huge page cache at index ${desc.index}`);
          if (inode.hstate !== h) v(`${at()}: cached by inode ${inode.ino} of another pool`);
          if (!liveInodes.has(inode)) v(`${at()}: cached by inode ${inode.ino}, which is neither linked nor open (leaked)`);
        }
        break;
      }
      default:
        v(`${at()}: unknown kind`);
    }
  }
  for (const [head] of use) {
    if (!kernel.memmap.get(head)) v(`frame 0x${head.toString(16)}: mapped without a descriptor`);
  }
  if (zeroPages !== 1) v(`${zeroPages} zero pages described (expected 1)`);
  if (tablePages !== mm.pageTable.tablePages()) {
    v(`${tablePages} PAGETABLE frames described != ${mm.pageTable.tablePages()} page-table pages`);
  }

  // ---- tmpfs block limits: a mount counts its inodes' cached pages, and those reclaim
  // dropped that their inode has not recalculated yet (shmem_recalc_inode is lazy) ----
  const blocksHeld = new Map<ShmemBlocks, number>();
  for (const inode of liveInodes) {
    if (!(inode instanceof ShmemInode) || inode.blocks === null) continue;
    blocksHeld.set(inode.blocks, (blocksHeld.get(inode.blocks) ?? 0) + inode.cache.size + inode.lazilyFreedPages);
  }
  for (const [blocks, held] of blocksHeld) {
    if (blocks.used !== held) v(`tmpfs: ${blocks.used} blocks used != ${held} held by its live inodes (cached + dropped by reclaim, not yet recalculated)`);
  }

  // ---- page caches of live inodes point back at their descriptors ----
  for (const inode of liveInodes) {
    if (inode instanceof ShmemInode) {
      for (const [index, pfn] of inode.cache) {
        const d = kernel.memmap.get(pfn);
        if (!d || d.kind !== PageKind.FILE || d.inode !== inode || d.index !== index || kernel.memmap.headOf(pfn) !== pfn) {
          v(`inode ${inode.ino} cache[${index}] = 0x${pfn.toString(16)}: ${describe(d)}`);
        }
      }
    } else if (inode instanceof HugetlbInode) {
      for (const [index, pfn] of inode.cache) {
        const d = kernel.memmap.get(pfn);
        if (!d || d.kind !== PageKind.HUGETLB || d.inode !== inode || d.index !== index || d.order !== inode.hstate.order) {
          v(`hugetlbfs inode ${inode.ino} cache[${index}] = 0x${pfn.toString(16)}: ${describe(d)}`);
        }
        if (!inode.resvMap.has(index)) v(`hugetlbfs inode ${inode.ino}: cached index ${index} missing from its reservation map`);
      }
    }
  }

  // ---- inode limits (nr_inodes=): the root directory and every inode not yet evicted ----
  for (const [path, sb] of vfs.superBlocks()) {
    const limit = sb.inodes;
    if (limit === undefined) continue;
    let held = 1;
    for (const inode of liveInodes) if (inode.inodeLimit === limit) held++;
    if (limit.free !== limit.max - held) v(`mount ${path}: ${limit.free} inodes free of ${limit.max}, but ${held} in use (the root and ${held - 1} files)`);
  }

  // ---- huge page pools ----
  const sharedResv = new Map<Hstate, number>();
  for (const inode of liveInodes) {
    if (!(inode instanceof HugetlbInode)) continue;
    let n = 0;
    for (const idx of inode.resvMap) if (!inode.cache.has(idx)) n++;
    sharedResv.set(inode.hstate, (sharedResv.get(inode.hstate) ?? 0) + n);
  }
  const privateResv = new Map<Hstate, number>();
  // A subpool (hugetlbfs size=, min_size=) holds its files' outstanding reservations and the pages charged to it.
  const subpoolHeld = new Map<HugetlbSubpool, number>();
  const holds = (sp: HugetlbSubpool | null, n: number): void => {
    if (sp !== null) subpoolHeld.set(sp, (subpoolHeld.get(sp) ?? 0) + n);
  };
  for (const inode of liveInodes) {
    if (!(inode instanceof HugetlbInode) || inode.subpool === null) continue;
    let n = 0;
    for (const idx of inode.resvMap) if (!inode.cache.has(idx)) n++;
    holds(inode.subpool, n);
  }
  for (const vma of vmas) {
    const resv = hugetlbPrivateReservation(vma);
    if (!resv) continue;
    const inode = vma.file?.inode;
    if (!(inode instanceof HugetlbInode)) {
      v(`VMA ${range(vma)}: hugetlb reservation map on a non-hugetlbfs VMA`);
      continue;
    }
    const h = inode.hstate;
    const first = Math.floor(vma.pgoff / h.pages);
    const last = Math.floor((vma.pgoff + vma.pages) / h.pages);
    let n = 0;
    for (let i = first; i < last; i++) if (!resv.consumed.has(i)) n++;
    privateResv.set(h, (privateResv.get(h) ?? 0) + n);
    holds(inode.subpool, n);
  }
  for (const h of hstates) for (const sp of h.subpoolCharges().values()) holds(sp, 1);
  // A maximum (size=) counts them in `used` (plus the charges 6.18 leaks); a minimum (min_size=) holds `rsv` global reservations.
  const subpoolResv = new Map<Hstate, number>();
  const minimumHeld = new Set<Hstate>();
  for (const sp of vfs.hugetlb.subpools) {
    if (sp.min !== -1) minimumHeld.add(sp.hstate);
    if (sp.min !== -1 && (sp.rsv < 0 || sp.rsv > sp.min)) v(`hugetlbfs subpool: rsv ${sp.rsv} outside [0, ${sp.min}]`);
    subpoolResv.set(sp.hstate, (subpoolResv.get(sp.hstate) ?? 0) + sp.rsv);
    if (sp.max === -1) continue;
    const held = (subpoolHeld.get(sp) ?? 0) + sp.leaked;
    if (sp.used < 0 || sp.used > sp.max) v(`hugetlbfs subpool: used ${sp.used} outside [0, ${sp.max}]`);
    if (options.allowResvLeak ? sp.used < held : sp.used !== held) v(`hugetlbfs subpool: used ${sp.used} != ${held} reservations and pages charged to it (${sp.leaked} leaked)`);
  }
  let poolFrames = 0;
  for (const h of hstates) {
    const name = `hugepages-${h.sizeKb}kB`;
    const free = h.freeListPfns();
    poolFrames += free.length * h.pages;
    if (free.length !== h.free) v(`${name}: free ${h.free} != ${free.length} pages on the free list`);
    if (h.free < 0 || h.resv < 0 || h.surplus < 0 || h.total < 0) {
      v(`${name}: negative counter (total ${h.total} free ${h.free} rsvd ${h.resv} surp ${h.surplus})`);
    }
    if (h.free > h.total) v(`${name}: free ${h.free} > total ${h.total}`);
    // Every reservation is backed by a free page, except where a mount's
    // minimum (min_size=) is refilled by a page that is then freed as surplus:
    // free_huge_folio restores the reservation (resv_huge_pages++) and gives
    // the page back to the buddy allocator (recorded:
    // fuzz-probe-hugetlb-min-refill-surplus, total=0 free=0 rsvd=1).
    if (h.resv > h.free && !minimumHeld.has(h)) v(`${name}: rsvd ${h.resv} > free ${h.free}`);
    if (h.surplus > h.total) v(`${name}: surplus ${h.surplus} > total ${h.total}`);
    if (!options.poolsShrunk && h.surplus > h.overcommit) v(`${name}: surplus ${h.surplus} > nr_overcommit ${h.overcommit}`);
    const inUse = hugeInUse.get(h) ?? 0;
    if (h.total - h.free !== inUse) v(`${name}: total - free = ${h.total - h.free} != ${inUse} huge pages in use`);
    const expectResv = (sharedResv.get(h) ?? 0) + (privateResv.get(h) ?? 0) + (subpoolResv.get(h) ?? 0);
    if (options.allowResvLeak ? h.resv < expectResv : h.resv !== expectResv) {
      v(`${name}: rsvd ${h.resv} != ${expectResv} outstanding reservations (${sharedResv.get(h) ?? 0} shared + ${privateResv.get(h) ?? 0} private + ${subpoolResv.get(h) ?? 0} held by min_size= subpools)`);
    }
    const seen = new Set<number>();
    for (const pfn of free) {
      if (seen.has(pfn)) v(`${name}: page 0x${pfn.toString(16)} twice on the free list`);
      seen.add(pfn);
      if (pfn % h.pages !== 0) v(`${name}: free page 0x${pfn.toString(16)} not aligned`);
      if (kernel.memmap.get(pfn)) v(`${name}: free page 0x${pfn.toString(16)} also has a descriptor`);
      if (use.has(pfn)) v(`${name}: free page 0x${pfn.toString(16)} is mapped`);
    }
  }

  // ---- frames: every allocated frame is described exactly once ----
  const inUse = framesInUse + poolFrames;
  const frames = kernel.frames;
  if (frames.freeFrames() + inUse !== frames.totalFrames) {
    v(`frames: ${frames.freeFrames()} free + ${inUse} in use != ${frames.totalFrames} total (${frames.totalFrames - frames.freeFrames() - inUse} unaccounted)`);
    // Only now (it is slow): which described block is free in the allocator?
    for (const [pfn, desc] of memmap.entries()) {
      if (!frames.isAllocated(pfn)) v(`page 0x${pfn.toString(16)} (${kindName(desc.kind)}): described but free in the frame allocator`);
    }
    for (const h of hstates) {
      for (const pfn of h.freeListPfns()) if (!frames.isAllocated(pfn)) v(`hugepages-${h.sizeKb}kB: free page 0x${pfn.toString(16)} not allocated`);
    }
  }
  return out;
}

/**
 * Frames that outlive every process and file the VFS knows: page-cache pages
 * of inodes outside the VFS mounts (the program image) and special-mapping
 * pages (vdso). A teardown may leave these behind; anything else is a leak.
 */
export function persistentFrames(machine: Machine): number {
  let n = 0;
  for (const [, desc] of machine.kernel.memmap.entries()) {
    if (desc.kind !== PageKind.FILE) continue;
    if (desc.inode === undefined || !(desc.inode instanceof ShmemInode)) n += 2 ** desc.order;
  }
  return n;
}

/** Frames in use as the invariants count them: described blocks plus huge pages on pool free lists. */
export function framesInUse(machine: Machine): number {
  let n = 0;
  for (const [, desc] of machine.kernel.memmap.entries()) n += 2 ** desc.order;
  for (const h of machine.vfs.hugetlb.hstates.values()) n += h.freeListPfns().length * h.pages;
  return n;
}

/** Flag combinations Linux never produces on one VMA. */
function checkVmaFlags(vma: Vma, report: (m: string) => void): void {
  const f = vma.flags;
  // Built only when something is wrong: this runs for every VMA after every call.
  const v = (msg: string): void => report(`VMA ${range(vma)} (flags 0x${f.toString(16)})${msg}`);
  if (f & VM_ACCESS_FLAGS & ~(f >> 4)) v(`: an access flag without its VM_MAY* flag`);
  if (f & VM.SHARED && !(f & VM.MAYSHARE)) v(`: VM_SHARED without VM_MAYSHARE`);
  if (f & VM.ACCOUNT && f & (VM.SHARED | VM.HUGETLB)) v(`: VM_ACCOUNT on a shared or hugetlb VMA`);
  if (f & VM.HUGETLB) {
    const order = vma.file?.ops.hugePageOrder;
    if (order === undefined) v(`: VM_HUGETLB without a hugetlbfs file`);
    else {
      const hp = 2 ** order;
      if (vma.start % hp || vma.end % hp || vma.pgoff % hp) v(`: hugetlb VMA not aligned to ${hp} pages (pgoff ${vma.pgoff})`);
    }
    if (!(f & VM.DONTEXPAND)) v(`: hugetlb VMA without VM_DONTEXPAND`);
    if (f & (VM.LOCKED | VM.LOCKONFAULT)) v(`: hugetlb VMA with VM_LOCKED`);
  }
  if (f & VM.SHARED && vma.isAnonymous && vma.file === null) v(`: shared VMA without a (shmem) file`);
}

/** Would Linux have merged `a` with the VMA `b` right after it? (`vma_merge_new_range` conditions.) */
export function wouldMerge(a: Vma, b: Vma): boolean {
  if (a.end !== b.start) return false;
  if ((a.flags ^ b.flags) & ~VM_IGNORE_MERGE) return false;
  if (a.flags & VM_SPECIAL || b.flags & VM_SPECIAL) return false;
  if (a.file !== b.file) return false;
  if (a.ops?.close || b.ops?.close) return false;
  if (a.pgoff + a.pages !== b.pgoff) return false;
  return a.anonVma === null || b.anonVma === null || a.anonVma === b.anonVma;
}

/** One leaf against its VMA and its frame. */
function checkLeaf(m: Machine, vma: Vma, vpn: number, leaf: PteView, at: () => string, v: (msg: string) => void): void {
  const k = m.kernel;
  const f = vma.flags;
  if (leaf.bits & PTE_WRITE && !(f & VM.WRITE)) v(`${at()}: writable in a VMA without VM_WRITE (${range(vma)})`);
  if (leaf.bits & PTE_PRESENT && !(f & VM_ACCESS_FLAGS)) v(`${at()}: present in a PROT_NONE VMA (${range(vma)})`);
  const hugeOrder = f & VM.HUGETLB ? (vma.ops?.hugeOrder ?? -1) : 0;
  if (leaf.order !== hugeOrder) v(`${at()}: leaf order ${leaf.order} in a VMA of page order ${hugeOrder}`);
  if (leaf.pfn === k.zeroPfn) {
    if (leaf.bits & PTE_WRITE) v(`${at()}: the zero page mapped writable`);
    if (!vma.isAnonymous) v(`${at()}: the zero page in a file VMA`);
    return;
  }
  const desc = k.memmap.get(leaf.pfn);
  if (!desc) return; // reported by the caller
  const shared = (f & VM.SHARED) !== 0;
  switch (desc.kind) {
    case PageKind.ANON:
      if (shared) v(`${at()}: anonymous page in a shared VMA`);
      if (!vma.anonVma) v(`${at()}: anonymous page in a VMA without an anon_vma`);
      break;
    case PageKind.FILE: {
      const inode = vma.file?.inode;
      if (desc.inode === undefined) {
        if (!vma.ops?.special) v(`${at()}: ownerless (special mapping) page outside a special VMA`);
      } else if (!inode || desc.inode !== inode) v(`${at()}: page-cache page of another file`);
      else if (desc.index !== vma.pgoffOf(vpn)) v(`${at()}: file page ${desc.index} mapped at file offset page ${vma.pgoffOf(vpn)}`);
      if (leaf.bits & PTE_WRITE && !shared) v(`${at()}: page-cache page writable in a private VMA (no COW)`);
      break;
    }
    case PageKind.HUGETLB: {
      if (!(f & VM.HUGETLB)) v(`${at()}: hugetlb page in a non-hugetlb VMA`);
      if (desc.inode === undefined) {
        if (f & VM.MAYSHARE) v(`${at()}: private hugetlb page in a shared VMA`);
      } else {
        if (desc.inode !== vma.file?.inode) v(`${at()}: hugetlb page of another file`);
        else if (desc.index * 2 ** desc.order !== vma.pgoffOf(vpn)) v(`${at()}: huge page ${desc.index} at file offset page ${vma.pgoffOf(vpn)}`);
        if (leaf.bits & PTE_WRITE && !shared) v(`${at()}: cached hugetlb page writable in a private VMA (no COW)`);
      }
      break;
    }
    default:
      break;
  }
}

function kindName(kind: number): string {
  return (['?', 'ANON', 'FILE', 'ZERO', 'HUGETLB', 'PAGETABLE'] as const)[kind] ?? `kind ${kind}`;
}

function describe(d: PageDesc | undefined): string {
  return d ? `descriptor says ${kindName(d.kind)} order ${d.order} index ${d.index}` : 'no descriptor';
}

/**
 * Start pages of the grows-down VMAs without `VM_ACCOUNT`, taken before a
 * user access; {@link unaccountedStackGrowth} then tells how far the access
 * grew them. Linux's `acct_stack_growth` charges such growth to
 * `committed_as` although no `VM_ACCOUNT` VMA will ever give it back, so the
 * caller adds it to {@link InvariantOptions.commitDrift}.
 */
export function unaccountedStacks(machine: Machine): Map<Vma, number> {
  const out = new Map<Vma, number>();
  for (const vma of machine.mm.vmas.all()) {
    if (vma.flags & VM.GROWSDOWN && !(vma.flags & VM.ACCOUNT)) out.set(vma, vma.start);
  }
  return out;
}

/** Pages the VMAs of an {@link unaccountedStacks} snapshot grew down by since. */
export function unaccountedStackGrowth(before: Map<Vma, number>): number {
  let n = 0;
  for (const [vma, start] of before) if (vma.start < start) n += start - vma.start;
  return n;
}
