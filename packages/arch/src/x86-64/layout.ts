/**
 * x86-64 mmap layout and placement.
 * @see arch/x86/mm/mmap.c arch_pick_mmap_layout, mmap_base, mmap_legacy_base
 * @see arch/x86/kernel/sys_x86_64.c arch_get_unmapped_area, arch_get_unmapped_area_topdown
 */

import { Errno } from '@mmsim/base';
import type { ArchFeatures } from '../contract/features.js';
import type {
  ArchAddressSpace,
  LayoutInput,
  MmapLayout,
  UnmappedAreaContext,
  UnmappedAreaRequest,
  VmUnmappedAreaInfo,
} from '../contract/layout.js';
import {
  DEFAULT_MAP_WINDOW_PAGES,
  MAP_32BIT_BEGIN_PAGES,
  MAP_32BIT_END_PAGES,
  MMAP64_RND_BITS,
  MMAP_BASE_GAP_MIN_PAGES,
  STACK_GUARD_GAP_PAGES,
  SZ_4G_PAGES,
  TASK_SIZE_4LEVEL_PAGES,
  TASK_SIZE_5LEVEL_PAGES,
} from './constants.js';

const MAP_FIXED = 0x10;
const MAP_32BIT = 0x40;
const MAP_ABOVE4G = 0x80;
const U64 = (1n << 64n) - 1n;

/** `TASK_SIZE_MAX` in pages for the paging mode. */
export function x86TaskSize(features: ArchFeatures): number {
  return features.la57 ? TASK_SIZE_5LEVEL_PAGES : TASK_SIZE_4LEVEL_PAGES;
}

/**
 * `mmap_base()`: the top of the top-down search, leaving room for the stack
 * (its rlimit plus the guard gap, clamped to [128 MiB, 5/6 of the window]).
 */
export function x86MmapBase(rlimitStack: bigint | 'unlimited', rndPages: number): number {
  const taskSize = BigInt(DEFAULT_MAP_WINDOW_PAGES) << 12n;
  let gap = rlimitStack === 'unlimited' ? U64 : rlimitStack & U64;
  const pad = BigInt(STACK_GUARD_GAP_PAGES) << 12n; // + stack_maxrandom_size, 0 without PF_RANDOMIZE
  if (gap + pad <= U64 && gap + pad > gap) gap += pad;
  const gapMin = BigInt(MMAP_BASE_GAP_MIN_PAGES) << 12n;
  const gapMax = (taskSize / 6n) * 5n;
  if (gap < gapMin) gap = gapMin;
  else if (gap > gapMax) gap = gapMax;
  const base = taskSize - gap - (BigInt(rndPages) << 12n);
  return Number((base + 0xfffn) >> 12n); // PAGE_ALIGN
}

/** `mmap_legacy_base()`: `PAGE_ALIGN(task_size / 3) + rnd`. */
export function x86MmapLegacyBase(rndPages: number): number {
  const taskSize = BigInt(DEFAULT_MAP_WINDOW_PAGES) << 12n;
  return Number(((taskSize / 3n + 0xfffn) >> 12n) + BigInt(rndPages));
}

/** `mmap_address_hint_valid`: inside TASK_SIZE and not straddling the 47-bit window. */
export function mmapAddressHintValid(hint: number, length: number, features: ArchFeatures): boolean {
  if (x86TaskSize(features) - length < hint) return false;
  return hint > DEFAULT_MAP_WINDOW_PAGES === hint + length > DEFAULT_MAP_WINDOW_PAGES;
}

