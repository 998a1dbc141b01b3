/**
 * Pure decisions over a probe of the host: whether a scenario can be
 * recorded here (and why not), which settings to change and in which order,
 * and how to pad the executor so that its layout matches the scenario's
 * `@maps`. Unit-tested without touching the host.
 */

import { PROT } from '@mmsim/base';
import { DEFAULT_KERNEL_CONFIG, faultAroundPages } from '@mmsim/mm-core';
import { type MapsLine, type Trace, type TraceConfig } from '@mmsim/trace';
import { POOL_SIZES_KB, RESV_UNDERFLOW_HINT, STANDARD_FDS } from './constants.js';

/** The counters of one huge page pool. */
export interface PoolState {
  readonly total: number;
  readonly free: number;
  readonly rsvd: number;
  readonly surp: number;
}

/** What the recorder needs to know about the host before changing anything. */
export interface HostProbe {
  /** `process.platform`. */
  readonly platform: string;
  /** `uname -m`. */
  readonly machine: string;
  readonly uid: number;
  /** The C compiler found on PATH (`cc`, `gcc` or `clang`). */
  readonly compiler: string | undefined;
  /** `mount` and `umount` on PATH. */
  readonly mountTools: boolean;
  readonly pageSize: number;
  /** The huge page pools that exist, by size in kB. */
  readonly pools: ReadonlyMap<number, PoolState>;
  readonly gbpages: boolean;
  readonly la57: boolean;
  /** Protection keys enabled (`ospke` in /proc/cpuinfo). */
  readonly pkeys: boolean;
  readonly lsmMmapMinAddr: bigint | undefined;
  readonly faultAroundBytes: number | undefined;
  /** Current mount points. */
  readonly mountPoints: ReadonlySet<string>;
  /** Those of them mounted `noexec` (`/proc` on most distributions). */
  readonly noexecMounts?: ReadonlySet<string>;
  /**
   * The optional THP setting files this kernel has, as paths (see
   * {@link modelThpSettings}): `shmem_enabled`, `use_zero_page`, `defrag` and each
   * size's `enabled` / `shmem_enabled` (multi-size THP, Linux 6.8 and 6.11).
   */
  readonly thpSettingFiles?: readonly string[];
  /** `/proc/meminfo`: `MemTotal`, `SwapTotal` and `Committed_AS` in kB (0 where unknown). */
  readonly memTotalKb?: number;
  readonly swapTotalKb?: number;
  readonly committedAsKb?: number;
}

const HUGETLBFS_PAGESIZES: Readonly<Record<string, number>> = { '2M': 2048, '2048K': 2048, '1G': 1048576, '1024M': 1048576 };

function poolsAskedFor(trace: Trace): Set<number> {
  const c = trace.header.config;
  const asked = new Set<number>();
  if (c.hugepages_2048kB > 0 || c.overcommit_hugepages_2048kB > 0) asked.add(2048);
  if (c.hugepages_1048576kB > 0 || c.overcommit_hugepages_1048576kB > 0) asked.add(1048576);
  for (const m of trace.header.mounts) {
    if (m.fstype !== 'hugetlbfs') continue;
    const size = m.options.get('pagesize');
    asked.add(size === undefined ? 2048 : HUGETLBFS_PAGESIZES[size.toUpperCase()] ?? -1);
  }
  return asked;
}

/**
 * The pools whose counters the scenario can observe or change: pools its
 * config sizes, pools its steps print (`hugepages(kB)`), map (`MAP_HUGETLB`,
 * files on a hugetlbfs mount) or resize (the nr_hugepages files). Other pools
 * may have pages in use on the host without changing any recorded result.
 */
