// What the end of a recording (the process exits, the recorder unmounts the
// scenario's hugetlbfs mounts) will do to the host's huge page pools,
// predicted by the model.
//
// Linux 6.18 leaks a reservation when part of a private hugetlb mapping is
// moved by mremap (the source VMA's reservation map is dropped whole, so what
// the part left behind had reserved is never given back): the pool then keeps
// HugePages_Rsvd above zero with no owner, and the recorder cannot restore
// nr_hugepages. Seed 2121 (scenario 30) left the 2 MiB pool so before this
// check covered it.
//
// Linux 6.18 can leave a min_size= subpool holding less than its minimum (a
// failed reservation on the mount gives the minimum's share to the pool; see
// tools/fuzz/kernel/host-findings/hugetlb-min-size-resv-underflow.c), and
// unmounting then gives back the whole minimum: HugePages_Rsvd goes below
// zero and the pool cannot shrink until it is repaired by hand. A subpool
// that is not free at unmount keeps its reservations for good instead. Both
// leave the host unable to restore its pools, so such a scenario is not
// recorded. Inside a trace the model answers exactly as the kernel does (the
// probe fuzz-probe-hugetlb-min-reserve-fail), which is what makes the
// prediction trustworthy.

import { replayTrace } from '@mmsim/machine';
import * as sys from '@mmsim/syscalls';
import { parseTrace } from '@mmsim/trace';

const AT_FDCWD = BigInt.asUintN(64, -100n);

/**
 * Why the end of this scenario's recording would break a huge page pool of
 * the host, or undefined when it would not (or the model cannot tell).
 */
export function unmountHazard(text, file = 'scenario.trace') {
  let m;
  try {
    m = replayTrace(parseTrace(text, file)).machine;
  } catch {
    return undefined; // not the model's to judge; the recorder will say what is wrong
  }
  // The executor exits (its mappings and descriptors go), then the recorder unmounts (the files are evicted).
  for (const vma of [...m.mm.vmas.all()]) sys.sysMunmap(m, BigInt(vma.start) << 12n, BigInt(vma.end - vma.start) << 12n);
  for (const [fd] of [...m.files.entries()]) sys.sysClose(m, BigInt(fd));
  for (const [path] of m.vfs.linkedFiles()) sys.sysUnlinkat(m, AT_FDCWD, path, 0n);
  for (const h of m.vfs.hugetlb.hstates.values()) {
    let after = h.resv;
    let minimumHeld = false;
    for (const sp of m.vfs.hugetlb.subpools) {
      if (sp.hstate !== h || sp.min === -1) continue;
      // subpool_is_free: with a maximum when nothing is charged, else when the minimum is whole.
      const freed = sp.max !== -1 ? sp.used === 0 : sp.rsv === sp.min;
      if (freed) after -= sp.min;
      else minimumHeld = true;
    }
    if (after < 0) return `unmounting would take HugePages_Rsvd of the ${h.sizeKb}kB pool below zero (a min_size= mount lost its minimum: a Linux 6.18 bug)`;
    if (after > 0 && minimumHeld) return `unmounting would leave ${after} reservation(s) of the ${h.sizeKb}kB pool held for good (a min_size= subpool that is not free)`;
    if (after > 0) return `the process would leave ${after} reservation(s) of the ${h.sizeKb}kB pool held for good (leaked by the kernel: part of a private hugetlb mapping moved by mremap)`;
  }
  return undefined;
}
