// Replays every golden trace with checkInvariants after each step, then tears
// the address space down (munmap everything, close every descriptor, unlink
// every file) and checks that no frame and no huge page leaked.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import * as sys from '@mmsim/syscalls';
import { formatStep, parseTrace } from '@mmsim/trace';
import type { Vma } from '@mmsim/mm-core';
import {
  bootFromHeader,
  checkInvariants,
  framesInUse,
  persistentFrames,
  replayTrace,
  unaccountedStackGrowth,
  unaccountedStacks,
  type Machine,
} from '../src/index.js';
import { ownConformance, traceFiles } from './conformance-lib.js';

const files = traceFiles(ownConformance); // conformance/given (the given set) and the project's own

/** Pool counters per size, for before/after comparisons. */
function pools(m: Machine): Record<string, string> {
  const out: Record<string, string> = {};
  for (const h of m.vfs.hugetlb.hstates.values()) out[h.sizeKb] = `total ${h.total} free ${h.free} rsvd ${h.resv} surp ${h.surplus}`;
  return out;
}

/**
 * The pools as a teardown must leave them, given how boot left them: the
 * same. Except that a mount's minimum (min_size=) gathered as surplus pages
 * may be held without them: a page freed while surplus pages exist refills
 * the minimum and goes back to the buddy allocator
 * (fuzz-probe-hugetlb-min-refill-surplus). The persistent pages, the
 * reservations and "no page in use" stay exact.
 */
function expectedPools(booted: Machine, after: Machine): { pools: Record<string, string>; framesReturned: number } {
  const out = pools(booted);
  let framesReturned = 0;
  for (const h of after.vfs.hugetlb.hstates.values()) {
    const minimum = after.vfs.hugetlb.subpools.some((sp) => sp.hstate === h && sp.min !== -1);
    const boot = [...booted.vfs.hugetlb.hstates.values()].find((b) => b.sizeKb === h.sizeKb);
    if (!minimum || boot === undefined || h.surplus > boot.surplus) continue;
    const persistent = boot.total - boot.surplus;
    out[h.sizeKb] = `total ${persistent + h.surplus} free ${persistent + h.surplus} rsvd ${boot.resv} surp ${h.surplus}`;
    framesReturned += (boot.surplus - h.surplus) * h.pages;
  }
  return { pools: out, framesReturned };
}

/** munmap every VMA, close every descriptor, unlink every file: what exit + rm -rf leave behind is a leak. */
export function tearDown(m: Machine): string[] {
  const errors: string[] = [];
  for (const vma of [...m.mm.vmas.all()]) {
    if (!m.mm.vmas.all().includes(vma)) continue;
    const r = sys.sysMunmap(m, BigInt(vma.start) << 12n, BigInt(vma.pages) << 12n);
    if (r !== 0n) errors.push(`munmap ${vma.start.toString(16)}: ${r}`);
  }
  for (const [fd] of [...m.files.entries()]) sys.sysClose(m, BigInt(fd));
  for (const [path] of m.vfs.linkedFiles()) sys.sysUnlinkat(m, -100n, path, 0n);
  return errors;
}

describe('invariants hold after every step of every golden trace', () => {
  it('finds the traces', () => {
    expect(files.length).toBeGreaterThanOrEqual(52);
  });
  for (const file of files) {
    it(basename(file), () => {
      const trace = parseTrace(readFileSync(file, 'utf8'), file);
      const violations: string[] = [];
      // Linux's MREMAP_DONTUNMAP of a locked VMA leaves locked_vm counting the
      // source pages (dontunmap_complete: "we won't unmap"): allow that drift
      // once such a call has run, never locked_vm below the VM_LOCKED pages.
      let drift = false;
      let poolsShrunk = false;
      // Stack growth of a grows-down VMA without VM_ACCOUNT is charged for good
      // (acct_stack_growth): measured around each user access.
      let commitDrift = 0;
      let stacks: Map<Vma, number> = new Map();
      const { machine } = replayTrace(trace, {
        afterStep: (step, m) => {
          if (step.kind === 'call' && step.call === 'mremap' && BigInt(step.args[3]?.value ?? 0n) & 4n) drift = true;
          // Writing nr_hugepages / nr_overcommit_hugepages may leave surplus above
          // nr_overcommit (set_max_huge_pages keeps pages in use as surplus).
          if (step.kind === 'call' && step.call === 'fill') {
            const path = (m.files.peek(Number(step.args[0]?.value ?? -1)) as { openPath?: string } | undefined)?.openPath ?? '';
            if (/hugepages/.test(path)) poolsShrunk = true;
          }
          if (step.kind === 'call' && (step.call === 'peek' || step.call === 'poke')) commitDrift += unaccountedStackGrowth(stacks);
          stacks = unaccountedStacks(m);
          if (violations.length > 20) return;
          for (const msg of checkInvariants(m, { allowLockedVmDrift: drift, commitDrift, poolsShrunk, verifyTree: false })) {
            violations.push(`${basename(file)}:${step.pos.line}: ${step.kind === 'call' ? formatStep(step) : '@maps'}\n    ${msg}`);
          }
        },
      });
      expect(violations, violations.join('\n')).toEqual([]);

      // Leak check: a fresh boot of the same header, torn down the same way, is the reference
      // (boot reads the vDSO's first page: its page tables go with the VMAs, the page stays cached).
      const { machine: fresh } = bootFromHeader(trace.header);
      expect(tearDown(fresh)).toEqual([]);
      const bootFrames = framesInUse(fresh) - persistentFrames(fresh);
      const bootFree = fresh.kernel.frames.freeFrames() + persistentFrames(fresh);
      expect(tearDown(machine)).toEqual([]);
      expect(checkInvariants(machine, { allowLockedVmDrift: drift, commitDrift, poolsShrunk })).toEqual([]);
      expect(machine.mm.vmas.size).toBe(0);
      // Page-table pages: with no VMA left only the top level may remain.
      expect(machine.mm.pageTable.tablePages()).toBe(1);
      // The torn-down fresh machine holds only its top-level table too, so frames must match exactly.
      expect(fresh.mm.pageTable.tablePages()).toBe(1);
      const expected = expectedPools(fresh, machine);
      expect(pools(machine)).toEqual(expected.pools);
      // Program-image and vdso pages stay cached, as on a real system; nothing else may remain.
      const kept = persistentFrames(machine);
      expect(framesInUse(machine)).toBe(bootFrames + kept - expected.framesReturned);
      expect(machine.kernel.frames.freeFrames()).toBe(bootFree - kept + expected.framesReturned);
      expect(machine.mm.totalVm).toBe(0);
      if (!drift) expect(machine.mm.lockedVm).toBe(0);
    });
  }
});
