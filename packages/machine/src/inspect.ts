/**
 * Looking inside a machine's page tables the way Linux's own tools do: the
 * page-table walk for one address (what `mmsim pagetable` prints) and a
 * `/proc/PID/pagemap` entry (present, frame, file or anonymous, exclusive).
 * Both work for every architecture: the walk through the optional
 * `PageTable.walk` of the contract, the pagemap through `lookup`.
 * @see fs/proc/task_mmu.c pagemap_read, pte_to_pagemap_entry, pagemap_hugetlb_range
 * @see Documentation/admin-guide/mm/pagemap.rst
 */

import type { PageTableWalkStep, PteView } from '@mmsim/arch';
import { PteBits } from '@mmsim/arch';
import { PageKind, VM } from '@mmsim/mm-core';
import type { Machine } from './machine.js';

/** `PM_PFRAME_MASK`: bits 0–54 hold the frame number. */
export const PM_PFRAME_MASK = (1n << 55n) - 1n;
/** `PM_SOFT_DIRTY` (bit 55). */
export const PM_SOFT_DIRTY = 1n << 55n;
/** `PM_MMAP_EXCLUSIVE` (bit 56): the page is mapped exactly once. */
export const PM_MMAP_EXCLUSIVE = 1n << 56n;
/** `PM_FILE` (bit 61): a page-cache page or shared anonymous memory (not an anonymous folio). */
export const PM_FILE = 1n << 61n;
/** `PM_SWAP` (bit 62). */
export const PM_SWAP = 1n << 62n;
/** `PM_PRESENT` (bit 63). */
export const PM_PRESENT = 1n << 63n;

/** What backs a virtual page. */
export type PagemapKind = 'anon' | 'file' | 'zero' | 'hugetlb' | 'none';

/** One `/proc/PID/pagemap` entry, decoded, plus what the model knows beyond it. */
export interface PagemapEntry {
  /** `PM_PRESENT`: a leaf maps the page (a PROT_NONE leaf counts, as `pte_present` says). */
  readonly present: boolean;
  /** The 4 KiB frame (the leaf's frame plus the offset inside a huge leaf); 0 when not present. */
  readonly pfn: number;
  /** What backs the page: an anonymous page, a page-cache page, the zero page, a hugetlb page, or nothing. */
  readonly kind: PagemapKind;
  /** `PM_FILE`. */
  readonly file: boolean;
  /** `PM_MMAP_EXCLUSIVE`. */
  readonly exclusive: boolean;
  /** `PM_SOFT_DIRTY` (from the VMA's `VM_SOFTDIRTY`; per-PTE soft-dirty is not modelled). */
  readonly softDirty: boolean;
  /** The leaf's order (0 for 4 KiB, 9 for 2 MiB, 18 for 1 GiB); -1 when not present. */
  readonly order: number;
  /** The leaf's architecture-neutral bits, 0 when not present. */
  readonly bits: number;
  /** The 64-bit word `/proc/PID/pagemap` holds for the page (as read with `CAP_SYS_ADMIN`, frame shown). */
  readonly raw: bigint;
}

const NONE_KIND = (softDirty: boolean): PagemapEntry => ({
  present: false,
  pfn: 0,
  kind: 'none',
  file: false,
  exclusive: false,
  softDirty,
  order: -1,
  bits: 0,
  raw: softDirty ? PM_SOFT_DIRTY : 0n,
});

/**
 * The `/proc/PID/pagemap` entry of the page holding `address` in the
 * machine's process (`pagemap_pte_range` / `pagemap_hugetlb_range`).
 */
export function pagemap(machine: Machine, address: bigint): PagemapEntry {
  const { mm, kernel } = machine;
  const shift = BigInt(kernel.arch.pageShift);
  const vpn = Number((address & ((1n << 64n) - 1n)) >> shift);
  const vma = mm.vmas.lookup(vpn);
  const softDirty = vma !== undefined && (vma.flags & VM.SOFTDIRTY) !== 0;
  const leaf: PteView | null = mm.pageTable.lookup(vpn);
  if (leaf === null) return NONE_KIND(softDirty);
  const inLeaf = leaf.order === 0 ? 0 : vpn % 2 ** leaf.order;
  const pfn = leaf.pfn + inLeaf;
  const desc = kernel.page(leaf.pfn);
  let kind: PagemapKind = 'file';
  let file = true;
  let exclusive = false;
  if (pfn === kernel.zeroPfn || desc?.kind === PageKind.ZERO) {
    // vm_normal_page() is NULL for the zero page: neither PM_FILE nor PM_MMAP_EXCLUSIVE.
    kind = 'zero';
    file = false;
  } else if (desc !== undefined) {
    if (desc.kind === PageKind.HUGETLB) {
      kind = 'hugetlb';
      file = desc.inode !== undefined; // private COW copies are anonymous folios
    } else if (desc.kind === PageKind.ANON) {
      kind = 'anon';
      file = false;
    }
    // One mapping of each page of the folio: mapcount counts the entries mapping any part of it.
    exclusive = desc.mapcount === (leaf.order >= desc.order ? 1 : 1 << (desc.order - leaf.order)) || desc.mapcount === 1;
  }
  let raw = PM_PRESENT | (BigInt(pfn) & PM_PFRAME_MASK);
  if (file) raw |= PM_FILE;
  if (exclusive) raw |= PM_MMAP_EXCLUSIVE;
  if (softDirty) raw |= PM_SOFT_DIRTY;
  return { present: true, pfn, kind, file, exclusive, softDirty, order: leaf.order, bits: leaf.bits, raw };
}

/** The page-table walk for one address, with the leaf in the architecture's words. */
export interface PageTableWalk {
  /** The virtual page number walked. */
  readonly vpn: number;
  /** One step per level visited (empty if the architecture's table has no `walk`). */
  readonly steps: readonly PageTableWalkStep[];
  /** The leaf covering the address, or null. */
  readonly leaf: PteView | null;
  /** `Architecture.describeLeaf` of the leaf, or null. */
  readonly leafText: string | null;
}

/** Walk the machine's page tables for `address` (`mmsim pagetable --addr`). */
export function pageTableWalk(machine: Machine, address: bigint): PageTableWalk {
  const { mm, kernel } = machine;
  const vpn = Number((address & ((1n << 64n) - 1n)) >> BigInt(kernel.arch.pageShift));
  const steps = mm.pageTable.walk?.(vpn) ?? [];
  const leaf = mm.pageTable.lookup(vpn);
  return { vpn, steps, leaf, leafText: leaf ? kernel.arch.describeLeaf(leaf) : null };
}

/** Neutral bit names of a leaf (`PRESENT|READ|WRITE|USER|ACCESSED|DIRTY`), for architecture-neutral output. */
export function pteBitNames(bits: number): string {
  const names = Object.entries(PteBits)
    .filter(([, bit]) => (bits & bit) !== 0)
    .map(([name]) => name);
  return names.length ? names.join('|') : '0';
}
