// The native side of `npm run bench`: build tools/bench/native.c on demand
// with the host's C compiler, make the host able to run the workloads (a
// 2 MiB huge page pool, a map count limit for V = 60000), run it, parse its
// lines, and put the host's settings back.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.join(here, 'native.c');
const BUILD_DIR = path.join(here, 'build');
const BINARY = path.join(BUILD_DIR, 'native');
const NR_HUGEPAGES = '/proc/sys/vm/nr_hugepages';
const MAX_MAP_COUNT = '/proc/sys/vm/max_map_count';
const FREE_HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages';
const RESV_HUGEPAGES = '/sys/kernel/mm/hugepages/hugepages-2048kB/resv_hugepages';

/** Why the native column cannot be produced on this host, or null if it can. */
export function nativeUnavailable() {
  if (process.platform !== 'linux') return `the host is ${process.platform}, not Linux: the native side runs Linux system calls`;
  const cc = process.env.CC || 'cc';
  const probe = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  if (probe.error || probe.status !== 0) return `no C compiler (\`${cc}\` not found): install one or set CC`;
  return null;
}

/** Build the native program if it is missing or older than its source; returns its path. */
export function buildNative() {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs >= statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(BUILD_DIR, { recursive: true });
  const cc = process.env.CC || 'cc';
  execFileSync(cc, ['-O2', '-o', BINARY, SOURCE], { stdio: ['ignore', 'inherit', 'inherit'] });
  return BINARY;
}

function readNumber(file) {
  try {
    return Number(readFileSync(file, 'utf8').trim());
  } catch {
    return NaN;
  }
}

function tryWrite(file, value) {
  try {
    writeFileSync(file, `${value}\n`);
    return readNumber(file) === value;
  } catch {
    return false;
  }
}

/**
 * Temporarily change host settings the workloads need; returns notes (what
 * could not be arranged, per workload) and a function that restores
 * everything. Only as root; otherwise the affected workloads report why they
 * are missing.
 */
export function prepareHost(maxV) {
  const notes = { hugetlb: null, maxMapCount: null };
  const restore = [];
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  // The workload needs one free 2 MiB page (another process may be using the pool's pages).
  const huge = readNumber(NR_HUGEPAGES);
  // A free page that is reserved (for another mapping) cannot be had: count the unreserved ones.
  const free = readNumber(FREE_HUGEPAGES) - Math.max(0, readNumber(RESV_HUGEPAGES));
  if (!(free >= 1)) {
    const want = (huge >= 0 ? huge : 0) + 2;
    if (!root) notes.hugetlb = `no unreserved free 2 MiB huge page (nr_hugepages ${huge}, free and unreserved ${free}) and we are not root to add some`;
    else if (tryWrite(NR_HUGEPAGES, want)) restore.push(() => tryWrite(NR_HUGEPAGES, huge));
    else notes.hugetlb = `could not reserve 2 MiB huge pages (nr_hugepages stayed ${readNumber(NR_HUGEPAGES)}: no free contiguous memory?)`;
  }
  // 2V+2 VMAs for the region, plus the process's own (Node/C runtime: < 100).
  const needMaps = 2 * maxV + 2 + 200;
  const maps = readNumber(MAX_MAP_COUNT);
  let mapLimit = maps;
  if (maps < needMaps) {
    if (root && tryWrite(MAX_MAP_COUNT, needMaps)) {
      restore.push(() => tryWrite(MAX_MAP_COUNT, maps));
      mapLimit = needMaps;
    } else {
      notes.maxMapCount = `vm.max_map_count is ${maps}${root ? ' and could not be raised' : ' and we are not root to raise it'}`;
    }
  }
  let restored = false;
  // Each call (one per segment) removes its handlers when it restores, so a long run does not pile them up.
  const undo = () => {
    if (restored) return;
    restored = true;
    process.off('exit', undo);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const r of restore.reverse()) r();
  };
  const onSignal = (sig) => {
    undo();
    process.kill(process.pid, sig);
  };
  process.once('exit', undo);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  return { notes, mapLimit, restore: undo };
}

/**
 * Run the native workloads: `specs` are `name` or `name:V`. Returns a map
 * from `name` / `name:V` to `{ ns, rounds, ops, maps, samples }` (samples: ns/op
 * of each timed round) or `{ missing: reason }`.
 */
export function runNative(binary, specs, rounds, timeoutMs) {
  const out = new Map();
  const r = spawnSync(binary, [String(rounds), ...specs], { encoding: 'utf8', timeout: timeoutMs });
  if (r.error) {
    for (const s of specs) out.set(s, { missing: `the native program failed: ${r.error.message}` });
    return out;
  }
  for (const line of r.stdout.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 2) continue;
    if (f[0] === 'skip') {
      const key = f[2] === '-' ? f[1] : `${f[1]}:${f[2]}`;
      out.set(key, { missing: f.slice(3).join(' ') });
      continue;
    }
    const key = f[1] === '-' ? f[0] : `${f[0]}:${f[1]}`;
    out.set(key, { ns: Number(f[2]), rounds: Number(f[3]), ops: Number(f[4]), maps: Number(f[5]), samples: f.slice(6).map(Number) });
  }
  for (const s of specs) if (!out.has(s)) out.set(s, { missing: `no result from the native program (exit ${r.status}${r.signal ? `, ${r.signal}` : ''})` });
  return out;
}
