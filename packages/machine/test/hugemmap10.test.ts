// LTP hugemmap10's counter arithmetic, checked twice: the golden trace recorded
// on the host kernel (conformance/peer/ltp-hugemmap10.trace) must follow the
// formulas, and the model's replay must give the same counters at every step.
//
// The formulas (LTP testcases/kernel/mem/hugetlb/hugemmap/hugemmap10.c):
//   shared (and reserved private) mmap of n pages: rsvd += n, any shortfall
//   becomes surplus pages with total/free raised; a touch: free -= n, rsvd -= n;
//   munmap of a private mapping: touched pages go back to the pool, unused
//   reservations are released; a shared mapping's pages and reservations stay
//   with the file until it is truncated or removed; resizing nr_hugepages below
//   the pages in use turns the difference into surplus.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseTrace, type CallStep, type TraceResult } from '@mmsim/trace';
import { replayTrace } from '../src/index.js';

const file = fileURLToPath(new URL('../../../conformance/peer/ltp-hugemmap10.trace', import.meta.url));
const trace = parseTrace(readFileSync(file, 'utf8'), file);
const counterSteps = trace.body.filter((s): s is CallStep => s.kind === 'call' && s.call === 'hugepages');

type Counters = { total: number; free: number; rsvd: number; surp: number };
const counters = (r: TraceResult | undefined): Counters => {
  if (!r || r.kind !== 'hugepages') throw new Error('not a counter result');
  return { total: Number(r.total), free: Number(r.free), rsvd: Number(r.rsvd), surp: Number(r.surp) };
};

// Expected counters after each hugepages() step, derived by hand from the
// formulas above for the scenario's sequence (pool 3, overcommit 2).
const expected: Counters[] = [
  { total: 3, free: 3, rsvd: 0, surp: 0 }, // start
  { total: 3, free: 3, rsvd: 1, surp: 0 }, // shared mmap 1: rsvd += 1
  { total: 3, free: 3, rsvd: 1, surp: 0 }, // munmap shared: unchanged
  { total: 3, free: 3, rsvd: 0, surp: 0 }, // file removed: reservation released
  { total: 3, free: 2, rsvd: 0, surp: 0 }, // shared touched: free -= 1, rsvd -= 1
  { total: 3, free: 2, rsvd: 0, surp: 0 }, // munmap shared: page stays in the file
  { total: 3, free: 3, rsvd: 0, surp: 0 }, // truncate: page freed
  { total: 3, free: 3, rsvd: 1, surp: 0 }, // private mmap: rsvd += 1
  { total: 3, free: 3, rsvd: 0, surp: 0 }, // munmap untouched private: released
  { total: 3, free: 2, rsvd: 0, surp: 0 }, // private touched
  { total: 3, free: 3, rsvd: 0, surp: 0 }, // munmap touched private: page back
  { total: 5, free: 5, rsvd: 5, surp: 2 }, // 5-page shared mmap: 2 pages of surplus
  { total: 5, free: 1, rsvd: 1, surp: 2 }, // 4 touched
  { total: 5, free: 1, rsvd: 1, surp: 4 }, // nr_hugepages=1: 4 pages beyond it are surplus
  { total: 5, free: 1, rsvd: 1, surp: 1 }, // nr_hugepages=4: surplus converted back
  { total: 5, free: 1, rsvd: 1, surp: 3 }, // nr_hugepages=2
  { total: 2, free: 2, rsvd: 0, surp: 0 }, // last reference gone: surplus pages freed to the kernel
  { total: 3, free: 3, rsvd: 0, surp: 0 }, // nr_hugepages=3
];

describe('LTP hugemmap10 counter arithmetic', () => {
  it('the recorded kernel follows the formulas', () => {
    expect(counterSteps.map((s) => counters(s.result))).toEqual(expected);
  });

  it('the model gives the kernel\'s counters after every step', () => {
    const { results } = replayTrace(trace);
    expect(counterSteps.map((s) => counters(results.get(s) as TraceResult))).toEqual(expected);
  });
});
