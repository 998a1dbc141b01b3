// The model side of `npm run bench`: the workloads of issue 7 run on the built
// packages — a process booted by @mmsim/machine's bootFromHeader, driven through the
// system-call functions of @mmsim/syscalls exactly as a trace replay drives it.

import { MADV, MAP, PROT, safeNumberToU64 } from '@mmsim/base';
import { AccessKind } from '@mmsim/arch';
import { x86Translate } from '@mmsim/arch/x86-64';
import { readFileSync } from 'node:fs';
import { bootFromHeader } from '@mmsim/machine';
import { parseTrace } from '@mmsim/trace';
import { isSysError, peek, poke, sysMadvise, sysMmap, sysMprotect, sysMunmap } from '@mmsim/syscalls';
import { measure, median } from './harness.mjs';

const PAGE = 4096;
const RW = BigInt(PROT.READ | PROT.WRITE);
const RO = BigInt(PROT.READ);
const PRIVATE_ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);

function check(what, r) {
  if (typeof r === 'bigint' && isSysError(r)) throw new Error(`${what} failed: ${r}`);
  return r;
}

const PROCESS_HEADER = parseTrace(readFileSync(new URL('./process.trace', import.meta.url), 'utf8')).header;

/**
 * The machine a workload runs on: a process booted from `process.trace` (a
 * recorded process's program image, heap, vDSO and stack, the vDSO page
 * resident), as the native side runs in a process whose page tables near the
 * mmap base exist — an empty address space would let the model skip the
 * page-table walks the kernel makes. Its map count limit lets the V-workloads
 * build 2V+2 VMAs.
 */
export function benchMachine() {
  const header = { ...PROCESS_HEADER, config: { ...PROCESS_HEADER.config, max_map_count: 4_000_000 } };
  return bootFromHeader(header).machine;
}

/** The V-workloads' starting state: 2V+2 pages read-only, every even page read-write. */
export function makeRegion(m, v) {
  const pages = 2 * v + 2;
  const base = check('mmap region', sysMmap(m, 0n, BigInt(pages * PAGE), RO, PRIVATE_ANON, -1n, 0n));
  for (let p = 0; p < pages; p += 2) check('mprotect', sysMprotect(m, base + BigInt(p * PAGE), BigInt(PAGE), RW));
  return base;
}

/**
 * The timed batch of a V-workload on a fresh machine holding its region:
 * `{ ops, batch, maps }`. Built once per segment by MODEL_WORKLOADS, and twice
 * (for the low and the high V) by pairedScaling.
 */
export const V_WORKLOADS = {
  mmap_munmap_4k(v) {
    const m = benchMachine();
    makeRegion(m, v);
    const n = 20000;
    const len = BigInt(PAGE);
    return {
      ops: n,
      batch() {
        for (let i = 0; i < n; i++) {
          const a = sysMmap(m, 0n, len, RW, PRIVATE_ANON, -1n, 0n);
          if (sysMunmap(m, a, len) !== 0n) throw new Error('munmap failed');
        }
      },
      maps: () => m.mm.mapCount,
    };
  },

  mprotect_split_merge(v) {
    const m = benchMachine();
    const base = makeRegion(m, v);
    const n = 20000;
    const len = BigInt(PAGE);
    // The odd page of every pair, made per call as the C side computes it in a register: a
    // precomputed table of V bigints would be cold memory at V = 60000 (the table slot and
    // the bigint object: two cache misses per call, the harness's cost and not the model's).
    const baseNum = Number(base);
    let i = 0;
    return {
      ops: 2 * n,
      batch() {
        for (let k = 0; k < n; k++, i++) {
          const p = safeNumberToU64(baseNum + (2 * ((i * 7919) % v) + 1) * PAGE);
          if (sysMprotect(m, p, len, RW) !== 0n || sysMprotect(m, p, len, RO) !== 0n) throw new Error('mprotect failed');
        }
      },
      maps: () => m.mm.mapCount,
    };
  },
};

