// The recorder-safety rules, checked on every generated step.
//
// The rules are STATIC: they look only at a step's arguments and the
// scenario header, never at the state the earlier steps built. That matters
// for minimising: delta debugging removes arbitrary steps, so whatever the
// model predicted about the address space when a step was generated may no
// longer hold in a candidate. A rule that depends only on the step itself
// holds for every subset of a safe scenario.
//
// What the recorded process (tools/trace-recorder/executor.c) needs to
// survive: its own mappings — the program image, bss, [heap], [stack],
// [vvar], [vvar_vclock], [vdso], [vsyscall], i.e. every line of the
// header's @maps — must not be unmapped, remapped, re-protected, replaced
// by MAP_FIXED, advised away, poked into, or locked; fds 0-2 (its step and
// result pipes, /dev/null) must not be closed, duplicated or written; files
// may only be created, truncated or unlinked under the header's @mount
// points; brk never goes below the start of the heap.
//
// A step whose target range touches the protected ranges is still allowed
// when the kernel rejects it BY CONSTRUCTION before it changes anything
// (an unaligned start, a zero length, a length that wraps or exceeds
// TASK_SIZE, invalid flag bits, …): those are the `errors` profile's bread
// and butter. Each such rule cites the kernel check it relies on.
//
// On top of that, the generator itself only aims destructive calls at the
// private window (WINDOW_START..WINDOW_END) or at mappings the model says
// the scenario created; this module is the backstop that makes the recorder
// safe even when the model is wrong (which is what we are looking for).

export const PAGE = 0x1000n;
export const MB2 = 0x200000n;
export const GB1 = 0x40000000n;
export const TASK_SIZE = 0x7ffffffff000n;
export const U64 = (1n << 64n) - 1n;
/** The private window the scenarios own outright. */
export const WINDOW_START = 0x100000000n;
export const WINDOW_END = 0x180000000n;
/** Populating calls (MAP_POPULATE, MAP_LOCKED, mlock, MADV_POPULATE_*, …) never cover more than this. */
export const POPULATE_LIMIT = 256n << 20n;
/** `fill` never writes more than this. */
export const FILL_LIMIT = 16n << 20n;

const MAP_FIXED = 0x10n;
const MAP_ANONYMOUS = 0x20n;
const MAP_LOCKED = 0x2000n;
const MAP_POPULATE = 0x8000n;
const MAP_HUGETLB = 0x40000n;
const MAP_FIXED_NOREPLACE = 0x100000n;
const PROT_GROWSDOWN = 0x01000000n;
const PROT_GROWSUP = 0x02000000n;
const PROT_VALID = 0x1n | 0x2n | 0x4n | 0x8n;
const MREMAP_MAYMOVE = 1n;
const MREMAP_FIXED = 2n;
const MREMAP_DONTUNMAP = 4n;
const AT_FDCWD = BigInt.asUintN(64, -100n);
/** madvise advice values Linux 6.18 knows (madvise_behavior_valid); anything else is EINVAL before any change. */
const VALID_ADVICE = new Set([0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 102, 103].map(BigInt));
/** MADV_HWPOISON, MADV_SOFT_OFFLINE: they act on the host's physical pages. Never generated, never allowed. */
const FORBIDDEN_ADVICE = new Set([100n, 101n]);
/**
 * Advice that allocates host memory for every page of its range: it faults
 * pages in (WILLNEED, POPULATE_READ/WRITE, COLLAPSE), or it makes the page
 * tables that hold a marker per page (GUARD_INSTALL: over a 1 TiB reservation,
 * 2 GiB of unreclaimable tables — seed 2181 drove the host out of memory so).
 */
const POPULATING_ADVICE = new Set([3n, 22n, 23n, 25n, 102n]);

const pageAlign = (v) => (v + PAGE - 1n) & ~(PAGE - 1n);

/** The ranges the recorder needs left alone, from a parsed trace header. */
export function protectedRanges(header) {
  const ranges = [];
  let heap;
  for (const l of header.maps) {
    // The header's [heap] is the executor's too: static glibc puts its TLS block (errno, the
    // stack-protector canary) at the start of the heap. Only what the scenario grows is its own.
    if (l.name === '[heap]') heap = [l.start, l.end];
    ranges.push([l.start, l.end]);
    // No fixed mapping right under the stack either (its guard gap).
    if (l.name === '[stack]') ranges.push([l.start - (16n << 20n), l.start]);
  }
  // Nothing below mmap_min_addr-ish low memory (the scenario never needs it).
  ranges.push([0n, 0x10000n]);
  return { ranges, accessRanges: ranges, heap, brkStart: header.brk?.start ?? heap?.[0] ?? 0n, brkFloor: header.brk?.cur ?? heap?.[1] ?? 0n };
}

