/**
 * Creating mappings: `do_mmap` with every check in Linux 6.18's order, and
 * `mmap_region` (gather and replace what a MAP_FIXED range covers, account,
 * merge or create the VMA, call the file's `->mmap`).
 * @see mm/mmap.c do_mmap, mm/vma.c mmap_region, __mmap_region
 */

import { Errno, formatPageResult, LEGACY_MAP_MASK, MAP, PROT, traced, u64ToSafeNumber } from '@mmsim/base';
import { accountableMapping, canDoMlock, mayExpandVm, mlockFutureOk, vmEnoughMemory, vmUnacctMemory } from './accounting.js';
import type { VmFile } from './file.js';
import type { MmStruct } from './mm.js';
import { detachRange, gatherRange } from './munmap.js';
import { getUnmappedArea } from './unmapped-area.js';
import type { Vma } from './vma.js';
import { iMmapInsert } from './i-mmap.js';
import { insertNewVma, type MergeCandidate, vmaMergeNewRange } from './vma-ops.js';
import { VM, VM_LOCKED_MASK, VM_SPECIAL } from './vm-flags.js';

const U64 = (1n << 64n) - 1n;
/** Arguments below this are exact numbers, and no sum of two of them wraps. */
const TWO_52 = 1n << 52n;

/** The result of `do_mmap`: a vpn or `-errno`, and how many pages to populate (its `*populate`). */
export interface DoMmapResult {
  result: number;
  populate: number;
}

/** `calc_vm_prot_bits`: PROT_* → VM_READ/WRITE/EXEC (other prot bits are ignored by mmap). */
export function calcVmProtBits(prot: number): number {
  return (prot & PROT.READ ? VM.READ : 0) | (prot & PROT.WRITE ? VM.WRITE : 0) | (prot & PROT.EXEC ? VM.EXEC : 0);
}

/** `calc_vm_flag_bits`: MAP_* → VM_GROWSDOWN, VM_LOCKED, VM_SYNC, VM_NOHUGEPAGE. */
export function calcVmFlagBits(flags: number): number {
  return (
    (flags & MAP.GROWSDOWN ? VM.GROWSDOWN : 0) |
    (flags & MAP.LOCKED ? VM.LOCKED : 0) |
    (flags & MAP.SYNC ? VM.SYNC : 0) |
    (flags & MAP.STACK ? VM.NOHUGEPAGE : 0)
  );
}

/**
 * `do_mmap`. `addr`, `len` and `pgoff` are the raw u64 arguments; `prot` and
 * `flags` 32-bit words, `flagsHigh` the upper 32 bits of the `unsigned long`
 * flags: only `MAP_SHARED_VALIDATE`'s check for unknown flags sees them
 * (`-EOPNOTSUPP`; `MAP_SHARED` masks them off with the legacy flags). The
 * result goes into `out` (a caller making many calls can pass one object for
 * all, as Linux's caller passes `&populate`) and is returned. As in
 * `vm_mmap_pgoff`, the caller then populates (if asked) and calls
 * `mm.releaseDeferredFputs()`: the files of the mappings a `MAP_FIXED`
 * replaced are held until then.
 */
export function doMmap(
  mm: MmStruct,
  file: VmFile | null,
  addr: bigint,
  len: bigint,
  prot: number,
  flags: number,
  pgoff: bigint,
  out: DoMmapResult = { result: 0, populate: 0 },
  flagsHigh = 0,
): DoMmapResult {
  const tracer = mm.kernel.tracer;
  out.populate = 0;
  if (!tracer.enabled) {
    out.result = doMmapBody(mm, file, addr, len, prot, flags, pgoff, out, flagsHigh);
    return out;
  }
  out.result = traced(
    tracer,
    'do_mmap',
    () =>
      `file=${file ? file.path() : 'NULL'}, addr=0x${addr.toString(16)}, len=0x${len.toString(16)}, prot=0x${prot.toString(16)}, flags=0x${(flags >>> 0).toString(16)}, pgoff=0x${pgoff.toString(16)}`,
    () => doMmapBody(mm, file, addr, len, prot, flags, pgoff, out, flagsHigh),
    formatPageResult,
  );
  return out;
}