export function poolsTouched(trace: Trace): Set<number> {
  const c = trace.header.config;
  const touched = new Set<number>();
  if (c.hugepages_2048kB > 0 || c.overcommit_hugepages_2048kB > 0) touched.add(2048);
  if (c.hugepages_1048576kB > 0 || c.overcommit_hugepages_1048576kB > 0) touched.add(1048576);
  const hugeMounts = new Map<string, number>();
  for (const m of trace.header.mounts) {
    if (m.fstype !== 'hugetlbfs') continue;
    const size = m.options.get('pagesize');
    hugeMounts.set(m.path.replace(/\/+$/, '') + '/', size === undefined ? 2048 : HUGETLBFS_PAGESIZES[size.toUpperCase()] ?? -1);
  }
  for (const step of trace.body) {
    if (step.kind !== 'call') continue;
    const arg = (i: number): bigint => (step.args[i]?.kind === 'number' ? (step.args[i]!.value as bigint) : 0n);
    if (step.call === 'hugepages') touched.add(Number(arg(0)));
    if ((step.call === 'mmap' || step.call === 'mmap_pgoff') && arg(3) & 0x40000n) {
      const log = Number((arg(3) >> 26n) & 0x3fn);
      touched.add(log === 30 ? 1048576 : 2048);
    }
    if (step.call === 'openat' && step.args[1]?.kind === 'string') {
      const path = step.args[1].value;
      for (const [prefix, kb] of hugeMounts) if (path.startsWith(prefix)) touched.add(kb);
      if (path.startsWith('/proc/sys/vm/nr_') || path.startsWith('/sys/kernel/mm/hugepages/')) {
        touched.add(2048);
        touched.add(1048576);
      }
    }
  }
  return touched;
}

/** The host mount a canonical absolute path lies on: the longest mount point that is it or a directory above it. */
function mountOf(mountPoints: Iterable<string>, path: string): string {
  let best = '/';
  for (const m of mountPoints) {
    if ((path === m || path.startsWith(m === '/' ? '/' : `${m}/`)) && m.length > best.length) best = m;
  }
  return best;
}

/**
 * A file the scenario opens on a host mount with `noexec`, when the scenario
 * also asks for `PROT_EXEC` anywhere: `do_mmap` refuses an executable mapping
 * of such a file (`EPERM`) and takes `VM_MAYEXEC` away (`mprotect` to
 * `PROT_EXEC` is then `EACCES`), where the model — whose system files (`/dev`,
 * `/proc`, `/sys`) are on no `noexec` mount, like the recording host's — maps
 * it. Paths under the scenario's own `@mount`s are fresh mounts, never
 * `noexec`. Returns `[path, mount]` or undefined.
 */
export function noexecConflict(probe: HostProbe, scenario: Trace): [string, string] | undefined {
  const noexec = probe.noexecMounts;
  if (!noexec || noexec.size === 0) return undefined;
  const own = scenario.header.mounts.map((m) => m.path.replace(/\/+$/, ''));
  let exec = false;
  let opened: [string, string] | undefined;
  for (const step of scenario.body) {
    if (step.kind !== 'call') continue;
    const prot = step.call === 'mmap' || step.call === 'mmap_pgoff' ? step.args[2] : step.call === 'mprotect' ? step.args[2] : undefined;
    if (prot?.kind === 'number' && (prot.value as bigint) & BigInt(PROT.EXEC)) exec = true;
    if (opened === undefined && step.call === 'openat' && step.args[1]?.kind === 'string') {
      const path = step.args[1].value;
      if (!path.startsWith('/') || own.some((m) => path === m || path.startsWith(`${m}/`))) continue;
      const mount = mountOf(probe.mountPoints, path);
      if (noexec.has(mount)) opened = [path, mount];
    }
  }
  return exec ? opened : undefined;
}

/**
 * Why this host cannot record `scenario`, as one line, or `undefined` if it
 * can. Decided from the probe alone: nothing is changed.
 */
