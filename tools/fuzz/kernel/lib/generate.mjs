// Scenario generation for the kernel fuzzer.
//
// A scenario is generated step by step ON THE MODEL: each candidate step is
// parsed with @mmsim/trace's reader, checked by the static safety rules
// (./safety.mjs), run on a machine booted from the scenario header
// (@mmsim/machine's runCall), and the model's result decides what later
// steps can refer to: the address a non-fixed mmap or a moving mremap
// returned, the descriptor openat returned, the mappings that now exist.
// Later steps only touch addresses the scenario knows (the private window,
// or mappings the model says it made). If the model is wrong, the recorded
// kernel results differ — which is exactly the divergence we are after —
// and the static rules keep the recorder safe regardless.

import { formatFlags, MAP_NAMES, PROT_NAMES, MREMAP_NAMES, OPEN_NAMES, formatAdvice } from '@mmsim/base';
import { bootFromHeader, runCall } from '@mmsim/machine';
import * as sys from '@mmsim/syscalls';
import { parseCallStep, parseTrace } from '@mmsim/trace';
import { Rng } from './rng.mjs';
import { GB1, MB2, PAGE, POPULATE_LIMIT, TASK_SIZE, U64, WINDOW_END, WINDOW_START, lexical, protectedRanges, unsafeReason } from './safety.mjs';

export const PROFILES = ['anon', 'file', 'hugetlb', 'errors', 'legacy', 'scale'];

export const TMPFS = '/dev/shm/mmsim';
export const HUGE2M = '/mnt/mmsim-huge';
export const HUGE1G = '/mnt/mmsim-huge1g';

// ------------------------------------------------------------------ header

/** The recorder's executable, fitted to the given traces' layout (tools/trace-recorder/README.md). */
const EXE_MAPS = `00400000-00401000 r--p 00000000 00:00 1                                  /usr/local/bin/mmsim-rec
00401000-0047b000 r-xp 00001000 00:00 1                                  /usr/local/bin/mmsim-rec
0047b000-004a3000 r--p 0007b000 00:00 1                                  /usr/local/bin/mmsim-rec
004a3000-004a7000 r--p 000a2000 00:00 1                                  /usr/local/bin/mmsim-rec
004a7000-004aa000 rw-p 000a6000 00:00 1                                  /usr/local/bin/mmsim-rec
004aa000-009c0000 rw-p 00000000 00:00 0 
009c0000-009e2000 rw-p 00000000 00:00 0                                  [heap]`;

/**
 * Where the vDSO lands, by layout and RLIMIT_STACK (as in the given traces:
 * gen-basic-1/-6/-8, gen-legacy-1/-3). Top-down: mmap_base = TASK_SIZE -
 * max(stack + 1 MiB guard, 128 MiB), clamped to 5/6 of TASK_SIZE for an
 * unlimited stack; legacy: TASK_UNMAPPED_BASE.
 */
const VDSO_AT = {
  'topdown:8388608': 0x7ffff7ff7000n,
  'topdown:1073741824': 0x7fffbfef7000n,
  'topdown:unlimited': 0x15555554e000n,
  'legacy:8388608': 0x2aaaaaaab000n,
  'legacy:unlimited': 0x2aaaaaaab000n,
};

const hex = (v) => '0x' + BigInt.asUintN(64, BigInt(v)).toString(16);
const pad8 = (v) => v.toString(16).padStart(8, '0');

function vdsoMaps(base) {
  const line = (s, e, perms, name) => `${pad8(s)}-${pad8(e)} ${perms} 00000000 00:00 0`.padEnd(73) + name;
  return [
    line(base, base + 0x4000n, 'r--p', '[vvar]'),
    line(base + 0x4000n, base + 0x6000n, 'r--p', '[vvar_vclock]'),
    line(base + 0x6000n, base + 0x8000n, 'r-xp', '[vdso]'),
  ].join('\n');
}

const CONFIG_ORDER = [
  'page_size', 'aslr', 'layout', 'privileged', 'rlimit_stack', 'rlimit_as', 'rlimit_data', 'rlimit_memlock',
  'max_map_count', 'mmap_min_addr', 'lsm_mmap_min_addr', 'overcommit_memory', 'overcommit_ratio', 'mem_total_kb',
  'swap_total_kb', 'fault_around_bytes', 'thp', 'hugepages_2048kB', 'hugepages_1048576kB',
  'overcommit_hugepages_2048kB', 'overcommit_hugepages_1048576kB', 'gbpages', 'la57',
];

/** The scenario header: comments, @kernel, the full @config, mounts, fds, brk and the starting @maps. */
export function headerText(cfg, host, comments) {
  const base = VDSO_AT[`${cfg.layout}:${cfg.rlimit_stack}`];
  if (base === undefined) throw new Error(`no vDSO position known for ${cfg.layout} with rlimit_stack=${cfg.rlimit_stack}`);
  const lines = ['# mmsim-trace 1', ...comments.map((c) => `# ${c}`)];
  lines.push(`@kernel release=${host.release} arch=x86_64`);
  lines.push('@config ' + CONFIG_ORDER.map((k) => `${k}=${cfg[k]}`).join(' '));
  const subpool = (mb, size) =>
    (cfg.hugetlbfsPages === undefined ? '' : ` size=${cfg.hugetlbfsPages * mb}M`) +
    (cfg.hugetlbfsMinMount === size ? ` min_size=${cfg.hugetlbfsMinPages * mb}M` : '');
  lines.push(`@mount tmpfs ${TMPFS}${cfg.tmpfsSize ? ` size=${cfg.tmpfsSize}` : ''}${cfg.tmpfsInodes ? ` nr_inodes=${cfg.tmpfsInodes}` : ''}`, `@mount hugetlbfs ${HUGE2M} pagesize=2M${subpool(2, '2M')}`);
  if (host.gbpages) lines.push(`@mount hugetlbfs ${HUGE1G} pagesize=1G${subpool(1024, '1G')}`);
  lines.push('@fd 0 pipe O_RDONLY', '@fd 1 pipe O_WRONLY', '@fd 2 /dev/null O_RDWR');
  lines.push('@brk start=0x9c0000 cur=0x9e2000');
  lines.push('@maps', EXE_MAPS, vdsoMaps(base),
    '7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0'.padEnd(73) + '[stack]',
    'ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0'.padEnd(73) + '[vsyscall]', '@end');
  return lines.join('\n') + '\n';
}

/**
 * A profile's @config, drawn from `rng`. `huge` is the huge page size the
 * hugetlb steps use: '2M' (the default hstate) or '1G' (for hosts whose
 * 2 MiB pool is busy; see README). `overcommit` lists the overcommit
 * policies a scenario may use (default all three); a draw outside it is
 * replaced by the first listed after the config's draws, so the rest of the
 * config is as without the restriction (the steps, which depend on the
 * policy, may differ).
 */
export function profileConfig(profile, rng, host, huge = '2M', overcommit = [0, 1, 2]) {
  // After the draws (so that everything drawn later is as without a restriction).
  const restrictPolicy = () => {
    if (overcommit.includes(c.overcommit_memory)) return;
    c.overcommit_memory = overcommit[0];
    c.overcommit_ratio = 50;
  };
  const c = {
    page_size: 4096, aslr: 0, layout: 'topdown', privileged: 0, rlimit_stack: '8388608', rlimit_as: 'unlimited',
    rlimit_data: 'unlimited', rlimit_memlock: '8388608', max_map_count: 65530, mmap_min_addr: 65536,
    lsm_mmap_min_addr: host.lsmMmapMinAddr, overcommit_memory: 0, overcommit_ratio: 50, mem_total_kb: host.memTotalKb,
    swap_total_kb: host.swapTotalKb, fault_around_bytes: 65536, thp: 'madvise', hugepages_2048kB: 0,
    hugepages_1048576kB: 0, overcommit_hugepages_2048kB: 0, overcommit_hugepages_1048576kB: 0,
    gbpages: host.gbpages ? 1 : 0, la57: 0,
  };
  const common = () => {
    c.rlimit_stack = rng.weighted([[8, '8388608'], [1, '1073741824'], [1, 'unlimited']]);
    c.privileged = rng.chance(0.1) ? 1 : 0;
    c.overcommit_memory = rng.weighted([[5, 0], [2, 1], [3, 2]]);
    if (c.overcommit_memory === 2) c.overcommit_ratio = rng.pick([50, 60, 80]);
    // A ratio one repeated digit can write back, for sysctlSequence's overcommit_kbytes writes.
    else if (rng.chance(0.3)) c.overcommit_ratio = 55;
    restrictPolicy();
    // Never above 8 MiB: raising a hard limit needs CAP_SYS_RESOURCE, which the recording host may lack.
    // Some limits are not whole pages: Linux compares some in bytes, some in pages
    // (fuzz-probe-rlimit-odd-bytes: a memlock limit of 4095 is not zero).
    c.rlimit_memlock = rng.weighted([[6, '8388608'], [2, '65536'], [1, '0'], [1, '1048576'], [1, '4095'], [1, '69631']]);
    if (rng.chance(0.1)) c.rlimit_as = rng.pick(['4294967296', '4294969343']);
    if (rng.chance(0.15)) c.rlimit_data = rng.pick(['268435456', '16777216', '16779263']);
    c.mmap_min_addr = rng.weighted([[7, 65536], [2, 4096], [1, 1048576]]);
  };
  const pools = (n2m, over2m, g1) => {
    if (huge === '1G') {
      c.hugepages_1048576kB = Math.min(2, Math.max(n2m > 0 ? 1 : 0, rng.range(0, 2)));
      return;
    }
    c.hugepages_2048kB = n2m;
    c.overcommit_hugepages_2048kB = over2m;
    if (host.gbpages && g1) c.hugepages_1048576kB = 1;
  };
  switch (profile) {
    case 'anon':
      common();
      c.thp = rng.weighted([[6, 'madvise'], [2, 'always'], [2, 'never']]);
      c.noHuge = true;
      break;
    case 'file':
      common();
      c.noHuge = true;
      // A quarter of them on a small tmpfs, where writes run short and faults raise SIGBUS,
      // half of those also with few inodes (nr_inodes=: the root takes one), where creates are ENOSPC.
      if (rng.chance(0.25)) {
        c.tmpfsSize = rng.pick(['16k', '64k', '256k', '1M']);
        if (rng.chance(0.5)) c.tmpfsInodes = rng.range(2, 5);
      }
      break;
    case 'hugetlb':
      common();
      pools(rng.range(0, 8), rng.weighted([[5, 0], [3, rng.range(1, 4)]]), rng.chance(0.12));
      // A quarter of them with a subpool: the hugetlbfs mounts limited to 0-3 huge pages (size=).
      if (rng.chance(0.25)) {
        c.hugetlbfsPages = rng.range(0, 3);
        // Half of those also hold a minimum (min_size=) on the mount of the size in use: at most
        // its pool (the mount fails otherwise) and the maximum; a third of those without size=.
        if (rng.chance(0.5)) {
          const pool = huge === '1G' ? c.hugepages_1048576kB : c.hugepages_2048kB;
          c.hugetlbfsMinPages = rng.range(0, Math.min(pool, c.hugetlbfsPages));
          c.hugetlbfsMinMount = huge;
          if (rng.chance(0.33)) c.hugetlbfsPages = undefined;
        }
      }
      break;
    case 'errors':
      common();
      // Half of them leave huge pages alone (so they record while the host's pool is busy).
      if (rng.chance(0.5)) pools(rng.weighted([[3, 0], [5, rng.range(1, 6)]]), rng.weighted([[6, 0], [2, rng.range(1, 3)]]), false);
      else c.noHuge = true;
      break;
    case 'legacy':
      common();
      c.layout = 'legacy';
      c.rlimit_stack = rng.weighted([[8, '8388608'], [2, 'unlimited']]);
      if (rng.chance(0.5)) pools(rng.weighted([[4, 0], [6, rng.range(1, 8)]]), 0, rng.chance(0.05));
      else c.noHuge = true;
      break;
    case 'scale':
      c.max_map_count = rng.range(1200, 1500);
      c.overcommit_memory = rng.weighted([[5, 0], [2, 1], [3, 2]]);
      if (c.overcommit_memory === 2) c.overcommit_ratio = rng.pick([50, 80]);
      restrictPolicy();
      c.mmap_min_addr = rng.weighted([[8, 65536], [2, 4096]]);
      c.noHuge = true;
      break;
    default:
      throw new Error(`unknown profile ${profile}`);
  }
  return c;
}

// ------------------------------------------------------------------ the generator

const PROT = { NONE: 0, R: 1, W: 2, X: 4, RW: 3, RX: 5, RWX: 7 };
const F = {
  SHARED: 0x01, PRIVATE: 0x02, SHARED_VALIDATE: 0x03, DROPPABLE: 0x08, FIXED: 0x10, ANON: 0x20, B32: 0x40,
  GROWSDOWN: 0x100, LOCKED: 0x2000, NORESERVE: 0x4000, POPULATE: 0x8000, NONBLOCK: 0x10000, STACK: 0x20000,
  HUGETLB: 0x40000, SYNC: 0x80000, UNINIT: 0x4000000, NOREPLACE: 0x100000, HUGE_2MB: 21 << 26, HUGE_1GB: (30 << 26) >>> 0,
};
const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, TRUNC: 0o1000, APPEND: 0o2000, DIRECTORY: 0o200000, PATH: 0o10000000 };
const MADV = {
  NORMAL: 0, RANDOM: 1, SEQUENTIAL: 2, WILLNEED: 3, DONTNEED: 4, FREE: 8, REMOVE: 9, DONTFORK: 10, DOFORK: 11,
  MERGEABLE: 12, UNMERGEABLE: 13, HUGEPAGE: 14, NOHUGEPAGE: 15, DONTDUMP: 16, DODUMP: 17, WIPEONFORK: 18,
  KEEPONFORK: 19, COLD: 20, PAGEOUT: 21, POPULATE_READ: 22, POPULATE_WRITE: 23, DONTNEED_LOCKED: 24,
  COLLAPSE: 25, GUARD_INSTALL: 102, GUARD_REMOVE: 103,
};