/** The x86-64 implementation of {@link ArchAddressSpace}. */
export const x86AddressSpace: ArchAddressSpace = {
  taskSize: x86TaskSize,
  defaultMapWindow: () => DEFAULT_MAP_WINDOW_PAGES,

  isCanonical(address: bigint, features: ArchFeatures): boolean {
    const bits = features.la57 ? 57n : 48n;
    const top = address >> (bits - 1n);
    return top === 0n || top === (U64 >> (bits - 1n));
  },

  pickMmapLayout(input: LayoutInput): MmapLayout {
    const rnd = input.randomize && input.random ? Math.floor(input.random() * 2 ** MMAP64_RND_BITS) : 0;
    const mmapLegacyBase = x86MmapLegacyBase(rnd);
    return {
      topdown: !input.legacy,
      mmapLegacyBase,
      mmapBase: input.legacy ? mmapLegacyBase : x86MmapBase(input.rlimitStack, rnd),
    };
  },

  getUnmappedArea(ctx: UnmappedAreaContext, req: UnmappedAreaRequest, features: ArchFeatures): number {
    return ctx.layout.topdown ? topdown(ctx, req, features) : bottomUp(ctx, req, features);
  },
};

/**
 * The `struct vm_unmapped_area_info` of a placement: Linux fills one on the
 * stack per call; here one object is refilled (`vm_unmapped_area` keeps
 * nothing of it), so a placement allocates nothing.
 */
function areaInfo(topdown: boolean, req: UnmappedAreaRequest, lowLimit: number, highLimit: number): VmUnmappedAreaInfo {
  const info = AREA_INFO;
  info.topdown = topdown;
  info.length = req.length;
  info.lowLimit = lowLimit;
  info.highLimit = highLimit;
  info.alignMask = req.alignMask;
  info.alignOffset = req.alignMask ? 0 : req.pgoff;
  info.startGap = 0;
  return info;
}
const AREA_INFO: { -readonly [K in keyof VmUnmappedAreaInfo]: VmUnmappedAreaInfo[K] } = {
  topdown: true,
  length: 0,
  lowLimit: 0,
  highLimit: 0,
  alignMask: 0,
  alignOffset: 0,
  startGap: 0,
};

/** `arch_get_unmapped_area_topdown`. */
function topdown(ctx: UnmappedAreaContext, req: UnmappedAreaRequest, features: ArchFeatures): number {
  const taskSize = x86TaskSize(features);
  if (req.length > taskSize) return -Errno.ENOMEM;
  if (req.flags & MAP_FIXED) return req.hint;
  if (req.flags & MAP_32BIT) return bottomUp(ctx, req, features);
  const hint = req.hint;
  if (hint !== 0 && mmapAddressHintValid(hint, req.length, features)) {
    if (hint + req.length <= ctx.nextVmaStartGap(hint)) return hint;
  }
  let highLimit = ctx.layout.mmapBase;
  if (hint > DEFAULT_MAP_WINDOW_PAGES) highLimit += taskSize - DEFAULT_MAP_WINDOW_PAGES;
  const found = ctx.vmUnmappedArea(areaInfo(true, req, req.flags & MAP_ABOVE4G ? SZ_4G_PAGES : 1, highLimit));
  if (found >= 0) return found;
  return bottomUp(ctx, req, features);
}

/** `arch_get_unmapped_area` (bottom-up, also the top-down fallback and `MAP_32BIT`). */
function bottomUp(ctx: UnmappedAreaContext, req: UnmappedAreaRequest, features: ArchFeatures): number {
  if (req.flags & MAP_FIXED) return req.hint;
  let begin: number;
  let end: number;
  if (req.flags & MAP_32BIT) {
    begin = MAP_32BIT_BEGIN_PAGES;
    end = MAP_32BIT_END_PAGES;
  } else {
    begin = ctx.layout.mmapLegacyBase;
    end = req.hint > DEFAULT_MAP_WINDOW_PAGES ? x86TaskSize(features) : DEFAULT_MAP_WINDOW_PAGES;
  }
  if (req.length > end) return -Errno.ENOMEM;
  const hint = req.hint;
  if (hint !== 0) {
    if (end - req.length >= hint && hint + req.length <= ctx.nextVmaStartGap(hint)) return hint;
  }
  return ctx.vmUnmappedArea(areaInfo(false, req, begin, end));
}

