/**
 * `mremap`: shrink in place, grow in place, or move (`MREMAP_MAYMOVE`,
 * `MREMAP_FIXED`, `MREMAP_DONTUNMAP`), including the 6.17+ multi-VMA move.
 * @see mm/mremap.c do_mremap, check_mremap_params, check_prep_vma,
 *      mremap_at, mremap_to, move_vma, copy_vma (mm/vma.c), remap_move
 */

import { Errno, MREMAP, traced } from '@mmsim/base';
import { mayExpandVm, mlockFutureOk, vmEnoughMemory, vmUnacctMemory } from './accounting.js';
import { mmPopulate } from './gup.js';
import { moveHugeZeroBlocks } from './huge-zero.js';
import { allocPageTables } from './rmap.js';
import type { MmStruct } from './mm.js';
import { doMunmap } from './munmap.js';
import { getUnmappedArea, PMD_PAGES } from './unmapped-area.js';
import type { Vma } from './vma.js';
import { iMmapInsert } from './i-mmap.js';
import { vmaMergeNewRange } from './vma-ops.js';
import { VM, VM_LOCKED_MASK } from './vm-flags.js';

const MAP_SHARED = 0x01;
const MAP_FIXED = 0x10;
const U64 = (1n << 64n) - 1n;

/** The state of one mremap request, in pages (`struct vma_remap_struct`). */
interface Remap {
  addr: number;
  oldLen: number;
  newLen: number;
  flags: number;
  newAddr: number;
  vma: Vma | undefined;
  delta: number;
  charged: number;
  populateExpand: boolean;
}

const impliesNewAddr = (r: Remap): boolean => (r.flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) !== 0;

/** `do_mremap` with the raw arguments: the new address (bytes) or `-errno`. */
export function doMremap(mm: MmStruct, addrArg: bigint, oldLenArg: bigint, newLenArg: bigint, flagsArg: bigint, newAddrArg: bigint): bigint {
  return traced(
    mm.kernel.tracer,
    'do_mremap',
    () => `addr=0x${addrArg.toString(16)}, old_len=0x${oldLenArg.toString(16)}, new_len=0x${newLenArg.toString(16)}, flags=0x${flagsArg.toString(16)}, new_addr=0x${newAddrArg.toString(16)}`,
    () => {
      const r = mremapBytes(mm, addrArg, oldLenArg, newLenArg, flagsArg, newAddrArg);
      return typeof r === 'number' ? BigInt(r) : r;
    },
    (r) => (r < 0n ? `-${Object.entries(Errno).find(([, v]) => v === Number(-r))?.[0]}` : '0x' + r.toString(16)),
  );
}

function mremapBytes(mm: MmStruct, addrArg: bigint, oldLenArg: bigint, newLenArg: bigint, flagsArg: bigint, newAddrArg: bigint): bigint | number {
  const taskSize = BigInt(mm.taskSize) << 12n;
  const oldLen = (oldLenArg + 0xfffn) & ~0xfffn & U64;
  const newLen = (newLenArg + 0xfffn) & ~0xfffn & U64;
  if (flagsArg & ~BigInt(MREMAP.MAYMOVE | MREMAP.FIXED | MREMAP.DONTUNMAP)) return -Errno.EINVAL;
  const flags = Number(flagsArg);
  if (addrArg & 0xfffn) return -Errno.EINVAL;
  if (newLen === 0n) return -Errno.EINVAL;
  if (newLen > taskSize) return -Errno.EINVAL;
  if (flags & (MREMAP.FIXED | MREMAP.DONTUNMAP)) {
    if (newAddrArg > taskSize - newLen) return -Errno.EINVAL;
    if (newAddrArg & 0xfffn) return -Errno.EINVAL;
    if (!(flags & MREMAP.MAYMOVE)) return -Errno.EINVAL;
    if (flags & MREMAP.DONTUNMAP && oldLen !== newLen) return -Errno.EINVAL;
    // vrm_overlaps, on 64-bit sums: an old range whose end reaches 2^64 wraps below
    // its start and overlaps nothing (the destination's unmap then runs first).
    if (((addrArg + oldLen) & U64) > newAddrArg && newAddrArg + newLen > addrArg) return -Errno.EINVAL;
    if (mm.mapCount + 2 >= mm.kernel.config.maxMapCount - 3) return -Errno.ENOMEM;
  }
  const r: Remap = {
    addr: Number(addrArg >> 12n),
    oldLen: Number(oldLen >> 12n),
    newLen: Number(newLen >> 12n),
    flags,
    newAddr: Number(newAddrArg >> 12n),
    vma: undefined,
    delta: 0,
    charged: 0,
    populateExpand: false,
  };
  let result: number;
  if (flags & MREMAP.FIXED && r.oldLen === r.newLen) {
    result = remapMove(mm, r);
  } else {
    r.vma = mm.vmas.lookup(r.addr);
    if (!r.vma) return -Errno.EFAULT;
    const err = checkPrepVma(mm, r);
    if (err) return err;
    result = impliesNewAddr(r) ? mremapTo(mm, r) : mremapAt(mm, r);
  }
  if (result >= 0 && r.populateExpand && r.newLen > r.oldLen) {
    mmPopulate(mm, result + r.oldLen, result + r.newLen, true);
  }
  return result < 0 ? result : BigInt(result) << 12n;
}

