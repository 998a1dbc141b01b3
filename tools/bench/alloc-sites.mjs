// Where a benchmark workload allocates: V8's sampling heap profiler, told to
// keep the objects the young-generation collector frees (the short-lived heap
// numbers and bigints that make up the model's allocation), over N operations
// after a warm-up, printed as bytes per operation by allocating function.
//
//   npm run build
//   node tools/bench/alloc-sites.mjs mmap_munmap_4k|mprotect_split_merge|anon_fault_4k|hugetlb_map_fault_unmap_2m [--ops N]
//
// A sample belongs to the innermost function V8 reports, inlined ones
// included; which calls V8 inlines varies from process to process, so compare
// totals over a few runs rather than single lines.

import inspector from 'node:inspector';
import { MADV, MAP, PROT } from '@mmsim/base';
import { poke, sysMadvise, sysMmap, sysMprotect, sysMunmap } from '@mmsim/syscalls';
import { benchMachine, makeRegion } from './model.mjs';

const PAGE = 4096;
const RW = BigInt(PROT.READ | PROT.WRITE);
const RO = BigInt(PROT.READ);
const PRIVATE_ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);

const USAGE = 'usage: node tools/bench/alloc-sites.mjs mmap_munmap_4k|mprotect_split_merge|anon_fault_4k|hugetlb_map_fault_unmap_2m [--ops N]';

/** One operation of each workload (as in model.mjs, at V = 16), on a fresh machine. */
function workload(name) {
  const m = benchMachine();
  switch (name) {
    case 'mmap_munmap_4k': {
      makeRegion(m, 16);
      return () => sysMunmap(m, sysMmap(m, 0n, 4096n, RW, PRIVATE_ANON, -1n, 0n), 4096n);
    }
    case 'mprotect_split_merge': {
      const odd = makeRegion(m, 16) + 5n * BigInt(PAGE);
      return () => {
        sysMprotect(m, odd, 4096n, RW);
        sysMprotect(m, odd, 4096n, RO);
      };
    }
    case 'anon_fault_4k': {
      const pages = 4096;
      let base = 0n;
      let i = 0;
      return () => {
        if (i === 0) {
          if (base) sysMunmap(m, base, BigInt(pages * PAGE));
          base = sysMmap(m, 0n, BigInt(pages * PAGE), RW, PRIVATE_ANON, -1n, 0n);
          sysMadvise(m, base, BigInt(pages * PAGE), BigInt(MADV.NOHUGEPAGE));
        }
        poke(m, base + BigInt(i * PAGE), 1);
        i = (i + 1) % pages;
      };
    }
    case 'hugetlb_map_fault_unmap_2m': {
      m.vfs.hugetlb.hstateForKb(2048).setMaxHugePages(4);
      const flags = BigInt(MAP.PRIVATE | MAP.ANONYMOUS | MAP.HUGETLB);
      return () => {
        const a = sysMmap(m, 0n, 2n << 20n, RW, flags, -1n, 0n);
        poke(m, a, 1);
        sysMunmap(m, a, 2n << 20n);
      };
    }
    default:
      return undefined;
  }
}

const args = process.argv.slice(2);
const opsAt = args.indexOf('--ops');
const ops = opsAt >= 0 ? Number(args[opsAt + 1]) : 200_000;
const op = workload(args[0]);
if (!op || !(ops > 0)) {
  console.error(USAGE);
  process.exit(2);
}
for (let i = 0; i < 300_000; i++) op();

const session = new inspector.Session();
session.connect();
const post = (method, params) => new Promise((ok, fail) => session.post(method, params, (e, r) => (e ? fail(e) : ok(r))));
await post('HeapProfiler.startSampling', { samplingInterval: 256, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
for (let i = 0; i < ops; i++) op();
const { profile } = await post('HeapProfiler.stopSampling');

const bySite = new Map();
let total = 0;
const walk = (node) => {
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  if (node.selfSize) {
    bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const c of node.children) walk(c);
};
walk(profile.head);
console.log(`${args[0]}: ~${(total / ops).toFixed(0)} bytes allocated per operation (sampled), by function:`);
for (const [key, bytes] of [...bySite].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  if (bytes / ops < 0.5) break;
  console.log(`${(bytes / ops).toFixed(1).padStart(8)} B  ${key}`);
}