const fmtProt = (p) => (typeof p === 'bigint' ? hex(p) : formatFlags(PROT_NAMES, p));
const fmtFlags = (f) => (typeof f === 'bigint' ? hex(f) : formatFlags(MAP_NAMES, f >>> 0));
const fmtAddr = (a) => (a === 0n ? 'NULL' : hex(a));
const fmtNum = (v) => (v === U64 ? '-1' : v > 0xffffffffn ? hex(v) : v.toString());
const fmtOpen = (f) => formatFlags(OPEN_NAMES, f);
const fmtMremap = (f) => (typeof f === 'bigint' ? hex(f) : f === 0 ? '0' : formatFlags(MREMAP_NAMES, f));
const alignUp = (v, a) => ((v + a - 1n) / a) * a;

export class ScenarioGenerator {
  /**
   * @param {string} profile
   * @param {Rng} rng
   * @param {object} host  release, memTotalKb, swapTotalKb, gbpages, lsmMmapMinAddr
   * @param {object} opts  steps: [min, max]
   */
  constructor(profile, rng, host, opts = {}) {
    this.profile = profile;
    this.rng = rng;
    this.host = host;
    this.hugeMode = opts.huge ?? '2M';
    this.cfg = profileConfig(profile, rng, host, this.hugeMode, opts.overcommit);
    /** Whether this scenario may touch huge page pools at all. */
    this.hugeOn = !this.cfg.noHuge;
    delete this.cfg.noHuge;
    this.hkind = this.hugeMode === '1G' ? 'huge1g' : 'huge2m';
    this.hunit = this.hugeMode === '1G' ? GB1 : MB2;
    this.steps = [];
    this.opts = opts;
    this.fileSeq = 0;
    this.fds = new Map(); // fd → {path, kind, acc}
    this.closed = [];
    this.files = new Map(); // path → {kind}
    this.poked = [];
    this.rejected = 0;
  }

  /** Build the header, boot the model. */
  boot(comments) {
    this.header = headerText(this.cfg, this.host, comments);
    const trace = parseTrace(this.header, 'scenario');
    this.parsedHeader = trace.header;
    const p = protectedRanges(trace.header);
    this.ctx = { ...p, mounts: trace.header.mounts.map((m) => m.path) };
    const { machine, vsyscall } = bootFromHeader(trace.header);
    this.m = machine;
    this.vs = vsyscall;
  }

  // ------------------------------------------------ model queries

  maps() {
    return sys.maps(this.m, false);
  }
  mapCount() {
    return this.m.mm.mapCount ?? this.maps().length;
  }
  /** The mappings the scenario made (none of the recorder's). */
  own() {
    return this.maps().filter((e) => !this.ctx.ranges.some(([a, b]) => e.start < b && a < e.end));
  }
  heapRange() {
    const h = this.maps().find((e) => e.name === '[heap]');
    return h ? [h.start, h.end] : undefined;
  }


  // ------------------------------------------------ running a step

  /**
   * Parse, check and run one step; keep it if safe. Returns the model's
   * result, or undefined if the step was rejected as unsafe.
   */
  emit(text) {
    if (text === null || text === undefined) return undefined;
    if (text === '@maps') {
      this.steps.push('@maps');
      return { kind: 'maps' };
    }
    const step = parseCallStep(`${text} = ?`, { file: 'generator', line: this.steps.length + 1 });
    const why = unsafeReason(step, this.ctx);
    if (why) {
      this.rejected++;
      return undefined;
    }
    let result;
    try {
      result = runCall(this.m, step, this.vs);
    } catch (e) {
      result = { kind: 'error', errno: 'EXCEPTION', message: String(e && e.message) };
    }
    this.steps.push(text);
    this.observe(step, result);
    return result;
  }

  observe(step, r) {
    const ok = r.kind === 'value';
    const v = ok ? r.value : undefined;
    const arg = (i) => step.args[i]?.value;
    switch (step.call) {
      case 'openat': {
        if (!ok) break;
        const path = arg(1);
        const flags = Number(arg(2));
        const acc = flags & O.PATH ? 'none' : ['r', 'w', 'rw', 'none'][flags & 3];
        // An O_TMPFILE open names the mount's root; the file it makes has no name.
        const tmpfile = (flags & 0o20000000) !== 0 && !(flags & O.PATH);
        const canon = lexical(path);
        const at = tmpfile ? `${canon}/` : canon;
        const kind = at.startsWith(HUGE1G + '/') ? 'huge1g' : at.startsWith(HUGE2M + '/') ? 'huge2m'
          : at.startsWith(TMPFS + '/') ? 'tmpfs' : path === '/dev/zero' ? 'zero' : path === '/dev/null' ? 'null' : 'dir';
        this.fds.set(Number(v), { path: canon, kind: flags & O.PATH ? 'dir' : kind, acc });
        if (!tmpfile && !(flags & O.PATH) && (kind === 'tmpfs' || kind === 'huge2m' || kind === 'huge1g')) this.files.set(canon, { kind });
        this.closed = this.closed.filter((fd) => fd !== Number(v));
        break;
      }
      case 'close':
        if (ok) {
          this.fds.delete(Number(arg(0)));
          this.closed.push(Number(arg(0)));
        }
        break;
      case 'dup':
        if (ok) {
          const of = this.fds.get(Number(arg(0)));
          if (of) this.fds.set(Number(v), { ...of });
        }
        break;
      case 'unlinkat':
        if (ok) this.files.delete(lexical(arg(1)));
        break;
      case 'poke':
        if (ok) {
          this.poked.push(arg(0));
          if (this.poked.length > 40) this.poked.shift();
        }
        break;
      default:
        break;
    }
  }

  // ------------------------------------------------ choosing numbers

  /** A length in bytes: mostly a few pages. */
  len(opts = {}) {
    const r = this.rng;
    const pages = r.weighted([
      [40, () => r.range(1, 4)],
      [30, () => r.range(5, 32)],
      [12, () => r.range(33, 512)],
      [opts.big ? 8 : 2, () => 512 * r.range(1, 4)],
    ])();
    let l = BigInt(pages) * PAGE;
    if (r.chance(0.08)) l -= BigInt(r.range(1, 4095));
    return l;
  }

  /** A page-aligned address in the private window with room for `len` (aligned to `align`). */
  windowAddr(len, align = PAGE) {
    const r = this.rng;
    // Mostly the first 64 MiB so fixed mappings meet, merge and overlap.
    const top = r.chance(0.8) ? WINDOW_START + (64n << 20n) : WINDOW_END;
    const room = top - WINDOW_START - alignUp(len, align);
    if (room <= 0n) return WINDOW_START;
    const slots = room / align;
    return WINDOW_START + r.brange(0n, slots) * align;
  }

  /** An own mapping, or undefined. Hugetlb ones only if `huge`. */
  pickVma(filter = () => true) {
    const own = this.own().filter(filter);
    return own.length ? this.rng.pick(own) : undefined;
  }

  /**
   * A [start, len] range the scenario may change: part of an own mapping,
   * several of them, or a piece of the window.
   */
  pickRange({ allowWindow = true, aligned = true } = {}) {
    const r = this.rng;
    const own = this.own();
    if (!own.length || (allowWindow && r.chance(0.1))) {
      const l = this.len();
      return [this.windowAddr(l), l];
    }
    const v = r.pick(own);
    const pages = (v.end - v.start) / PAGE;
    const kind = r.weighted([[25, 'whole'], [20, 'head'], [20, 'tail'], [20, 'middle'], [10, 'span'], [5, 'past']]);
    let s = v.start, e = v.end;
    if (pages > 1n) {
      const k = r.brange(1n, pages - 1n);
      if (kind === 'head') e = v.start + k * PAGE;
      else if (kind === 'tail') s = v.start + k * PAGE;
      else if (kind === 'middle' && pages > 2n) {
        const a = r.brange(1n, pages - 2n);
        const b = r.brange(a + 1n, pages - 1n);
        s = v.start + a * PAGE;
        e = v.start + b * PAGE;
      }
    }
    if (kind === 'span') {
      const later = own.filter((o) => o.start > v.start);
      if (later.length) e = r.pick(later.slice(0, 4)).end;
    } else if (kind === 'past') {
      e = v.end + BigInt(r.range(1, 8)) * PAGE;
    }
    let l = e - s;
    if (!aligned && r.chance(0.15)) l -= BigInt(r.range(1, 4095));
    if (l <= 0n) l = PAGE;
    return [s, l];
  }

  /** An address to load from or store to. */
  accessAddr() {
    const r = this.rng;
    const own = this.own();
    const choice = r.weighted([[55, 'own'], [12, 'poked'], [10, 'edge'], [8, 'window'], [5, 'heap']]);
    if (choice === 'poked' && this.poked.length) return r.pick(this.poked);
    if (choice === 'heap') {
      // Only the part of the heap the scenario grew (the executor's TLS is at its start).
      const h = this.heapRange();
      if (h) return r.brange(this.ctx.brkFloor, (h[1] > this.ctx.brkFloor ? h[1] : this.ctx.brkFloor) + 4n * PAGE);
    }
    if (choice === 'window' || !own.length) return this.windowAddr(PAGE) + BigInt(r.range(0, 4095));
    const v = r.pick(own);
    if (choice === 'edge') return r.pick([v.start, v.end - 1n, v.end, v.start - 1n]);
    return r.brange(v.start, v.end - 1n);
  }

  prot() {
    return this.rng.weighted([[50, PROT.RW], [15, PROT.R], [10, PROT.NONE], [6, PROT.RX], [5, PROT.W], [5, PROT.RWX], [3, PROT.X]]);
  }

  advice() {
    return this.rng.weighted([
      [25, MADV.DONTNEED], [10, MADV.FREE], [4, MADV.WILLNEED], [3, MADV.NORMAL], [2, MADV.RANDOM], [2, MADV.SEQUENTIAL],
      [5, MADV.HUGEPAGE], [3, MADV.NOHUGEPAGE], [2, MADV.DONTFORK], [2, MADV.DOFORK], [2, MADV.WIPEONFORK],
      [1, MADV.KEEPONFORK], [1, MADV.DONTDUMP], [1, MADV.DODUMP], [3, MADV.COLD], [3, MADV.PAGEOUT],
      [4, MADV.POPULATE_READ], [4, MADV.POPULATE_WRITE], [4, MADV.REMOVE], [4, MADV.GUARD_INSTALL],
      [3, MADV.GUARD_REMOVE], [1, MADV.MERGEABLE], [1, MADV.UNMERGEABLE], [2, MADV.DONTNEED_LOCKED],
      [3, MADV.COLLAPSE],
    ]);
  }

  /**
   * The model collapses anonymous memory only (a THP in the page cache, what
   * MADV_COLLAPSE makes of shmem and tmpfs pages, is not modelled): another
   * advice for a range that reaches a file or shared mapping.
   */
  collapsible(adv, start, len) {
    if (adv !== MADV.COLLAPSE) return adv;
    const first = Number(start >> 12n);
    const last = Number((start + len + PAGE - 1n) >> 12n);
    const vmas = this.m.mm.vmas.overlapping(first, last);
    return vmas.every((v) => v.isAnonymous) ? adv : MADV.COLD;
  }

  openFd(filter = () => true) {
    const fds = [...this.fds.entries()].filter(([, f]) => filter(f));
    return fds.length ? this.rng.pick(fds)[0] : undefined;
  }

  // ------------------------------------------------ steps: anonymous memory

  mmapAnon({ fixed } = {}) {
    const r = this.rng;
    const shared = r.chance(0.25);
    let flags = (shared ? F.SHARED : F.PRIVATE) | F.ANON;
    let len = this.len({ big: true });
    const prot = this.prot();
    if (r.chance(0.04)) {
      len = BigInt(r.pick([64, 1024])) << 30n; // far beyond RAM: reserve-less or refused
      flags |= r.chance(0.8) ? F.NORESERVE : 0;
    }
    if (r.chance(0.1)) flags |= F.NORESERVE;
    if (len <= POPULATE_LIMIT) {
      if (r.chance(0.1)) flags |= F.POPULATE;
      if (r.chance(0.05)) flags |= F.LOCKED;
    }
    if (!shared && r.chance(0.05)) flags |= F.GROWSDOWN;
    if (r.chance(0.04)) flags |= F.STACK;
    let addr = 0n;
    const place = fixed ?? r.weighted([[55, 'null'], [10, 'hint-window'], [5, 'hint-own'], [15, 'fixed-window'], [10, 'fixed-own'], [5, 'noreplace']]);
    if (place === 'hint-window') addr = this.windowAddr(len);
    else if (place === 'hint-own') addr = this.pickVma()?.start ?? 0n;
    else if (place === 'fixed-window') {
      addr = this.windowAddr(len);
      flags |= F.FIXED;
    } else if (place === 'fixed-own') {
      const [s] = this.pickRange();
      addr = s;
      flags |= F.FIXED;
    } else if (place === 'noreplace') {
      addr = r.chance(0.5) ? this.windowAddr(len) : this.pickRange()[0];
      flags |= F.NOREPLACE;
    }
    if (r.chance(0.03)) flags |= F.B32;
    return `mmap(${fmtAddr(addr)}, ${len}, ${fmtProt(prot)}, ${fmtFlags(flags)}, -1, 0)`;
  }

