/**
 * x86-64 user-space ABI constants for the memory-management calls, and the
 * tables that name them as strace does (in strace's printing order).
 * @see include/uapi/asm-generic/mman-common.h
 * @see arch/x86/include/uapi/asm/mman.h
 * @see include/uapi/asm-generic/fcntl.h
 */

/** `PROT_*` bits of mmap/mprotect. */
export const PROT = {
  NONE: 0x0,
  READ: 0x1,
  WRITE: 0x2,
  EXEC: 0x4,
  SEM: 0x8,
  GROWSDOWN: 0x01000000,
  GROWSUP: 0x02000000,
} as const;

/** `MAP_*` flags of mmap (x86-64 values). */
export const MAP = {
  SHARED: 0x01,
  PRIVATE: 0x02,
  SHARED_VALIDATE: 0x03,
  DROPPABLE: 0x08,
  TYPE: 0x0f,
  FIXED: 0x10,
  ANONYMOUS: 0x20,
  _32BIT: 0x40,
  ABOVE4G: 0x80,
  GROWSDOWN: 0x0100,
  DENYWRITE: 0x0800,
  EXECUTABLE: 0x1000,
  LOCKED: 0x2000,
  NORESERVE: 0x4000,
  POPULATE: 0x8000,
  NONBLOCK: 0x10000,
  STACK: 0x20000,
  HUGETLB: 0x40000,
  SYNC: 0x80000,
  FIXED_NOREPLACE: 0x100000,
  UNINITIALIZED: 0x4000000,
  HUGE_SHIFT: 26,
  HUGE_MASK: 0x3f,
  HUGE_2MB: 21 << 26,
  HUGE_1GB: 30 << 26,
} as const;

/**
 * `LEGACY_MAP_MASK`: the flags `MAP_SHARED` silently keeps and
 * `MAP_SHARED_VALIDATE` accepts.
 * @see include/linux/mman.h LEGACY_MAP_MASK
 */
export const LEGACY_MAP_MASK =
  (MAP.SHARED | MAP.PRIVATE | MAP.FIXED | MAP.ANONYMOUS | MAP.DENYWRITE | MAP.EXECUTABLE |
    MAP.UNINITIALIZED | MAP.GROWSDOWN | MAP.LOCKED | MAP.NORESERVE | MAP.POPULATE |
    MAP.NONBLOCK | MAP.STACK | MAP.HUGETLB | MAP._32BIT | MAP.ABOVE4G | MAP.HUGE_2MB |
    MAP.HUGE_1GB) >>> 0;

/** `MREMAP_*` flags. */
export const MREMAP = { MAYMOVE: 1, FIXED: 2, DONTUNMAP: 4 } as const;

/** `MADV_*` advice values. */
export const MADV = {
  NORMAL: 0,
  RANDOM: 1,
  SEQUENTIAL: 2,
  WILLNEED: 3,
  DONTNEED: 4,
  FREE: 8,
  REMOVE: 9,
  DONTFORK: 10,
  DOFORK: 11,
  MERGEABLE: 12,
  UNMERGEABLE: 13,
  HUGEPAGE: 14,
  NOHUGEPAGE: 15,
  DONTDUMP: 16,
  DODUMP: 17,
  WIPEONFORK: 18,
  KEEPONFORK: 19,
  COLD: 20,
  PAGEOUT: 21,
  POPULATE_READ: 22,
  POPULATE_WRITE: 23,
  DONTNEED_LOCKED: 24,
  COLLAPSE: 25,
  GUARD_INSTALL: 102,
  GUARD_REMOVE: 103,
} as const;

/** `O_*` open flags (x86-64, octal as in asm-generic/fcntl.h). */
export const O = {
  RDONLY: 0o0,
  WRONLY: 0o1,
  RDWR: 0o2,
  ACCMODE: 0o3,
  CREAT: 0o100,
  EXCL: 0o200,
  NOCTTY: 0o400,
  TRUNC: 0o1000,
  APPEND: 0o2000,
  NONBLOCK: 0o4000,
  DSYNC: 0o10000,
  DIRECT: 0o40000,
  LARGEFILE: 0o100000,
  DIRECTORY: 0o200000,
  NOFOLLOW: 0o400000,
  NOATIME: 0o1000000,
  CLOEXEC: 0o2000000,
  SYNC: 0o4010000,
  PATH: 0o10000000,
  TMPFILE: 0o20200000,
} as const;

