/**
 * The x86-64 architecture plug-in of mmsim: 4 KiB / 2 MiB / 1 GiB pages,
 * 4- and 5-level page tables in the real entry format, `protection_map`, the
 * MMU walk with its page-fault error codes, and the mmap layout.
 * Generic mm code imports only `@mmsim/arch`; a machine built for x86-64
 * registers {@link x86_64} under the `ARCH` token.
 * @see arch/x86
 * @packageDocumentation
 */

import type { Architecture, HugePageSize } from '../contract/arch.js';
import type { ArchFeatures } from '../contract/features.js';
import type { PageTable, PageTableFrameSource, PteView } from '../contract/page-table.js';
import { X86_PAGE_SHIFT } from './constants.js';
import { x86EntryFlagNames, x86EntryHi, x86EntryLo, x86EntryToBigint } from './entry-bits.js';
import { x86AddressSpace } from './layout.js';
import { x86Mmu } from './mmu.js';
import { X86PageTable } from './page-table.js';
import { x86ProtectionBits } from './pgprot.js';

export * from './constants.js';
export * from './entry-bits.js';
export * from './layout.js';
export * from './mmu.js';
export * from './page-table.js';
export * from './pgprot.js';
export * from './tlb.js';

/** 2 MiB pages, mapped by a PMD leaf (`HPAGE_SHIFT` = `PMD_SHIFT` = 21). */
export const X86_HUGE_2M: HugePageSize = Object.freeze({ shift: 21, order: 9, level: 'PMD' });
/** 1 GiB pages, mapped by a PUD leaf (`PUD_SHIFT` = 30), with the CPU's `pdpe1gb`. */
export const X86_HUGE_1G: HugePageSize = Object.freeze({ shift: 30, order: 18, level: 'PUD' });

const HUGE_2M_ONLY: readonly HugePageSize[] = Object.freeze([X86_HUGE_2M]);
const HUGE_2M_1G: readonly HugePageSize[] = Object.freeze([X86_HUGE_2M, X86_HUGE_1G]);

/** Size words for a leaf order. */
function sizeName(order: number): string {
  return order === 0 ? '4K' : order === 9 ? '2M' : order === 18 ? '1G' : `order ${order}`;
}

/**
 * A leaf in x86 words: level, raw entry, frame and `_PAGE_*` flags, e.g.
 * `pte 0x8000000001234067 pfn 0x1234 4K PRESENT|RW|USER|ACCESSED|DIRTY|NX`.
 */
export function describeX86Leaf(leaf: PteView): string {
  const lo = x86EntryLo(leaf.pfn, leaf.order, leaf.bits);
  const hi = x86EntryHi(leaf.pfn, leaf.order, leaf.bits);
  const level = leaf.order === 0 ? 'pte' : leaf.order === 9 ? 'pmd' : 'pud';
  const raw = x86EntryToBigint(lo, hi).toString(16).padStart(16, '0');
  return `${level} 0x${raw} pfn 0x${leaf.pfn.toString(16)} ${sizeName(leaf.order)} ${x86EntryFlagNames(lo, hi, leaf.order !== 0)}`;
}

/**
 * The x86-64 {@link Architecture}.
 * @see arch/x86/mm/hugetlbpage.c (hstates: 2 MiB always, 1 GiB with `X86_FEATURE_GBPAGES`)
 * @see arch/x86/mm/pgtable.c pgd_alloc
 * @see arch/x86/mm/pgprot.c vm_get_page_prot
 */
export const x86_64: Architecture = {
  name: 'x86_64',
  pageShift: X86_PAGE_SHIFT,
  /** Ascending by size: 2 MiB, then 1 GiB when the CPU has `pdpe1gb`. */
  hugePageSizes(features: ArchFeatures): readonly HugePageSize[] {
    return features.gbpages ? HUGE_2M_1G : HUGE_2M_ONLY;
  },
  /** `HPAGE_SHIFT` (2 MiB) unless `default_hugepagesz=` says otherwise (not modelled here). */
  defaultHugePageShift(): number {
    return X86_HUGE_2M.shift;
  },
  addressSpace: x86AddressSpace,
  mmu: x86Mmu,
  createPageTable(frames: PageTableFrameSource, features: ArchFeatures): PageTable {
    return new X86PageTable(frames, features.la57 ? 5 : 4);
  },
  protectionBits: x86ProtectionBits,
  describeLeaf: describeX86Leaf,
};