/** `round_hint_to_min`: a page-aligned hint, raised to `mmap_min_addr` if below it (a zero hint stays 0). */
function roundHintToMin(addr: bigint, minAddr: bigint): bigint {
  addr &= ~0xfffn;
  if (addr !== 0n && addr < minAddr) addr = (minAddr + 0xfffn) & ~0xfffn;
  return addr;
}

/**
 * `do_mmap`'s length checks in u64 arithmetic, for a length or offset of
 * 2^52 or more: `PAGE_ALIGN(len)` wrapping to 0 is `-ENOMEM`, `pgoff + pages`
 * wrapping is `-EOVERFLOW`; else the length in pages.
 */
function pagesOfHugeLength(len: bigint, pgoff: bigint): number {
  const alignedLen = (len + 0xfffn) & ~0xfffn & U64;
  if (alignedLen === 0n) return -Errno.ENOMEM;
  const pages = Number(alignedLen >> 12n);
  if (pgoff + BigInt(pages) > U64) return -Errno.EOVERFLOW;
  return pages;
}

/** The body of {@link doMmap}; sets `out.populate`. */
function doMmapBody(
  mm: MmStruct,
  file: VmFile | null,
  addr: bigint,
  len: bigint,
  prot: number,
  flags: number,
  pgoff: bigint,
  out: { populate: number },
  flagsHigh: number,
): number {
  const k = mm.kernel;
  if (len === 0n) return -Errno.EINVAL;
  if (flags & MAP.FIXED_NOREPLACE) flags |= MAP.FIXED;
  // (0 stays 0: no bigint arithmetic for the usual NULL hint)
  if (!(flags & MAP.FIXED) && addr !== 0n) addr = roundHintToMin(addr, k.mmapMinAddr);
  let pages: number;
  let pgoffPages: number;
  if (len > 0n && len < TWO_52 && pgoff >= 0n && pgoff < TWO_52) {
    // The common case on exact numbers: PAGE_ALIGN cannot wrap, pgoff + pages cannot overflow.
    pages = Math.ceil(u64ToSafeNumber(len) / 4096);
    pgoffPages = u64ToSafeNumber(pgoff);
  } else {
    pages = pagesOfHugeLength(len, pgoff);
    if (pages < 0) return pages;
    pgoffPages = Number(pgoff);
  }
  if (mm.mapCount > k.config.maxMapCount) return -Errno.ENOMEM;

  let vmFlags = calcVmProtBits(prot) | calcVmFlagBits(flags) | mm.defFlags | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
  const start = getUnmappedArea(mm, file, addr, pages, pgoffPages, flags);
  if (start < 0) return start;
  if (flags & MAP.FIXED_NOREPLACE && mm.vmas.intersects(start, start + pages)) return -Errno.EEXIST;
  if (flags & MAP.LOCKED && !canDoMlock(mm)) return -Errno.EPERM;
  if (!mlockFutureOk(mm, vmFlags, pages)) return -Errno.EAGAIN;

  let pg: number;
  if (file) {
    // Below these bounds every file's limit holds (the smallest, 2^63 - 1 bytes, leaves room
    // for pgoff < 2^50 pages after len < 2^52 bytes): no bigint arithmetic.
    if (!(pgoffPages < 2 ** 50 && pages < 2 ** 40) && !fileMmapOk(file, pgoff, BigInt(pages) << 12n)) return -Errno.EOVERFLOW;
    vmFlags = fileMappingFlags(file, flags, flagsHigh, prot, vmFlags);
    if (vmFlags < 0) return vmFlags;
    pg = pgoffPages;
  } else {
    switch (flags & MAP.TYPE) {
      case MAP.SHARED:
        if (vmFlags & VM.GROWSDOWN) return -Errno.EINVAL;
        pg = 0;
        vmFlags |= VM.SHARED | VM.MAYSHARE;
        break;
      case MAP.DROPPABLE:
        if (flags & (MAP.LOCKED | MAP.HUGETLB)) return -Errno.EINVAL;
        if (vmFlags & VM.GROWSDOWN) return -Errno.EINVAL;
        vmFlags |= VM.DROPPABLE | VM.NORESERVE | VM.WIPEONFORK | VM.DONTDUMP;
      // falls through
      case MAP.PRIVATE:
        pg = start;
        break;
      default:
        return -Errno.EINVAL;
    }
  }
  if (flags & MAP.NORESERVE) {
    if (k.config.overcommitMemory !== 2) vmFlags |= VM.NORESERVE;
    if (file?.ops.hugePageOrder !== undefined) vmFlags |= VM.NORESERVE;
  }
  const mapped = mmapRegion(mm, file, start, pages, vmFlags, pg);
  if (mapped >= 0 && (vmFlags & VM.LOCKED || (flags & (MAP.POPULATE | MAP.NONBLOCK)) === MAP.POPULATE)) {
    out.populate = pages;
  }
  return mapped;
}