/**
 * The scaling of a V-workload measured in pairs: machines at `vLow` and
 * `vHigh` built side by side, their rounds taken in turn (low–high, then
 * high–low), and each pair's ratio high ÷ low. A shared host's speed changes
 * by up to 2× from one second to the next; two rounds a few milliseconds apart
 * see the same speed, two workloads measured a minute apart need not.
 * Returns the median of the pair ratios, their range, and each side's median.
 */
export function pairedScaling(name, vLow, vHigh, rounds, warmup) {
  const lo = V_WORKLOADS[name](vLow);
  const hi = V_WORKLOADS[name](vHigh);
  const loSamples = [];
  const hiSamples = [];
  const ratios = [];
  for (let r = 0; r < rounds; r++) {
    const w = r === 0 ? warmup : 0;
    const first = r % 2 === 0 ? lo : hi;
    const second = first === lo ? hi : lo;
    const a = measure(`${name} V=${first === lo ? vLow : vHigh}`, first, 1, w).samples[0];
    const b = measure(`${name} V=${second === lo ? vLow : vHigh}`, second, 1, w).samples[0];
    const [l, h] = first === lo ? [a, b] : [b, a];
    loSamples.push(l);
    hiSamples.push(h);
    ratios.push(h / l);
  }
  return {
    ratio: median(ratios),
    min: Math.min(...ratios),
    max: Math.max(...ratios),
    lowNs: median(loSamples),
    highNs: median(hiSamples),
    highMaps: hi.maps(),
  };
}

