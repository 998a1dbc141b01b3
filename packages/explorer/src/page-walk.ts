/**
 * The page-table walk for one address, as the page shows it: for every level
 * the bits of the address that index it, the index, the table's frame, the
 * raw 64-bit entry and its decoded flags; then what the walk ends in.
 */

import { X86PageTable } from '@mmsim/arch/x86-64';
import type { Machine } from '@mmsim/machine';
import { PageKind } from '@mmsim/mm-core';
import { formatSize, hex } from './format.js';

/** One level of a walk. */
export interface WalkLevel {
  /** `PGD`, `P4D`, `PUD`, `PMD`, `PTE`. */
  readonly level: string;
  /** The address bits that index this level, highest first: `[47, 39]`. */
  readonly bits: readonly [number, number];
  /** The entry's index in its table (0–511). */
  readonly index: number;
  /**
   * `table`: points to the next level; `leaf`: maps a page; `none`: empty
   * (nothing mapped here yet); `unreached`: the walk stopped above.
   */
  readonly kind: 'table' | 'leaf' | 'none' | 'unreached';
  /** The frame holding the table this entry is in (undefined if unreached). */
  readonly tablePfn: number | undefined;
  /** The raw entry (undefined if unreached). */
  readonly entry: bigint | undefined;
  /** Decoded `_PAGE_*` flag names (`PRESENT`, `RW`, `USER`, …, `NX`). */
  readonly flags: readonly string[];
  /** What the entry points at, in words. */
  readonly target: string;
}

/** A whole walk. */
export interface PageWalk {
  readonly address: bigint;
  /** Number of paging levels (4, or 5 with LA57). */
  readonly levels: number;
  readonly steps: readonly WalkLevel[];
  /** The outcome, in words: the physical address, or why there is none. */
  readonly outcome: string;
  /** The physical address, when the walk ends in a leaf. */
  readonly physical: bigint | undefined;
}

/** What each x86 entry flag means, for tooltips. */
export const X86_FLAG_MEANINGS: Readonly<Record<string, string>> = {
  PRESENT: 'P (bit 0): the entry is valid for the CPU',
  RW: 'R/W (bit 1): writes allowed',
  USER: 'U/S (bit 2): user-mode access allowed',
  PWT: 'PWT (bit 3): write-through caching',
  PCD: 'PCD (bit 4): caching disabled',
  ACCESSED: 'A (bit 5): set by the CPU on any access',
  DIRTY: 'D (bit 6): set by the CPU on a write',
  PSE: 'PS (bit 7): this entry maps a huge page instead of pointing to a table',
  PAT: 'PAT (bit 7 of a 4 KiB PTE): page attribute table index',
  GLOBAL: 'G (bit 8): global translation',
  PROTNONE: 'PROTNONE (bit 8 with P clear): a PROT_NONE mapping, not present for the CPU',
  SPECIAL: 'SPECIAL (bit 9, software): no struct page refcounting',
  UFFD_WP: 'UFFD_WP (bit 10, software): userfaultfd write-protected',
  SOFT_DIRTY: 'SOFT_DIRTY (bit 11, software): written since soft-dirty was cleared',
  PAT_LARGE: 'PAT (bit 12 of a huge leaf): page attribute table index',
  NX: 'NX (bit 63): no instruction fetch',
};

const LEAF_SIZE: Readonly<Record<number, string>> = { 0: '4 KiB', 9: '2 MiB', 18: '1 GiB' };

/** The address bits of level `depth` (0 = top) in a `levels`-level tree. */
function levelBits(depth: number, levels: number): [number, number] {
  const lo = 12 + 9 * (levels - 1 - depth);
  return [lo + 8, lo];
}

/** Names of the levels from the top. */
function levelNames(levels: number): string[] {
  return levels === 5 ? ['PGD', 'P4D', 'PUD', 'PMD', 'PTE'] : ['PGD', 'PUD', 'PMD', 'PTE'];
}

/** The kind of frame `pfn` is, in words. */
function frameWords(machine: Machine, pfn: number): string {
  const kernel = machine.kernel;
  if (pfn === kernel.zeroPfn) return 'the shared zero page';
  const desc = kernel.page(pfn);
  if (!desc) return 'a frame';
  switch (desc.kind) {
    case PageKind.ANON:
      return 'an anonymous page';
    case PageKind.FILE:
      return `a page-cache page (file index ${desc.index})`;
    case PageKind.HUGETLB:
      return 'a hugetlb page';
    case PageKind.PAGETABLE:
      return 'a page-table page';
    default:
      return 'a frame';
  }
}

/**
 * Walk the page tables of `machine` for `address`. Every level is listed;
 * levels below an empty entry or a huge leaf are `unreached`.
 */
export function walkAddress(machine: Machine, address: bigint): PageWalk {
  const pt = machine.mm.pageTable;
  const levels = pt.levels;
  const names = levelNames(levels);
  const limit = 1n << BigInt(12 + 9 * levels);
  const vpn = Number(address >> 12n);
  const raw = pt instanceof X86PageTable && address < limit ? pt.walk(vpn) : [];
  const steps: WalkLevel[] = [];
  for (let d = 0; d < levels; d++) {
    const bits = levelBits(d, levels);
    const index = Number((address >> BigInt(bits[1])) & 511n);
    const s = raw[d];
    if (!s) {
      steps.push({ level: names[d]!, bits, index, kind: 'unreached', tablePfn: undefined, entry: undefined, flags: [], target: '' });
      continue;
    }
    let target: string;
    if (s.kind === 'none') target = 'empty: nothing mapped below';
    else if (s.kind === 'table') target = `→ ${names[d + 1]} table at pfn ${hex((s.entry >> 12n) & 0xffffffffffn)}`;
    else {
      const leaf = pt.lookup(vpn);
      const order = leaf?.order ?? 0;
      target = leaf
        ? `→ ${LEAF_SIZE[order] ?? `order ${order}`} page at pfn ${hex(leaf.pfn)}: ${frameWords(machine, leaf.pfn)}`
        : '→ a page';
    }
    steps.push({
      level: s.level,
      bits,
      index: s.index,
      kind: s.kind,
      tablePfn: s.tablePfn,
      entry: s.entry,
      flags: s.flags === '0' ? [] : s.flags.split('|'),
      target,
    });
  }
  let outcome: string;
  let physical: bigint | undefined;
  const vma = address < limit ? machine.mm.vmas.lookup(vpn) : undefined;
  const leaf = address < limit ? pt.lookup(vpn) : null;
  if (address >= limit) {
    outcome = `${hex(address)} is above the ${levels}-level user page tables (the vsyscall page is a fixed kernel mapping)`;
  } else if (leaf) {
    const offsetPages = vpn - Math.floor(vpn / 2 ** leaf.order) * 2 ** leaf.order;
    physical = (BigInt(leaf.pfn + offsetPages) << 12n) | (address & 0xfffn);
    const size = formatSize(4096n << BigInt(leaf.order));
    outcome = `${hex(address)} → physical ${hex(physical)} (${size} page, pfn ${hex(leaf.pfn)}: ${frameWords(machine, leaf.pfn)})`;
  } else if (vma) {
    outcome = `${hex(address)} is inside a VMA but not faulted in yet: the first access will fault`;
  } else {
    outcome = `${hex(address)} is not mapped: an access raises SIGSEGV`;
  }
  return { address, levels, steps, outcome, physical };
}