/**
 * `do_mmap`'s checks for a file mapping by mapping type (`MAP_SHARED`,
 * `MAP_SHARED_VALIDATE`, `MAP_PRIVATE`): the VMA flags they give, or `-errno`.
 * (Kept out of {@link doMmapBody} so that the anonymous path stays small.)
 */
function fileMappingFlags(file: VmFile, flags: number, flagsHigh: number, prot: number, vmFlags: number): number {
  const flagsMask = (LEGACY_MAP_MASK | (file.ops.mmapSync ? MAP.SYNC : 0)) >>> 0;
  switch (flags & MAP.TYPE) {
    case MAP.SHARED:
      flags &= LEGACY_MAP_MASK;
      flagsHigh = 0;
    // falls through
    case MAP.SHARED_VALIDATE:
      if ((flags & ~flagsMask) >>> 0 !== 0 || flagsHigh !== 0) return -Errno.EOPNOTSUPP;
      if (prot & PROT.WRITE && !file.writable) return -Errno.EACCES;
      vmFlags |= VM.SHARED | VM.MAYSHARE;
      if (!file.writable) vmFlags &= ~(VM.MAYWRITE | VM.SHARED);
    // falls through
    case MAP.PRIVATE:
      if (!file.readable) return -Errno.EACCES;
      if (file.noexec) {
        if (vmFlags & VM.EXEC) return -Errno.EPERM;
        vmFlags &= ~VM.MAYEXEC;
      }
      if (!file.ops.mmap) return -Errno.ENODEV;
      if (vmFlags & VM.GROWSDOWN) return -Errno.EINVAL;
      break;
    default:
      return -Errno.EINVAL;
  }
  return vmFlags;
}

/** `file_mmap_ok`: the range must fit the file's maximum size. */
function fileMmapOk(file: VmFile, pgoff: bigint, len: bigint): boolean {
  let maxSize: bigint;
  if (file.ops.regularSizeLimit) maxSize = (1n << 63n) - 1n;
  else if (file.ops.unsignedOffset) maxSize = 0n;
  else maxSize = U64;
  if (maxSize !== 0n && len > maxSize) return false;
  maxSize = (maxSize - len) & U64;
  return pgoff <= maxSize >> 12n;
}

/**
 * `mmap_region`: map `[start, start+pages)` with `vmFlags`, replacing whatever
 * a MAP_FIXED request covers. A vpn or `-errno`.
 */
export function mmapRegion(mm: MmStruct, file: VmFile | null, start: number, pages: number, vmFlags: number, pgoff: number): number {
  const tracer = mm.kernel.tracer;
  if (!tracer.enabled) return mmapRegionBody(mm, file, start, pages, vmFlags, pgoff);
  return traced(
    tracer,
    'mmap_region',
    () => `addr=0x${(start * 4096).toString(16)}, len=0x${(pages * 4096).toString(16)}, vm_flags=0x${vmFlags.toString(16)}, pgoff=0x${pgoff.toString(16)}`,
    () => mmapRegionBody(mm, file, start, pages, vmFlags, pgoff),
    formatPageResult,
  );
}