/** `AT_FDCWD` and the `*at` flags. */
export const AT = { FDCWD: -100, REMOVEDIR: 0x200, SYMLINK_NOFOLLOW: 0x100 } as const;

/** A named bit (or bit pattern) in a flag word, for printing and parsing. */
export interface FlagName {
  readonly name: string;
  readonly value: number;
}

/** An enumerated sub-field of a flag word: its mask and its named values. */
export interface FlagField {
  readonly mask: number;
  readonly names: readonly FlagName[];
}

/** How one flag word is spelled: an optional enumerated low field, then single bits. */
export interface FlagTable {
  /** Values of an enumerated field printed first (e.g. the `MAP_TYPE` nibble), matched exactly under `mask`. */
  readonly field?: FlagField;
  /** An enumerated field printed after the bits (e.g. the `MAP_HUGE_*` size). */
  readonly trailingField?: FlagField;
  /** Bits (or bit groups) printed in this order when all their bits are set. */
  readonly bits: readonly FlagName[];
  /** What to print when the whole word is 0 (e.g. `PROT_NONE`), if anything. */
  readonly zero?: string;
}

/** mmap `prot`, as strace prints it. */
export const PROT_NAMES: FlagTable = {
  zero: 'PROT_NONE',
  bits: [
    { name: 'PROT_READ', value: PROT.READ },
    { name: 'PROT_WRITE', value: PROT.WRITE },
    { name: 'PROT_EXEC', value: PROT.EXEC },
    { name: 'PROT_SEM', value: PROT.SEM },
    { name: 'PROT_GROWSDOWN', value: PROT.GROWSDOWN },
    { name: 'PROT_GROWSUP', value: PROT.GROWSUP },
  ],
};

/** mmap `flags`, as strace prints them: the type, then the bits, then the huge page size. */
export const MAP_NAMES: FlagTable = {
  field: {
    mask: MAP.TYPE,
    names: [
      { name: 'MAP_SHARED', value: MAP.SHARED },
      { name: 'MAP_PRIVATE', value: MAP.PRIVATE },
      { name: 'MAP_SHARED_VALIDATE', value: MAP.SHARED_VALIDATE },
      { name: 'MAP_DROPPABLE', value: MAP.DROPPABLE },
    ],
  },
  bits: [
    { name: 'MAP_FIXED', value: MAP.FIXED },
    { name: 'MAP_ANONYMOUS', value: MAP.ANONYMOUS },
    { name: 'MAP_32BIT', value: MAP._32BIT },
    { name: 'MAP_GROWSDOWN', value: MAP.GROWSDOWN },
    { name: 'MAP_DENYWRITE', value: MAP.DENYWRITE },
    { name: 'MAP_EXECUTABLE', value: MAP.EXECUTABLE },
    { name: 'MAP_LOCKED', value: MAP.LOCKED },
    { name: 'MAP_NORESERVE', value: MAP.NORESERVE },
    { name: 'MAP_POPULATE', value: MAP.POPULATE },
    { name: 'MAP_NONBLOCK', value: MAP.NONBLOCK },
    { name: 'MAP_STACK', value: MAP.STACK },
    { name: 'MAP_HUGETLB', value: MAP.HUGETLB },
    { name: 'MAP_SYNC', value: MAP.SYNC },
    { name: 'MAP_FIXED_NOREPLACE', value: MAP.FIXED_NOREPLACE },
  ],
  trailingField: {
    mask: (MAP.HUGE_MASK << MAP.HUGE_SHIFT) >>> 0,
    names: [
      { name: 'MAP_HUGE_2MB', value: MAP.HUGE_2MB },
      { name: 'MAP_HUGE_1GB', value: MAP.HUGE_1GB },
    ],
  },
};

