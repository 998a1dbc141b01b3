/**
 * The RISC-V mmap layout. RISC-V has no placement code of its own: it selects
 * `CONFIG_ARCH_WANT_DEFAULT_TOPDOWN_MMAP_LAYOUT`, so the layout is mm/util.c's
 * generic `arch_pick_mmap_layout`, and placement is mm/mmap.c's
 * `generic_get_unmapped_area[_topdown]`, bounded by the two hooks
 * arch/riscv/include/asm/processor.h defines:
 *
 * - `arch_get_mmap_end(addr, len, flags)` = `STACK_TOP_MAX` = `TASK_SIZE`;
 * - `arch_get_mmap_base(addr, base)` = `base` (`mm->mmap_base`).
 *
 * (Linux 6.6–6.10 used the hint as an upper bound for the search; commit
 * 2116988d5372 "riscv: mm: Do not restrict mmap address based on hint",
 * Linux 6.11, removed that: the hint is only a hint, as elsewhere.)
 *
 * So on Sv48/Sv57 a top-down search stays below `mmap_base` (under 2^47),
 * and addresses above come only from a hint or `MAP_FIXED`; on Sv39 the whole
 * user half (256 GiB) is the window.
 * @see mm/util.c arch_pick_mmap_layout, mmap_base, mmap_is_legacy
 * @see mm/mmap.c generic_get_unmapped_area, generic_get_unmapped_area_topdown
 * @see arch/riscv/include/asm/processor.h arch_get_mmap_end, arch_get_mmap_base, TASK_UNMAPPED_BASE
 */

import { Errno } from '@mmsim/base';
import type { ArchAddressSpace, LayoutInput, MmapLayout, UnmappedAreaContext, UnmappedAreaRequest } from '@mmsim/arch';
import {
  RISCV_MIN_GAP_PAGES,
  RISCV_MMAP_RND_BITS,
  RISCV_PAGE_SHIFT,
  RISCV_STACK_GUARD_GAP_PAGES,
  RISCV_STACK_RND_MASK,
  type RiscvModeInfo,
} from './constants.js';

const MAP_FIXED = 0x10;

/**
 * mm/util.c `mmap_base(rnd, rlim_stack)`: `PAGE_ALIGN(STACK_TOP - gap - rnd)`,
 * with `gap` = the stack rlimit plus `stack_guard_gap` (plus the stack
 * randomisation range with `PF_RANDOMIZE`), unless that overflows, clamped to
 * `[MIN_GAP, STACK_TOP / 6 * 5]`. In pages; `STACK_TOP` = `DEFAULT_MAP_WINDOW`.
 */
export function riscvMmapBase(info: RiscvModeInfo, rlimitStack: bigint | 'unlimited', randomize: boolean, rndPages: number): number {
  const stackTop = BigInt(info.defaultMapWindowPages) << BigInt(RISCV_PAGE_SHIFT);
  const U64 = (1n << 64n) - 1n;
  let gap = rlimitStack === 'unlimited' ? U64 : rlimitStack & U64;
  let pad = BigInt(RISCV_STACK_GUARD_GAP_PAGES) << 12n;
  if (randomize) pad += BigInt(RISCV_STACK_RND_MASK) << 12n;
  if (gap + pad <= U64) gap += pad; // "Values close to RLIM_INFINITY can overflow."
  const minGap = BigInt(RISCV_MIN_GAP_PAGES) << 12n;
  const maxGap = (stackTop / 6n) * 5n;
  if (gap < minGap && minGap < maxGap) gap = minGap;
  else if (gap > maxGap) gap = maxGap;
  const base = stackTop - gap - (BigInt(rndPages) << 12n);
  return Number((base + 0xfffn) >> 12n);
}

/**
 * mm/util.c `mmap_is_legacy`: `ADDR_COMPAT_LAYOUT`, `vm.legacy_va_layout`, or
 * an unlimited `RLIMIT_STACK` (the generic rule; x86 dropped the last one).
 */
export function riscvMmapIsLegacy(input: LayoutInput): boolean {
  return input.legacy || input.rlimitStack === 'unlimited';
}

