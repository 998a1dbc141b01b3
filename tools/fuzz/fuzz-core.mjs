// The mmsim system-call fuzzer: drives every system-call entry of
// @mmsim/syscalls with random 64-bit arguments biased towards edge values,
// interleaved with user loads/stores, ftruncate and huge page pool resizing,
// and runs checkInvariants after every call. Nothing may throw, every result
// must be a plausible raw syscall value, and the invariants must hold.
//
// Deterministic: everything (machine configurations included) comes from one
// seeded PRNG, so `seed S call K` replays by running the same seed again
// (`--trace-from K` prints the calls leading to it).
//
// Plain JavaScript over the built packages so `node tools/fuzz/fuzz.mjs` needs
// no compiler; Vitest imports this file too (and then resolves @mmsim/* to the
// TypeScript sources).

import { bootFromHeader, checkInvariants, framesInUse, persistentFrames, unaccountedStackGrowth, unaccountedStacks } from '@mmsim/machine';
import * as sys from '@mmsim/syscalls';
import { parseTrace } from '@mmsim/trace';

const U64 = (1n << 64n) - 1n;
const PAGE = 4096n;
const MB2 = 2n << 20n;
const GB1 = 1n << 30n;
const TASK_SIZE = 0x7ffffffff000n;

// ---------------------------------------------------------------- PRNG