  munmap() {
    const [s, l] = this.pickRange({ aligned: false });
    return `munmap(${hex(s)}, ${l})`;
  }

  mprotect() {
    const [s, l] = this.pickRange({ aligned: false });
    let p = this.prot();
    if (this.rng.chance(0.04)) p |= 0x01000000; // PROT_GROWSDOWN
    return `mprotect(${hex(s)}, ${l}, ${fmtProt(p)})`;
  }

  mremap() {
    const r = this.rng;
    const v = this.pickVma();
    if (!v) return null;
    const size = v.end - v.start;
    let old = v.start;
    let oldLen = size;
    if (r.chance(0.25) && size > PAGE) {
      // a part of it
      const pages = size / PAGE;
      const a = r.brange(0n, pages - 1n);
      old = v.start + a * PAGE;
      oldLen = r.brange(1n, pages - a) * PAGE;
    }
    const kind = r.weighted([[25, 'grow'], [20, 'grow-move'], [15, 'shrink'], [15, 'fixed'], [8, 'dontunmap'], [5, 'dup'], [5, 'same'], [6, 'span']]);
    let newLen = oldLen;
    let flags = 0;
    let to;
    if (kind === 'grow' || kind === 'grow-move') {
      newLen = oldLen + BigInt(r.range(1, 64)) * PAGE;
      if (kind === 'grow-move') flags = 1;
    } else if (kind === 'shrink') {
      newLen = oldLen > PAGE ? r.brange(1n, oldLen / PAGE - 1n) * PAGE : PAGE;
      if (r.chance(0.3)) flags = 1;
    } else if (kind === 'fixed') {
      flags = 1 | 2;
      newLen = r.chance(0.5) ? oldLen : r.brange(1n, oldLen / PAGE + 16n) * PAGE;
      const hv = v.name.includes('anon_hugepage') || v.name.startsWith(HUGE2M + '/') || v.name.startsWith(HUGE1G + '/');
      const unit = v.name.startsWith(HUGE1G + '/') || (hv && (v.end - v.start) % GB1 === 0n && v.start % GB1 === 0n) ? GB1 : hv ? MB2 : PAGE;
      to = r.chance(0.8) ? this.windowAddr(newLen, unit) : this.pickRange()[0];
    } else if (kind === 'dontunmap') {
      flags = 1 | 4;
      if (r.chance(0.3)) {
        flags |= 2;
        to = this.windowAddr(newLen);
      }
    } else if (kind === 'dup') {
      oldLen = 0n;
      flags = 1;
    } else if (kind === 'span') {
      // A pure move (MREMAP_FIXED, same size) of a range that may hold several VMAs and the
      // gaps between them (6.17+: remap_move takes them all, unless one may not move with others).
      [old, oldLen] = this.pickRange({ allowWindow: false });
      newLen = oldLen;
      flags = 1 | 2;
      to = this.windowAddr(oldLen, r.chance(0.5) ? MB2 : PAGE);
    }
    if (newLen > POPULATE_LIMIT) newLen = POPULATE_LIMIT;
    const tail = to !== undefined ? `, ${hex(to)}` : '';
    return `mremap(${hex(old)}, ${oldLen}, ${newLen}, ${fmtMremap(flags)}${tail})`;
  }

  madvise() {
    const [s, l] = this.pickRange({ aligned: false });
    const adv = this.collapsible(this.advice(), s, l);
    const len = (adv === MADV.POPULATE_READ || adv === MADV.POPULATE_WRITE || adv === MADV.WILLNEED) && l > POPULATE_LIMIT ? POPULATE_LIMIT : l;
    return `madvise(${hex(s)}, ${len}, ${formatAdvice(BigInt(adv))})`;
  }

  mlock(call = 'mlock') {
    let [s, l] = this.pickRange({ aligned: false });
    if (l > POPULATE_LIMIT) l = POPULATE_LIMIT;
    if (this.rng.chance(0.1)) s += BigInt(this.rng.range(1, 4095));
    return `${call}(${hex(s)}, ${l})`;
  }

  brk() {
    const r = this.rng;
    const h = this.heapRange();
    const start = this.ctx.brkFloor; // never below the header's break (see safety.mjs)
    const cur = h && h[1] > start ? h[1] : start;
    const kind = r.weighted([[20, 'query'], [40, 'grow'], [25, 'shrink'], [10, 'odd'], [5, 'far']]);
    let a;
    if (kind === 'query') a = 0n;
    else if (kind === 'grow') a = cur + BigInt(r.range(1, 64)) * PAGE - BigInt(r.chance(0.5) ? r.range(0, 4095) : 0);
    else if (kind === 'shrink') a = start + r.brange(0n, (cur - start) / PAGE) * PAGE;
    else if (kind === 'odd') a = cur + BigInt(r.range(1, 4095));
    else a = start + (BigInt(r.range(16, 1024)) << 20n); // far, but never up to the private window
    return `brk(${fmtAddr(a)})`;
  }

  peek() {
    return `peek(${hex(this.accessAddr())})`;
  }
  poke() {
    return `poke(${hex(this.accessAddr())}, 0x${this.rng.range(1, 255).toString(16)})`;
  }
  rss() {
    // Not in the heap or any other mapping of the executor's own (its image, [vdso], [vvar],
    // the stack): their Rss includes pages the executor itself touched (static glibc's TLS,
    // the vDSO it called), which no header can tell the model.
    // The stack counts wherever it has grown to (fuzz-legacy-s2106-295: a peek 85 TB below it, with
    // RLIMIT_STACK unlimited, grew it there; its Rss then included the executor's own 8 kB).
    const maps = this.maps();
    const h = maps.find((e) => e.name === '[heap]');
    const st = maps.find((e) => e.name === '[stack]');
    const executors = (x) =>
      (h && x >= h.start && x < h.end + 4n * PAGE) || (st && x >= st.start && x < st.end) || this.ctx.ranges.some(([s, e]) => x >= s && x < e);
    let a = this.accessAddr();
    for (let i = 0; i < 4 && executors(a); i++) a = this.accessAddr();
    if (executors(a)) return null;
    return `rss(${hex(a)})`;
  }
  hugepages() {
    if (!this.hugeOn) return null;
    if (this.hugeMode === '1G') return 'hugepages(1048576kB)';
    return this.cfg.hugepages_1048576kB > 0 && this.rng.chance(0.3) ? 'hugepages(1048576kB)' : 'hugepages(2048kB)';
  }

  // ------------------------------------------------ steps: files

  newPath(kind) {
    const dir = kind === 'huge2m' ? HUGE2M : kind === 'huge1g' ? HUGE1G : TMPFS;
    return `${dir}/f${++this.fileSeq}`;
  }

  openat(kind = 'tmpfs') {
    const r = this.rng;
    const existing = [...this.files.entries()].filter(([, f]) => f.kind === kind).map(([p]) => p);
    if (existing.length && r.chance(0.45)) {
      const path = r.pick(existing);
      const flags = r.weighted([
        [4, O.RDWR], [3, O.RDONLY], [1, O.WRONLY], [1, O.RDWR | O.TRUNC], [1, O.RDWR | O.CREAT], [1, O.RDWR | O.APPEND], [1, O.WRONLY | O.APPEND],
      ]);
      return `openat(AT_FDCWD, "${this.spell(path)}", ${fmtOpen(flags)}${flags & O.CREAT ? ', 0600' : ''})`;
    }
    // An unnamed file (O_TMPFILE) in the mount's root: unlinked from birth, it lives while open or mapped.
    if (r.chance(0.08)) return `openat(AT_FDCWD, "${this.newPath(kind).replace(/[^/]*$/, '')}", ${r.pick(['O_RDWR', 'O_WRONLY', 'O_RDWR|O_EXCL'])}|O_TMPFILE, 0600)`;
    const flags = O.RDWR | O.CREAT | (r.chance(0.3) ? O.EXCL : 0) | (r.chance(0.1) ? O.APPEND : 0);
    return `openat(AT_FDCWD, "${this.newPath(kind)}", ${fmtOpen(flags)}, 0600)`;
  }

  openDev() {
    const path = this.rng.chance(0.8) ? '/dev/zero' : '/dev/null';
    return `openat(AT_FDCWD, "${path}", ${fmtOpen(this.rng.chance(0.7) ? O.RDWR : O.RDONLY)})`;
  }

  ftruncate() {
    const r = this.rng;
    const fd = this.openFd((f) => f.kind !== 'zero' && f.kind !== 'null' && f.kind !== 'dir');
    if (fd === undefined) return null;
    const f = this.fds.get(fd);
    let size;
    if (f.kind === 'huge2m') size = BigInt(r.range(0, 4)) * MB2 + (r.chance(0.1) ? PAGE : 0n);
    else if (f.kind === 'huge1g') size = BigInt(r.range(0, 2)) * GB1 + (r.chance(0.1) ? MB2 : 0n);
    else size = r.weighted([[60, () => BigInt(r.range(0, 32)) * PAGE], [20, () => BigInt(r.range(1, 40000))], [5, () => 1n << 30n]])();
    return `ftruncate(${fd}, ${size})`;
  }

  fill() {
    const r = this.rng;
    const fd = this.openFd((f) => f.kind === 'tmpfs' || f.kind === 'zero' || f.kind === 'null' || f.kind === 'huge2m' || f.kind === 'huge1g');
    if (fd === undefined) return null;
    const off = BigInt(r.range(0, 40)) * (r.chance(0.5) ? PAGE : 1000n);
    let len = BigInt(r.pick([1, 64, 4096, 8192, 20000]));
    // On a small tmpfs, now and then a write that runs into its size limit.
    if (this.cfg.tmpfsSize && r.chance(0.2)) len = BigInt(r.pick([65536, 262144]));
    return `fill(${fd}, ${off}, ${len}, 0x${r.range(1, 255).toString(16)})`;
  }

  fpeek() {
    const r = this.rng;
    const fd = this.openFd() ?? 3;
    return `fpeek(${fd}, ${BigInt(r.range(0, 40)) * (r.chance(0.5) ? PAGE : 1000n) + BigInt(r.range(0, 3))})`;
  }

  close() {
    const fd = this.rng.chance(0.9) ? this.openFd() : this.rng.pick([...this.closed, 3, 50]);
    return fd === undefined ? null : `close(${fd})`;
  }

  dup() {
    const fd = this.openFd();
    return fd === undefined ? null : `dup(${fd})`;
  }

  unlink() {
    const r = this.rng;
    const paths = [...this.files.keys()];
    if (r.chance(0.15)) {
      // rmdir and unlink where the path walk decides: a file with slashes after it, rmdir of a
      // file, of a mount's root (EBUSY) or of `.` (EINVAL), unlink of `.` (EISDIR).
      const root = r.pick([TMPFS, ...(this.hugeOn ? [this.hugeMode === '1G' ? HUGE1G : HUGE2M] : [])]);
      const file = paths.length ? r.pick(paths) : `${root}/missing${r.range(1, 9)}`;
      return r.pick([
        `unlinkat(AT_FDCWD, "${file}/", 0)`, `unlinkat(AT_FDCWD, "${file}", AT_REMOVEDIR)`, `unlinkat(AT_FDCWD, "${root}", AT_REMOVEDIR)`,
        `unlinkat(AT_FDCWD, "${root}/.", AT_REMOVEDIR)`, `unlinkat(AT_FDCWD, "${root}/.", 0)`, `unlinkat(AT_FDCWD, "${root}/", 0)`,
      ]);
    }
    if (!paths.length) return null;
    return `unlinkat(AT_FDCWD, "${this.spell(r.pick(paths))}", 0)`;
  }

  /** Sometimes another spelling of an absolute path the walk resolves to the same file (`/./`, `//`, `dir/../dir`). */
  spell(path) {
    const r = this.rng;
    if (!r.chance(0.15)) return path;
    const i = path.lastIndexOf('/');
    const dir = path.slice(0, i);
    const name = path.slice(i + 1);
    const base = dir.slice(dir.lastIndexOf('/') + 1);
    return r.pick([`${dir}/./${name}`, `${dir}//${name}`, `${dir}/../${base}/${name}`]);
  }

