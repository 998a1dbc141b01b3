/**
 * Which VMAs map which inode (`address_space->i_mmap`), so truncation can
 * unmap the pages past the new end of file from every mapping.
 * @see mm/truncate.c truncate_pagecache, mm/memory.c unmap_mapping_range
 */

import { putMappedPage, type MmStruct, type VmInode } from '@mmsim/mm-core';

/** The address spaces that may map files of this machine (one process today). */
export class MappingRegistry {
  private readonly spaces = new Set<MmStruct>();

  /** Register an address space. */
  add(mm: MmStruct): void {
    this.spaces.add(mm);
  }

  /**
   * `unmap_mapping_range(mapping, from, ..., even_cows=1)`: remove every
   * translation of file pages `≥ fromIndex`, including private COW copies.
   */
  unmapFrom(inode: VmInode, fromIndex: number): void {
    for (const mm of this.spaces) {
      for (const vma of mm.vmas.all()) {
        if (!vma.file || vma.file.inode !== inode) continue;
        const lastIndex = vma.pgoffOf(vma.end);
        if (lastIndex <= fromIndex) continue;
        const start = Math.max(vma.start, vma.start + (fromIndex - vma.pgoff));
        const leaves: Array<[number, number]> = [];
        mm.pageTable.forEachLeaf(start, vma.end, (vpn, leaf) => leaves.push([vpn, leaf.pfn]));
        for (const [vpn, pfn] of leaves) {
          mm.pageTable.unmap(vpn);
          vma.ops?.zapHugePage?.(vma, vpn, pfn);
          putMappedPage(mm, pfn, 1);
        }
      }
    }
  }
}