/** xoshiro128** seeded through splitmix32: fast, deterministic, 32-bit safe. */
export class Rng {
  constructor(seed) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next() || 1;
  }
  u32() {
    const r = Math.imul(rotl(Math.imul(this.b, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.b << 9) >>> 0;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    this.a >>>= 0;
    this.b >>>= 0;
    this.c >>>= 0;
    this.d >>>= 0;
    return r;
  }
  /** Integer in [0, n). */
  int(n) {
    return Math.floor((this.u32() / 4294967296) * n);
  }
  chance(p) {
    return this.u32() / 4294967296 < p;
  }
  pick(arr) {
    return arr[this.int(arr.length)];
  }
  u64() {
    return (BigInt(this.u32()) << 32n) | BigInt(this.u32());
  }
  /** Pick by weights: [[weight, value], ...]. */
  weighted(table) {
    let total = 0;
    for (const [w] of table) total += w;
    let r = this.int(total);
    for (const [w, v] of table) {
      if (r < w) return v;
      r -= w;
    }
    return table[table.length - 1][1];
  }
}

function rotl(x, k) {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

// ---------------------------------------------------------------- value generators

const u64 = (v) => BigInt.asUintN(64, BigInt(v));

/** Edge values every 64-bit argument is biased towards. */
const EDGES = [
  0n, 1n, PAGE - 1n, PAGE, PAGE + 1n, 2n * PAGE, 0x10000n, 0xffffn, 0x10001n,
  MB2 - PAGE, MB2 - 1n, MB2, MB2 + 1n, MB2 + PAGE, 2n * MB2, GB1 - PAGE, GB1, GB1 + PAGE,
  (1n << 31n) - 1n, 1n << 31n, (1n << 32n) - 1n, 1n << 32n, (1n << 32n) + PAGE,
  TASK_SIZE - PAGE, TASK_SIZE, TASK_SIZE + PAGE, (1n << 47n) - PAGE, 1n << 47n, (1n << 47n) + PAGE,
  1n << 48n, 1n << 56n, (1n << 56n) - PAGE, 1n << 57n, (1n << 63n) - 1n, 1n << 63n, (1n << 63n) + PAGE,
  U64, U64 - 1n, u64(-4096), u64(-4095), u64(-PAGE * 2n), u64(-1), u64(-100),
  0x7ffff7fff000n, 0x7ffffffde000n, 0x7ffffffff000n - MB2, 0xffffffffff600000n,
];

const PATHS = [
  '/dev/shm/x/a', '/dev/shm/x/b', '/dev/shm/x/c', '/mnt/h/a', '/mnt/h/b', '/mnt/g/a',
  '/dev/zero', '/dev/null', '/dev/urandom', '/proc/sys/vm/max_map_count', '/', '/dev/shm/x',
  '/mnt/h', '/dev/shm/x/dir/nested', '/nonexistent/file', 'relative', '/dev/shm/x/', '/tmp',
  '/dev/shm/x/./a', '/dev/shm/x//b', '/dev/shm/x/../x/c', '/dev/shm/x/a/', '/dev/shm/x/.', '/dev/shm/x/..', '/mnt/h/../h/a', '/..', '/dev/null/',
  'a', './b', '../x/c', '', // relative: from a directory descriptor (ENOENT from AT_FDCWD)
];

const MAP_BITS = [0x10, 0x20, 0x40, 0x80, 0x100, 0x800, 0x1000, 0x2000, 0x4000, 0x8000, 0x10000, 0x20000, 0x40000, 0x80000, 0x100000, 0x4000000];
const ADVICE = [0, 1, 2, 3, 4, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 102, 103];

class Gen {
  constructor(rng, machine, state) {
    this.r = rng;
    this.m = machine;
    this.s = state;
  }
  edge() {
    return this.r.pick(EDGES);
  }
  /** An address: around existing VMAs, in a small busy window, an edge, or anything. */
  addr() {
    const r = this.r;
    const vmas = this.m.mm.vmas.all();
    let a;
    switch (r.weighted([[35, 'vma'], [20, 'window'], [20, 'edge'], [10, 'low'], [5, 'huge'], [10, 'any']])) {
      case 'vma': {
        if (vmas.length === 0) return this.s.window;
        const v = r.pick(vmas);
        const pages = v.end - v.start;
        const at = r.weighted([[3, v.start], [2, v.end], [3, v.start + r.int(pages + 1)], [1, v.start - r.int(4)], [1, v.end + r.int(4)]]);
        a = BigInt(Math.max(0, at)) << 12n;
        break;
      }
      case 'window':
        a = this.s.window + (BigInt(r.int(64)) << 12n);
        break;
      case 'edge':
        return this.edge();
      case 'low':
        a = BigInt(r.int(0x100)) << 12n;
        break;
      case 'huge':
        a = this.s.window + BigInt(r.int(8)) * MB2;
        break;
      default:
        return r.u64();
    }
    if (r.chance(0.07)) a += BigInt(1 + r.int(4095));
    return a & U64;
  }
  /** A length: mostly a few pages, sometimes huge pages, edges, zero or anything. */
  len() {
    const r = this.r;
    let l;
    switch (r.weighted([[45, 'small'], [12, 'huge'], [20, 'edge'], [6, 'zero'], [2, 'giga'], [15, 'any']])) {
      case 'small':
        l = BigInt(1 + r.int(16)) * PAGE;
        break;
      case 'huge':
        l = BigInt(1 + r.int(3)) * MB2;
        break;
      case 'edge':
        return this.edge();
      case 'zero':
        return 0n;
      case 'giga':
        l = GB1;
        break;
      default:
        return r.u64();
    }
    if (r.chance(0.1)) l += r.pick([1n, -1n, PAGE - 1n]);
    return l & U64;
  }
  prot() {
    const r = this.r;
    switch (r.weighted([[70, 'rwx'], [10, 'sem'], [8, 'grows'], [8, 'bit'], [4, 'any']])) {
      case 'rwx':
        return BigInt(r.pick([0, 1, 3, 3, 3, 1, 5, 7, 2, 4]));
      case 'sem':
        return BigInt(r.int(8) | 8);
      case 'grows':
        return BigInt(r.int(8) | r.pick([0x01000000, 0x02000000, 0x03000000]));
      case 'bit':
        return 1n << BigInt(r.int(64));
      default:
        return r.u64();
    }
  }
  mmapFlags() {
    const r = this.r;
    if (r.chance(0.03)) return r.u64();
    let f = r.weighted([[55, 0x02], [25, 0x01], [6, 0x03], [4, 0x08], [10, r.int(16)]]);
    if (r.chance(0.55)) f |= 0x20; // MAP_ANONYMOUS
    for (const bit of MAP_BITS) if (bit !== 0x20 && r.chance(bit === 0x10 ? 0.25 : 0.06)) f |= bit;
    if (r.chance(0.12)) f |= 0x40000; // MAP_HUGETLB
    if (f & 0x40000) f |= r.weighted([[50, 0], [30, 21 << 26], [15, 30 << 26], [5, r.int(64) << 26]]);
    let v = BigInt(f >>> 0);
    if (r.chance(0.05)) v |= 1n << BigInt(r.int(64));
    return v;
  }
  /** A descriptor: open, closed, dup'd, -1, or nonsense. */
  fd() {
    const r = this.r;
    const open = [...this.m.files.entries()].map(([fd]) => fd);
    switch (r.weighted([[60, 'open'], [12, 'closed'], [8, 'neg'], [5, 'high'], [5, 'wrap'], [10, 'any']])) {
      case 'open':
        return open.length ? BigInt(r.pick(open)) : -1n & U64;
      case 'closed':
        return BigInt(this.s.closed.length ? r.pick(this.s.closed) : 3 + r.int(8));
      case 'neg':
        return r.pick([u64(-1), u64(-100), u64(-2)]);
      case 'high':
        return BigInt(r.pick([1023, 1024, 0x7fffffff, 0x80000000, 0xffffffff]));
      case 'wrap':
        return open.length ? (1n << 32n) + BigInt(r.pick(open)) : 1n << 32n;
      default:
        return r.u64();
    }
  }
  /** A file offset for mmap (bytes). */
  off() {
    const r = this.r;
    switch (r.weighted([[55, 'small'], [15, 'huge'], [8, 'unaligned'], [22, 'edge']])) {
      case 'small':
        return BigInt(r.int(8)) * PAGE;
      case 'huge':
        return BigInt(r.int(4)) * MB2;
      case 'unaligned':
        return BigInt(r.int(8)) * PAGE + BigInt(1 + r.int(4095));
      default:
        return this.edge();
    }
  }
  /** A file size for ftruncate. */
  size() {
    const r = this.r;
    switch (r.weighted([[45, 'small'], [20, 'huge'], [5, 'giga'], [10, 'unaligned'], [20, 'edge']])) {
      case 'small':
        return BigInt(r.int(17)) * PAGE;
      case 'huge':
        return BigInt(r.int(5)) * MB2;
      case 'giga':
        return GB1;
      case 'unaligned':
        return BigInt(r.int(8)) * PAGE + BigInt(1 + r.int(4095));
      default:
        return this.edge();
    }
  }
}

// ---------------------------------------------------------------- machines

const BOOT_MAPS = `00400000-00401000 r--p 00000000 00:00 1 /usr/local/bin/mmsim-rec
00401000-0047b000 r-xp 00001000 00:00 1 /usr/local/bin/mmsim-rec
0047b000-004a3000 r--p 0007b000 00:00 1 /usr/local/bin/mmsim-rec
004a3000-004a7000 r--p 000a2000 00:00 1 /usr/local/bin/mmsim-rec
004a7000-004aa000 rw-p 000a6000 00:00 1 /usr/local/bin/mmsim-rec
004aa000-009c0000 rw-p 00000000 00:00 0
009c0000-009e2000 rw-p 00000000 00:00 0 [heap]
7ffff7ff7000-7ffff7ffb000 r--p 00000000 00:00 0 [vvar]
7ffff7ffb000-7ffff7ffd000 r--p 00000000 00:00 0 [vvar_vclock]
7ffff7ffd000-7ffff7fff000 r-xp 00000000 00:00 0 [vdso]
7ffffffde000-7ffffffff000 rw-p 00000000 00:00 0 [stack]
ffffffffff600000-ffffffffff601000 --xp 00000000 00:00 0 [vsyscall]`;

/** A random machine configuration, as a trace header (so the fuzzer boots exactly like a replay). */
function machineHeader(r) {
  // Small machines keep every state cheap to check; a few get a 1 GiB pool
  // (a gigantic page needs an aligned free GiB: 2 GiB + a little of RAM).
  const gigantic = r.chance(0.05);
  const memKb = gigantic ? 2 * 1024 * 1024 + 32768 : r.pick([16384, 32768, 65536]);
  const cfg = {
    page_size: 4096,
    aslr: 0,
    layout: r.chance(0.2) ? 'legacy' : 'topdown',
    privileged: r.chance(0.3) ? 1 : 0,
    rlimit_stack: r.pick(['8388608', '8388608', '1048576', 'unlimited']),
    rlimit_as: gigantic ? String(3n * GB1) : r.pick([String(64n << 20n), String(256n << 20n), String(256n << 20n), String(GB1)]),
    rlimit_data: r.pick(['unlimited', 'unlimited', '0', String(64n << 20n)]),
    rlimit_memlock: r.pick(['8388608', '8388608', '0', '65536']),
    max_map_count: r.pick([65530, 65530, 40, 64, 200]),
    mmap_min_addr: 65536,
    lsm_mmap_min_addr: 65536,
    overcommit_memory: r.pick([0, 0, 1, 2]),
    overcommit_ratio: 50,
    mem_total_kb: memKb,
    swap_total_kb: 0,
    fault_around_bytes: r.pick([65536, 65536, 4096]),
    thp: r.pick(['madvise', 'always', 'never']),
    hugepages_2048kB: r.int(9),
    hugepages_1048576kB: gigantic ? 1 : 0,
    overcommit_hugepages_2048kB: r.pick([0, 0, 2, 8]),
    overcommit_hugepages_1048576kB: 0,
    gbpages: gigantic || r.chance(0.5) ? 1 : 0,
    la57: r.chance(0.08) ? 1 : 0,
  };
  const config = Object.entries(cfg).map(([k, v]) => `${k}=${v}`).join(' ');
  // A third of the 2 MiB mounts have a subpool: a maximum (size=), a minimum
  // reserved when mounted (min_size=, at most the pool and the maximum), or both.
  let subpool = '';
  if (r.chance(0.33)) {
    const max = r.chance(0.7) ? r.int(5) : -1;
    const min = r.chance(0.6) ? r.int(Math.min(cfg.hugepages_2048kB, max === -1 ? 8 : max) + 1) : -1;
    if (max !== -1) subpool += ` size=${max * 2}M`;
    if (min !== -1) subpool += ` min_size=${min * 2}M`;
  }
  // A quarter of the tmpfs mounts limit their inodes (nr_inodes=; the root takes one).
  const tmpfsInodes = r.chance(0.25) ? ` nr_inodes=${2 + r.int(4)}` : '';
  const mounts = [`@mount tmpfs /dev/shm/x${tmpfsInodes}`, `@mount hugetlbfs /mnt/h pagesize=2M${subpool}`];
  if (cfg.gbpages) mounts.push('@mount hugetlbfs /mnt/g pagesize=1G');
  const text = [
    '# mmsim-trace 1',
    '@kernel release=6.18.44-fuzz arch=x86_64',
    `@config ${config}`,
    ...mounts,
    '@fd 0 pipe O_RDONLY',
    '@fd 1 pipe O_WRONLY',
    '@fd 2 /dev/null O_RDWR',
    '@brk start=0x9c0000 cur=0x9e2000',
    '@maps',
    BOOT_MAPS,
    '@end',
    '',
  ].join('\n');
  return { text, cfg };
}

// ---------------------------------------------------------------- calls

const hex = (v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : String(v));

/** A raw result must be a u64-range value; errors must be -1..-4095. */
function checkRaw(name, r) {
  if (typeof r !== 'bigint') return `${name} returned ${typeof r}, not a bigint`;
  if (r < -4095n || r > U64) return `${name} returned ${r}, outside the raw syscall range`;
  return null;
}

/** Run one random call; returns { desc, problem } (problem null if fine). */
function oneCall(g, st) {
  const { r, m } = g;
  const kind = r.weighted([
    [16, 'mmap'], [3, 'mmap_pgoff'], [8, 'munmap'], [8, 'mprotect'], [8, 'mremap'], [7, 'madvise'], [4, 'brk'],
    [4, 'mlock'], [3, 'munlock'], [6, 'openat'], [3, 'close'], [2, 'dup'], [2, 'unlinkat'], [4, 'ftruncate'],
    [2, 'fill'], [2, 'fpeek'], [8, 'peek'], [8, 'poke'], [1, 'rss'], [1, 'hugepages'], [1, 'maps'], [2, 'pool'],
  ]);
  let desc = kind;
  let problem = null;
  const call = (name, args, fn) => {
    desc = `${name}(${args.map(hex).join(', ')})`;
    st.current = desc;
    const res = fn();
    desc += ` = ${typeof res === 'bigint' ? (res < 0n ? String(res) : hex(res)) : JSON.stringify(res)}`;
    return res;
  };
  switch (kind) {
    case 'mmap':
    case 'mmap_pgoff': {
      const a = [g.addr(), g.len(), g.prot(), g.mmapFlags(), g.fd(), kind === 'mmap' ? g.off() : g.off() >> 12n];
      const res = call(kind, a, () => (kind === 'mmap' ? sys.sysMmap(m, ...a) : sys.ksysMmapPgoff(m, ...a)));
      problem = checkRaw(kind, res);
      if (!problem && res >= 0n) {
        if (res & 0xfffn) problem = 'mmap returned an unaligned address';
        else if (res >= BigInt(m.mm.taskSize) << 12n) problem = 'mmap returned an address above TASK_SIZE';
        else if (!m.mm.vmas.lookup(Number(res >> 12n))) problem = 'mmap returned an address with no VMA';
      }
      break;
    }
    case 'munmap': {
      const a = [g.addr(), g.len()];
      problem = checkRaw(kind, call(kind, a, () => sys.sysMunmap(m, ...a)));
      break;
    }
    case 'mprotect': {
      const a = [g.addr(), g.len(), g.prot()];
      problem = checkRaw(kind, call(kind, a, () => sys.sysMprotect(m, ...a)));
      break;
    }
    case 'mremap': {
      const flags = r.chance(0.85) ? BigInt(r.int(8)) | (r.chance(0.1) ? 1n << BigInt(r.int(64)) : 0n) : r.u64();
      // Half of the MREMAP_FIXED calls keep the size: a pure move, of every VMA in the range.
      const oldLen = g.len();
      const a = [g.addr(), oldLen, flags & 2n && r.chance(0.5) ? oldLen : g.len(), flags, g.addr()];
      // Linux quirks the invariants must then allow, set whatever the result:
      // a multi-VMA move (MREMAP_FIXED, same size) that fails midway keeps
      // the pieces it already moved.
      // MREMAP_DONTUNMAP of a locked VMA: Linux keeps counting the source in locked_vm.
      if (flags & 4n) st.lockedDrift = true;
      // Linux drops the source's private hugetlb reservation map on a move
      // (clear_vma_resv_huge_pages): what the unmoved rest reserved leaks.
      const lo = Number(a[0] >> 12n);
      const hi = Number((a[0] + a[1]) >> 12n) + 1;
      if (m.mm.vmas.overlapping(lo, hi).some((v) => v.flags & 0x400000)) st.resvLeak = true;
      const res = call(kind, a, () => sys.sysMremap(m, ...a));
      problem = checkRaw(kind, res);
      if (!problem && res >= 0n && res & 0xfffn) problem = 'mremap returned an unaligned address';
      break;
    }
    case 'madvise': {
      const adv = r.weighted([[80, BigInt(r.pick(ADVICE))], [10, BigInt(r.int(120))], [10, r.u64()]]);
      const a = [g.addr(), g.len(), adv];
      problem = checkRaw(kind, call(kind, a, () => sys.sysMadvise(m, ...a)));
      break;
    }
    case 'brk': {
      const cur = BigInt(m.mm.brk);
      const target = r.weighted([
        [40, cur + BigInt(r.int(64) - 16) * PAGE + (r.chance(0.2) ? BigInt(r.int(4096)) : 0n)],
        [10, 0n],
        [10, BigInt(m.mm.startBrk)],
        [20, g.edge()],
        [20, g.addr()],
      ]);
      const res = call(kind, [target], () => sys.sysBrk(m, target & U64));
      problem = checkRaw(kind, res);
      break;
    }
    case 'mlock':
    case 'munlock': {
      const a = [g.addr(), g.len()];
      problem = checkRaw(kind, call(kind, a, () => (kind === 'mlock' ? sys.sysMlock(m, ...a) : sys.sysMunlock(m, ...a))));
      break;
    }
    case 'openat': {
      const path = r.pick(PATHS);
      let flags = r.int(4);
      if (r.chance(0.6)) flags |= 0o100;
      if (r.chance(0.08)) flags |= 0o200;
      if (r.chance(0.12)) flags |= 0o1000;
      if (r.chance(0.04)) flags |= 0o10000000;
      if (r.chance(0.1)) flags |= 0o2000; // O_APPEND
      if (r.chance(0.05)) flags |= 0o40000; // O_DIRECT
      if (r.chance(0.1)) flags |= r.chance(0.8) ? 0o20200000 : 0o20000000; // O_TMPFILE, or __O_TMPFILE alone
      let f = BigInt(flags);
      if (r.chance(0.05)) f |= 1n << BigInt(r.int(64));
      const dirfd = r.chance(0.9) ? u64(-100) : g.fd();
      const res = call(kind, [dirfd, JSON.stringify(path), f, 0o600n], () => sys.sysOpenat(m, dirfd, path, f, 0o600n));
      problem = checkRaw(kind, res);
      break;
    }
    case 'close': {
      const fd = g.fd();
      const res = call(kind, [fd], () => sys.sysClose(m, fd));
      problem = checkRaw(kind, res);
      if (res === 0n) st.closed.push(Number(BigInt.asIntN(32, fd)));
      if (st.closed.length > 16) st.closed.shift();
      break;
    }
    case 'dup': {
      const fd = g.fd();
      problem = checkRaw(kind, call(kind, [fd], () => sys.sysDup(m, fd)));
      break;
    }
    case 'unlinkat': {
      const path = r.pick(PATHS);
      const flags = r.chance(0.9) ? 0n : r.pick([0x200n, r.u64()]);
      const dirfd = r.chance(0.9) ? u64(-100) : g.fd();
      problem = checkRaw(kind, call(kind, [dirfd, JSON.stringify(path), flags], () => sys.sysUnlinkat(m, dirfd, path, flags)));
      break;
    }
    case 'ftruncate': {
      const a = [g.fd(), g.size()];
      problem = checkRaw(kind, call(kind, a, () => sys.sysFtruncate(m, ...a)));
      break;
    }
    case 'fill': {
      const len = r.chance(0.95) ? BigInt(r.int(3 * 4096)) : g.len();
      const a = [g.fd(), g.size(), len, BigInt(r.int(256))];
      problem = checkRaw(kind, call(kind, a, () => sys.sysFill(m, ...a)));
      break;
    }
    case 'fpeek': {
      const a = [g.fd(), g.size()];
      const res = call(kind, a, () => sys.sysFpeek(m, ...a));
      if (res !== 'EOF') problem = checkRaw(kind, res);
      break;
    }
    case 'peek':
    case 'poke': {
      const addr = g.addr();
      const val = r.int(256);
      const stacks = unaccountedStacks(m);
      const res = call(kind, kind === 'peek' ? [addr] : [addr, val], () => (kind === 'peek' ? sys.peek(m, addr) : sys.poke(m, addr, val)));
      // SIGKILL: out of memory, as the OOM killer would end it.
      if (!res || (res.signal !== null && !['SIGSEGV', 'SIGBUS', 'SIGKILL'].includes(res.signal))) problem = `${kind} returned ${JSON.stringify(res)}`;
      else if (res.signal === null && !(res.value >= 0 && res.value < 256)) problem = `${kind} read ${res.value}`;
      st.commitDrift += unaccountedStackGrowth(stacks);
      break;
    }
    case 'rss': {
      const addr = g.addr();
      call(kind, [addr], () => sys.rss(m, addr));
      break;
    }
    case 'hugepages': {
      const kb = r.pick([2048, 1048576, 4, 1024]);
      call(kind, [kb], () => sys.hugepages(m, kb));
      break;
    }
    case 'maps':
      call(kind, [], () => sys.maps(m, true).length);
      break;
    case 'pool': {
      const pools = [...m.vfs.hugetlb.hstates.values()];
      const h = r.pick(pools);
      if (r.chance(0.7)) {
        const n = h.order > 9 ? r.int(3) : r.int(12);
        call(`set_max_huge_pages[${h.sizeKb}kB]`, [n], () => (h.setMaxHugePages(n), `total ${h.total} free ${h.free} rsvd ${h.resv} surp ${h.surplus}`));
      } else {
        const n = h.order > 9 ? 0 : r.int(9);
        call(`nr_overcommit_hugepages[${h.sizeKb}kB]`, [n], () => ((h.overcommit = n), n));
      }
      // Linux lets surplus exceed nr_overcommit after a shrink or an overcommit decrease.
      if (h.surplus > h.overcommit) st.poolsShrunk = true;
      break;
    }
  }
  return { desc, problem };
}

// ---------------------------------------------------------------- episodes

/** munmap everything, close every descriptor, unlink every file; then nothing may remain allocated. */
function tearDown(m, st) {
  const problems = [];
  for (const vma of [...m.mm.vmas.all()]) {
    if (!m.mm.vmas.all().includes(vma)) continue;
    const res = sys.sysMunmap(m, BigInt(vma.start) << 12n, BigInt(vma.end - vma.start) << 12n);
    if (res !== 0n) problems.push(`teardown munmap ${hex(BigInt(vma.start) << 12n)} = ${res}`);
  }
  for (const [fd] of [...m.files.entries()]) sys.sysClose(m, BigInt(fd));
  for (const [path] of m.vfs.linkedFiles()) sys.sysUnlinkat(m, u64(-100), path, 0n);
  problems.push(...checkInvariants(m, invariantOptions(st)));
  const kinds = new Map();
  for (const [, d] of m.kernel.memmap.entries()) kinds.set(d.kind, (kinds.get(d.kind) ?? 0) + 2 ** d.order);
  // Left: the zero page (kind 3), the top-level page table (kind 5), and the
  // program-image / vdso pages (kind 2) that outlive the process.
  kinds.set(2, (kinds.get(2) ?? 0) - persistentFrames(m));
  for (const [kind, n] of kinds) {
    if (!((kind === 3 && n === 1) || (kind === 5 && n === 1) || (kind === 2 && n === 0))) {
      problems.push(`teardown: ${n} frames of kind ${kind} still allocated (leak)`);
    }
  }
  // A mount's minimum (min_size=) stays reserved while it is mounted, refilled to the full minimum unless 6.18 leaked
  // a charge, or a failed reservation handed part of it to the pool (which later puts may have refilled).
  for (const sp of m.vfs.hugetlb.subpools) {
    if (sp.min !== -1 && sp.leaked === 0 && (sp.rsv > sp.min || sp.rsv < sp.min - sp.minLost)) {
      problems.push(`teardown: hugetlbfs subpool holds ${sp.rsv} of its minimum ${sp.min}${sp.minLost ? ` (${sp.minLost} lost to failed reservations)` : ''}`);
    }
  }
  for (const h of m.vfs.hugetlb.hstates.values()) {
    const held = m.vfs.hugetlb.subpools.reduce((n, sp) => (sp.hstate === h ? n + sp.rsv : n), 0);
    if (h.total !== h.free) problems.push(`teardown: hugepages-${h.sizeKb}kB total ${h.total} != free ${h.free}`);
    if (h.resv !== held && !st.resvLeak) problems.push(`teardown: hugepages-${h.sizeKb}kB rsvd ${h.resv} != ${held} (held by min_size= subpools)`);
    // With every page free, a surplus page can only back a reservation still counted: a mount's
    // minimum, or one Linux leaks (mremap of a private mapping) — the pool was shrunk below
    // them, or they were gathered as surplus. return_unused_surplus_pages frees the rest.
    if (h.surplus > h.resv) problems.push(`teardown: hugepages-${h.sizeKb}kB surplus ${h.surplus} > rsvd ${h.resv} (${held} held by min_size= subpools)`);
  }
  if (m.mm.totalVm !== 0 || (!st.lockedDrift && m.mm.lockedVm !== 0)) problems.push(`teardown: total_vm ${m.mm.totalVm} locked_vm ${m.mm.lockedVm}`);
  const forGood = st.commitDrift + m.kernel.leakedCommit; // stack growth, mremap shrink-and-move: as Linux
  if (m.kernel.committedAs !== forGood) problems.push(`teardown: committed_as ${m.kernel.committedAs} != ${forGood} (leak)`);
  if (framesInUse(m) + m.kernel.frames.freeFrames() !== m.kernel.frames.totalFrames) problems.push('teardown: frames unaccounted');
  return problems;
}

function invariantOptions(st) {
  return { allowLockedVmDrift: st.lockedDrift, poolsShrunk: st.poolsShrunk, allowResvLeak: st.resvLeak, commitDrift: st.commitDrift };
}

/**
 * Boot the episode's machine. On a small machine the 2 MiB pool may get fewer
 * pages than `hugepages_2048kB` asks for, and a mount minimum (`min_size=`)
 * larger than the pool then makes Linux refuse the mount: such an episode
 * runs without the minimum (still deterministic: the same header, the same
 * machine).
 */
function bootOrWithoutMinimum(text) {
  try {
    return bootFromHeader(parseTrace(text, 'fuzz').header);
  } catch (e) {
    if (!(e instanceof Error) || !/min_size=.*refuses the mount/.test(e.message)) throw e;
    return bootFromHeader(parseTrace(text.replace(/ min_size=\d+M/, ''), 'fuzz').header);
  }
}

/** The PRNG of episode `e` of `seed`: episodes are independent, so fixing one bug does not move the others. */
function episodeRng(seed, e) {
  return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(e + 1, 0x85ebca6b)) >>> 0);
}