function intersects(ranges, s, e) {
  if (e <= s) return false;
  return ranges.some(([a, b]) => s < b && a < e);
}

/**
 * The range a hugetlb mapping starting at `addr` might really cover: the
 * kernel rounds a hugetlb length up to the huge page size, and a hugetlb
 * MAP_FIXED needs an address aligned to it, so the alignment of `addr`
 * bounds the rounding (1 GiB-aligned: up to 1 GiB, 2 MiB-aligned: 2 MiB).
 */
function hugeRounded(addr, len) {
  const r = addr % GB1 === 0n ? GB1 : addr % MB2 === 0n ? MB2 : PAGE;
  return ((len + r - 1n) / r) * r;
}

const num = (step, i) => {
  const a = step.args[i];
  return a && a.kind === 'number' ? a.value : 0n;
};
const str = (step, i) => {
  const a = step.args[i];
  return a && a.kind === 'string' ? a.value : '';
};

/**
 * `path` with `.`, `..` and repeated slashes resolved by the letter. With no
 * symbolic links on the way (the scenario's mounts hold none), this is what
 * the kernel's walk reaches if it succeeds; where it fails (a file used as a
 * directory) it reaches nothing.
 */
export function lexical(path) {
  const out = [];
  for (const c of path.split('/')) {
    if (c === '' || c === '.') continue;
    if (c === '..') out.pop();
    else out.push(c);
  }
  return '/' + out.join('/');
}

/** The huge page pool sizes a scenario may resize (and must put back). */
const POOL_FILES = [
  '/proc/sys/vm/nr_hugepages',
  '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages',
  '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages',
];

/**
 * Files outside the mounts a scenario may open for writing: the sysctls whose
 * writes have no effect outside memory accounting of overcommit mode 2 or the
 * next exec, and which the recorder puts back anyway (the ratio and kbytes,
 * legacy_va_layout), drop_caches (drops clean caches, nothing else),
 * use_zero_page (which read faults get the huge zero page, for a moment; the
 * recorder puts it back too) and /dev/full (every write fails). overcommit_memory itself may only be read:
 * a 2 written there would stop every allocation on a host whose commit is
 * over the limit, the recorder's own included.
 */
const WRITABLE_SYSTEM_FILES = [
  '/proc/sys/vm/overcommit_ratio',
  '/proc/sys/vm/overcommit_kbytes',
  '/proc/sys/vm/legacy_va_layout',
  '/proc/sys/vm/drop_caches',
  '/sys/kernel/mm/transparent_hugepage/use_zero_page',
  '/dev/full',
];

/** Files outside the mounts a scenario may open read-only (what they read is the config's). */
function readableSystemFile(path) {
  return path.startsWith('/proc/sys/vm/') || path.startsWith('/sys/kernel/mm/hugepages/') || path.startsWith('/sys/kernel/mm/transparent_hugepage/') || path === '/dev/full';
}

/** Is `path` strictly inside one of the mount points? (A relative path is not: it starts wherever the recorder runs.) */
function underMount(path, mounts) {
  if (!path.startsWith('/')) return false;
  const p = lexical(path);
  return mounts.some((m) => p.startsWith(lexical(m) + '/'));
}

/** Does `path` name one of the mount points themselves? */
function isMountRoot(path, mounts) {
  if (!path.startsWith('/')) return false;
  const p = lexical(path);
  return mounts.some((m) => p === lexical(m));
}

/**
 * Why `step` could harm the recorder, or `undefined` if it cannot.
 * @param step a parsed CallStep (or a maps step)
 * @param ctx {ranges, heap, brkStart, mounts}
 */