  mmapFile({ kinds = ['tmpfs', 'zero'], pgoff = false } = {}) {
    const r = this.rng;
    const fd = this.openFd((f) => kinds.includes(f.kind)) ?? (r.chance(0.5) ? r.pick([...this.closed, 3]) : undefined);
    if (fd === undefined) return null;
    const f = this.fds.get(fd);
    const huge = f && (f.kind === 'huge2m' || f.kind === 'huge1g');
    const unit = f?.kind === 'huge1g' ? GB1 : huge ? MB2 : PAGE;
    const len = huge ? BigInt(r.range(1, 2)) * unit - (r.chance(0.2) ? PAGE : 0n) : this.len();
    const offUnits = BigInt(r.weighted([[60, 0], [30, r.range(1, 8)], [10, r.range(9, 40)]]));
    let off = offUnits * unit;
    if (r.chance(0.04)) off += PAGE; // unaligned for hugetlbfs
    let prot = this.prot();
    if (f?.acc === 'r' && r.chance(0.7)) prot &= ~PROT.W;
    const shared = r.weighted([[55, F.SHARED], [40, F.PRIVATE], [5, F.SHARED_VALIDATE]]);
    let flags = shared;
    if (r.chance(0.1)) flags |= F.POPULATE;
    if (r.chance(0.05)) flags |= F.NORESERVE;
    if (r.chance(0.03)) flags |= F.LOCKED;
    let addr = 0n;
    const place = r.weighted([[65, 'null'], [15, 'fixed-window'], [12, 'fixed-own'], [8, 'hint']]);
    if (place === 'fixed-window') {
      addr = this.windowAddr(len, huge ? unit : PAGE);
      flags |= F.FIXED;
    } else if (place === 'fixed-own') {
      const v = this.pickVma();
      if (v) {
        addr = huge ? alignUp(v.start, unit) : this.pickRange()[0];
        flags |= F.FIXED;
      }
    } else if (place === 'hint') addr = this.windowAddr(len);
    if (pgoff) return `mmap_pgoff(${fmtAddr(addr)}, ${len}, ${fmtProt(prot)}, ${fmtFlags(flags)}, ${fd}, ${off / PAGE})`;
    return `mmap(${fmtAddr(addr)}, ${len}, ${fmtProt(prot)}, ${fmtFlags(flags)}, ${fd}, ${hex(off)})`;
  }

  // ------------------------------------------------ steps: hugetlb

  mmapHugeAnon() {
    if (!this.hugeOn) return null;
    const r = this.rng;
    const gb = this.hugeMode === '1G' || (this.cfg.hugepages_1048576kB > 0 && r.chance(0.15));
    const unit = gb ? GB1 : MB2;
    const shared = r.chance(0.45);
    let flags = (shared ? F.SHARED : F.PRIVATE) | F.ANON | F.HUGETLB;
    if (gb) flags |= F.HUGE_1GB;
    else if (r.chance(0.3)) flags |= F.HUGE_2MB;
    if (r.chance(0.2)) flags |= F.NORESERVE;
    if (r.chance(0.1)) flags |= F.POPULATE;
    let len = BigInt(gb ? r.weighted([[4, 1], [1, 2]]) : r.range(1, 3)) * unit;
    if (r.chance(0.2)) len -= BigInt(r.range(1, 300)) * PAGE;
    let addr = 0n;
    const place = r.weighted([[65, 'null'], [20, 'fixed-window'], [10, 'hint'], [5, 'noreplace']]);
    if (place === 'fixed-window') {
      addr = gb ? WINDOW_START : this.windowAddr(alignUp(len, unit), unit);
      flags |= F.FIXED;
    } else if (place === 'hint') addr = this.windowAddr(len, r.chance(0.5) ? unit : PAGE);
    else if (place === 'noreplace') {
      addr = this.windowAddr(len, unit);
      flags |= F.NOREPLACE;
    }
    return `mmap(${fmtAddr(addr)}, ${len}, ${fmtProt(r.weighted([[8, PROT.RW], [2, PROT.R], [1, PROT.NONE]]))}, ${fmtFlags(flags)}, -1, 0)`;
  }

  /** An access inside a hugetlb mapping (each first touch takes a huge page). */
  hugeAccess() {
    const v = this.pickVma((e) => e.name.includes('anon_hugepage') || e.name.startsWith(HUGE2M) || e.name.startsWith(HUGE1G));
    if (!v) return this.poke();
    const a = this.rng.brange(v.start, v.end - 1n);
    return this.rng.chance(0.6) ? `poke(${hex(a)}, 0x${this.rng.range(1, 255).toString(16)})` : `peek(${hex(a)})`;
  }

  // ------------------------------------------------ steps: errors (invalid arguments, all recorder-safe)