/**
 * Run `calls` random calls from `seed`, as a sequence of episodes (a fresh
 * machine each, torn down and leak-checked at the end). Call numbers are
 * global; a failure ends its episode and the next starts where it would have
 * anyway, so `seed S call K` always names the same call. Options:
 * `log(line)`, `from` (skip the episodes that end before this call),
 * `traceFrom` (print every call from this index on), `stopOnFailure`
 * (default true), `maxFailures`, `episode` ([min, max] calls per machine).
 * Returns { seed, calls, failures: [{ call, message }], episodes, ms, stats }.
 */
export function runFuzz({ seed, calls, log = () => {}, from = 0, traceFrom = Infinity, stopOnFailure = true, maxFailures = 20, episode = [500, 4000] }) {
  const failures = [];
  const stats = {};
  const t0 = performance.now();
  let episodes = 0;
  let executed = 0;
  let k = 0;
  const fail = (message) => {
    const line = `seed ${seed} call ${k}: ${message}`;
    failures.push({ call: k, message: line });
    log(line);
  };
  for (let e = 0; k < calls && failures.length < maxFailures; e++) {
    const r = episodeRng(seed, e);
    const { text, cfg } = machineHeader(r);
    // Machines with a gigantic pool may hold a GiB of small pages: keep them short.
    const span = cfg.hugepages_1048576kB ? [200, 600] : episode;
    const first = k;
    const end = Math.min(calls, k + span[0] + r.int(span[1] - span[0] + 1));
    if (end <= from) {
      k = end;
      continue;
    }
    episodes++;
    const { machine: m } = bootOrWithoutMinimum(text);
    const st = { window: 0x200000000n, closed: [], lockedDrift: false, poolsShrunk: false, resvLeak: false, commitDrift: 0, current: '' };
    const g = new Gen(r, m, st);
    const boot = checkInvariants(m);
    if (boot.length) fail(`after boot (${JSON.stringify(cfg)}): ${boot[0]}`);
    let broken = false;
    for (; k < end; k++) {
      let res;
      st.current = '?';
      executed++;
      try {
        res = oneCall(g, st);
      } catch (e) {
        fail(`${st.current}: exception: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`);
        broken = true;
        break;
      }
      const name = res.desc.slice(0, res.desc.indexOf('('));
      stats[name] = (stats[name] ?? 0) + 1;
      if (k >= traceFrom) log(`call ${k}: ${res.desc}`);
      if (res.problem) {
        fail(`${res.desc}: ${res.problem}`);
        broken = true;
        break;
      }
      const v = checkInvariants(m, invariantOptions(st));
      if (v.length) {
        fail(`${res.desc}: ${v.slice(0, 3).join('; ')}${v.length > 3 ? ` (+${v.length - 3} more)` : ''}`);
        broken = true;
        break;
      }
    }
    if (broken) {
      k = end;
      if (stopOnFailure) break;
      continue;
    }
    let leaks;
    try {
      leaks = tearDown(m, st);
    } catch (e) {
      leaks = [`exception in teardown: ${e && e.stack ? e.stack.split('\n').slice(0, 4).join(' | ') : e}`];
    }
    if (leaks.length) {
      k = end - 1;
      fail(`episode ${e} (calls ${first}..${end - 1}) teardown: ${leaks.slice(0, 3).join('; ')}`);
      k = end;
      if (stopOnFailure) break;
    }
  }
  return { seed, calls: k, executed, failures, episodes, ms: performance.now() - t0, stats };
}
