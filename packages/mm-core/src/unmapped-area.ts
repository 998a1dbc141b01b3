/**
 * Choosing an address: `__get_unmapped_area`, the generic gap search
 * `vm_unmapped_area`, `vm_start_gap` and the THP alignment rule for anonymous
 * mappings. The layout-specific part is the architecture's.
 * @see mm/mmap.c __get_unmapped_area, mm/vma.c unmapped_area[_topdown],
 *      mm/huge_memory.c __thp_get_unmapped_area
 */

import { Errno, formatPageResult, traced } from '@mmsim/base';
import type { MmapLayout, UnmappedAreaContext, VmUnmappedAreaInfo } from '@mmsim/arch';
import type { VmFile } from './file.js';
import type { MmStruct } from './mm.js';
import type { Vma } from './vma.js';
import { VM, VM_STARTGAP_FLAGS } from './vm-flags.js';

const MAP_SHARED = 0x01;
const MAP_FIXED = 0x10;
/** `PMD_SIZE` in pages (2 MiB). */
export const PMD_PAGES = 512;
/** `stack_guard_gap` in pages. */
export const STACK_GUARD_GAP = 256;

/** `vm_start_gap`: a VMA's start less the guard gap that a grows-down VMA keeps below it. */
export function vmStartGap(vma: Vma): number {
  if (vma.flags & VM.GROWSDOWN) return Math.max(vma.start - STACK_GUARD_GAP, 0);
  return vma.start;
}

/** `vm_end_gap` (no grows-up VMAs on x86: the end itself). */
export function vmEndGap(vma: Vma): number {
  return vma.end;
}

/** `unmapped_area_topdown` / `unmapped_area` on one address space. @see mm/vma.c */
export function vmUnmappedArea(mm: MmStruct, info: VmUnmappedAreaInfo): number {
  const length = info.length + info.alignMask + info.startGap;
  let low = Math.max(info.lowLimit, mm.kernel.mmapMinPages);
  let high = info.highLimit;
  const tree = mm.vmas;
  if (info.topdown) {
    for (;;) {
      const end = tree.highestGapEnd(low, high, length);
      if (end < 0) return -Errno.ENOMEM;
      let gap = end - info.length;
      gap -= (gap - info.alignOffset) & info.alignMask;
      const above = tree.findVma(end);
      if (above && above.flags & VM_STARTGAP_FLAGS) {
        if (vmStartGap(above) < end) {
          high = vmStartGap(above);
          continue;
        }
      }
      return gap;
    }
  }
  for (;;) {
    const start = tree.lowestGapStart(low, high, length);
    if (start < 0) return -Errno.ENOMEM;
    let gap = start + info.startGap;
    gap += (info.alignOffset - gap) & info.alignMask;
    const above = tree.findVma(start);
    if (above && above.flags & VM_STARTGAP_FLAGS) {
      if (vmStartGap(above) < gap + length) {
        low = above.end;
        continue;
      }
    }
    return gap;
  }
}

/** The callbacks the architecture's placement code uses on one address space. */
class MmUnmappedAreaContext implements UnmappedAreaContext {
  /** The request {@link mmGetUnmappedArea} passes, filled anew per call (the placement keeps nothing of it). */
  readonly request: { hint: number; length: number; pgoff: number; flags: number; alignMask: number } = {
    hint: 0,
    length: 0,
    pgoff: 0,
    flags: 0,
    alignMask: 0,
  };

  constructor(private readonly mm: MmStruct) {}

  get layout(): MmapLayout {
    return this.mm.layout;
  }

  vmUnmappedArea(info: VmUnmappedAreaInfo): number {
    return vmUnmappedArea(this.mm, info);
  }

  nextVmaStartGap(vpn: number): number {
    const vma = this.mm.vmas.findVma(vpn);
    return vma ? vmStartGap(vma) : Infinity;
  }
}

/** The callbacks the architecture's placement code uses on `mm` (one per address space, made on first use). */
export function unmappedAreaContext(mm: MmStruct): UnmappedAreaContext {
  return placementContext(mm);
}

function placementContext(mm: MmStruct): MmUnmappedAreaContext {
  return ((mm.placementContext as MmUnmappedAreaContext | null) ??= new MmUnmappedAreaContext(mm));
}

/** `mm_get_unmapped_area_vmflags`: the architecture's top-down or bottom-up placement. */
export function mmGetUnmappedArea(mm: MmStruct, hint: number, length: number, pgoff: number, flags: number, alignMask = 0): number {
  const ctx = placementContext(mm);
  const req = ctx.request;
  req.hint = hint;
  req.length = length;
  req.pgoff = pgoff;
  req.flags = flags;
  req.alignMask = alignMask;
  return mm.kernel.arch.addressSpace.getUnmappedArea(ctx, req, mm.kernel.features);
}

/** `__thp_get_unmapped_area` for anonymous memory (off 0, size PMD): 0 means "fall back". */
function thpGetUnmappedArea(mm: MmStruct, length: number, flags: number): number {
  const padded = length + PMD_PAGES;
  if (padded < length) return 0;
  const ret = mmGetUnmappedArea(mm, 0, padded, 0, flags);
  if (ret < 0) return 0;
  const offSub = (0 - ret) & (PMD_PAGES - 1);
  if (mm.layout.topdown && offSub === 0) return ret + PMD_PAGES;
  return ret + offSub;
}