/** `check_prep_vma`: hugetlb alignment, growth limits, crossing VMA boundaries. */
function checkPrepVma(mm: MmStruct, r: Remap): number {
  const vma = r.vma!;
  if (vma.flags & VM.HUGETLB) {
    const hp = 1 << (vma.ops?.hugeOrder ?? 0);
    r.oldLen = Math.ceil(r.oldLen / hp) * hp;
    r.newLen = Math.ceil(r.newLen / hp) * hp;
    if (r.addr & (hp - 1)) return -Errno.EINVAL;
    if (r.newAddr & (hp - 1)) return -Errno.EINVAL;
    if (r.newLen > r.oldLen) return -Errno.EINVAL;
  }
  r.delta = Math.abs(r.newLen - r.oldLen);
  if (!impliesNewAddr(r)) r.newAddr = r.addr;
  const expand = r.newLen > r.oldLen;
  if (!expand && !impliesNewAddr(r)) return 0;
  if (r.oldLen === 0 && !(vma.flags & (VM.SHARED | VM.MAYSHARE))) return -Errno.EINVAL;
  if (r.flags & MREMAP.DONTUNMAP && vma.flags & (VM.DONTEXPAND | VM.PFNMAP)) return -Errno.EINVAL;
  // "We permit crossing of boundaries for the range being unmapped due to a shrink": a shrink
  // is checked (and then done) as if old_len were new_len. (Found by tools/fuzz/kernel.)
  const oldLen = r.newLen < r.oldLen ? r.newLen : r.oldLen;
  if (oldLen > vma.end - r.addr) return -Errno.EFAULT;
  if (r.newLen === oldLen) return 0;
  if (vma.flags & VM.LOCKED) r.populateExpand = true;
  if (vma.flags & (VM.DONTEXPAND | VM.PFNMAP)) return -Errno.EFAULT;
  if (!mlockFutureOk(mm, vma.flags, r.delta)) return -Errno.EAGAIN;
  if (!mayExpandVm(mm, vma.flags, r.delta)) return -Errno.ENOMEM;
  return 0;
}

/** `mremap_at`: no new address was asked for. */
function mremapAt(mm: MmStruct, r: Remap): number {
  if (r.newLen === r.oldLen) return r.addr;
  if (r.newLen < r.oldLen) {
    const err = shrinkVma(mm, r);
    return err ? err : r.addr;
  }
  return expandVma(mm, r);
}

/**
 * `shrink_vma`: unmap `[addr + new_len, addr + old_len)`. The range may run
 * past the VMA (a hugetlb `old_len` is rounded up to the huge page size before
 * anything checks it against the VMA), and past `TASK_SIZE` (`do_vmi_munmap` then refuses it: `EINVAL`).
 * (Found by tools/fuzz/kernel: fuzz-hugetlb-s2193-50.)
 */
function shrinkVma(mm: MmStruct, r: Remap): number {
  return doMunmap(mm, r.addr + r.newLen, r.addr + r.oldLen);
}

/** `vma_expandable`: nothing in the way and still inside TASK_SIZE. */
function vmaExpandable(mm: MmStruct, vma: Vma, delta: number): boolean {
  const end = vma.end + delta;
  if (mm.vmas.intersects(vma.end, end)) return false;
  return end <= mm.taskSize;
}

/** `expand_vma`: grow in place if the range ends the VMA and the space is free, else move (MAYMOVE). */
function expandVma(mm: MmStruct, r: Remap): number {
  const vma = r.vma!;
  if (vma.end - r.addr === r.oldLen && vmaExpandable(mm, vma, r.delta)) {
    if (vma.flags & VM.ACCOUNT && vmEnoughMemory(mm, r.delta)) return -Errno.ENOMEM;
    const merged = vmaMergeNewRange(mm, {
      start: vma.end,
      end: vma.end + r.delta,
      flags: vma.flags,
      file: vma.file,
      pgoff: vma.pgoff + vma.pages,
      anonVma: vma.anonVma,
      middle: null,
    });
    if (!merged) {
      if (vma.flags & VM.ACCOUNT) vmUnacctMemory(mm, r.delta);
      return -Errno.ENOMEM;
    }
    mm.statAccount(merged.flags, r.delta);
    if (merged.flags & VM.LOCKED) mm.lockedVm += r.delta;
    return r.addr;
  }
  if (!(r.flags & MREMAP.MAYMOVE)) return -Errno.ENOMEM;
  const err = setNewAddr(mm, r);
  if (err) return err;
  return moveVma(mm, r);
}

