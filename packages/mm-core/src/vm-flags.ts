/**
 * `vm_flags`: the per-VMA flag word. Bit values follow Linux where they fit in
 * 30 bits, so that a flag word is one of V8's small integers (31-bit signed
 * on 64-bit Node builds: a word with bit 30 set would be a heap number, boxed
 * at every call it is passed to); the few Linux keeps at bit 30 and above are
 * given free low slots here.
 * @see include/linux/mm.h VM_READ ... VM_DROPPABLE
 */
export const VM = {
  NONE: 0,
  READ: 0x1,
  WRITE: 0x2,
  EXEC: 0x4,
  SHARED: 0x8,
  MAYREAD: 0x10,
  MAYWRITE: 0x20,
  MAYEXEC: 0x40,
  MAYSHARE: 0x80,
  GROWSDOWN: 0x100,
  /** Linux: bit 31 (`VM_MERGEABLE`); here a free low slot. */
  MERGEABLE: 0x200,
  PFNMAP: 0x400,
  /** Linux: a high bit (`VM_DROPPABLE`, 6.11+); here the old `VM_DENYWRITE` slot. */
  DROPPABLE: 0x800,
  LOCKED: 0x2000,
  IO: 0x4000,
  SEQ_READ: 0x8000,
  RAND_READ: 0x10000,
  DONTCOPY: 0x20000,
  DONTEXPAND: 0x40000,
  LOCKONFAULT: 0x80000,
  ACCOUNT: 0x100000,
  NORESERVE: 0x200000,
  HUGETLB: 0x400000,
  SYNC: 0x800000,
  WIPEONFORK: 0x2000000,
  DONTDUMP: 0x4000000,
  SOFTDIRTY: 0x8000000,
  MIXEDMAP: 0x10000000,
  HUGEPAGE: 0x20000000,
  /** Linux: bit 30 (`VM_NOHUGEPAGE`); here the `VM_ARCH_1` slot, which the model does not use. */
  NOHUGEPAGE: 0x1000000,
} as const;

/** `VM_ACCESS_FLAGS`: read, write, exec. */
export const VM_ACCESS_FLAGS = VM.READ | VM.WRITE | VM.EXEC;
/** `VM_SPECIAL`: mappings that are never merged, expanded or mlocked. */
export const VM_SPECIAL = VM.IO | VM.DONTEXPAND | VM.PFNMAP | VM.MIXEDMAP;
/** `VM_LOCKED_MASK`. */
export const VM_LOCKED_MASK = VM.LOCKED | VM.LOCKONFAULT;
/** `VM_STACK` on x86 (stacks grow down). */
export const VM_STACK = VM.GROWSDOWN;
/** `VM_STARTGAP_FLAGS`: flags that put a guard gap below a VMA. */
export const VM_STARTGAP_FLAGS = VM.GROWSDOWN;
/** The flags that merging ignores (`VM_IGNORE_MERGE`). */
export const VM_IGNORE_MERGE = VM.SOFTDIRTY;

/** smaps `VmFlags:` two-letter codes, in `show_smap_vma_flags` order. @see fs/proc/task_mmu.c */
export const VM_FLAG_MNEMONICS: ReadonlyArray<readonly [number, string]> = [
  [VM.READ, 'rd'],
  [VM.WRITE, 'wr'],
  [VM.EXEC, 'ex'],
  [VM.SHARED, 'sh'],
  [VM.MAYREAD, 'mr'],
  [VM.MAYWRITE, 'mw'],
  [VM.MAYEXEC, 'me'],
  [VM.MAYSHARE, 'ms'],
  [VM.GROWSDOWN, 'gd'],
  [VM.PFNMAP, 'pf'],
  [VM.LOCKED, 'lo'],
  [VM.IO, 'io'],
  [VM.SEQ_READ, 'sr'],
  [VM.RAND_READ, 'rr'],
  [VM.DONTCOPY, 'dc'],
  [VM.DONTEXPAND, 'de'],
  [VM.LOCKONFAULT, 'lf'],
  [VM.ACCOUNT, 'ac'],
  [VM.NORESERVE, 'nr'],
  [VM.HUGETLB, 'ht'],
  [VM.SYNC, 'sf'],
  [VM.WIPEONFORK, 'wf'],
  [VM.DONTDUMP, 'dd'],
  [VM.MIXEDMAP, 'mm'],
  [VM.HUGEPAGE, 'hg'],
  [VM.NOHUGEPAGE, 'nh'],
  [VM.MERGEABLE, 'mg'],
  [VM.DROPPABLE, 'dp'],
];

/** Render `vm_flags` as smaps' `VmFlags:` value. */
export function formatVmFlags(flags: number): string {
  return VM_FLAG_MNEMONICS.filter(([bit]) => (flags & bit) !== 0)
    .map(([, code]) => code + ' ')
    .join('');
}