  errorStep() {
    const r = this.rng;
    const win = () => this.windowAddr(PAGE);
    const own = () => this.pickVma()?.start ?? win();
    const hugeLen = () => r.pick([U64, U64 - 4095n, U64 - PAGE, 1n << 63n, TASK_SIZE + PAGE, 1n << 47n, (1n << 64n) - (1n << 20n)]);
    // Lengths that carry a range starting at `a` to the 64-bit edge: its end exactly 2^64 (which
    // wraps to 0), a page past it, or short of it by a page or a byte. Fixed lengths rarely land
    // there; the kernel's 64-bit sums and the model's exact ones part on them
    // (fuzz-probe-range-wrap, fuzz-probe-mremap-wrap).
    const wrapLen = (a) => (1n << 64n) - a + r.pick([0n, PAGE, -PAGE, -1n, 1n]);
    const edgeLen = (a) => (r.chance(0.5) ? wrapLen(a) : hugeLen());
    const anyBits = () => r.pick([0x10n, 0x20n, 0x80n, 0x100n, 0x1000n, 0x10000000n, 0x80000000n, 1n << 32n, 1n << 40n, U64]);
    const m = (a, l, p, f, fd, off) => `mmap(${fmtAddr(a)}, ${fmtNum(l)}, ${typeof p === 'bigint' ? hex(p) : fmtProt(p)}, ${fmtFlags(f)}, ${fmtNum(BigInt.asUintN(64, BigInt(fd)))}, ${hex(off)})`;
    const anonP = F.PRIVATE | F.ANON;
    const kind = r.weighted([
      [6, 'mmap-len0'], [5, 'mmap-hugelen'], [5, 'mmap-offset'], [5, 'mmap-type'], [4, 'mmap-validate'],
      [5, 'mmap-badfd'], [4, 'mmap-access'], [3, 'mmap-dev'], [4, 'mmap-fixed-unaligned'], [3, 'mmap-noreplace-own'],
      [3, 'mmap-hugesize'], [3, 'mmap-growsdown-shared'], [3, 'mmap-prot-bits'], [2, 'mmap-droppable'],
      [5, 'munmap'], [5, 'mprotect'], [6, 'mremap'], [5, 'madvise'], [3, 'mlock'], [5, 'open'], [5, 'file'],
      [3, 'peek'], [2, 'rss'], [2, 'brk'], [2, 'pgoff'],
    ]);
    switch (kind) {
      case 'mmap-len0':
        return m(r.chance(0.5) ? 0n : win(), 0n, PROT.RW, r.pick([anonP, F.SHARED | F.ANON, anonP | F.FIXED]), -1, 0n);
      case 'mmap-hugelen':
        return m(0n, hugeLen(), PROT.RW, r.pick([anonP, anonP | F.NORESERVE, F.SHARED | F.ANON]), -1, 0n);
      case 'mmap-offset': {
        const fd = this.openFd((f) => f.kind === 'tmpfs') ?? -1;
        const off = r.pick([1n, 0x800n, PAGE - 1n, U64 - 4095n, 1n << 63n, (1n << 63n) - PAGE]);
        return m(0n, this.len(), PROT.R, fd === -1 ? anonP : F.SHARED, fd, off);
      }
      case 'mmap-type':
        return m(0n, PAGE, PROT.RW, r.pick([0, F.ANON, 0x04 | F.ANON, 0x0f | F.ANON, 0x05]), -1, 0n);
      case 'mmap-validate': {
        // flags is an unsigned long: MAP_SHARED_VALIDATE refuses unknown bits in its upper half
        // too, MAP_SHARED masks them off (fuzz-probe-upper-arg-bits).
        const fd = this.openFd((f) => f.kind === 'tmpfs');
        if (fd !== undefined && r.chance(0.4)) {
          const high = 1n << BigInt(r.range(32, 63));
          return `mmap(NULL, 4096, PROT_READ, ${hex(BigInt(r.pick([F.SHARED_VALIDATE, F.SHARED, F.PRIVATE])) | high)}, ${fd}, 0)`;
        }
        return m(0n, PAGE, PROT.RW, F.SHARED_VALIDATE | F.ANON | r.pick([0x80, 0x200, 0x400, 0x1000000, F.SYNC, F.UNINIT]), -1, 0n);
      }
      case 'mmap-badfd':
        return m(0n, PAGE, PROT.R, r.pick([F.SHARED, F.PRIVATE]), r.pick([99, 1000, -2, ...this.closed]), 0n);
      case 'mmap-access': {
        const fd = this.openFd((f) => f.kind === 'tmpfs' && f.acc !== 'rw');
        if (fd === undefined) return this.openat();
        return m(0n, PAGE, r.pick([PROT.RW, PROT.W, PROT.R]), r.pick([F.SHARED, F.PRIVATE, F.SHARED_VALIDATE]), fd, 0n);
      }
      case 'mmap-dev': {
        // fds 0-2 (pipes, /dev/null) and directories cannot be mapped
        const fd = r.chance(0.4) ? this.openFd((f) => f.kind === 'dir' || f.kind === 'null') ?? r.range(0, 2) : r.range(0, 2);
        return m(0n, PAGE, PROT.R, r.pick([F.SHARED, F.PRIVATE]), fd, 0n);
      }
      case 'mmap-fixed-unaligned':
        return m(win() + BigInt(r.range(1, 4095)), PAGE, PROT.RW, anonP | F.FIXED, -1, 0n);
      case 'mmap-noreplace-own':
        return m(own(), this.len(), PROT.RW, anonP | F.NOREPLACE, -1, 0n);
      case 'mmap-hugesize':
        // (any MAP_HUGETLB size but 1 GiB counts as touching the 2 MiB pool for the recorder)
        if (!this.hugeOn || this.hugeMode === '1G') return this.mmapHugeAnon() ?? m(0n, 0n, PROT.RW, anonP, -1, 0n);
        return m(0n, MB2, PROT.RW, anonP | F.HUGETLB | r.pick([20 << 26, 22 << 26, 29 << 26, 31 << 26, 63 << 26, F.HUGE_1GB]) >>> 0, -1, 0n);
      case 'mmap-growsdown-shared':
        return m(0n, 4n * PAGE, PROT.RW, F.SHARED | F.ANON | F.GROWSDOWN, -1, 0n);
      case 'mmap-prot-bits':
        return m(0n, PAGE, r.pick([0x8n, 0x10n, 0x80000000n, 0x1000000n, 0x2000000n, 0xffffffffn]), anonP, -1, 0n);
      case 'mmap-droppable':
        return m(0n, PAGE, PROT.RW, r.pick([F.DROPPABLE | F.ANON, F.DROPPABLE, ...(this.hugeOn && this.hugeMode === '2M' ? [F.DROPPABLE | F.ANON | F.HUGETLB] : [])]), -1, 0n);
      case 'munmap': {
        const a = r.pick([own() + BigInt(r.range(1, 4095)), own(), win()]);
        const l = r.pick([0n, edgeLen(a), PAGE]);
        return `munmap(${hex(a)}, ${fmtNum(l)})`;
      }
      case 'mprotect': {
        const v = this.pickVma();
        const a = v ? v.start : win();
        const variant = r.pick(['unaligned', 'bits', 'grows', 'unmapped', 'overflow', 'growsdown', 'growsup']);
        if (variant === 'unaligned') return `mprotect(${hex(a + 1n)}, 4096, PROT_READ)`;
        if (variant === 'bits') return `mprotect(${hex(a)}, 4096, ${hex(anyBits())})`;
        if (variant === 'grows') return `mprotect(${hex(a)}, 4096, PROT_READ|PROT_GROWSDOWN|PROT_GROWSUP)`;
        if (variant === 'unmapped') return `mprotect(${hex(win())}, ${this.len()}, PROT_READ)`;
        if (variant === 'overflow') return `mprotect(${hex(a)}, ${fmtNum(edgeLen(a))}, PROT_READ)`;
        if (variant === 'growsup') return `mprotect(${hex(a)}, 4096, PROT_READ|PROT_GROWSUP)`;
        return `mprotect(${hex(a)}, 4096, PROT_READ|PROT_GROWSDOWN)`;
      }
      case 'mremap': {
        const v = this.pickVma();
        const a = v ? v.start : win();
        const sz = v ? v.end - v.start : PAGE;
        const variant = r.pick(['flags', 'fixed-no-move', 'len0', 'unaligned', 'efault', 'overlap', 'dontunmap-shared', 'fixed-unaligned', 'huge', 'dontunmap-grow', 'wrap', 'wrap-fixed']);
        // An old range past 2^64: a shrink that do_vmi_munmap refuses, after a fixed destination's unmap.
        if (variant === 'wrap') return `mremap(${hex(a)}, ${fmtNum(wrapLen(a))}, ${sz}, ${r.pick(['0', 'MREMAP_MAYMOVE'])})`;
        if (variant === 'wrap-fixed') {
          const to = r.chance(0.5) && a - PAGE >= WINDOW_START ? a - PAGE * BigInt(r.range(1, 2)) : win();
          return `mremap(${hex(a)}, ${fmtNum(wrapLen(a))}, ${r.pick([PAGE, 2n * PAGE])}, MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(to)})`;
        }
        if (variant === 'flags') return `mremap(${hex(a)}, ${sz}, ${sz}, ${hex(r.pick([8n, 0x10n, 0x80000000n]))})`;
        if (variant === 'fixed-no-move') return `mremap(${hex(a)}, ${sz}, ${sz}, MREMAP_FIXED, ${hex(win())})`;
        if (variant === 'len0') return `mremap(${hex(a)}, ${sz}, 0, MREMAP_MAYMOVE)`;
        if (variant === 'unaligned') return `mremap(${hex(a + 0x10n)}, ${sz}, ${sz + PAGE}, MREMAP_MAYMOVE)`;
        if (variant === 'efault') return `mremap(${hex(win())}, 4096, 8192, MREMAP_MAYMOVE)`;
        if (variant === 'overlap') return `mremap(${hex(a)}, ${sz}, ${sz}, MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(a)})`;
        if (variant === 'dontunmap-shared' || variant === 'dontunmap-grow') return `mremap(${hex(a)}, ${sz}, ${variant === 'dontunmap-grow' ? sz + PAGE : sz}, MREMAP_MAYMOVE|MREMAP_DONTUNMAP)`;
        if (variant === 'fixed-unaligned') return `mremap(${hex(a)}, ${sz}, ${sz}, MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(win() + 0x100n)})`;
        return `mremap(${hex(a)}, ${sz}, ${fmtNum(r.pick([TASK_SIZE + PAGE, 1n << 63n, U64]))}, MREMAP_MAYMOVE)`;
      }
      case 'madvise': {
        const v = this.pickVma();
        const a = v ? v.start : win();
        const variant = r.pick(['advice', 'unaligned', 'unmapped', 'overflow', 'locked', 'len0']);
        if (variant === 'advice') return `madvise(${hex(a)}, 4096, ${formatAdvice(BigInt(r.pick([5, 6, 7, 26, 50, 99, 104, 0xffff, 0x7fffffff])))})`;
        if (variant === 'unaligned') return `madvise(${hex(a + 0x20n)}, 4096, MADV_DONTNEED)`;
        if (variant === 'unmapped') return `madvise(${hex(win())}, ${this.len()}, ${formatAdvice(BigInt(this.advice()))})`;
        if (variant === 'overflow') return `madvise(${hex(a)}, ${fmtNum(edgeLen(a))}, ${r.chance(0.7) ? 'MADV_DONTNEED' : formatAdvice(BigInt(this.advice()))})`;
        if (variant === 'len0') return `madvise(${hex(a)}, 0, ${formatAdvice(BigInt(this.advice()))})`;
        return this.madvise();
      }
      case 'mlock': {
        const variant = r.pick(['unmapped', 'big', 'len0', 'own', 'wrap']);
        if (variant === 'unmapped') return `mlock(${hex(win())}, ${this.len()})`;
        // apply_vma_lock_flags refuses an end past 2^64 (EINVAL), after do_mlock's RLIMIT_MEMLOCK check.
        if (variant === 'wrap') {
          const a = own();
          return `${r.pick(['mlock', 'munlock'])}(${hex(a)}, ${fmtNum(wrapLen(a))})`;
        }
        if (variant === 'len0') return `mlock(${hex(own())}, 0)`;
        if (variant === 'big') {
          const v = this.pickVma();
          return v ? `mlock(${hex(v.start)}, ${v.end - v.start > POPULATE_LIMIT ? POPULATE_LIMIT : v.end - v.start})` : this.mlock();
        }
        return this.mlock(r.chance(0.5) ? 'mlock' : 'munlock');
      }
      case 'open': {
        const files = [...this.files.keys()];
        const variant = r.pick(['enoent', 'eexist', 'eisdir', 'enotdir', 'directory', 'dir-rdonly', 'tmpfile-bad', 'path-creat', 'acc3', 'odirect', 'slash', 'dots', 'huge']);
        if (variant === 'enoent') return `openat(AT_FDCWD, "${TMPFS}/nonexistent${r.range(1, 9)}", O_RDWR)`;
        if (variant === 'eexist' && files.length) return `openat(AT_FDCWD, "${r.pick(files)}", O_RDWR|O_CREAT|O_EXCL, 0600)`;
        if (variant === 'eisdir') return `openat(AT_FDCWD, "${r.pick([TMPFS, HUGE2M])}", O_RDWR)`;
        if (variant === 'enotdir' && files.length) return `openat(AT_FDCWD, "${r.pick(files)}/x", O_RDWR|O_CREAT, 0600)`;
        if (variant === 'directory' && files.length) return `openat(AT_FDCWD, "${r.pick(files)}", O_RDONLY|O_DIRECTORY)`;
        if (variant === 'dir-rdonly') return `openat(AT_FDCWD, "${r.pick([TMPFS, HUGE2M])}", O_RDONLY)`;
        if (variant === 'tmpfile-bad') {
          // build_open_flags: O_TMPFILE needs write access, no O_CREAT, and O_DIRECTORY with __O_TMPFILE; a file is no directory.
          const target = files.length && r.chance(0.3) ? `${r.pick(files)}` : `${r.pick([TMPFS, HUGE2M])}/`;
          return `openat(AT_FDCWD, "${target}", ${r.pick(['O_RDONLY|O_TMPFILE', 'O_RDWR|O_TMPFILE|O_CREAT', '0x400002', 'O_PATH|O_TMPFILE', 'O_RDWR|O_TMPFILE'])}, 0600)`;
        }
        // build_open_how: O_PATH drops O_CREAT, O_EXCL and O_TRUNC.
        if (variant === 'path-creat') return `openat(AT_FDCWD, "${files.length && r.chance(0.5) ? r.pick(files) : `${TMPFS}/nonexistent${r.range(1, 9)}`}", O_PATH|O_CREAT|O_EXCL, 0600)`;
        // O_DIRECT: only files whose ->open sets FMODE_CAN_ODIRECT (tmpfs) open; a file O_CREAT made stays.
        if (variant === 'odirect') {
          const target = r.pick([...files, ...(files.length ? files : []), TMPFS, HUGE2M, '/dev/zero', '/dev/null']);
          const creat = target.startsWith(TMPFS + '/') || target.startsWith(HUGE2M + '/');
          if (creat && r.chance(0.3)) return `openat(AT_FDCWD, "${this.newPath(target.startsWith(HUGE2M) ? 'huge2m' : 'tmpfs')}", O_RDWR|O_CREAT|O_DIRECT, 0600)`;
          return `openat(AT_FDCWD, "${target}", ${creat ? 'O_RDWR|O_DIRECT' : 'O_RDONLY|O_DIRECT'})`;
        }
        // Slashes after a file's name: ENOTDIR, or EISDIR with O_CREAT (whether it exists or not).
        if (variant === 'slash') {
          const target = files.length && r.chance(0.7) ? r.pick(files) : `${TMPFS}/new${r.range(1, 9)}`;
          return `openat(AT_FDCWD, "${target}/", ${r.pick(['O_RDWR', 'O_RDONLY', 'O_RDWR|O_CREAT', 'O_PATH'])}, 0600)`;
        }
        // `.` and `..` as the last component: the directory itself (EISDIR for writing or O_CREAT).
        if (variant === 'dots') {
          const root = r.pick([TMPFS, HUGE2M]);
          return `openat(AT_FDCWD, "${root}/${r.pick(['.', './', '.', '../' + root.slice(root.lastIndexOf('/') + 1)])}", ${r.pick(['O_RDONLY', 'O_RDWR', 'O_RDWR|O_CREAT', 'O_RDONLY|O_DIRECTORY', 'O_RDWR|O_TMPFILE'])}, 0600)`;
        }
        // Access mode 3: read and write permission needed, neither given.
        if (variant === 'acc3') return `openat(AT_FDCWD, "${files.length ? r.pick(files) : TMPFS}", 0x3)`;
        return this.openat(r.chance(0.5) && this.hugeOn ? this.hkind : 'tmpfs');
      }
      case 'file': {
        const variant = r.pick(['ftrunc-neg', 'ftrunc-ro', 'ftrunc-badfd', 'fill-ro', 'fpeek-wo', 'fpeek-eof', 'close-bad', 'dup-bad', 'unlink-enoent', 'fill-neg', 'ftrunc-huge-odd']);
        const ro = this.openFd((f) => f.acc === 'r');
        const wo = this.openFd((f) => f.acc === 'w');
        const any = this.openFd((f) => f.kind === 'tmpfs');
        if (variant === 'ftrunc-neg' && any !== undefined) return `ftruncate(${any}, -1)`;
        if (variant === 'ftrunc-ro' && ro !== undefined) return `ftruncate(${ro}, 4096)`;
        if (variant === 'ftrunc-badfd') return `ftruncate(${r.pick([99, ...this.closed])}, 4096)`;
        if (variant === 'fill-ro' && ro !== undefined) return `fill(${ro}, 0, 16, 0x11)`;
        if (variant === 'fpeek-wo' && wo !== undefined) return `fpeek(${wo}, 0)`;
        if (variant === 'fpeek-eof' && any !== undefined) return `fpeek(${any}, 1099511627776)`;
        if (variant === 'close-bad') return `close(${r.pick([99, -1, 1000, ...this.closed])})`;
        if (variant === 'dup-bad') return `dup(${r.pick([99, -1, ...this.closed])})`;
        if (variant === 'unlink-enoent') return `unlinkat(AT_FDCWD, "${TMPFS}/missing${r.range(1, 9)}", 0)`;
        if (variant === 'fill-neg' && any !== undefined) return `fill(${any}, -4096, 16, 0x22)`;
        const h = this.openFd((f) => (f.kind === 'huge2m' || f.kind === 'huge1g') && f.acc !== 'r');
        if (variant === 'ftrunc-huge-odd' && h !== undefined) return `ftruncate(${h}, ${this.hunit + PAGE})`;
        return r.chance(0.5) ? this.openat() : this.ftruncate();
      }
      case 'peek':
        return `peek(${hex(r.pick([0n, 0x1000n, 1n << 47n, (1n << 47n) - 1n, 1n << 63n, TASK_SIZE, win()]))})`;
      case 'rss':
        return `rss(${hex(r.pick([0n, win(), 1n << 47n]))})`;
      case 'brk':
        // The large growth stays below the window: a heap grown over it would make the
        // window's rss() read the executor's own heap pages (its TLS block, 8 kB), which
        // no trace header describes (fuzz-errors-s2034-249).
        return `brk(${hex(r.pick([(1n << 47n), TASK_SIZE, U64 - PAGE, this.ctx.brkStart + (1n << 31n)]))})`;
      case 'pgoff': {
        const fd = this.openFd((f) => f.kind === 'tmpfs') ?? 3;
        return `mmap_pgoff(NULL, 4096, PROT_READ, MAP_SHARED, ${fd}, ${hex(r.pick([(1n << 52n) - 1n, 1n << 40n, 1n << 51n, 1n << 36n]))})`;
      }
      default:
        return null;
    }
  }

  // ------------------------------------------------ steps: focused sequences
  //
  // Random single steps rarely line up (write a page, advise it, read it back,
  // ask for its Rss), so now and then a short sequence does exactly that.
  // Every step still goes through emit(): the safety rules and the model.

  /** A byte value for a poke. */
  byte() {
    return `0x${this.rng.range(1, 255).toString(16)}`;
  }

  /** An address inside an own mapping with `perm` in its permissions, or undefined. */
  ownAddr(filter = () => true) {
    const v = this.pickVma(filter);
    if (!v) return undefined;
    return { v, a: this.rng.brange(v.start, v.end - 1n) };
  }

  /** Read `a` back and ask for the Rss of its mapping. */
  readBack(...addrs) {
    for (const a of addrs) this.emit(`peek(${hex(a)})`);
    this.emit(`rss(${hex(addrs[0])})`);
  }

