/**
 * `/proc/PID/maps` and the `Rss:` line of `/proc/PID/smaps`.
 * @see fs/proc/task_mmu.c show_map_vma, get_vma_name, smaps_pte_entry
 */

import type { MmStruct } from './mm.js';
import { PageKind } from './page.js';
import type { Vma } from './vma.js';
import { VM } from './vm-flags.js';

/** One line of /proc/PID/maps, as data. */
export interface MapsEntry {
  readonly start: bigint;
  readonly end: bigint;
  readonly perms: string;
  readonly offset: bigint;
  readonly dev: string;
  readonly inode: number;
  readonly name: string;
}

/**
 * `seq_file_path(m, file, "\n")`: a file's path as maps prints it, each
 * newline in it as the octal escape `\012` (`mangle_path`), so that one
 * mapping stays one line; every other byte is printed as it is.
 * @see fs/seq_file.c seq_path, mangle_path
 */
export function mapsPath(path: string): string {
  return path.includes('\n') ? path.replaceAll('\n', '\\012') : path;
}

/** `get_vma_name`: the name column. */
export function vmaName(mm: MmStruct, vma: Vma): string {
  if (vma.file) return mapsPath(vma.file.path());
  if (vma.ops?.name) return vma.ops.name;
  const startBytes = vma.start * 4096;
  const endBytes = vma.end * 4096;
  if (startBytes < mm.brk && endBytes > mm.startBrk) return '[heap]';
  if (startBytes <= mm.startStack && endBytes >= mm.startStack) return '[stack]';
  return '';
}

/** The maps entry of a VMA (`show_map_vma`). */
export function mapsEntry(mm: MmStruct, vma: Vma): MapsEntry {
  const f = vma.flags;
  const perms =
    (f & VM.READ ? 'r' : '-') + (f & VM.WRITE ? 'w' : '-') + (f & VM.EXEC ? 'x' : '-') + (f & VM.MAYSHARE ? 's' : 'p');
  return {
    start: BigInt(vma.start) << 12n,
    end: BigInt(vma.end) << 12n,
    perms,
    offset: vma.file ? BigInt(vma.pgoff) << 12n : 0n,
    dev: vma.file ? vma.file.inode.dev : '00:00',
    inode: vma.file ? vma.file.inode.ino : 0,
    name: vmaName(mm, vma),
  };
}

/** Every VMA's maps entry, in address order. */
export function procMaps(mm: MmStruct): MapsEntry[] {
  return mm.vmas.all().map((vma) => mapsEntry(mm, vma));
}

/** `Rss:` of one VMA in kB: mapped anonymous and page-cache pages (not the zero page, not hugetlb). */
export function vmaRssKb(mm: MmStruct, vma: Vma): number {
  let pages = 0;
  mm.pageTable.forEachLeaf(vma.start, vma.end, (_vpn, leaf) => {
    const desc = mm.kernel.page(leaf.pfn);
    if (!desc) return;
    if (desc.kind === PageKind.ANON || desc.kind === PageKind.FILE) pages += 1 << leaf.order;
  });
  return pages * 4;
}