export function unsafeReason(step, ctx) {
  if (step.kind !== 'call') return undefined;
  const prot = ctx.ranges;
  const bad = (s, e) => intersects(prot, s, e) || e > TASK_SIZE;
  switch (step.call) {
    case 'mmap':
    case 'mmap_pgoff': {
      const addr = num(step, 0), len = num(step, 1), flags = num(step, 3), fd = num(step, 4);
      if ((flags & (MAP_POPULATE | MAP_LOCKED)) && len > POPULATE_LIMIT) return 'populating mmap larger than the limit';
      if (!(flags & MAP_FIXED) || (flags & MAP_FIXED_NOREPLACE)) return undefined; // the kernel picks a free range, or refuses
      // do_mmap: len == 0 → EINVAL; PAGE_ALIGN(len) == 0 → ENOMEM; __get_unmapped_area: addr > TASK_SIZE - len → ENOMEM, unaligned → EINVAL.
      if (len === 0n || pageAlign(len) > U64 || pageAlign(len) === 0n) return undefined;
      if (addr & (PAGE - 1n)) return undefined;
      const maybeHuge = (flags & MAP_HUGETLB) || !(flags & MAP_ANONYMOUS) || fd !== U64;
      const span = maybeHuge ? hugeRounded(addr, pageAlign(len)) : pageAlign(len);
      if (pageAlign(len) > TASK_SIZE || addr > TASK_SIZE - pageAlign(len)) return undefined;
      if (bad(addr, addr + span)) return 'MAP_FIXED over the recorder\'s own mappings';
      return undefined;
    }
    case 'munmap': {
      const addr = num(step, 0), len = num(step, 1);
      // __vm_munmap/do_vmi_munmap: unaligned start, start > TASK_SIZE, len > TASK_SIZE - start, PAGE_ALIGN(len) == 0 → EINVAL.
      const l = pageAlign(len);
      if (addr & (PAGE - 1n) || l === 0n || l > U64 || addr > TASK_SIZE || l > TASK_SIZE - addr) return undefined;
      return bad(addr, addr + l) ? 'munmap of the recorder\'s own mappings' : undefined;
    }
    case 'mprotect': {
      const addr = num(step, 0), len = num(step, 1), p = num(step, 2);
      // do_mprotect_pkey: both GROWS bits, unaligned start → EINVAL; len 0 → no-op; end <= start → ENOMEM; invalid prot → EINVAL.
      const rest = p & ~(PROT_GROWSDOWN | PROT_GROWSUP);
      if ((p & PROT_GROWSDOWN) && (p & PROT_GROWSUP)) return undefined;
      if (addr & (PAGE - 1n) || len === 0n) return undefined;
      const l = pageAlign(len);
      if (l > U64 || l === 0n || addr + l > U64) return undefined;
      if (rest & ~PROT_VALID) return undefined;
      return bad(addr, addr + l) ? 'mprotect of the recorder\'s own mappings' : undefined;
    }
    case 'madvise': {
      const addr = num(step, 0), len = num(step, 1), adv = num(step, 2);
      if (FORBIDDEN_ADVICE.has(adv)) return 'MADV_HWPOISON/MADV_SOFT_OFFLINE';
      // madvise: invalid advice, unaligned start, PAGE_ALIGN overflow, end < start → EINVAL; end == start → 0.
      if (!VALID_ADVICE.has(adv) || addr & (PAGE - 1n) || len === 0n) return undefined;
      const l = pageAlign(len);
      if (l > U64 || l === 0n || addr + l > U64) return undefined;
      if (POPULATING_ADVICE.has(adv) && l > POPULATE_LIMIT && !bad(addr, addr + POPULATE_LIMIT)) return 'populating (or guard-installing) madvise larger than the limit';
      return bad(addr, addr + l) ? 'madvise of the recorder\'s own mappings' : undefined;
    }
    case 'mlock':
    case 'munlock': {
      const addr = num(step, 0), len = num(step, 1);
      const start = addr & ~(PAGE - 1n);
      const l = pageAlign(len + (addr & (PAGE - 1n)));
      // apply_vma_lock_flags: end < start → EINVAL; end == start → 0.
      if (l === 0n || l > U64 || start + l > U64) return undefined;
      if (step.call === 'mlock' && l > POPULATE_LIMIT) return 'mlock larger than the limit';
      return bad(start, start + l) ? `${step.call} of the recorder's own mappings` : undefined;
    }
    case 'mremap': {
      const old = num(step, 0), oldLen = num(step, 1), newLen = num(step, 2), flags = num(step, 3), to = num(step, 4);
      // check_mremap_params: unknown flags, FIXED or DONTUNMAP without MAYMOVE, unaligned addr, PAGE_ALIGN(new_len) == 0 → EINVAL.
      if (flags & ~(MREMAP_MAYMOVE | MREMAP_FIXED | MREMAP_DONTUNMAP)) return undefined;
      if ((flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && !(flags & MREMAP_MAYMOVE)) return undefined;
      const nl = pageAlign(newLen);
      if (old & (PAGE - 1n) || nl === 0n || nl > U64) return undefined;
      if (nl > TASK_SIZE) return undefined; // can never be placed: EINVAL/ENOMEM
      if (nl > POPULATE_LIMIT) return 'mremap to more than the populate limit (a locked mapping is populated)';
      const ol = pageAlign(oldLen);
      if (ol > U64) return undefined;
      // An old range whose end passes 2^64 (new_len <= TASK_SIZE is then shorter: a shrink):
      // shrink_vma's do_vmi_munmap refuses it (len > TASK_SIZE - start → EINVAL) before the
      // source changes; only a MREMAP_FIXED destination is unmapped first (checked below).
      const wraps = ol !== 0n && old + ol > U64;
      // The old range lies in one VMA (else EFAULT): if it avoids the protected ranges, that VMA is the scenario's.
      if (bad(old, old + (ol === 0n || wraps ? PAGE : ol))) return 'mremap of the recorder\'s own mappings';
      if (flags & MREMAP_FIXED) {
        // mremap_to: unaligned new_addr, new_len > TASK_SIZE or new_addr > TASK_SIZE - new_len → EINVAL (before the unmap).
        if (to & (PAGE - 1n) || to > TASK_SIZE - nl) return undefined;
        if (bad(to, to + hugeRounded(to, nl))) return 'MREMAP_FIXED over the recorder\'s own mappings';
      }
      return undefined;
    }
    case 'brk': {
      const a = num(step, 0);
      // Never below the header's break: the executor's TLS lives in the heap it started with.
      if (a !== 0n && a < ctx.brkFloor) return 'brk below the starting break';
      return undefined;
    }
    case 'peek':
    case 'poke': {
      // Loads and stores only outside everything the executor started with (the heap the
      // scenario grows with brk beyond the header's break is the scenario's).
      const a = num(step, 0);
      if (a >= U64 - 0x1000n || intersects(ctx.accessRanges, a, a + 1n)) return `${step.call} of the recorder's own memory`;
      return undefined;
    }
    case 'openat': {
      const dirfd = num(step, 0), path = str(step, 1), flags = num(step, 2);
      if (dirfd !== AT_FDCWD) return 'openat relative to a descriptor';
      if (underMount(path, ctx.mounts)) return undefined;
      const O_CREAT = 0o100n, O_TRUNC = 0o1000n, O_TMPFILE = 0o20000000n;
      const writes = (flags & (O_CREAT | O_TRUNC | O_TMPFILE)) !== 0n;
      if ((path === '/dev/zero' || path === '/dev/null') && !writes) return undefined;
      // The pool sizes: written by hugeResizeSequence, which writes the recorded value back at the end.
      if (POOL_FILES.includes(path) && !writes) return undefined;
      // sysctlSequence's files.
      if (WRITABLE_SYSTEM_FILES.includes(path) && !writes) return undefined;
      if (readableSystemFile(path) && (flags & 3n) === 0n && !writes) return undefined;
      // A mount's root directory: opening it for writing is EISDIR, O_CREAT on it too, and
      // O_TMPFILE makes an unnamed file in the scenario's own mount.
      if (isMountRoot(path, ctx.mounts)) return undefined;
      return `openat of ${path} outside the mounts`;
    }
    case 'unlinkat': {
      const dirfd = num(step, 0), path = str(step, 1);
      // A mount's root cannot go: unlink is EISDIR, rmdir EBUSY (a mount point), `.` EINVAL.
      if (dirfd !== AT_FDCWD || !(underMount(path, ctx.mounts) || isMountRoot(path, ctx.mounts))) return 'unlinkat outside the mounts';
      return undefined;
    }
    case 'close':
    case 'dup':
    case 'fill': {
      // close/dup take an unsigned int: only the low 32 bits name the descriptor.
      const fd = num(step, 0) & 0xffffffffn;
      if (fd < 3n) return `${step.call} of the recorder's descriptor ${fd}`;
      if (step.call === 'fill' && num(step, 2) > FILL_LIMIT) return 'fill larger than the limit';
      return undefined;
    }
    case 'ftruncate': {
      const fd = num(step, 0) & 0xffffffffn;
      if (fd < 3n) return `ftruncate of the recorder's descriptor ${fd}`;
      return undefined;
    }
    default:
      return undefined; // fpeek, rss, hugepages: read-only
  }
}