/** `vrm_set_new_addr`: place the destination (a search, or the fixed address). */
function setNewAddr(mm: MmStruct, r: Remap): number {
  const vma = r.vma!;
  const pgoff = vma.pgoff + (r.addr - vma.start);
  let mapFlags = 0;
  if (r.flags & MREMAP.FIXED) mapFlags |= MAP_FIXED;
  if (vma.flags & VM.MAYSHARE) mapFlags |= MAP_SHARED;
  const hint = impliesNewAddr(r) ? BigInt(r.newAddr) << 12n : 0n;
  const res = getUnmappedArea(mm, vma.file, hint, r.newLen, pgoff, mapFlags);
  if (res < 0) return res;
  r.newAddr = res;
  return 0;
}

/** `mremap_to`: MREMAP_FIXED / MREMAP_DONTUNMAP. */
function mremapTo(mm: MmStruct, r: Remap): number {
  if (r.flags & MREMAP.FIXED) {
    const err = doMunmap(mm, r.newAddr, r.newAddr + r.newLen);
    if (err) return err;
    r.vma = mm.vmas.lookup(r.addr);
    if (!r.vma) return -Errno.EFAULT;
  }
  if (r.newLen < r.oldLen) {
    const err = shrinkVma(mm, r);
    if (err) return err;
    r.oldLen = r.newLen;
    r.vma = mm.vmas.lookup(r.addr);
    if (!r.vma) return -Errno.EFAULT;
  }
  if (r.flags & MREMAP.DONTUNMAP && !mayExpandVm(mm, r.vma!.flags, r.oldLen)) return -Errno.ENOMEM;
  const err = setNewAddr(mm, r);
  if (err) return err;
  return moveVma(mm, r);
}

/** `copy_vma`: the destination VMA, by merging with a neighbour or as a copy. */
function copyVma(mm: MmStruct, vma: Vma, addr: number, len: number, pgoff: number): Vma {
  if (vma.isAnonymous && !vma.anonVma) pgoff = addr;
  const merged = vmaMergeNewRange(mm, {
    start: addr,
    end: addr + len,
    flags: vma.flags,
    file: vma.file,
    pgoff,
    anonVma: vma.anonVma,
    middle: null,
  });
  if (merged) return merged;
  const copy = vma.dup();
  copy.start = addr;
  copy.end = addr + len;
  copy.pgoff = pgoff;
  copy.ops?.open?.(copy);
  mm.vmas.insert(copy);
  iMmapInsert(mm, copy);
  return copy;
}

/**
 * Allocate the page tables that {@link movePageTables} will need at `to`: for
 * every leaf of `[from, from+len)`, the tables its copy needs. A source PTE
 * table with nothing in it gets its destination table too: `move_page_tables`
 * moves a PMD that points to a table (`move_normal_pmd`) or calls `pte_alloc`
 * for the destination of every such extent before `move_ptes`, whether or not
 * the table maps anything — so the destination's PMD is not none, and a fault
 * there gets a small page, not a THP. False, and the new empty tables freed,
 * when memory runs out. (Found by tools/fuzz/kernel: fuzz-anon-s2046-123.)
 */
function prepareTables(mm: MmStruct, from: number, to: number, len: number): boolean {
  const pt = mm.pageTable;
  // [destination vpn, order, bits] of every table to allocate.
  const wanted: Array<[number, number, number]> = [];
  pt.forEachLeaf(from, from + len, (vpn, leaf) => wanted.push([vpn - from + to, leaf.order, leaf.bits]));
  if (pt.hasTable !== undefined) {
    for (let b = from - (from % PMD_PAGES); b < from + len; b += PMD_PAGES) {
      if (!pt.hasTable(b, 9)) continue;
      // The extent [s, e) of this source table, cut at the destination's PMD boundaries.
      const e = Math.min(b + PMD_PAGES, from + len);
      for (let s = Math.max(b, from); s < e; s += PMD_PAGES - ((s - from + to) % PMD_PAGES)) wanted.push([s - from + to, 0, 0]);
    }
  }
  for (const [vpn, order, bits] of wanted) {
    if (!allocPageTables(mm, vpn, order, bits)) {
      pt.freeEmptyTables(to, to + len);
      return false;
    }
  }
  return true;
}

