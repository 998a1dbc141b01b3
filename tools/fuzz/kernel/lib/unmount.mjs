// What the recorder's unmount of a scenario's hugetlbfs mounts will do to
// the host's huge page pools, predicted by the model.
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
 * Why unmounting after this scenario would break a huge page pool of the
 * host, or undefined when it would not (or the model cannot tell).
 */
export function unmountHazard(text, file = 'scenario.trace') {
  let m;
  try {
    m = replayTrace(parseTrace(text, file)).machine;
  } catch {
    return undefined; // not the model's to judge; the recorder will say what is wrong
  }
  if (!m.vfs.hugetlb.subpools.some((sp) => sp.min !== -1)) return undefined;
  // The executor exits (its mappings and descriptors go), then the recorder unmounts (the files are evicted).
  for (const vma of [...m.mm.vmas.all()]) sys.sysMunmap(m, BigInt(vma.start) << 12n, BigInt(vma.end - vma.start) << 12n);
  for (const [fd] of [...m.files.entries()]) sys.sysClose(m, BigInt(fd));
  for (const [path] of m.vfs.linkedFiles()) sys.sysUnlinkat(m, AT_FDCWD, path, 0n);
  for (const h of m.vfs.hugetlb.hstates.values()) {
    let after = h.resv;
    for (const sp of m.vfs.hugetlb.subpools) {
      if (sp.hstate !== h || sp.min === -1) continue;
      // subpool_is_free: with a maximum when nothing is charged, else when the minimum is whole.
      const freed = sp.max !== -1 ? sp.used === 0 : sp.rsv === sp.min;
      if (freed) after -= sp.min;
    }
    if (after < 0) return `unmounting would take HugePages_Rsvd of the ${h.sizeKb}kB pool below zero (a min_size= mount lost its minimum: a Linux 6.18 bug)`;
    if (after > 0) return `unmounting would leave ${after} reservation(s) of the ${h.sizeKb}kB pool held for good (a min_size= subpool that is not free)`;
  }
  return undefined;
}