/** The workloads. Each returns a measurement plus the map count it ran at. */
export const MODEL_WORKLOADS = {
  mmap_munmap_4k(v, rounds, warmup) {
    const w = V_WORKLOADS.mmap_munmap_4k(v);
    return { ...measure(`mmap_munmap_4k V=${v}`, w, rounds, warmup), maps: w.maps() };
  },

  mprotect_split_merge(v, rounds, warmup) {
    const w = V_WORKLOADS.mprotect_split_merge(v);
    return { ...measure(`mprotect_split_merge V=${v}`, w, rounds, warmup), maps: w.maps() };
  },

  anon_fault_4k(_v, rounds, warmup) {
    const m = benchMachine();
    const len = 64 << 20;
    const pages = len / PAGE;
    let addrs = [];
    let base = 0n;
    const r = measure(
      'anon_fault_4k',
      {
        ops: pages,
        before() {
          base = check('mmap', sysMmap(m, 0n, BigInt(len), RW, PRIVATE_ANON, -1n, 0n));
          check('madvise', sysMadvise(m, base, BigInt(len), BigInt(MADV.NOHUGEPAGE)));
          // The page addresses (bigints, as the call takes them), made again only if the mapping
          // moved: a fresh list per batch would be young objects the collector copies during the
          // timed batch, a cost of the benchmark and not of the fault.
          if (addrs.length !== pages || addrs[0] !== base) addrs = Array.from({ length: pages }, (_, i) => base + BigInt(i * PAGE));
        },
        batch() {
          for (let i = 0; i < pages; i++) {
            if (poke(m, addrs[i], 1).signal !== null) throw new Error('fault failed');
          }
        },
        after() {
          check('munmap', sysMunmap(m, base, BigInt(len)));
        },
      },
      rounds,
      warmup,
    );
    return { ...r, maps: m.mm.mapCount };
  },

  hugetlb_map_fault_unmap_2m(_v, rounds, warmup) {
    const m = benchMachine();
    const h = m.vfs.hugetlb.hstateForKb(2048);
    h.setMaxHugePages(4);
    const n = 2000;
    const len = 2n << 20n;
    const flags = BigInt(MAP.PRIVATE | MAP.ANONYMOUS | MAP.HUGETLB);
    const r = measure(
      'hugetlb_map_fault_unmap_2m',
      {
        ops: n,
        batch() {
          for (let i = 0; i < n; i++) {
            const a = sysMmap(m, 0n, len, RW, flags, -1n, 0n);
            if (poke(m, a, 1).signal !== null) throw new Error('hugetlb fault failed');
            if (sysMunmap(m, a, len) !== 0n) throw new Error('munmap failed');
          }
        },
      },
      rounds,
      warmup,
    );
    return { ...r, maps: m.mm.mapCount };
  },

  /**
   * Byte reads through the MMU (x86Translate, whose TLB holds every
   * translation of the region, then PhysicalMemory.read) at the same offsets
   * as the plain Uint8Array read it is compared with, inside one 2 MiB-aligned
   * region whose 512 pages are mapped and hold data. The peek() figure is the
   * same read through the public entry (bigint address, fault handling).
   */
  tlb_hit_read(_v, rounds, warmup) {
    const m = benchMachine();
    const len = 2 << 20;
    // A 2 MiB anonymous mapping is placed 2 MiB-aligned (thp_get_unmapped_area): one PTE table.
    const base = check('mmap', sysMmap(m, 0n, BigInt(len), RW, PRIVATE_ANON, -1n, 0n));
    check('madvise', sysMadvise(m, base, BigInt(len), BigInt(MADV.NOHUGEPAGE)));
    for (let i = 0; i < len; i += PAGE) poke(m, base + BigInt(i), (i >>> 12) & 0xff || 1);
    const vpn0 = Number(base >> 12n);
    const pt = m.mm.pageTable;
    const phys = m.kernel.phys;
    const n = 1 << 22;
    const mask = len - 1;
    let sink = 0;
    const tlbStats = pt.tlb?.stats;
    const hits0 = tlbStats?.hits ?? 0;
    const misses0 = tlbStats?.misses ?? 0;
    // The imported function and access kind as locals, as a program reading
    // in a loop would hold them: an ES-module import read inside the loop is
    // re-checked by optimised code on every iteration (a cell load, a hole
    // check, and for AccessKind.READ a map check and a field load), which is
    // not the MMU's cost. The plain Uint8Array loop below has no import to read.
    const translate = x86Translate;
    const READ = AccessKind.READ;
    const modelBatch = {
      ops: n,
      batch() {
        let acc = 0;
        let off = 12345;
        for (let i = 0; i < n; i++) {
          off = (off + 4099 * 7 + 1) & mask;
          const pfn = translate(pt, vpn0 + (off >>> 12), READ);
          acc += phys.read(pfn, off & 4095);
        }
        sink += acc;
      },
    };
    const buf = new Uint8Array(len);
    for (let i = 0; i < len; i++) buf[i] = i & 0xff;
    const plainBatch = {
      ops: n,
      batch() {
        let acc = 0;
        let off = 12345;
        for (let i = 0; i < n; i++) {
          off = (off + 4099 * 7 + 1) & mask;
          acc += buf[off];
        }
        sink += acc;
      },
    };
    // The two loops take turns, one round each (warm-up rounds before the first), so
    // that both are timed in the same stretches of a shared host's changing speed.
    const modelSamples = [];
    const plainSamples = [];
    for (let r = 0; r < rounds; r++) {
      modelSamples.push(...measure('tlb_hit_read model', modelBatch, 1, r === 0 ? warmup : 0).samples);
      plainSamples.push(...measure('tlb_hit_read Uint8Array', plainBatch, 1, r === 0 ? warmup : 0).samples);
    }
    const modelRead = { nsPerOp: median(modelSamples), rounds, ops: n, samples: modelSamples };
    const plain = { nsPerOp: median(plainSamples), rounds, ops: n, samples: plainSamples };
    // The same reads as peek() makes them (bigint address, fault check): for reference.
    const addrs = Array.from({ length: 4096 }, (_, i) => base + BigInt((i * 28695) & mask));
    const viaPeek = measure(
      'tlb_hit_read peek',
      {
        ops: 4096 * 16,
        batch() {
          let acc = 0;
          for (let r = 0; r < 16; r++) for (let i = 0; i < 4096; i++) acc += peek(m, addrs[i]).value;
          sink += acc;
        },
      },
      rounds,
      warmup,
    );
    if (sink === 42) console.log('');
    const hits = (tlbStats?.hits ?? 0) - hits0;
    const misses = (tlbStats?.misses ?? 0) - misses0;
    return { ...modelRead, maps: m.mm.mapCount, plain, viaPeek, tlbHitRate: tlbStats ? hits / Math.max(1, hits + misses) : null };
  },
};