/**
 * The source blocks of a move that Linux moves as one PMD entry
 * (`move_huge_pmd`, or `move_normal_pmd` for a PTE table): 2 MiB blocks wholly
 * inside `[from, from+len)`, with source and destination equally PMD-aligned,
 * that have a table while the destination PMD is none. Their source PMD is
 * none afterwards (a THP may fault there again); a block moved entry by entry
 * (`move_ptes`) keeps its emptied PTE table. Called before the destination
 * tables are prepared. (Found by tools/fuzz/kernel; probe fuzz-probe-thp-table.)
 * @see mm/mremap.c move_page_tables, move_pgt_entry
 */
function pmdMovedBlocks(mm: MmStruct, from: number, to: number, len: number): number[] {
  const pt = mm.pageTable;
  const blocks: number[] = [];
  if (pt.hasTable === undefined || (to - from) % PMD_PAGES !== 0) return blocks;
  for (let b = Math.ceil(from / PMD_PAGES) * PMD_PAGES; b + PMD_PAGES <= from + len; b += PMD_PAGES) {
    if (pt.hasTable(b, 9) && !pt.hasTable(b - from + to, 9)) blocks.push(b);
  }
  return blocks;
}

/**
 * `move_page_tables`: move the entries of `[from, from+len)` to `to`; the
 * source blocks in `wholeBlocks` ({@link pmdMovedBlocks}) lose their tables.
 */
function movePageTables(mm: MmStruct, from: number, to: number, len: number, wholeBlocks: readonly number[]): void {
  const pt = mm.pageTable;
  const leaves: Array<[number, number, number, number]> = [];
  pt.forEachLeaf(from, from + len, (vpn, leaf) => leaves.push([vpn, leaf.pfn, leaf.order, leaf.bits]));
  for (const [vpn] of leaves) pt.unmap(vpn);
  for (const [vpn, pfn, order, bits] of leaves) pt.map(vpn - from + to, pfn, order, bits);
  // (the source PMD table stays: only the PTE table moved)
  for (const b of wholeBlocks) pt.freeEmptyTables(b, b + PMD_PAGES, b, b + PMD_PAGES);
  // Guard markers travel with the page tables, and so do huge zero PMDs moved whole.
  mm.guards.move(from, len, to);
  moveHugeZeroBlocks(mm, from, len, to, wholeBlocks);
}