function mmapRegionBody(mm: MmStruct, file: VmFile | null, start: number, pages: number, vmFlags: number, pgoff: number): number {
  const end = start + pages;
  const gathered = gatherRange(mm, start, end, true);
  if (typeof gathered === 'number') return gathered;
  if (!mayExpandVm(mm, vmFlags, pages - gathered.pages)) return -Errno.ENOMEM;
  let charged = 0;
  let unaccountOld = true;
  if (accountableMapping(file?.ops.hugePageOrder !== undefined, vmFlags)) {
    charged = pages - gathered.accounted;
    if (charged > 0 && vmEnoughMemory(mm, charged)) return -Errno.ENOMEM;
    unaccountOld = false;
    vmFlags |= VM.ACCOUNT;
  }
  // The old mappings' files are only released when the system call returns
  // (remove_vma's fput is deferred to the return to user space): a shared
  // hugetlb mapping replaced by MAP_FIXED still holds its reservation and pages
  // while the new one reserves (ENOMEM with a one-page pool), and while
  // MAP_POPULATE faults the new one in. (Found by tools/fuzz/kernel, seeds 42
  // and 2100.)
  const oldVmas = gathered.vmas;
  for (const old of oldVmas) {
    if (old.file) {
      old.file.get();
      mm.deferredFputs.push(old.file);
    }
  }
  return mapNewRange(mm, file, start, end, pages, vmFlags, pgoff, oldVmas, unaccountOld, charged);
}

/** {@link mapNewRange}'s merge candidate (vmaMergeNewRange reads it and keeps nothing of it). */
const newRangeCandidate: MergeCandidate = { start: 0, end: 0, flags: 0, file: null, pgoff: 0, anonVma: null, middle: null };

/** The rest of `mmap_region`, once the range is known to be mappable: detach what it covers, map. */
function mapNewRange(
  mm: MmStruct,
  file: VmFile | null,
  start: number,
  end: number,
  pages: number,
  vmFlags: number,
  pgoff: number,
  oldVmas: readonly Vma[],
  unaccountOld: boolean,
  charged: number,
): number {
  const k = mm.kernel;
  // From here on the old mappings are gone (vms_clean_up_area).
  detachRange(mm, oldVmas, unaccountOld);

  // vmg, the merge state Linux's __mmap_region keeps on its stack: one object reused.
  const c = newRangeCandidate;
  c.start = start;
  c.end = end;
  c.flags = vmFlags;
  c.file = file;
  c.pgoff = pgoff;
  let vma: Vma | null = vmaMergeNewRange(mm, c);
  c.file = null; // (no reference kept)
  if (!vma) {
    vma = mm.vmaCache.alloc(start, end, vmFlags, pgoff, file, null);
    if (file) {
      file.get();
      const err = file.ops.mmap!(file, vma, mm);
      if (err) {
        file.put();
        if (charged > 0) vmUnacctMemory(mm, charged);
        return err;
      }
    } else if (vmFlags & VM.SHARED) {
      const err = k.shmemZeroSetup(mm, vma);
      if (err) {
        if (charged > 0) vmUnacctMemory(mm, charged);
        return err;
      }
    }
    mm.vmas.insert(vma);
    iMmapInsert(mm, vma); // vma_link_file
  }
  mm.statAccount(vma.flags, pages);
  if (vmFlags & VM.LOCKED) {
    if (vma.flags & VM_SPECIAL || vma.flags & VM.HUGETLB) vma.flags &= ~VM_LOCKED_MASK;
    else mm.lockedVm += pages;
  }
  return start;
}

/** Re-exported for callers that build VMAs by hand (initial address spaces). */
export { insertNewVma };
