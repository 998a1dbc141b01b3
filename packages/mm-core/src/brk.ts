/**
 * The program break: `brk` grows the heap VMA (or makes one) and shrinks it by
 * unmapping; on any failure the old break is returned.
 * @see mm/mmap.c SYSCALL_DEFINE1(brk), check_brk_limits, do_brk_flags
 */

import { traced } from '@mmsim/base';
import { mayExpandVm, mlockFutureOk, vmEnoughMemory } from './accounting.js';
import { mmPopulate } from './gup.js';
import type { MmStruct } from './mm.js';
import { doMunmap } from './munmap.js';
import { vmStartGap, STACK_GUARD_GAP } from './unmapped-area.js';
import { Vma } from './vma.js';
import { vmaMergeNewRange } from './vma-ops.js';
import { VM } from './vm-flags.js';

/** `do_brk_flags`: map `[addr, addr+pages)` as heap, extending the heap VMA below it when possible. */
function doBrkFlags(mm: MmStruct, brkVma: Vma | undefined, addr: number, pages: number): boolean {
  const flags = VM.READ | VM.WRITE | VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC | VM.ACCOUNT | mm.defFlags;
  if (!mayExpandVm(mm, flags, pages)) return false;
  if (mm.mapCount > mm.kernel.config.maxMapCount) return false;
  if (vmEnoughMemory(mm, pages)) return false;
  let done = false;
  if (brkVma && brkVma.end === addr) {
    const prevOnly = vmaMergeNewRange(mm, {
      start: addr,
      end: addr + pages,
      flags,
      file: null,
      pgoff: addr,
      anonVma: null,
      middle: null,
    }, true);
    done = prevOnly !== null;
  }
  if (!done) mm.vmas.insert(new Vma(addr, addr + pages, flags, addr, null, null));
  mm.totalVm += pages;
  mm.dataVm += pages;
  if (flags & VM.LOCKED) mm.lockedVm += pages;
  return true;
}

/** `brk(2)`: the new break, or the old one on failure. Addresses in bytes. */
export function doBrk(mm: MmStruct, brkArg: bigint): bigint {
  return traced(
    mm.kernel.tracer,
    'sys_brk',
    () => `brk=0x${brkArg.toString(16)}`,
    () => {
      const origBrk = BigInt(mm.brk);
      const brk = brkArg;
      const startBrk = BigInt(mm.startBrk);
      if (brk < startBrk) return origBrk;
      // check_data_rlimit compares bytes with the limit as set (not rounded to pages).
      const dataLimit = mm.limits.rlimitData;
      if (dataLimit !== 'unlimited' && brk - startBrk + BigInt(mm.dataSegmentSize) > dataLimit) return origBrk;
      const newBrk = Number((brk + 0xfffn) >> 12n);
      const oldBrk = Number((origBrk + 0xfffn) >> 12n);
      if (newBrk === oldBrk) {
        mm.brk = Number(brk);
        return brk;
      }
      if (brk <= origBrk) {
        const vma = mm.vmas.findVma(newBrk);
        if (!vma || vma.start >= oldBrk) return origBrk;
        mm.brk = Number(brk);
        if (doMunmap(mm, newBrk, oldBrk) !== 0) {
          mm.brk = Number(origBrk);
          return origBrk;
        }
        return brk;
      }
      const pages = newBrk - oldBrk;
      if (newBrk > mm.taskSize) return origBrk;
      if (!mlockFutureOk(mm, mm.defFlags, pages)) return origBrk;
      const next = mm.vmas.findVma(oldBrk);
      if (next && next.start < newBrk + 1 + STACK_GUARD_GAP && newBrk + 1 > vmStartGap(next)) return origBrk;
      const prev = mm.vmas.prevOf(oldBrk);
      const brkVma = prev && prev.start >= Math.floor(mm.startBrk / 4096) ? prev : undefined;
      if (!doBrkFlags(mm, brkVma, oldBrk, pages)) return origBrk;
      mm.brk = Number(brk);
      if (mm.defFlags & VM.LOCKED) mmPopulate(mm, oldBrk, newBrk, true);
      return brk;
    },
    (r) => '0x' + r.toString(16),
  );
}