/** `move_vma`: copy the VMA to `r.newAddr`, move its pages, then unmap (or empty, for DONTUNMAP) the source. */
function moveVma(mm: MmStruct, r: Remap): number {
  let vma = r.vma!;
  if (mm.mapCount >= mm.kernel.config.maxMapCount - 3) return -Errno.ENOMEM;
  if (vma.ops?.maySplit) {
    let err = 0;
    if (vma.start !== r.addr) err = vma.ops.maySplit(vma, r.addr);
    if (!err && vma.end !== r.addr + r.oldLen) err = vma.ops.maySplit(vma, r.addr + r.oldLen);
    if (err) return err;
  }
  if (vma.flags & VM.ACCOUNT) {
    // vrm_calc_charge: new_len with DONTUNMAP, else delta. Linux 6.18 does not
    // recompute delta after mremap_to's shrink (it only sets old_len = new_len),
    // so a shrink-and-move charges the part the shrink just unmapped: ENOMEM
    // when that exceeds what the overcommit policy allows (after the shrink
    // is done), and on success a charge nothing ever gives back (measured:
    // conformance/fuzz/fuzz-probe-mremap-shrink-move-charge).
    let charged = 0;
    if (r.flags & MREMAP.DONTUNMAP) charged = r.newLen;
    else charged = r.delta;
    if (charged && vmEnoughMemory(mm, charged)) return -Errno.ENOMEM;
    r.charged = charged;
  }
  // move_page_tables allocates the destination tables as it goes; short of
  // memory it moves everything back and mremap fails with ENOMEM, the source
  // untouched. Allocate them before anything changes (a failed map in
  // movePageTables lost the pages it had just unmapped).
  const wholeBlocks = pmdMovedBlocks(mm, r.addr, r.newAddr, r.oldLen);
  if (!prepareTables(mm, r.addr, r.newAddr, r.oldLen)) {
    if (r.charged) vmUnacctMemory(mm, r.charged);
    return -Errno.ENOMEM;
  }
  const pgoff = vma.pgoff + (r.addr - vma.start);
  const vmaStart = vma.start;
  const newVma = copyVma(mm, vma, r.newAddr, r.newLen, pgoff);
  if (vmaStart >= newVma.start && vmaStart < newVma.end) vma = newVma;
  movePageTables(mm, r.addr, r.newAddr, r.oldLen, wholeBlocks);
  // clear_vma_resv_huge_pages (copy_vma_and_data): a private hugetlb VMA's
  // reservation map now belongs to the copy. The source VMA — all of it, not
  // only the part that moved — forgets it, so unmapping the source does not
  // hand the reservations back a second time (HugePages_Rsvd went negative).
  if (vma.flags & VM.HUGETLB) vma.privateData = undefined;
  mm.statAccount(newVma.flags, r.newLen);
  if (newVma.flags & VM.LOCKED) mm.lockedVm += r.newLen;
  if (r.flags & MREMAP.DONTUNMAP) {
    const whole = r.addr === vma.start && r.addr + r.oldLen === vma.end;
    // dontunmap_complete clears only VM_LOCKED_MASK: the source keeps
    // VM_ACCOUNT and its charge, released when it is unmapped ("mm/mremap:
    // correctly account old mapping after MREMAP_DONTUNMAP remap", stable fix
    // for 6.17's move_vma refactor; clearing it leaked committed_as).
    vma.flags &= ~VM_LOCKED_MASK;
    if (newVma !== vma && whole) vma.anonVma = null;
    return r.newAddr;
  }
  const accountable = (vma.flags & VM.ACCOUNT) !== 0;
  // A shrink-and-move (mremap_to shrank first: old_len is new_len, delta is not
  // 0) charged what the shrink unmapped; nothing gives it back.
  if (accountable && r.oldLen === r.newLen && r.charged > 0) mm.kernel.leakedCommit += r.charged;
  const oldStart = vma.start;
  const oldEnd = vma.end;
  if (accountable) vma.flags &= ~VM.ACCOUNT;
  const err = doMunmap(mm, r.addr, r.addr + r.oldLen);
  if (err) {
    mm.kernel.committedAs += r.oldLen;
    return r.newAddr;
  }
  if (accountable) {
    if (oldStart < r.addr) {
      const prev = mm.vmas.lookup(r.addr - 1);
      if (prev) prev.flags |= VM.ACCOUNT;
    }
    if (oldEnd > r.addr + r.oldLen) {
      const next = mm.vmas.lookup(r.addr + r.oldLen);
      if (next) next.flags |= VM.ACCOUNT;
    }
  }
  return r.newAddr;
}

/**
 * `vma_multi_allowed`: whether a move of several VMAs may include this one.
 * Not a VMA whose file has its own `->get_unmapped_area` (it might not honour
 * `MREMAP_FIXED`), unless that placement is one mremap trusts (shmem,
 * hugetlbfs, `thp_get_unmapped_area`): of the model's files, a private
 * `/dev/zero` mapping (`get_unmapped_area_zero`).
 */
function multiMoveAllowed(vma: Vma): boolean {
  const ops = vma.file?.ops;
  return ops?.getUnmappedArea === undefined || ops.honoursFixedPlacement === true;
}

/** `remap_move` (6.17+): MREMAP_FIXED without resizing, across every VMA of the range. */
function remapMove(mm: MmStruct, r: Remap): number {
  const start = r.addr;
  const end = r.addr + r.oldLen;
  let target = r.newAddr;
  let res = -Errno.EFAULT;
  let seen = false;
  let lastEnd = 0;
  // Walk the source range by address, as the kernel's VMA iterator does (it is
  // reset after each move): a move's destination may split a VMA that reaches
  // into the range, and the piece left in the range is the one to move next.
  for (let pos = start; pos < end; ) {
    const vma = mm.vmas.findVma(pos);
    if (vma === undefined || vma.start >= end) break;
    const addr = Math.max(vma.start, start);
    const len = Math.min(end, vma.end) - addr;
    if (!seen && start < vma.start) return -Errno.EFAULT;
    const offset = seen ? vma.start - lastEnd : 0;
    lastEnd = vma.end;
    pos = vma.end;
    // A VMA whose file places mappings its own way moves only alone: not after another, nor with more after it.
    if (!multiMoveAllowed(vma) && (seen || vma.end < end)) return -Errno.EFAULT;
    const piece: Remap = { ...r, vma, addr, newAddr: target + offset, oldLen: len, newLen: len };
    let out = checkPrepVma(mm, piece);
    if (!out) out = mremapTo(mm, piece);
    if (out < 0) return out;
    if (!seen) res = out;
    seen = true;
    target = out + piece.newLen;
  }
  return res;
}
