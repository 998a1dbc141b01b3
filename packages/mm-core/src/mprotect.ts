/**
 * Changing protections: `do_mprotect_pkey` walks the VMAs of the range (not
 * atomically: earlier VMAs stay changed when a later one fails) and
 * `mprotect_fixup` merges or splits, re-accounts, and rewrites the entries.
 * @see mm/mprotect.c do_mprotect_pkey, mprotect_fixup, change_protection
 */

import { Errno, PROT, addOverflows64, alignUp64, traced, u32, u64ToSafeNumber } from '@mmsim/base';
import { PteBits, type PteView } from '@mmsim/arch';
import { mayExpandVm, vmEnoughMemory, vmUnacctMemory } from './accounting.js';
import { vmaPageBits } from './fault.js';
import { mmPopulate } from './gup.js';
import type { MmStruct } from './mm.js';
import { calcVmProtBits } from './mmap.js';
import { PageKind } from './page.js';
import type { Vma } from './vma.js';
import { vmaModifyFlags } from './vma-ops.js';
import { VM, VM_ACCESS_FLAGS } from './vm-flags.js';

/**
 * `change_protection`: rewrite the entries of `[start, end)` for the VMA's new
 * flags. Private entries stay read-only unless they map an anonymous page
 * (so copy-on-write still happens); Accessed/Dirty are kept.
 */
export function changeProtection(mm: MmStruct, vma: Vma, start: number, end: number): void {
  // The visitor is one module-level function reading module-level state (set
  // here, cleared after): no closure to allocate per call.
  cpMm = mm;
  cpBase = vmaPageBits(mm, vma.flags);
  cpShared = (vma.flags & VM.SHARED) !== 0;
  cpWritable = (vma.flags & VM.WRITE) !== 0;
  cpUpdates = null; // vpn, bits, … (made only if a leaf is found)
  mm.pageTable.forEachLeaf(start, end, changeProtectionLeaf);
  const found = cpUpdates as number[] | null; // (assigned in the callback: no narrowing to null)
  cpMm = null;
  cpUpdates = null;
  if (found === null) return;
  for (let i = 0; i < found.length; i += 2) mm.pageTable.setBits(found[i]!, found[i + 1]!);
}

let cpMm: MmStruct | null = null;
let cpBase = 0;
let cpShared = false;
let cpWritable = false;
let cpUpdates: number[] | null = null;

/** {@link changeProtection}'s work on one leaf entry: the new bits, queued. */
function changeProtectionLeaf(vpn: number, leaf: PteView): void {
  const mm = cpMm!;
  let bits = cpBase | (leaf.bits & (PteBits.ACCESSED | PteBits.DIRTY | PteBits.SPECIAL));
  const desc = mm.kernel.page(leaf.pfn);
  const exclusiveAnon =
    desc !== undefined && (desc.kind === PageKind.ANON || (desc.kind === PageKind.HUGETLB && desc.inode === undefined));
  if (cpWritable && !cpShared && exclusiveAnon && leaf.bits & PteBits.DIRTY) bits |= PteBits.WRITE;
  else if (!cpShared || !cpWritable || leaf.pfn === mm.kernel.zeroPfn) bits &= ~PteBits.WRITE;
  (cpUpdates ??= []).push(vpn, bits);
}

/** The VMA that covers the range after the last successful {@link mprotectFixup} (Linux's `*pprev`). */
let fixedVma: Vma | null = null;

/** `mprotect_fixup`: 0 or `-errno`; `vma` covers `[start, end)` on entry. */
export function mprotectFixup(mm: MmStruct, vma: Vma, start: number, end: number, newFlags: number): number {
  fixedVma = null;
  const oldFlags = vma.flags;
  if (newFlags === oldFlags) {
    fixedVma = vma;
    return 0;
  }
  const pages = end - start;
  let charged = 0;
  if (newFlags & VM.WRITE) {
    if (!mayExpandVm(mm, newFlags, pages) && mayExpandVm(mm, oldFlags, pages)) return -Errno.ENOMEM;
    if (!(oldFlags & (VM.ACCOUNT | VM.WRITE | VM.HUGETLB | VM.SHARED | VM.NORESERVE))) {
      charged = pages;
      if (vmEnoughMemory(mm, charged)) return -Errno.ENOMEM;
      newFlags |= VM.ACCOUNT;
    }
  } else if (oldFlags & VM.ACCOUNT && vma.isAnonymous && !vma.anonVma) {
    newFlags &= ~VM.ACCOUNT;
  }
  const modified = vmaModifyFlags(mm, vma, start, end, newFlags);
  if (typeof modified === 'number') {
    if (charged) vmUnacctMemory(mm, charged);
    return modified;
  }
  modified.flags = newFlags;
  changeProtection(mm, modified, start, end);
  if (oldFlags & VM.ACCOUNT && !(newFlags & VM.ACCOUNT)) vmUnacctMemory(mm, pages);
  if ((oldFlags & (VM.WRITE | VM.SHARED | VM.LOCKED)) === VM.LOCKED && newFlags & VM.WRITE) {
    mmPopulate(mm, start, end, true);
  }
  mm.statAccount(oldFlags, -pages);
  mm.statAccount(newFlags, pages);
  fixedVma = modified;
  return 0;
}

