// Step 5: the mmap layout. Most architectures use Linux's generic code
// (CONFIG_ARCH_WANT_DEFAULT_TOPDOWN_MMAP_LAYOUT): mm/util.c picks mmap_base,
// mm/mmap.c's generic_get_unmapped_area[_topdown] places mappings, calling
// back into the generic gap search through UnmappedAreaContext.
import { Errno } from '@mmsim/base';
import type { ArchAddressSpace, LayoutInput, MmapLayout, UnmappedAreaContext, UnmappedAreaRequest } from '@mmsim/arch';
import { SKETCH_STACK_TOP_PAGES, SKETCH_TASK_SIZE_PAGES, SKETCH_UNMAPPED_BASE_PAGES } from './constants.js';

// --- snippet: layout ---
const MAP_FIXED = 0x10;
const MIN_GAP = 32768; // 128 MiB in pages
const STACK_GUARD_GAP = 256; // 1 MiB in pages

/** mm/util.c `mmap_base()`: room for the stack rlimit plus the guard gap, clamped to [128 MiB, 5/6 of STACK_TOP]. */
function mmapBase(rlimitStack: bigint | 'unlimited'): number {
  const maxGap = Math.floor(SKETCH_STACK_TOP_PAGES / 6) * 5;
  const gap = rlimitStack === 'unlimited' ? maxGap : Number(rlimitStack >> 12n) + STACK_GUARD_GAP;
  return SKETCH_STACK_TOP_PAGES - Math.min(Math.max(gap, MIN_GAP), maxGap);
}

/** mm/mmap.c `generic_get_unmapped_area_topdown`, with `arch_get_mmap_end` = TASK_SIZE. */
function topdown(ctx: UnmappedAreaContext, req: UnmappedAreaRequest): number {
  if (req.length > SKETCH_TASK_SIZE_PAGES) return -Errno.ENOMEM;
  if (req.flags & MAP_FIXED) return req.hint;
  const { hint, length } = req;
  if (hint && hint <= SKETCH_TASK_SIZE_PAGES - length && hint + length <= ctx.nextVmaStartGap(hint)) return hint;
  const common = { length, alignMask: req.alignMask, alignOffset: 0, startGap: 0 };
  const found = ctx.vmUnmappedArea({ ...common, topdown: true, lowLimit: 1, highLimit: ctx.layout.mmapBase });
  if (found >= 0) return found;
  return ctx.vmUnmappedArea({ ...common, topdown: false, lowLimit: SKETCH_UNMAPPED_BASE_PAGES, highLimit: SKETCH_TASK_SIZE_PAGES });
}

/** The layout half of the architecture. (The legacy bottom-up layout is left out of the sketch.) */
export const sketchAddressSpace: ArchAddressSpace = {
  taskSize: () => SKETCH_TASK_SIZE_PAGES,
  defaultMapWindow: () => SKETCH_STACK_TOP_PAGES,
  isCanonical: (address: bigint) => address >> 47n === 0n || address >> 47n === (1n << 17n) - 1n,
  pickMmapLayout: (input: LayoutInput): MmapLayout => ({
    topdown: true,
    mmapBase: mmapBase(input.rlimitStack),
    mmapLegacyBase: SKETCH_UNMAPPED_BASE_PAGES,
  }),
  getUnmappedArea: (ctx, req) => topdown(ctx, req),
};
// --- end snippet ---
