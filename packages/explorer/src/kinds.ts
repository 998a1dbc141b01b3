/**
 * What kind of mapping a VMA is, for colouring the address-space map:
 * anonymous memory, a file, hugetlb, or a special mapping (vdso, vvar,
 * vsyscall).
 */

import { VM, type Vma } from '@mmsim/mm-core';

/** The four colours of the map. */
export type VmaKind = 'anon' | 'file' | 'hugetlb' | 'special';

/** The words the legend uses for each {@link VmaKind}. */
export const VMA_KIND_LABELS: Readonly<Record<VmaKind, string>> = {
  anon: 'anonymous',
  file: 'file',
  hugetlb: 'hugetlb',
  special: 'special',
};

/**
 * The kind of a VMA given its `/proc/PID/maps` name: hugetlb if `VM_HUGETLB`
 * (anonymous `MAP_HUGETLB` included: it is backed by an unlinked hugetlbfs
 * file), special for `_install_special_mapping` VMAs, anonymous for memory
 * without a file or with the `/dev/zero` shmem file of `MAP_SHARED|MAP_ANONYMOUS`,
 * file otherwise.
 */
export function vmaKind(vma: Vma, name: string): VmaKind {
  if (vma.flags & VM.HUGETLB) return 'hugetlb';
  if (vma.ops?.special) return 'special';
  if (vma.file === null || name === '/dev/zero (deleted)') return 'anon';
  return 'file';
}

/** The kind of a maps line that is not a VMA (`[vsyscall]`, the gate area above `TASK_SIZE`). */
export function gateKind(): VmaKind {
  return 'special';
}