export function cannotRecordReason(probe: HostProbe, scenario: Trace): string | undefined {
  const c = scenario.header.config;
  if (probe.platform !== 'linux') return `not Linux (platform ${probe.platform}); recording needs a Linux x86-64 kernel`;
  if (probe.machine !== 'x86_64') return `not x86-64 (uname -m says ${probe.machine}); the traces are x86-64`;
  if (probe.uid !== 0) return `not root (uid ${probe.uid}); recording sets sysctls and mounts filesystems, run it as root`;
  if (probe.compiler === undefined) return 'no C compiler (cc, gcc or clang) on PATH to build the executor';
  if (scenario.header.mounts.length > 0 && !probe.mountTools) return 'no mount/umount on PATH for the @mount filesystems';
  if (c.page_size !== probe.pageSize) return `the scenario has page_size=${c.page_size} but this host's page size is ${probe.pageSize}`;
  if ((c.la57 === 1) !== probe.la57) {
    return c.la57 === 1 ? 'the scenario has la57=1 but this host does not use 5-level paging' : 'the scenario has la57=0 but this host uses 5-level paging';
  }
  if ((c.gbpages === 1) !== probe.gbpages) {
    return c.gbpages === 1 ? 'the scenario has gbpages=1 but this CPU has no 1 GiB pages (pdpe1gb)' : 'the scenario has gbpages=0 but this CPU has 1 GiB pages';
  }
  for (const kb of poolsAskedFor(scenario)) {
    if (kb < 0) return 'a hugetlbfs @mount has a pagesize this recorder does not know (use 2M or 1G)';
    if (!probe.pools.has(kb)) return `the scenario asks for ${kb}kB huge pages but /sys/kernel/mm/hugepages/hugepages-${kb}kB does not exist`;
  }
  const touched = poolsTouched(scenario);
  for (const [kb, p] of probe.pools) {
    if (!touched.has(kb)) continue;
    if (p.rsvd >= 2 ** 63) return `the kernel's ${kb}kB HugePages_Rsvd is below zero (it reads about 2^64); ${RESV_UNDERFLOW_HINT}`;
    if (p.total !== p.free || p.rsvd !== 0 || p.surp !== 0) {
      return `${kb}kB huge pages are in use on this host (total=${p.total} free=${p.free} rsvd=${p.rsvd} surp=${p.surp}); the counters would not be the scenario's`;
    }
  }
  if (c.overcommit_memory === 2 && probe.memTotalKb && probe.committedAsKb) {
    // __vm_enough_memory under OVERCOMMIT_NEVER: nothing more can be committed once Committed_AS
    // passes CommitLimit — the recorder's own processes (mount, the executor) would fail first.
    const limit = Math.floor((probe.memTotalKb * c.overcommit_ratio) / 100) + (probe.swapTotalKb ?? 0);
    if (probe.committedAsKb > limit) {
      return `the scenario has overcommit_memory=2 (overcommit_ratio=${c.overcommit_ratio}), but this host has already committed ${probe.committedAsKb} kB (Committed_AS), more than the CommitLimit of ${limit} kB that would give: every new allocation, the recorder's own too, would fail with ENOMEM`;
    }
  }
  if (probe.lsmMmapMinAddr !== undefined && probe.lsmMmapMinAddr !== c.lsm_mmap_min_addr) {
    return `the scenario has lsm_mmap_min_addr=${c.lsm_mmap_min_addr} but this kernel has CONFIG_LSM_MMAP_MIN_ADDR=${probe.lsmMmapMinAddr}`;
  }
  if (probe.faultAroundBytes === undefined && c.fault_around_bytes !== 65536) {
    return `the scenario has fault_around_bytes=${c.fault_around_bytes}; setting it needs /sys/kernel/debug/fault_around_bytes, which cannot be read here (debugfs not mounted, or closed by kernel lockdown)`;
  }
  const noexecFile = noexecConflict(probe, scenario);
  if (noexecFile) {
    return `the scenario opens ${noexecFile[0]} and asks for PROT_EXEC, but ${noexecFile[1]} is mounted noexec here (an executable mapping of it is EPERM, which the model, with no noexec mounts, does not give); remount ${noexecFile[1]} with exec while recording, or record on another host`;
  }
  const fds = scenario.header.fds;
  if (fds.length > 0 && (fds.length !== STANDARD_FDS.length || fds.some((f, i) => f.fd !== STANDARD_FDS[i]!.fd || f.target !== STANDARD_FDS[i]!.target || f.flags !== STANDARD_FDS[i]!.flags))) {
    return 'the scenario has @fd lines other than "0 pipe O_RDONLY", "1 pipe O_WRONLY", "2 /dev/null O_RDWR", the only descriptors the executor starts with';
  }
  for (const m of scenario.header.mounts) {
    if (m.fstype !== 'tmpfs' && m.fstype !== 'hugetlbfs') return `@mount ${m.fstype} ${m.path}: only tmpfs and hugetlbfs are supported`;
    if (!m.path.startsWith('/') || m.path === '/' || m.path.split('/').includes('..')) return `@mount path ${m.path} must be absolute, not /, without ..`;
    if (probe.mountPoints.has(m.path)) return `${m.path} is already a mount point; unmount it first (a fresh filesystem is mounted there while recording)`;
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// The host settings plan (pure)
// ---------------------------------------------------------------------------

/** One host setting the recorder changes: a sysctl/sysfs file and the value to write. */
export interface Setting {
  readonly path: string;
  readonly value: string;
}

/** Where the THP settings live. */
export const THP_DIR = '/sys/kernel/mm/transparent_hugepage';
const THP_ENABLED = `${THP_DIR}/enabled`;
const MAX_PTES_NONE = `${THP_DIR}/khugepaged/max_ptes_none`;
const SCAN_SLEEP = `${THP_DIR}/khugepaged/scan_sleep_millisecs`;
/** `scan_sleep_millisecs`' largest value: khugepaged makes one pass when it is written (before the executor starts), then sleeps for 49 days. */
export const KHUGEPAGED_ASLEEP = '4294967295';
/** debugfs `fault_around_bytes` (readable only with debugfs mounted and no kernel lockdown). */
export const FAULT_AROUND = '/sys/kernel/debug/fault_around_bytes';

/**
 * The value debugfs `fault_around_bytes` reads after the scenario's value is
 * written: the kernel keeps whole pages, a power of two (`fault_around_bytes_set`).
 * The recorder writes this rounded value, so that reading it back confirms it.
 */
export function faultAroundSetting(config: TraceConfig): number {
  return faultAroundPages(config.fault_around_bytes) * 4096;
}

/**
 * The THP settings no trace header carries, as the model assumes them (the
 * kernel's defaults), for those of `files` this kernel has: only PMD-sized
 * (2 MiB) THPs for anonymous memory (each other size's `enabled` `never`, the
 * 2 MiB one `inherit`: the top-level mode decides), none for tmpfs and shmem
 * (`shmem_enabled` `never`, the sizes likewise), the huge zero page in use,
 * and `defrag` at its default, `madvise` (the model prints it so).
 * A host where someone enabled 64 KiB THPs would otherwise record faults of
 * 64 KiB folios, which the model does not make.
 */
export function modelThpSettings(files: readonly string[]): Setting[] {
  const out: Setting[] = [];
  for (const path of files) {
    const size = /\/hugepages-(\d+)kB\/(?:shmem_)?enabled$/.exec(path);
    if (size) out.push({ path, value: size[1] === '2048' ? 'inherit' : 'never' });
    else if (path === `${THP_DIR}/shmem_enabled`) out.push({ path, value: 'never' });
    else if (path === `${THP_DIR}/use_zero_page`) out.push({ path, value: '1' });
    else if (path === `${THP_DIR}/defrag`) out.push({ path, value: 'madvise' });
  }
  return out;
}

/**
 * The settings for a scenario's `@config`, in the order they are applied
 * (restored in reverse): THP mode and the other THP settings the model
 * assumes ({@link modelThpSettings}), khugepaged (no collapse of ranges with
 * empty PTEs, and asleep), the VM sysctls (with the
 * memory reserves of overcommit mode 2, which no header carries, at the
 * model's values), then for each pool `nr_overcommit_hugepages` before
 * `nr_hugepages`. `pools` lists the pool sizes (kB) the host has;
 * `faultAround` whether debugfs exposes `fault_around_bytes`; `thpFiles` the
 * optional THP setting files it has.
 */
export function planSettings(config: TraceConfig, pools: readonly number[], faultAround: boolean, thpFiles: readonly string[] = []): Setting[] {
  const plan: Setting[] = [
    { path: THP_ENABLED, value: config.thp },
    ...modelThpSettings(thpFiles),
    { path: MAX_PTES_NONE, value: '0' },
    // The model has no khugepaged: with max_ptes_none=0 it could still collapse a fully populated range.
    { path: SCAN_SLEEP, value: KHUGEPAGED_ASLEEP },
    { path: '/proc/sys/vm/legacy_va_layout', value: '0' },
    { path: '/proc/sys/vm/overcommit_ratio', value: String(config.overcommit_ratio) },
    { path: '/proc/sys/vm/overcommit_memory', value: String(config.overcommit_memory) },
    // __vm_enough_memory's reserves: the kernel sizes them at boot from the memory free then.
    { path: '/proc/sys/vm/admin_reserve_kbytes', value: String(DEFAULT_KERNEL_CONFIG.adminReserveKbytes) },
    { path: '/proc/sys/vm/user_reserve_kbytes', value: String(DEFAULT_KERNEL_CONFIG.userReserveKbytes) },
    { path: '/proc/sys/vm/max_map_count', value: String(config.max_map_count) },
    { path: '/proc/sys/vm/mmap_min_addr', value: config.mmap_min_addr.toString(10) },
  ];
  if (config.aslr === 1) plan.push({ path: '/proc/sys/kernel/randomize_va_space', value: '2' });
  if (faultAround) plan.push({ path: FAULT_AROUND, value: String(faultAroundSetting(config)) });
  for (const kb of POOL_SIZES_KB) {
    if (!pools.includes(kb)) continue;
    const dir = `/sys/kernel/mm/hugepages/hugepages-${kb}kB`;
    const total = kb === 2048 ? config.hugepages_2048kB : config.hugepages_1048576kB;
    const over = kb === 2048 ? config.overcommit_hugepages_2048kB : config.overcommit_hugepages_1048576kB;
    plan.push({ path: `${dir}/nr_overcommit_hugepages`, value: String(over) });
    plan.push({ path: `${dir}/nr_hugepages`, value: String(total) });
  }
  return plan;
}

/** A setting's current value as written back: the `[selected]` word of a THP mode file, else the trimmed text. */
export function normalizeSetting(text: string): string {
  const selected = /\[([^\]]+)\]/.exec(text);
  return selected ? selected[1]! : text.trim();
}

// ---------------------------------------------------------------------------
// Executable layout fitting (pure parts)
// ---------------------------------------------------------------------------

/** The padding (bytes) the executor is built with to reproduce a header's layout. */
export interface Pads {
  readonly text: number;
  readonly rodata: number;
  readonly relro: number;
  readonly data: number;
  readonly bss: number;
}

/** No padding. */
export const NO_PADS: Pads = { text: 0, rodata: 0, relro: 0, data: 0, bss: 0 };

/** The part of a starting state that depends on the executable: its segments and where the break starts. */
export interface ExeLayout {
  readonly segments: readonly MapsLine[];
  readonly brkStart: bigint | undefined;
}

/** The executable's layout in a `@maps` block: the lines named like the first one (if it is a file mapped at offset 0). */
export function exeLayout(maps: readonly MapsLine[], brkStart: bigint | undefined): ExeLayout | undefined {
  const first = maps[0];
  if (!first || !first.name.startsWith('/') || first.offset !== 0n) return undefined;
  return { segments: maps.filter((l) => l.name === first.name), brkStart };
}

const SEGMENT_PERMS = ['r--p', 'r-xp', 'r--p', 'r--p', 'rw-p'];
const PAD_KEYS = [undefined, 'text', 'rodata', 'relro', 'data'] as const;

function sameSegment(a: MapsLine, b: MapsLine): boolean {
  return a.start === b.start && a.end === b.end && a.perms === b.perms && a.offset === b.offset;
}

/**
 * One step of fitting the executor to a target layout: `fits` if the measured
 * layout is the target's; new pads to try; or `impossible` (another segment
 * structure, a segment larger than the target's, or an offset mismatch that
 * padding does not move).
 */
export function adjustPads(pads: Pads, target: ExeLayout, measured: ExeLayout): Pads | 'fits' | 'impossible' {
  const t = target.segments;
  const m = measured.segments;
  if (t.length !== m.length || t.some((l, i) => l.perms !== m[i]!.perms)) return 'impossible';
  const brkOk = target.brkStart === undefined || target.brkStart === measured.brkStart;
  if (brkOk && t.every((l, i) => sameSegment(l, m[i]!))) return 'fits';
  if (t.length !== SEGMENT_PERMS.length || t.some((l, i) => l.perms !== SEGMENT_PERMS[i])) return 'impossible';
  const next: Record<keyof Pads, number> = { ...pads };
  let shift = 0n;
  for (let i = 1; i < t.length; i++) {
    const delta = t[i]!.end - t[i]!.start - (m[i]!.end - m[i]!.start);
    next[PAD_KEYS[i]!] += Number(delta);
    shift += delta;
  }
  if (target.brkStart !== undefined && measured.brkStart !== undefined) next.bss += Number(target.brkStart - measured.brkStart - shift);
  if (Object.values(next).some((v) => v < 0)) return 'impossible';
  if ((Object.keys(next) as (keyof Pads)[]).every((k) => next[k] === pads[k])) return 'impossible';
  return next;
}

/** The pads as a short description: `bss +0x2bf000`. */
export function describePads(pads: Pads): string {
  return (Object.keys(pads) as (keyof Pads)[])
    .filter((k) => pads[k] !== 0)
    .map((k) => `${k} +0x${pads[k].toString(16)}`)
    .join(', ');
}