/** mremap `flags`. */
export const MREMAP_NAMES: FlagTable = {
  bits: [
    { name: 'MREMAP_MAYMOVE', value: MREMAP.MAYMOVE },
    { name: 'MREMAP_FIXED', value: MREMAP.FIXED },
    { name: 'MREMAP_DONTUNMAP', value: MREMAP.DONTUNMAP },
  ],
};

/** openat `flags`: the access mode, then the bits. */
export const OPEN_NAMES: FlagTable = {
  field: {
    mask: O.ACCMODE,
    names: [
      { name: 'O_RDONLY', value: O.RDONLY },
      { name: 'O_WRONLY', value: O.WRONLY },
      { name: 'O_RDWR', value: O.RDWR },
    ],
  },
  bits: [
    { name: 'O_CREAT', value: O.CREAT },
    { name: 'O_EXCL', value: O.EXCL },
    { name: 'O_NOCTTY', value: O.NOCTTY },
    { name: 'O_TRUNC', value: O.TRUNC },
    { name: 'O_APPEND', value: O.APPEND },
    { name: 'O_NONBLOCK', value: O.NONBLOCK },
    { name: 'O_SYNC', value: O.SYNC },
    { name: 'O_DSYNC', value: O.DSYNC },
    { name: 'O_DIRECT', value: O.DIRECT },
    { name: 'O_LARGEFILE', value: O.LARGEFILE },
    // O_TMPFILE includes O_DIRECTORY's bit (as O_SYNC includes O_DSYNC's): the pattern comes first.
    { name: 'O_TMPFILE', value: O.TMPFILE },
    { name: 'O_DIRECTORY', value: O.DIRECTORY },
    { name: 'O_NOFOLLOW', value: O.NOFOLLOW },
    { name: 'O_NOATIME', value: O.NOATIME },
    { name: 'O_CLOEXEC', value: O.CLOEXEC },
    { name: 'O_PATH', value: O.PATH },
  ],
};

/** madvise `advice` values by name (an enumeration, not bits). */
export const MADV_NAMES: readonly FlagName[] = Object.entries(MADV).map(([k, v]) => ({
  name: `MADV_${k}`,
  value: v,
}));

/** Every symbolic constant a trace may use, by name (flags, advice, `AT_FDCWD`, `NULL`). */
export function symbolicConstants(): ReadonlyMap<string, number> {
  const all = new Map<string, number>([['NULL', 0], ['AT_FDCWD', AT.FDCWD]]);
  for (const table of [PROT_NAMES, MAP_NAMES, MREMAP_NAMES, OPEN_NAMES]) {
    for (const f of table.field?.names ?? []) all.set(f.name, f.value);
    for (const f of table.trailingField?.names ?? []) all.set(f.name, f.value);
    for (const f of table.bits) all.set(f.name, f.value);
    if (table.zero) all.set(table.zero, 0);
  }
  for (const f of MADV_NAMES) all.set(f.name, f.value);
  return all;
}

/**
 * Spell a flag word as strace does: the field name, then each named bit, then
 * any bits left over as one hex number; `0` if nothing is set (or the table's
 * zero name).
 */
export function formatFlags(table: FlagTable, value: number): string {
  let rest = value >>> 0;
  const parts: string[] = [];
  const takeField = (field: FlagField | undefined): void => {
    if (!field) return;
    const fieldValue = (rest & field.mask) >>> 0;
    const named = field.names.find((n) => n.value === fieldValue);
    if (named) {
      parts.push(named.name);
      rest = (rest & ~field.mask) >>> 0;
    }
  };
  takeField(table.field);
  for (const bit of table.bits) {
    if (bit.value !== 0 && (rest & bit.value) >>> 0 === bit.value) {
      parts.push(bit.name);
      rest = (rest & ~bit.value) >>> 0;
    }
  }
  takeField(table.trailingField);
  if (rest !== 0) parts.push('0x' + rest.toString(16));
  if (parts.length === 0) return table.zero ?? '0';
  return parts.join('|');
}

/** Spell a madvise advice value (its name, or the number in hex). */
export function formatAdvice(value: bigint): string {
  const named = value <= 0xffffn ? MADV_NAMES.find((n) => BigInt(n.value) === value) : undefined;
  return named ? named.name : '0x' + value.toString(16);
}
