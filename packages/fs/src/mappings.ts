/**
 * Which VMAs map which inode (`address_space->i_mmap`), so truncation can
 * unmap the pages past the new end of file from every mapping.
 * @see mm/truncate.c truncate_pagecache, mm/memory.c unmap_mapping_range
 */

import { compareIMmap, PageKind, putMappedPage, tlbFinishMmu, tlbGatherMmu, type MmStruct, type Vma, type VmInode } from '@mmsim/mm-core';

/** The address spaces that may map files of this machine (one process today). */
export class MappingRegistry {
  private readonly spaces = new Set<MmStruct>();

  /** Register an address space. */
  add(mm: MmStruct): void {
    this.spaces.add(mm);
  }

  /**
   * `unmap_mapping_range`: remove every translation of file pages in
   * `[fromIndex, toIndex)`; with `evenCows` also the private copies made from them.
   */
  unmapFrom(inode: VmInode, fromIndex: number, toIndex = Infinity, evenCows = true): void {
    // The file's mappings in i_mmap's order, which decides, for example, which private hugetlb
    // mapping gets a reservation back for a page zapped while the pool has surplus pages.
    const hits: Array<[MmStruct, Vma]> = [];
    for (const mm of this.spaces) {
      for (const vma of mm.vmas.all()) {
        if (!vma.file || vma.file.inode !== inode) continue;
        const lastIndex = vma.pgoffOf(vma.end);
        if (lastIndex <= fromIndex || vma.pgoff >= toIndex) continue;
        hits.push([mm, vma]);
      }
    }
    hits.sort(([, a], [, b]) => compareIMmap(a, b));
    for (const [mm, vma] of hits) {
      const start = Math.max(vma.start, vma.start + (fromIndex - vma.pgoff));
      const end = toIndex === Infinity ? vma.end : Math.min(vma.end, vma.start + (toIndex - vma.pgoff));
      const leaves: Array<[number, number]> = [];
      mm.pageTable.forEachLeaf(start, end, (vpn, leaf) => leaves.push([vpn, leaf.pfn]));
      // One gather per VMA, as zap_page_range_single: its hugetlb pages are freed after the range is cleared.
      tlbGatherMmu();
      try {
        for (const [vpn, pfn] of leaves) {
          // Without even_cows, private copies (anonymous pages) stay mapped.
          if (!evenCows && mm.kernel.memmap.kindOf(pfn) === PageKind.ANON) continue;
          mm.pageTable.unmap(vpn);
          vma.ops?.zapHugePage?.(vma, vpn, pfn);
          putMappedPage(mm, pfn, 1);
        }
      } finally {
        tlbFinishMmu(mm);
      }
    }
  }
}