/** The RISC-V {@link ArchAddressSpace} for one paging mode. */
export function riscvAddressSpace(info: RiscvModeInfo): ArchAddressSpace {
  const taskSize = info.taskSizePages;
  const vaBits = BigInt(info.vaBits);
  const U64 = (1n << 64n) - 1n;

  /** `generic_get_unmapped_area`: bottom-up from `mm->mmap_base` to `TASK_SIZE`. */
  function bottomUp(ctx: UnmappedAreaContext, req: UnmappedAreaRequest): number {
    const mmapEnd = taskSize; // arch_get_mmap_end
    if (req.length > mmapEnd) return -Errno.ENOMEM; // len > mmap_end - mmap_min_addr (see the doc of getUnmappedArea)
    if (req.flags & MAP_FIXED) return req.hint;
    const hint = req.hint;
    if (hint !== 0 && mmapEnd - req.length >= hint && hint + req.length <= ctx.nextVmaStartGap(hint)) return hint;
    return ctx.vmUnmappedArea({
      topdown: false,
      length: req.length,
      lowLimit: ctx.layout.mmapBase,
      highLimit: mmapEnd,
      alignMask: req.alignMask,
      alignOffset: 0,
      startGap: 0,
    });
  }

  /** `generic_get_unmapped_area_topdown`: below `mm->mmap_base`, then bottom-up from `TASK_UNMAPPED_BASE`. */
  function topdown(ctx: UnmappedAreaContext, req: UnmappedAreaRequest): number {
    const mmapEnd = taskSize;
    if (req.length > mmapEnd) return -Errno.ENOMEM;
    if (req.flags & MAP_FIXED) return req.hint;
    const hint = req.hint;
    if (hint !== 0 && mmapEnd - req.length >= hint && hint + req.length <= ctx.nextVmaStartGap(hint)) return hint;
    const found = ctx.vmUnmappedArea({
      topdown: true,
      length: req.length,
      lowLimit: 1,
      highLimit: ctx.layout.mmapBase, // arch_get_mmap_base(addr, mm->mmap_base)
      alignMask: req.alignMask,
      alignOffset: 0,
      startGap: 0,
    });
    if (found >= 0) return found;
    // "A failed mmap() very likely causes application failure, so fall back to the bottom-up function."
    return ctx.vmUnmappedArea({
      topdown: false,
      length: req.length,
      lowLimit: info.unmappedBasePages,
      highLimit: mmapEnd,
      alignMask: req.alignMask,
      alignOffset: 0,
      startGap: 0,
    });
  }

  return {
    taskSize: () => taskSize,
    defaultMapWindow: () => info.defaultMapWindowPages,
    /** Canonical for Sv39/48/57: bits 63..VA_BITS-1 all equal. */
    isCanonical(address: bigint): boolean {
      const top = (address & U64) >> (vaBits - 1n);
      return top === 0n || top === U64 >> (vaBits - 1n);
    },
    /** mm/util.c `arch_pick_mmap_layout`. */
    pickMmapLayout(input: LayoutInput): MmapLayout {
      const rnd = input.randomize && input.random ? Math.floor(input.random() * 2 ** RISCV_MMAP_RND_BITS) : 0;
      const legacyBase = info.unmappedBasePages + rnd; // TASK_UNMAPPED_BASE + random_factor
      if (riscvMmapIsLegacy(input)) return { topdown: false, mmapBase: legacyBase, mmapLegacyBase: legacyBase };
      return { topdown: true, mmapBase: riscvMmapBase(info, input.rlimitStack, input.randomize, rnd), mmapLegacyBase: legacyBase };
    },
    /**
     * `generic_get_unmapped_area[_topdown]`. Linux first refuses
     * `len > mmap_end - mmap_min_addr`; the model checks `len > TASK_SIZE`
     * (a length in between fails with ENOMEM in the searches as well).
     */
    getUnmappedArea(ctx: UnmappedAreaContext, req: UnmappedAreaRequest): number {
      return ctx.layout.topdown ? topdown(ctx, req) : bottomUp(ctx, req);
    },
  };
}