/**
 * `thp_get_unmapped_area` for a file that asks for it in its
 * `get_unmapped_area` (a private mapping of `/dev/zero`): `__thp_get_unmapped_area`
 * with the file offset (`pgoff`) — search `length` + 2 MiB, keep the hint if it
 * was granted, else move up to where the offset and the address agree modulo
 * 2 MiB — and the plain search if that gives up. `addr` is the raw hint in
 * bytes; the result is a vpn or `-errno`. (Found by tools/fuzz/kernel.)
 * @see mm/huge_memory.c thp_get_unmapped_area_vmflags, drivers/char/mem.c get_unmapped_area_zero
 */
export function thpGetUnmappedAreaFile(mm: MmStruct, addr: bigint, length: number, pgoff: number, flags: number): number {
  const hint = addr === 0n ? 0 : Number(addr >> 12n);
  if (flags & MAP_FIXED) return hint; // __get_unmapped_area checks a MAP_FIXED address itself
  const offEnd = pgoff + length;
  const offAlign = Math.ceil(pgoff / PMD_PAGES) * PMD_PAGES;
  if (offEnd > offAlign && offEnd - offAlign >= PMD_PAGES) {
    const ret = mmGetUnmappedArea(mm, hint, length + PMD_PAGES, pgoff, flags);
    if (ret >= 0) {
      if (BigInt(ret) << 12n === addr) return ret;
      const offSub = (pgoff - ret) & (PMD_PAGES - 1);
      if (mm.layout.topdown && offSub === 0) return ret + PMD_PAGES;
      return ret + offSub;
    }
  }
  return mmGetUnmappedArea(mm, hint, length, pgoff, flags);
}

/**
 * `__get_unmapped_area`: pick the placement function and check its answer.
 * `addr` is the raw request in bytes (unaligned allowed for MAP_FIXED, where
 * this is where the alignment error comes from); the result is a vpn or `-errno`.
 */
export function getUnmappedArea(
  mm: MmStruct,
  file: VmFile | null,
  addr: bigint,
  length: number,
  pgoff: number,
  flags: number,
): number {
  const tracer = mm.kernel.tracer;
  if (!tracer.enabled) return getUnmappedAreaBody(mm, file, addr, length, pgoff, flags);
  return traced(
    tracer,
    'get_unmapped_area',
    () => `addr=0x${addr.toString(16)}, len=0x${(length * 4096).toString(16)}, pgoff=0x${pgoff.toString(16)}, flags=0x${flags.toString(16)}`,
    () => getUnmappedAreaBody(mm, file, addr, length, pgoff, flags),
    formatPageResult,
  );
}

/**
 * `__get_unmapped_area`'s checks of a `MAP_FIXED` address (the placement
 * functions return it unchanged): the vpn, or `-errno`.
 */
function fixedAddress(mm: MmStruct, addr: bigint, length: number, taskSize: number): number {
  const lengthBytes = BigInt(length) << 12n;
  if (addr > (BigInt(taskSize) << 12n) - lengthBytes) return -Errno.ENOMEM;
  if (addr & 0xfffn) return -Errno.EINVAL;
  if (addr < mm.kernel.config.mmapMinAddr && !mm.limits.privileged) return -Errno.EPERM;
  return Number(addr >> 12n);
}

function getUnmappedAreaBody(mm: MmStruct, file: VmFile | null, addr: bigint, length: number, pgoff: number, flags: number): number {
  const taskSize = mm.taskSize;
  if (length > taskSize) return -Errno.ENOMEM;
  let result = 0;
  if (file?.ops.getUnmappedArea) {
    result = file.ops.getUnmappedArea(mm, file, addr, length, pgoff, flags);
    if (result < 0) return result;
  }
  if (flags & MAP_FIXED) return fixedAddress(mm, addr, length, taskSize);
  const hint = addr === 0n ? 0 : Number(addr >> 12n);
  if (file?.ops.getUnmappedArea) {
    // already placed above
  } else if (file) {
    result = mmGetUnmappedArea(mm, hint, length, pgoff, flags);
  } else if (flags & MAP_SHARED) {
    // shmem_get_unmapped_area: shmem huge pages are off, so the plain search.
    result = mmGetUnmappedArea(mm, hint, length, 0, flags);
  } else if (hint === 0 && length % PMD_PAGES === 0) {
    result = thpGetUnmappedArea(mm, length, flags);
    if (result === 0) result = mmGetUnmappedArea(mm, hint, length, 0, flags);
  } else {
    result = mmGetUnmappedArea(mm, hint, length, 0, flags);
  }
  if (result < 0) return result;
  if (result > taskSize - length) return -Errno.ENOMEM;
  // security_mmap_addr → cap_mmap_addr: below dac_mmap_min_addr without CAP_SYS_RAWIO (vpn < ⌈min / 4096⌉ ⟺ vpn·4096 < min).
  if (!mm.limits.privileged && result < mm.kernel.dacMmapMinPages) return -Errno.EPERM;
  return result;
}