  sequence() {
    const r = this.rng;
    const kind = r.weighted([
      [20, 'advise'], [10, 'free-pageout'], [10, 'file-coherence'], [8, 'dontunmap'], [6, 'dup-shared'],
      [8, 'thp'], [6, 'huge-zero'], [6, 'droppable'], [8, 'truncate'], [8, 'protect'], [6, 'move'], [5, 'lock'], [5, 'guard'],
    ]);
    const rw = (e) => e.perms.startsWith('rw');
    const page = (a) => a & ~(PAGE - 1n);
    switch (kind) {
      case 'advise': {
        const o = this.ownAddr(rw);
        if (!o) return this.mmapAnon({ fixed: 'null' });
        const len = r.chance(0.5) ? PAGE : o.v.end - page(o.a);
        this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        const adv = this.collapsible(
          r.pick([MADV.FREE, MADV.PAGEOUT, MADV.COLD, MADV.DONTNEED, MADV.REMOVE, MADV.WILLNEED, MADV.POPULATE_READ, MADV.POPULATE_WRITE, MADV.DONTNEED_LOCKED, MADV.HUGEPAGE, MADV.NOHUGEPAGE, MADV.COLLAPSE]),
          page(o.a),
          len,
        );
        this.emit(`madvise(${hex(page(o.a))}, ${len}, ${formatAdvice(BigInt(adv))})`);
        this.readBack(o.a);
        return null;
      }
      case 'free-pageout': {
        const o = this.ownAddr(rw);
        if (!o) return this.mmapAnon({ fixed: 'null' });
        const start = r.chance(0.5) ? o.v.start : page(o.a);
        const len = o.v.end - start;
        this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        this.emit(`madvise(${hex(start)}, ${len}, MADV_FREE)`);
        if (r.chance(0.4)) this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        if (r.chance(0.3)) this.emit(`peek(${hex(o.a)})`);
        this.emit(`madvise(${hex(start)}, ${len}, ${r.chance(0.8) ? 'MADV_PAGEOUT' : 'MADV_COLD'})`);
        this.readBack(o.a);
        return null;
      }
      case 'droppable': {
        const len = BigInt(r.range(1, 8)) * PAGE;
        const res = this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, MAP_DROPPABLE|MAP_ANONYMOUS, -1, 0)`);
        if (!res || res.kind !== 'value') return null;
        const a = res.value + r.brange(0n, len - 1n);
        this.emit(`poke(${hex(a)}, ${this.byte()})`);
        this.emit(`madvise(${hex(res.value)}, ${len}, ${r.pick(['MADV_PAGEOUT', 'MADV_COLD', 'MADV_FREE', 'MADV_DONTNEED'])})`);
        this.readBack(a);
        return null;
      }
      case 'file-coherence': {
        const fd = this.openFd((f) => f.kind === 'tmpfs' && f.acc === 'rw');
        if (fd === undefined) return this.openat();
        const pages = BigInt(r.range(1, 8));
        this.emit(`ftruncate(${fd}, ${pages * PAGE})`);
        const sh = this.emit(`mmap(NULL, ${pages * PAGE}, PROT_READ|PROT_WRITE, MAP_SHARED, ${fd}, 0)`);
        const pr = this.emit(`mmap(NULL, ${pages * PAGE}, PROT_READ|PROT_WRITE, MAP_PRIVATE, ${fd}, 0)`);
        if (sh?.kind !== 'value' || pr?.kind !== 'value') return null;
        const off = r.brange(0n, pages * PAGE - 1n);
        this.emit(`poke(${hex(sh.value + off)}, ${this.byte()})`);
        this.emit(`peek(${hex(pr.value + off)})`);
        this.emit(`fpeek(${fd}, ${off})`);
        if (r.chance(0.5)) this.emit(`poke(${hex(pr.value + off)}, ${this.byte()})`);
        this.emit(`fill(${fd}, ${off & ~0xfffn}, ${r.pick([1, 100, 4096])}, ${this.byte()})`);
        if (r.chance(0.4)) this.emit(`madvise(${hex(pr.value + (off & ~0xfffn))}, 4096, ${r.pick(['MADV_DONTNEED', 'MADV_PAGEOUT', 'MADV_FREE', 'MADV_REMOVE'])})`);
        if (r.chance(0.3)) this.emit(`madvise(${hex(sh.value + (off & ~0xfffn))}, 4096, ${r.pick(['MADV_DONTNEED', 'MADV_REMOVE', 'MADV_PAGEOUT'])})`);
        this.readBack(sh.value + off, pr.value + off);
        this.emit(`rss(${hex(pr.value)})`);
        return null;
      }
      case 'truncate': {
        const fd = this.openFd((f) => f.kind === 'tmpfs' && f.acc === 'rw');
        if (fd === undefined) return this.openat();
        const pages = BigInt(r.range(2, 12));
        this.emit(`ftruncate(${fd}, ${pages * PAGE})`);
        const m = this.emit(`mmap(NULL, ${(pages + BigInt(r.range(0, 3))) * PAGE}, PROT_READ|PROT_WRITE, ${r.pick(['MAP_SHARED', 'MAP_PRIVATE'])}, ${fd}, 0)`);
        if (m?.kind !== 'value') return null;
        const a = m.value + r.brange(0n, pages * PAGE - 1n);
        this.emit(`poke(${hex(a)}, ${this.byte()})`);
        this.emit(`ftruncate(${fd}, ${r.brange(0n, pages) * PAGE + (r.chance(0.3) ? 100n : 0n)})`);
        this.readBack(a);
        this.emit(`ftruncate(${fd}, ${pages * PAGE})`);
        this.readBack(a);
        return null;
      }
      case 'dontunmap': {
        const o = this.ownAddr((e) => rw(e) && e.perms.endsWith('p') && !e.name);
        if (!o) return this.mmapAnon({ fixed: 'null' });
        const size = o.v.end - o.v.start;
        if (size > POPULATE_LIMIT) return null;
        this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        const to = r.chance(0.5) ? `MREMAP_MAYMOVE|MREMAP_DONTUNMAP` : `MREMAP_MAYMOVE|MREMAP_DONTUNMAP|MREMAP_FIXED, ${hex(this.windowAddr(size))}`;
        const res = this.emit(`mremap(${hex(o.v.start)}, ${size}, ${size}, ${to})`);
        const moved = res?.kind === 'value' ? res.value + (o.a - o.v.start) : o.a;
        this.readBack(o.a, moved);
        this.emit(`rss(${hex(moved)})`);
        return null;
      }
      case 'dup-shared': {
        const len = BigInt(r.range(1, 8)) * PAGE;
        const res = this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0)`);
        if (res?.kind !== 'value') return null;
        const off = r.brange(0n, len - 1n);
        this.emit(`poke(${hex(res.value + off)}, ${this.byte()})`);
        const dup = this.emit(`mremap(${hex(res.value)}, 0, ${len}, MREMAP_MAYMOVE)`);
        if (dup?.kind !== 'value') return null;
        this.readBack(dup.value + off, res.value + off);
        this.emit(`poke(${hex(dup.value + off)}, ${this.byte()})`);
        this.emit(`peek(${hex(res.value + off)})`);
        return null;
      }
      case 'thp': {
        const len = BigInt(r.range(2, 4)) * MB2;
        const res = this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`);
        if (res?.kind !== 'value') return null;
        if (r.chance(0.7)) this.emit(`madvise(${hex(res.value)}, ${len}, MADV_HUGEPAGE)`);
        const a = res.value + r.brange(0n, len - 1n);
        this.emit(`poke(${hex(a)}, ${this.byte()})`);
        this.emit(`rss(${hex(a)})`);
        const op = r.pick(['dontneed-part', 'mprotect-part', 'munmap-part', 'free-pageout', 'populate', 'mremap', 'move-advise', 'move-advise']);
        const p0 = page(a);
        if (op === 'dontneed-part') this.emit(`madvise(${hex(p0)}, 4096, MADV_DONTNEED)`);
        else if (op === 'mprotect-part') this.emit(`mprotect(${hex(p0)}, 4096, PROT_READ)`);
        else if (op === 'munmap-part') this.emit(`munmap(${hex(p0 === a ? p0 + PAGE : p0)}, 4096)`);
        else if (op === 'free-pageout') {
          this.emit(`madvise(${hex(res.value)}, ${len}, MADV_FREE)`);
          this.emit(`madvise(${hex(res.value)}, ${len}, MADV_PAGEOUT)`);
        } else if (op === 'populate') this.emit(`madvise(${hex(res.value)}, ${len}, ${r.pick(['MADV_POPULATE_READ', 'MADV_POPULATE_WRITE'])})`);
        else if (op === 'move-advise') {
          // Move the THPs to an address aligned with them or not (their PTEs then cross PMD
          // boundaries), maybe keeping the old range, then advise all or part of the new range.
          const skew = r.chance(0.7) ? BigInt(r.range(1, 511)) * PAGE : 0n;
          const to = this.windowAddr(len + MB2, MB2) + skew;
          const keep = r.chance(0.4) ? '|MREMAP_DONTUNMAP' : '';
          const moved = this.emit(`mremap(${hex(res.value)}, ${len}, ${len}, MREMAP_MAYMOVE|MREMAP_FIXED${keep}, ${hex(to)})`);
          if (moved?.kind !== 'value') return null;
          const whole = r.chance(0.6);
          const start = whole ? to : to + BigInt(r.range(0, 1023)) * PAGE;
          const alen = whole ? len : BigInt(r.range(1, 600)) * PAGE;
          const adv = this.collapsible(r.pick([MADV.COLD, MADV.PAGEOUT, MADV.FREE, MADV.DONTNEED, MADV.COLLAPSE, MADV.POPULATE_WRITE]), start, alen);
          this.emit(`madvise(${hex(start)}, ${alen}, ${formatAdvice(BigInt(adv))})`);
          if (r.chance(0.3)) this.emit(`madvise(${hex(to)}, ${len}, ${r.pick(['MADV_PAGEOUT', 'MADV_FREE', 'MADV_COLD'])})`);
          this.emit(`rss(${hex(to)})`);
          this.readBack(to + (a - res.value));
          return null;
        } else this.emit(`mremap(${hex(res.value)}, ${len}, ${len + MB2}, MREMAP_MAYMOVE)`);
        this.readBack(a);
        return null;
      }
      case 'huge-zero': {
        // Huge zero PMDs (read faults of THP-eligible blocks), then what splits one or
        // leaves it whole (a VMA boundary inside a block, even one a merge removes again;
        // a partial zap; a whole-block mprotect or zap), then writes: a whole one gets a THP,
        // a split one a 4 KiB copy. (After fuzz-anon-s2137-198 and fuzz-probe-thp-zero-split.)
        const blocks = r.range(2, 4);
        const len = BigInt(blocks) * MB2;
        const res = this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`);
        if (res?.kind !== 'value') return null;
        const a = res.value;
        if (r.chance(0.8)) this.emit(`madvise(${hex(a)}, ${len}, MADV_HUGEPAGE)`);
        if (r.chance(0.5)) this.emit(`madvise(${hex(a)}, ${len}, MADV_POPULATE_READ)`);
        else for (let i = 0; i < blocks; i++) if (r.chance(0.8)) this.emit(`peek(${hex(a + BigInt(i) * MB2 + BigInt(r.range(0, 511)) * PAGE)})`);
        for (let n = r.range(1, 3); n > 0; n--) {
          const b = a + BigInt(r.range(0, blocks - 1)) * MB2;
          const at = b + BigInt(r.range(1, 511)) * PAGE;
          const pages = BigInt(r.range(1, 16)) * PAGE;
          switch (r.pick(['advise-part', 'advise-part', 'protect-part', 'protect-block', 'dontneed-part', 'dontneed-block', 'unmap-remap', 'cold-free', 'nohuge', 'lock-part', 'guard'])) {
            case 'advise-part':
              this.emit(`madvise(${hex(at)}, ${pages}, MADV_NOHUGEPAGE)`);
              if (r.chance(0.7)) this.emit(`madvise(${hex(at)}, ${pages}, MADV_HUGEPAGE)`);
              break;
            case 'protect-part':
              this.emit(`mprotect(${hex(at)}, ${pages}, ${r.pick(['PROT_READ', 'PROT_NONE'])})`);
              if (r.chance(0.7)) this.emit(`mprotect(${hex(at)}, ${pages}, PROT_READ|PROT_WRITE)`);
              break;
            case 'protect-block':
              this.emit(`mprotect(${hex(b)}, ${MB2}, PROT_READ)`);
              this.emit(`mprotect(${hex(b)}, ${MB2}, PROT_READ|PROT_WRITE)`);
              break;
            case 'dontneed-part':
              this.emit(`madvise(${hex(at)}, ${pages}, MADV_DONTNEED)`);
              if (r.chance(0.6)) this.emit(`peek(${hex(at)})`);
              break;
            case 'dontneed-block':
              this.emit(`madvise(${hex(b)}, ${MB2}, MADV_DONTNEED)`);
              if (r.chance(0.6)) this.emit(`peek(${hex(b + PAGE)})`);
              break;
            case 'unmap-remap':
              this.emit(`munmap(${hex(at)}, ${pages})`);
              this.emit(`mmap(${hex(at)}, ${pages}, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED, -1, 0)`);
              if (r.chance(0.5)) this.emit(`madvise(${hex(at)}, ${pages}, MADV_HUGEPAGE)`);
              if (r.chance(0.6)) this.emit(`peek(${hex(at)})`);
              break;
            case 'cold-free':
              this.emit(`madvise(${hex(r.chance(0.5) ? at : b)}, ${r.chance(0.5) ? pages : MB2}, ${r.pick(['MADV_COLD', 'MADV_FREE', 'MADV_PAGEOUT'])})`);
              break;
            case 'nohuge':
              this.emit(`madvise(${hex(a)}, ${len}, MADV_NOHUGEPAGE)`);
              break;
            case 'lock-part':
              this.emit(`mlock(${hex(at)}, ${pages})`);
              if (r.chance(0.5)) this.emit(`munlock(${hex(at)}, ${pages})`);
              break;
            default:
              this.emit(`madvise(${hex(at)}, ${PAGE}, MADV_GUARD_INSTALL)`);
              this.emit(`madvise(${hex(at)}, ${PAGE}, MADV_GUARD_REMOVE)`);
          }
        }
        for (let i = 0; i < blocks; i++) {
          if (r.chance(0.7)) this.emit(`poke(${hex(a + BigInt(i) * MB2 + BigInt(r.range(0, 4095)))}, ${this.byte()})`);
        }
        for (let i = 0; i < blocks; i++) this.emit(`rss(${hex(a + BigInt(i) * MB2 + MB2 - PAGE)})`);
        this.emit('@maps');
        return null;
      }
      case 'protect': {
        const o = this.ownAddr(rw);
        if (!o) return this.mmapAnon({ fixed: 'null' });
        this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        this.emit(`mprotect(${hex(page(o.a))}, 4096, ${r.pick(['PROT_READ', 'PROT_NONE', 'PROT_EXEC', 'PROT_WRITE'])})`);
        this.emit(r.chance(0.5) ? `peek(${hex(o.a)})` : `poke(${hex(o.a)}, ${this.byte()})`);
        this.emit(`mprotect(${hex(page(o.a))}, 4096, PROT_READ|PROT_WRITE)`);
        this.readBack(o.a);
        return null;
      }
      case 'move': {
        const o = this.ownAddr(rw);
        if (!o) return this.mmapAnon({ fixed: 'null' });
        const size = o.v.end - o.v.start;
        if (size > POPULATE_LIMIT / 2n) return null;
        this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        const res = this.emit(`mremap(${hex(o.v.start)}, ${size}, ${size + BigInt(r.range(0, 16)) * PAGE}, ${r.chance(0.5) ? 'MREMAP_MAYMOVE' : `MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(this.windowAddr(size + 16n * PAGE))}`})`);
        if (res?.kind !== 'value') return null;
        this.readBack(res.value + (o.a - o.v.start));
        this.emit(`peek(${hex(o.a)})`);
        return null;
      }
      case 'lock': {
        const o = this.ownAddr();
        if (!o) return this.mmapAnon({ fixed: 'null' });
        const len = o.v.end - o.v.start > POPULATE_LIMIT ? PAGE : o.v.end - o.v.start;
        this.emit(`mlock(${hex(o.v.start)}, ${len})`);
        this.emit(`rss(${hex(o.a)})`);
        if (r.chance(0.4) && len === o.v.end - o.v.start && len <= POPULATE_LIMIT / 4n) {
          // A locked mapping resized: growth is charged to RLIMIT_MEMLOCK (EAGAIN past it) and
          // populated; a move takes the lock along; a shrink unlocks nothing that stays.
          const grow = BigInt(r.range(1, 64)) * PAGE;
          const how = r.pick(['in-place', 'maymove', 'fixed', 'shrink']);
          const to = how === 'shrink' ? len - PAGE * BigInt(r.range(0, Number(len / PAGE) - 1)) : len + grow;
          const flags = how === 'in-place' ? '0' : how === 'fixed' ? `MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(this.windowAddr(to))}` : 'MREMAP_MAYMOVE';
          const res = this.emit(`mremap(${hex(o.v.start)}, ${len}, ${to}, ${flags})`);
          const at = res?.kind === 'value' ? res.value : o.v.start;
          this.emit(`rss(${hex(at)})`);
          this.emit('@maps');
          this.emit(`munlock(${hex(at)}, ${to})`);
          this.emit(`rss(${hex(at)})`);
          return null;
        }
        this.emit(`madvise(${hex(o.v.start)}, ${len}, ${r.pick(['MADV_DONTNEED', 'MADV_DONTNEED_LOCKED', 'MADV_FREE', 'MADV_PAGEOUT', 'MADV_COLD'])})`);
        this.emit(`munlock(${hex(o.v.start)}, ${len})`);
        this.emit(`rss(${hex(o.a)})`);
        return null;
      }
      case 'guard': {
        const o = this.ownAddr();
        if (!o) return this.mmapAnon({ fixed: 'null' });
        this.emit(`poke(${hex(o.a)}, ${this.byte()})`);
        this.emit(`madvise(${hex(page(o.a))}, 4096, MADV_GUARD_INSTALL)`);
        this.emit(`peek(${hex(o.a)})`);
        this.emit(`madvise(${hex(page(o.a))}, 4096, ${r.pick(['MADV_POPULATE_READ', 'MADV_DONTNEED', 'MADV_GUARD_REMOVE'])})`);
        // Half the time the guard stays, for whatever the later steps do around it (mremap,
        // mprotect, MADV_FREE, collapse, munmap...): fuzz-probe-guard-interplay's ground.
        if (r.chance(0.5)) this.emit(`madvise(${hex(page(o.a))}, 4096, MADV_GUARD_REMOVE)`);
        this.readBack(o.a);
        return null;
      }
      default:
        return null;
    }
  }

  /** A huge page mapping's life: touch, count, advise, count, unmap, count. */
  hugeSequence() {
    if (!this.hugeOn) return null;
    const r = this.rng;
    const res = this.emit(this.mmapHugeAnon());
    if (res?.kind !== 'value') return null;
    const v = this.own().find((e) => e.start <= res.value && res.value < e.end);
    if (!v) return null;
    const a = r.brange(v.start, v.end - 1n);
    this.emit(`poke(${hex(a)}, ${this.byte()})`);
    this.emit(this.hugepages());
    const op = r.pick(['MADV_DONTNEED', 'MADV_REMOVE', 'MADV_POPULATE_WRITE', 'MADV_POPULATE_READ', 'MADV_FREE', 'MADV_PAGEOUT', 'mremap', 'mprotect']);
    if (op === 'mremap') this.emit(`mremap(${hex(v.start)}, ${v.end - v.start}, ${v.end - v.start}, MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(this.windowAddr(v.end - v.start, this.hunit))})`);
    else if (op === 'mprotect') this.emit(`mprotect(${hex(v.start)}, ${v.end - v.start}, PROT_READ)`);
    else this.emit(`madvise(${hex(v.start)}, ${v.end - v.start}, ${op})`);
    this.emit(`peek(${hex(a)})`);
    this.emit(this.hugepages());
    this.emit(`rss(${hex(a)})`);
    if (r.chance(0.5)) {
      this.emit(`munmap(${hex(v.start)}, ${v.end - v.start})`);
      this.emit(this.hugepages());
    }
    return null;
  }

  /**
   * The pool resized under its users (`set_max_huge_pages`): `nr_hugepages`
   * written while pages are mapped, reserved or held by files — shrinking
   * below what is in use makes surplus pages, growing takes them back first —
   * with a mapping unmapped or a page written between writes, and the
   * header's size written back at the end (the recorder checks that the host's
   * setting is what it set). Only sizes `fill` can write (one repeated digit);
   * the 1 GiB pool only shrinks and grows back, as a fresh gigantic page may
   * be impossible to find on the host.
   */
  hugeResizeSequence() {
    if (!this.hugeOn) return null;
    const r = this.rng;
    const giga = this.hugeMode === '1G';
    const n = giga ? this.cfg.hugepages_1048576kB : this.cfg.hugepages_2048kB;
    const spell = (v) => (v < 10 ? { len: 1, digit: v } : v % 11 === 0 && v < 100 ? { len: 2, digit: v / 11 } : undefined);
    if (spell(n) === undefined) return null;
    const path = giga ? '/sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages' : r.pick(['/proc/sys/vm/nr_hugepages', '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_hugepages']);
    const o = this.emit(`openat(AT_FDCWD, "${path}", ${r.pick(['O_WRONLY', 'O_RDWR'])})`);
    if (o?.kind !== 'value') return null;
    const fd = Number(o.value);
    const pool = giga ? 'hugepages(1048576kB)' : 'hugepages(2048kB)';
    const write = (v) => {
      const w = spell(v);
      this.emit(`fill(${fd}, 0, ${w.len}, ${hex(BigInt(0x30 + w.digit))})`);
      this.emit(pool);
    };
    for (let k = r.range(1, 3); k > 0; k--) {
      write(giga ? r.range(0, n) : r.range(0, Math.min(9, n + 3)));
      const step = r.pick(['access', 'unmap', 'file', 'none']);
      if (step === 'access') this.emit(this.hugeAccess());
      else if (step === 'unmap') {
        const v = this.pickVma((e) => e.end - e.start >= this.hunit && (e.name.startsWith('/anon_hugepage') || e.name.startsWith(giga ? HUGE1G : HUGE2M)));
        if (v) this.emit(`munmap(${hex(v.start)}, ${v.end - v.start})`);
      } else if (step === 'file') this.emit(r.chance(0.5) ? this.hugeFileSequence() : this.unlink());
      this.emit(pool);
    }
    write(n);
    this.emit(`close(${fd})`);
    return null;
  }

  /**
   * One hugetlbfs file through its life: a shared and (often) a private mapping
   * of it, a write through each (the private one a copy-on-write of the page
   * cache's huge page), then one change under the mappings — a truncation, an
   * unlink, a close, a hole punched with `MADV_REMOVE`, a partial unmap, the
   * private copy dropped — with the pool's counters after every step that can
   * move them. Reservations of the file (per inode) and of the private
   * mapping (per VMA) meet here; each piece alone is covered elsewhere.
   */
  hugeFileSequence() {
    if (!this.hugeOn) return null;
    const r = this.rng;
    const kind = this.hkind;
    const unit = this.hunit;
    const pool = `hugepages(${kind === 'huge1g' ? '1048576kB' : '2048kB'})`;
    let fd = this.openFd((f) => f.kind === kind && f.acc === 'rw');
    if (fd === undefined || r.chance(0.4)) {
      const o = this.emit(`openat(AT_FDCWD, "${this.newPath(kind)}", O_RDWR|O_CREAT, 0600)`);
      if (o?.kind !== 'value') return null;
      fd = Number(o.value);
    }
    const n = BigInt(kind === 'huge1g' ? 1 : r.range(1, 3));
    const len = n * unit;
    if (r.chance(0.75)) this.emit(`ftruncate(${fd}, ${len})`);
    const noreserve = () => (r.chance(0.15) ? '|MAP_NORESERVE' : '');
    const sh = this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, MAP_SHARED${noreserve()}, ${fd}, 0)`);
    const pr = r.chance(0.6) ? this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, MAP_PRIVATE${noreserve()}, ${fd}, 0)`) : undefined;
    this.emit(pool);
    const shA = sh?.kind === 'value' ? sh.value : undefined;
    const prA = pr?.kind === 'value' ? pr.value : undefined;
    if (shA === undefined && prA === undefined) return null;
    const off = r.brange(0n, len - 1n);
    if (shA !== undefined) this.emit(`poke(${hex(shA + off)}, ${this.byte()})`);
    if (prA !== undefined) {
      this.emit(`peek(${hex(prA + off)})`);
      if (r.chance(0.7)) this.emit(`poke(${hex(prA + off)}, ${this.byte()})`);
    }
    this.emit(pool);
    const page0 = off - (off % unit);
    const op = r.pick(['truncate', 'truncate', 'unlink', 'close', 'remove', 'unmap-shared', 'drop-private', 'remap-private']);
    if (op === 'truncate') this.emit(`ftruncate(${fd}, ${r.brange(0n, n - 1n) * unit + (r.chance(0.1) ? PAGE : 0n)})`); // unaligned: EINVAL
    else if (op === 'unlink') {
      const f = this.fds.get(fd);
      if (f) this.emit(`unlinkat(AT_FDCWD, "${f.path}", 0)`);
    } else if (op === 'close') this.emit(`close(${fd})`);
    else if (op === 'remove' && shA !== undefined) this.emit(`madvise(${hex(shA + page0)}, ${unit}, MADV_REMOVE)`);
    else if (op === 'unmap-shared' && shA !== undefined) this.emit(`munmap(${hex(shA + page0)}, ${unit})`);
    else if (op === 'drop-private' && prA !== undefined) this.emit(`madvise(${hex(prA + page0)}, ${unit}, MADV_DONTNEED)`);
    else if (op === 'remap-private' && prA !== undefined) {
      this.emit(`mremap(${hex(prA)}, ${len}, ${len}, MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(this.windowAddr(len, unit))})`);
      this.emit('@maps');
      this.emit(pool);
      return null;
    }
    this.emit(pool);
    this.readBack(...[shA, prA].filter((a) => a !== undefined).map((a) => a + off));
    if (shA !== undefined && r.chance(0.5)) this.emit(`fpeek(${fd}, ${off})`);
    this.emit(`rss(${hex((shA ?? prA) + off)})`);
    if (r.chance(0.6)) {
      for (const a of [shA, prA]) if (a !== undefined) this.emit(`munmap(${hex(a)}, ${len})`);
      this.emit(pool);
    }
    return null;
  }

  /**
   * A hugetlb mapping of three or four huge pages cut into pieces: some pages
   * written, the middle made read-only (two splits), then one piece unmapped,
   * another moved or shrunk by `mremap`, one advised away — each piece's
   * reservations leave with it when it is closed (`hugetlb_vm_op_close` counts
   * what its own range still holds), with the pool's counters after each cut.
   */
  hugeSplitSequence() {
    if (!this.hugeOn) return null;
    const r = this.rng;
    const unit = this.hunit;
    if (unit !== MB2) return null; // 1 GiB pages: pools of at most two pages
    const pool = 'hugepages(2048kB)';
    const n = BigInt(r.range(3, 4));
    const len = n * unit;
    let src = '-1, 0';
    const shared = r.chance(0.4);
    if (r.chance(0.4)) {
      const o = this.emit(`openat(AT_FDCWD, "${this.newPath(this.hkind)}", O_RDWR|O_CREAT, 0600)`);
      if (o?.kind !== 'value') return null;
      this.emit(`ftruncate(${o.value}, ${len})`);
      src = `${o.value}, 0`;
    }
    const anon = src === '-1, 0' ? '|MAP_ANONYMOUS|MAP_HUGETLB' : '';
    const noreserve = r.chance(0.2);
    const res = this.emit(`mmap(NULL, ${len}, PROT_READ|PROT_WRITE, ${shared ? 'MAP_SHARED' : 'MAP_PRIVATE'}${anon}${noreserve ? '|MAP_NORESERVE' : ''}, ${src})`);
    if (res?.kind !== 'value') return null;
    const a = res.value;
    this.emit(pool);
    for (let i = 0n; i < n; i++) if (r.chance(0.6)) this.emit(`poke(${hex(a + i * unit + BigInt(r.range(0, 4095)))}, ${this.byte()})`);
    this.emit(pool);
    this.emit(`mprotect(${hex(a + unit)}, ${unit}, PROT_READ)`);
    this.emit('@maps');
    // Moving a piece of a private mapping that holds reservations makes Linux leak the
    // rest's (the pool-safety check would refuse the scenario): unmap it instead.
    const cuts = ['unmap', shared || noreserve ? 'move' : 'unmap', 'shrink', 'dontneed'];
    for (let i = cuts.length - 1; i > 0; i--) {
      const j = r.int(i + 1);
      [cuts[i], cuts[j]] = [cuts[j], cuts[i]];
    }
    const piece = (i) => a + BigInt(i) * unit;
    for (const cut of cuts.slice(0, r.range(1, 3))) {
      const i = r.range(0, Number(n) - 1);
      if (cut === 'unmap') this.emit(`munmap(${hex(piece(i))}, ${unit})`);
      else if (cut === 'dontneed') this.emit(`madvise(${hex(piece(i))}, ${unit}, MADV_DONTNEED)`);
      else if (cut === 'move') this.emit(`mremap(${hex(piece(i))}, ${unit}, ${unit}, MREMAP_MAYMOVE|MREMAP_FIXED, ${hex(this.windowAddr(unit, unit))})`);
      else if (i + 1 < Number(n)) this.emit(`mremap(${hex(piece(i))}, ${2n * unit}, ${unit}, 0)`);
      this.emit(pool);
    }
    this.emit(`peek(${hex(piece(r.range(0, Number(n) - 1)))})`);
    this.emit(pool);
    if (r.chance(0.5)) {
      this.emit(`munmap(${hex(a)}, ${len})`);
      this.emit(pool);
    }
    return null;
  }

  /**
   * The vm sysctls and system files a program may write or read
   * (fuzz-probe-sysctl-writes, -files, -dev-full): overcommit_kbytes against
   * the ratio, legacy_va_layout (nothing changes for this process),
   * drop_caches, read-only opens of the others (pwrite EBADF, or ESPIPE on
   * sysfs), /dev/full, use_zero_page 0 around a read fault. Whatever the recorder set is written back at the end
   * (the ratio only when one repeated digit can spell it). overcommit_memory
   * is only read (see safety.mjs).
   */
  sysctlSequence() {
    const r = this.rng;
    const spell = (v) => (v < 10 ? { len: 1, digit: v } : v % 11 === 0 && v < 100 ? { len: 2, digit: v / 11 } : undefined);
    const open = (path, flags) => {
      const o = this.emit(`openat(AT_FDCWD, "${path}", ${flags})`);
      return o?.kind === 'value' ? Number(o.value) : undefined;
    };
    const fill = (fd, at, len, byte) => this.emit(`fill(${fd}, ${at}, ${len}, ${hex(BigInt(byte))})`);
    const variant = r.pick(['kbytes', 'legacy', 'drop', 'read-only', 'full', 'zero-page']);
    let fd;
    if (variant === 'kbytes') {
      const ratio = spell(this.cfg.overcommit_ratio);
      if (!ratio) return null;
      fd = open('/proc/sys/vm/overcommit_kbytes', 'O_RDWR');
      const rfd = open('/proc/sys/vm/overcommit_ratio', r.pick(['O_RDWR', 'O_WRONLY']));
      if (fd === undefined || rfd === undefined) return null;
      fill(fd, r.chance(0.2) ? 1 : 0, r.pick([0, 1, 7, 20, 21]), r.pick([0x31, 0x39, 0x78]));
      this.emit(`fpeek(${fd}, 0)`);
      if (r.chance(0.5)) this.emit(this.mmapAnon());
      fill(rfd, 0, ratio.len, 0x30 + ratio.digit);
      this.emit(`fpeek(${fd}, 0)`);
      this.emit(`close(${rfd})`);
    } else if (variant === 'legacy') {
      fd = open('/proc/sys/vm/legacy_va_layout', 'O_RDWR');
      if (fd === undefined) return null;
      fill(fd, 0, 1, r.pick([0x31, 0x32, 0x78]));
      this.emit(`fpeek(${fd}, 0)`);
      this.emit(this.mmapAnon());
      fill(fd, 0, 1, 0x30);
    } else if (variant === 'drop') {
      fd = open('/proc/sys/vm/drop_caches', r.pick(['O_WRONLY', 'O_WRONLY', 'O_RDONLY']));
      if (fd === undefined) return null;
      fill(fd, r.chance(0.2) ? 2 : 0, r.pick([1, 1, 2, 0]), 0x30 + r.range(0, 9));
    } else if (variant === 'read-only') {
      const path = r.pick(['/proc/sys/vm/overcommit_memory', '/proc/sys/vm/admin_reserve_kbytes', '/proc/sys/vm/user_reserve_kbytes',
        '/proc/sys/vm/max_map_count', '/proc/sys/vm/nr_overcommit_hugepages', '/proc/sys/vm/compact_memory',
        '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages', '/sys/kernel/mm/hugepages/hugepages-2048kB/nr_overcommit_hugepages']);
      fd = open(path, 'O_RDONLY');
      if (fd === undefined) return null;
      this.emit(`fpeek(${fd}, ${r.pick([0, 0, 1, 2])})`);
      fill(fd, 0, 1, 0x31);
    } else if (variant === 'zero-page') {
      // use_zero_page 0: a read fault where a THP could go takes a THP, not the huge zero page.
      fd = open('/sys/kernel/mm/transparent_hugepage/use_zero_page', 'O_RDWR');
      if (fd === undefined) return null;
      fill(fd, 0, 1, r.pick([0x30, 0x30, 0x32]));
      const res = this.emit(`mmap(NULL, ${4n * MB2}, ${r.pick(['PROT_READ', 'PROT_READ|PROT_WRITE'])}, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`);
      if (res?.kind === 'value') {
        if (r.chance(0.8)) this.emit(`madvise(${hex(res.value)}, ${4n * MB2}, MADV_HUGEPAGE)`);
        const a = res.value + r.brange(0n, 4n * MB2 - 1n);
        this.emit(`peek(${hex(a)})`);
        this.emit(`rss(${hex(a)})`);
        if (r.chance(0.5)) this.emit(`poke(${hex(a)}, ${this.byte()})`);
      }
      fill(fd, 0, 1, 0x31);
      if (res?.kind === 'value') {
        const b = res.value + r.brange(0n, 4n * MB2 - 1n);
        this.emit(`peek(${hex(b)})`);
        this.emit(`rss(${hex(b)})`);
      }
    } else {
      fd = open('/dev/full', r.pick(['O_RDWR', 'O_RDONLY']));
      if (fd === undefined) return null;
      fill(fd, r.pick([0, 4096]), r.pick([0, 1, 70000]), 0x41);
      this.emit(`fpeek(${fd}, ${r.pick([0, 1 << 20])})`);
    }
    this.emit(`close(${fd})`);
    return null;
  }

  // ------------------------------------------------ profiles

  menu() {
    const g = this;
    const anon = [
      [22, () => g.mmapAnon()], [8, () => g.munmap()], [10, () => g.mprotect()], [8, () => g.mremap()],
      [9, () => g.madvise()], [3, () => g.mlock()], [2, () => g.mlock('munlock')], [3, () => g.brk()],
      [10, () => g.poke()], [8, () => g.peek()], [5, () => g.rss()], [3, () => '@maps'],
      [10, () => g.sequence()],
    ];
    const file = [
      [8, () => g.openat()], [6, () => g.ftruncate()], [5, () => g.fill()], [5, () => g.fpeek()],
      [16, () => g.mmapFile()], [3, () => g.mmapFile({ pgoff: true })], [3, () => g.close()], [2, () => g.dup()],
      [2, () => g.unlink()], [2, () => g.openDev()], [6, () => g.mmapAnon()], [4, () => g.munmap()],
      [4, () => g.mprotect()], [5, () => g.mremap()], [6, () => g.madvise()], [10, () => g.poke()], [9, () => g.peek()],
      [4, () => g.rss()], [3, () => '@maps'], [1, () => g.mlock()], [10, () => g.sequence()],
    ];
    const huge = [
      [16, () => g.mmapHugeAnon()], [6, () => g.openat(g.hkind)], [5, () => g.ftruncate()],
      [10, () => g.mmapFile({ kinds: ['huge2m', 'huge1g'] })], [12, () => g.hugeAccess()], [10, () => g.hugepages()],
      [5, () => g.munmap()], [3, () => g.mprotect()], [4, () => g.mremap()], [4, () => g.madvise()], [2, () => g.close()],
      [2, () => g.unlink()], [3, () => g.rss()], [3, () => '@maps'], [4, () => g.mmapAnon()], [2, () => g.fill()],
      [2, () => g.fpeek()], [1, () => g.mlock()],
    ];
    if (this.hugeMode === '2M' && this.cfg.hugepages_1048576kB > 0) huge.push([2, () => g.openat('huge1g')]);
    huge.push([8, () => g.hugeSequence()], [6, () => g.hugeFileSequence()], [5, () => g.hugeSplitSequence()], [3, () => g.hugeResizeSequence()], [4, () => g.sequence()]);
    switch (this.profile) {
      case 'anon':
        return anon;
      case 'file':
        return file;
      case 'hugetlb':
        return huge;
      case 'errors':
        return [[55, () => g.errorStep()], [10, () => g.mmapAnon()], [8, () => g.openat()], [4, () => g.ftruncate()], [3, () => g.sysctlSequence()],
          [5, () => g.mmapFile()], [4, () => g.mmapHugeAnon()], [5, () => g.poke()], [3, () => g.peek()], [2, () => g.hugepages()],
          [2, () => '@maps'], [2, () => g.close()]];
      case 'legacy':
        return [...anon.map(([w, f]) => [w, f]), ...file.slice(0, 10).map(([w, f]) => [Math.ceil(w / 2), f]),
          [6, () => g.mmapHugeAnon()], [3, () => g.hugeAccess()], [2, () => g.hugepages()],
          [2, () => (g.hugeOn ? g.openat(g.hkind) : null)], [3, () => (g.hugeOn ? g.mmapFile({ kinds: [g.hkind] }) : null)]];
      default:
        throw new Error(this.profile);
    }
  }

  /** Generate the scenario: returns {header, steps, cfg}. */
  generate(comments = []) {
    this.boot(comments);
    const r = this.rng;
    if (this.profile === 'scale') return this.generateScale();
    const [lo, hi] = this.opts.steps ?? [30, 80];
    const n = r.range(lo, hi);
    const menu = this.menu();
    let guard = 0;
    while (this.steps.length < n && guard++ < n * 50) {
      const make = r.weighted(menu);
      this.emit(make());
    }
    if (this.steps[this.steps.length - 1] !== '@maps') this.steps.push('@maps');
    return { header: this.header, steps: this.steps, cfg: this.cfg };
  }

  /**
   * The scale profile: push mm->map_count to max_map_count (1200-1500) with
   * many small mappings and splits, then work at the limit. A limit of that
   * size cannot be reached in 80 steps (a step adds at most two VMAs), so
   * these scenarios are longer; the minimiser cuts them after the first
   * divergent step before it starts removing anything.
   */
  generateScale() {
    const r = this.rng;
    const limit = this.cfg.max_map_count;
    const target = limit - r.range(0, 6);
    const split = () => {
      // Re-protect one page inside an own mapping of ≥ 3 pages: +2 VMAs.
      const v = this.pickVma((e) => e.end - e.start >= 3n * PAGE && !e.name);
      if (!v) return null;
      const pages = (v.end - v.start) / PAGE;
      const at = v.start + r.brange(1n, pages - 2n) * PAGE;
      const p = v.perms.startsWith('rw') ? 'PROT_READ' : 'PROT_READ|PROT_WRITE';
      return `mprotect(${hex(at)}, 4096, ${p})`;
    };
    const bigAnon = () => `mmap(NULL, ${BigInt(r.range(256, 1024)) * PAGE}, PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)`;
    const smallFixed = () => {
      const a = WINDOW_START + BigInt(r.range(0, 0x8000)) * 2n * PAGE;
      return `mmap(${hex(a)}, ${r.pick([4096, 4096, 8192])}, ${r.pick(['PROT_READ', 'PROT_READ|PROT_WRITE'])}, MAP_PRIVATE|MAP_FIXED|MAP_ANONYMOUS, -1, 0)`;
    };
    let guard = 0;
    while (this.mapCount() < target && guard++ < 5000) {
      const make = r.weighted([
        [70, split], [6, bigAnon], [10, smallFixed], [4, () => this.mmapAnon()], [3, () => this.poke()],
        [2, () => this.peek()], [1, () => '@maps'], [2, () => this.munmap()], [2, () => this.mremap()],
      ]);
      this.emit(make());
    }
    // At the limit: everything that needs a new VMA fails, merges and unmaps still work.
    const atLimit = r.range(25, 60);
    const menu = [
      [15, split], [10, smallFixed], [10, () => this.mmapAnon()], [8, () => this.munmap()], [8, () => this.mprotect()],
      [8, () => this.mremap()], [4, () => this.mmapFile()], [4, () => this.openat()], [2, () => this.ftruncate()],
      [5, () => this.madvise()], [4, () => this.mlock()], [3, () => this.brk()], [5, () => this.poke()],
      [3, () => this.rss()], [3, () => '@maps'],
    ];
    return { header: this.header, steps: this.finishScale(atLimit, menu), cfg: this.cfg };
  }

  finishScale(atLimit, menu) {
    let added = 0;
    let guard = 0;
    while (added < atLimit && guard++ < atLimit * 20) {
      const before = this.steps.length;
      this.emit(this.rng.weighted(menu)());
      if (this.steps.length > before) added++;
    }
    if (this.steps[this.steps.length - 1] !== '@maps') this.steps.push('@maps');
    return this.steps;
  }
}

/** The scenario's text: header, then each step with `?`. */
export function scenarioText(header, steps) {
  const body = steps.map((s) => (s === '@maps' ? '@maps\n@end' : `${s} = ?`));
  return header + body.join('\n') + '\n';
}
