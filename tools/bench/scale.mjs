// The scale figures of `npm run bench`, each measured in a fresh Node process
// (run with --expose-gc) so that nothing else is on its heap:
//
//   node --expose-gc tools/bench/scale.mjs vmas [count]   heap bytes per VMA
//   node --expose-gc tools/bench/scale.mjs tib            a 1 TiB machine: build, then fault in and free 1 GiB
//
// Prints one JSON object.

import { MADV, MAP, PROT } from '@mmsim/base';
import { createMachine } from '@mmsim/machine';
import { isSysError, poke, sysMadvise, sysMmap, sysMprotect, sysMunmap } from '@mmsim/syscalls';

if (typeof globalThis.gc !== 'function') {
  console.log(JSON.stringify({ error: 'run with node --expose-gc' }));
  process.exit(2);
}

/** The heap after full collections: V8's used heap, and the ArrayBuffer memory outside it. */
function heap() {
  for (let i = 0; i < 3; i++) globalThis.gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, external: m.external };
}

function check(what, r) {
  if (isSysError(r)) throw new Error(`${what} failed: ${r}`);
  return r;
}

const RW = BigInt(PROT.READ | PROT.WRITE);
const PRIVATE_ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);

function vmas(count) {
  const m = createMachine({ config: { maxMapCount: count + 1000 } });
  const before = heap();
  // One read-only region of `count` pages, every other page made read-write:
  // each mprotect splits the region, so `count` pages become `count` VMAs.
  const base = check('mmap', sysMmap(m, 0n, BigInt(count) * 4096n, BigInt(PROT.READ), PRIVATE_ANON, -1n, 0n));
  const t0 = performance.now();
  for (let p = 0; p < count; p += 2) check('mprotect', sysMprotect(m, base + BigInt(p) * 4096n, 4096n, RW));
  const ms = performance.now() - t0;
  const after = heap();
  const n = m.mm.mapCount;
  return {
    figure: 'heap_per_vma',
    vmas: n,
    build_ms: ms,
    heap_bytes_per_vma: (after.heapUsed - before.heapUsed) / n,
    total_bytes_per_vma: (after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers) / n,
    keep: m.mm.mapCount > 0,
  };
}

function tib() {
  const start = heap();
  const t0 = performance.now();
  const m = createMachine({ config: { memTotalKb: 2 ** 30 } }); // 1 TiB
  const buildMs = performance.now() - t0;
  const built = heap();
  // Warm up the fault and unmap paths first (16 MiB), so that code the JIT
  // compiles for them is not counted as memory the pages kept.
  const warm = check('mmap', sysMmap(m, 0n, 16n << 20n, RW, PRIVATE_ANON, -1n, 0n));
  check('madvise', sysMadvise(m, warm, 16n << 20n, BigInt(MADV.NOHUGEPAGE)));
  for (let off = 0n; off < 16n << 20n; off += 4096n) poke(m, warm + off, 1);
  check('munmap', sysMunmap(m, warm, 16n << 20n));
  const len = 1 << 30;
  const base = check('mmap', sysMmap(m, 0n, BigInt(len), RW, PRIVATE_ANON, -1n, 0n));
  check('madvise', sysMadvise(m, base, BigInt(len), BigInt(MADV.NOHUGEPAGE)));
  const mapped = heap();
  const t1 = performance.now();
  for (let off = 0; off < len; off += 4096) {
    const r = poke(m, base + BigInt(off), 1);
    if (r.signal !== null) throw new Error(`fault at +${off}: ${r.signal}`);
  }
  const faultMs = performance.now() - t1;
  const faulted = heap();
  const storedFaulted = m.kernel.phys.storedFrames;
  const contentFaulted = m.kernel.phys.contentBytes;
  const rss = m.mm.totalVm;
  const t2 = performance.now();
  check('munmap', sysMunmap(m, base, BigInt(len)));
  const freeMs = performance.now() - t2;
  const freed = heap();
  return {
    figure: 'tib_machine',
    frames: m.frames.totalFrames,
    build_ms: buildMs,
    build_heap_bytes: built.heapUsed - start.heapUsed,
    build_total_bytes: built.heapUsed + built.arrayBuffers - start.heapUsed - start.arrayBuffers,
    fault_pages: len / 4096,
    fault_ms: faultMs,
    free_ms: freeMs,
    heap_start: mapped.heapUsed,
    heap_faulted: faulted.heapUsed,
    heap_freed: freed.heapUsed,
    heap_return_pct: (100 * (freed.heapUsed - mapped.heapUsed)) / mapped.heapUsed,
    contents_faulted: faulted.arrayBuffers - mapped.arrayBuffers,
    contents_freed: freed.arrayBuffers - mapped.arrayBuffers,
    total_vm: rss,
    stored_frames_faulted: storedFaulted,
    content_bytes_faulted: contentFaulted,
    content_bytes_freed: m.kernel.phys.contentBytes,
  };
}

const [what, arg] = process.argv.slice(2);
const result = what === 'vmas' ? vmas(Number(arg ?? 1_000_000)) : what === 'tib' ? tib() : { error: `unknown figure ${what}` };
console.log(JSON.stringify(result));