/** Arguments below this are exact numbers, and no sum of two of them wraps. */
const TWO_52 = 1n << 52n;

/** `do_mprotect_pkey` with the raw u64 arguments. */
export function doMprotect(mm: MmStruct, start: bigint, len: bigint, protArg: bigint): number {
  const tracer = mm.kernel.tracer;
  if (!tracer.enabled) return doMprotectPkey(mm, start, len, protArg);
  return traced(
    tracer,
    'do_mprotect_pkey',
    () => `start=0x${start.toString(16)}, len=0x${len.toString(16)}, prot=0x${protArg.toString(16)}`,
    () => doMprotectPkey(mm, start, len, protArg),
  );
}

function doMprotectPkey(mm: MmStruct, start: bigint, len: bigint, protArg: bigint): number {
  let reqprot: number;
  let nstart: number;
  let end: number;
  let growsDown: boolean;
  let growsUp: boolean;
  if (start >= 0n && start < TWO_52 && len >= 0n && len < TWO_52 && protArg >= 0n && protArg <= 0xffffffffn) {
    const s = u64ToSafeNumber(start);
    const l = u64ToSafeNumber(len);
    // The common case, on exact numbers: nothing below 2^53 can wrap, so
    // the checks are those below without the overflow ones, in the same order.
    const p = u32(protArg);
    const grows = p & (PROT.GROWSDOWN | PROT.GROWSUP);
    if (grows === (PROT.GROWSDOWN | PROT.GROWSUP)) return -Errno.EINVAL;
    if ((s & 0xfff) !== 0) return -Errno.EINVAL; // s is an integer below 2^52: ToInt32 keeps its low bits exactly
    if (l === 0) return 0;
    const prot = (p & ~grows) >>> 0;
    if ((prot & ~(PROT.READ | PROT.WRITE | PROT.EXEC | PROT.SEM)) !== 0) return -Errno.EINVAL;
    reqprot = prot;
    nstart = s / 4096;
    end = (s + Math.ceil(l / 4096) * 4096) / 4096;
    growsDown = (grows & PROT.GROWSDOWN) !== 0;
    growsUp = (grows & PROT.GROWSUP) !== 0;
  } else {
    const grows = protArg & BigInt(PROT.GROWSDOWN | PROT.GROWSUP);
    const prot = protArg & ~grows;
    if (grows === BigInt(PROT.GROWSDOWN | PROT.GROWSUP)) return -Errno.EINVAL;
    if (start & 0xfffn) return -Errno.EINVAL;
    if (len === 0n) return 0;
    const aligned = alignUp64(len, 0x1000n);
    const endBytes = start + aligned;
    // `end = start + len` in 64 bits: a sum that reaches 2^64 wraps to at most `start`.
    if (aligned === 0n || endBytes <= start || addOverflows64(start, aligned)) return -Errno.ENOMEM;
    if (prot & ~BigInt(PROT.READ | PROT.WRITE | PROT.EXEC | PROT.SEM)) return -Errno.EINVAL;
    reqprot = Number(prot);
    nstart = Number(start >> 12n);
    end = Number(endBytes >> 12n);
    growsDown = (grows & BigInt(PROT.GROWSDOWN)) !== 0n;
    growsUp = (grows & BigInt(PROT.GROWSUP)) !== 0n;
  }
  let vma = mm.vmas.findVma(nstart);
  if (!vma || vma.start >= end) return -Errno.ENOMEM;
  if (growsDown) {
    nstart = vma.start;
    if (!(vma.flags & VM.GROWSDOWN)) return -Errno.EINVAL;
  } else {
    if (vma.start > nstart) return -Errno.ENOMEM;
    // PROT_GROWSUP needs a VM_GROWSUP VMA, which x86 does not have.
    if (growsUp) return -Errno.EINVAL;
  }
  // Walk the VMAs as Linux's VMA iterator does: after each fixup continue
  // from the end of the VMA that now covers the range (it may have merged).
  let tmp = vma.start;
  for (;;) {
    if (vma.start !== tmp) return -Errno.ENOMEM;
    const newFlags = calcVmProtBits(reqprot) | (vma.flags & ~VM_ACCESS_FLAGS);
    if ((newFlags & ~(newFlags >> 4)) & VM_ACCESS_FLAGS) return -Errno.EACCES;
    const stop = Math.min(vma.end, end);
    const from = Math.max(nstart, vma.start);
    const err = mprotectFixup(mm, vma, from, stop, newFlags);
    if (err) return err;
    // Continue after the VMA that now covers the range (mprotect_fixup's *pprev): no second search.
    const covering = fixedVma !== null && fixedVma.start <= from && from < fixedVma.end ? fixedVma : mm.vmas.lookup(from);
    tmp = covering?.end ?? stop;
    nstart = tmp;
    if (tmp >= end) break;
    const next = mm.vmas.findVma(tmp);
    if (!next || next.start >= end) break;
    vma = next;
  }
  if (tmp < end) return -Errno.ENOMEM;
  return 0;
}
