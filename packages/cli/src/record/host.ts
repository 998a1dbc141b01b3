/**
 * Everything that touches the host: probing it, building and installing the
 * executor, saving every setting to the state file before changing it,
 * mounting the scenario's filesystems, running the recording, and restoring
 * it all (also after a crash, on the next start or with `--restore`).
 */

import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants as fsConstants, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmdirSync, statSync, unlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { machine, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { type Trace } from '@mmsim/trace';
import { type Output } from '../replay-command.js';
import { BINARY_BACKUP, EXECUTOR_INPUT_LIMIT, POOL_SIZES_KB, RECORDER_BINARY, RecordError, RESV_UNDERFLOW_HINT, STATE_FILE } from './constants.js';
import { encodeSetup, parseExecutorOutput, parseRawMaps } from './executor-io.js';
import type { HostFacts, LayoutNote } from './golden.js';
import { FAULT_AROUND, NO_PADS, THP_DIR, adjustPads, describePads, exeLayout, normalizeSetting, planSettings, type HostProbe, type Pads, type PoolState, type Setting } from './host-rules.js';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

function onPath(names: readonly string[]): string | undefined {
  for (const dir of (process.env['PATH'] ?? '/usr/local/bin:/usr/bin:/bin').split(':')) {
    for (const name of names) {
      const p = join(dir || '.', name);
      try {
        accessSync(p, fsConstants.X_OK);
        if (statSync(p).isFile()) return p;
      } catch {
        // not here
      }
    }
  }
  return undefined;
}

function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The lines of /proc/self/mounts: each mount point with its options. */
function mounts(): Array<{ path: string; options: string[] }> {
  const text = readText('/proc/self/mounts') ?? '';
  return text.split('\n').filter(Boolean).map((l) => {
    const f = l.split(' ');
    return { path: unescapeMountPath(f[1] ?? ''), options: (f[3] ?? '').split(',') };
  });
}

/** The current mount points (from /proc/self/mounts). */
export function currentMountPoints(): Set<string> {
  return new Set(mounts().map((m) => m.path));
}

/** The mount points mounted `noexec`. */
function noexecMountPoints(): Set<string> {
  return new Set(mounts().filter((m) => m.options.includes('noexec')).map((m) => m.path));
}

function readPool(kb: number): PoolState | undefined {
  const dir = `/sys/kernel/mm/hugepages/hugepages-${kb}kB`;
  const n = (f: string): number | undefined => {
    const t = readText(`${dir}/${f}`);
    return t === undefined ? undefined : Number(t.trim());
  };
  const total = n('nr_hugepages');
  if (total === undefined) return undefined;
  return { total, free: n('free_hugepages') ?? 0, rsvd: n('resv_hugepages') ?? 0, surp: n('surplus_hugepages') ?? 0 };
}

function cpuFlags(): Set<string> {
  const text = readText('/proc/cpuinfo') ?? '';
  const line = /^flags\s*:(.*)$/m.exec(text);
  return new Set((line?.[1] ?? '').trim().split(/\s+/));
}

function kernelConfigValue(name: string): string | undefined {
  let text: string | undefined;
  try {
    text = gunzipSync(readFileSync('/proc/config.gz')).toString('utf8');
  } catch {
    text = readText(`/boot/config-${release()}`);
  }
  if (text === undefined) return undefined;
  const m = new RegExp(`^${name}=(.*)$`, 'm').exec(text);
  return m ? m[1] : text.includes(`# ${name} is not set`) ? '' : undefined;
}

function lsmMmapMinAddr(): bigint | undefined {
  const v = kernelConfigValue('CONFIG_LSM_MMAP_MIN_ADDR');
  if (v === undefined) return undefined;
  // Without CONFIG_SECURITY the option does not exist and only the sysctl counts.
  return v === '' ? 0n : BigInt(v);
}

function pageSize(): number {
  const m = /^KernelPageSize:\s+(\d+) kB$/m.exec(readText('/proc/self/smaps') ?? '');
  return m ? Number(m[1]) * 1024 : 4096;
}

/** The optional THP setting files of this kernel (see `modelThpSettings`). */
function thpSettingFiles(): string[] {
  const files = [`${THP_DIR}/shmem_enabled`, `${THP_DIR}/use_zero_page`, `${THP_DIR}/defrag`];
  let sizes: string[] = [];
  try {
    sizes = readdirSync(THP_DIR).filter((d) => /^hugepages-\d+kB$/.test(d));
  } catch {
    // no THP at all
  }
  for (const d of sizes) files.push(`${THP_DIR}/${d}/enabled`, `${THP_DIR}/${d}/shmem_enabled`);
  return files.filter((f) => readText(f) !== undefined);
}

/** Probe this host (reads only). */
export function probeHost(): HostProbe {
  const pools = new Map<number, PoolState>();
  for (const kb of POOL_SIZES_KB) {
    const p = readPool(kb);
    if (p) pools.set(kb, p);
  }
  const flags = cpuFlags();
  const fault = readText(FAULT_AROUND);
  return {
    platform: process.platform,
    machine: process.platform === 'linux' ? machine() : process.arch,
    uid: typeof process.getuid === 'function' ? process.getuid() : -1,
    compiler: onPath(['cc', 'gcc', 'clang']),
    mountTools: onPath(['mount']) !== undefined && onPath(['umount']) !== undefined,
    pageSize: process.platform === 'linux' ? pageSize() : 4096,
    pools,
    gbpages: flags.has('pdpe1gb'),
    la57: flags.has('la57'),
    pkeys: flags.has('ospke'),
    lsmMmapMinAddr: process.platform === 'linux' ? lsmMmapMinAddr() : undefined,
    faultAroundBytes: fault === undefined ? undefined : Number(fault.trim()),
    thpSettingFiles: process.platform === 'linux' ? thpSettingFiles() : [],
    mountPoints: process.platform === 'linux' ? currentMountPoints() : new Set(),
    noexecMounts: process.platform === 'linux' ? noexecMountPoints() : new Set(),
    memTotalKb: meminfoKb('MemTotal'),
    swapTotalKb: meminfoKb('SwapTotal'),
    committedAsKb: meminfoKb('Committed_AS'),
  };
}

function meminfoKb(key: string): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB$`, 'm').exec(readText('/proc/meminfo') ?? '');
  return m ? Number(m[1]) : 0;
}

/** The host facts for a golden header (reads only). */
export function hostFacts(probe: HostProbe, staticBinary: boolean, pkeysHidden: boolean): HostFacts {
  return {
    release: release(),
    arch: probe.machine,
    memTotalKb: meminfoKb('MemTotal'),
    swapTotalKb: meminfoKb('SwapTotal'),
    gbpages: probe.gbpages ? 1 : 0,
    la57: probe.la57 ? 1 : 0,
    lsmMmapMinAddr: probe.lsmMmapMinAddr,
    faultAroundBytes: probe.faultAroundBytes,
    staticBinary,
    pkeys: probe.pkeys,
    pkeysHidden: probe.pkeys && pkeysHidden,
  };
}

// ---------------------------------------------------------------------------
// Building the executor
// ---------------------------------------------------------------------------

/** `tools/trace-recorder/` (this file is packages/cli/{src,dist}/record/host.*). */
export function recorderDir(): string {
  return process.env['MMSIM_RECORDER_DIR'] ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../../tools/trace-recorder');
}

const CFLAGS = ['-Os', '-fno-asynchronous-unwind-tables', '-fno-unwind-tables', '-Wall'];

/** A built executor. */
export interface BuiltExecutor {
  readonly path: string;
  readonly static: boolean;
  readonly pads: Pads;
}

function compilerVersion(cc: string): string {
  try {
    return execFileSync(cc, ['--version'], { encoding: 'utf8' }).split('\n')[0] ?? cc;
  } catch {
    return cc;
  }
}

function sourceKey(text: Buffer): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 8);
}

/** Remove cached executors and fits built from another version of executor.c. */
function pruneBuilds(build: string, source8: string): void {
  for (const f of readdirSync(build)) {
    const m = /^(?:mmsim-rec-|fit-)([0-9a-f]{8})/.exec(f);
    if (m && m[1] !== source8) {
      try {
        unlinkSync(join(build, f));
      } catch {
        // someone else's file or already gone
      }
    }
  }
}

/** Build (or reuse from tools/trace-recorder/build/) the executor with the given pads. */
export function buildExecutor(cc: string, pads: Pads): BuiltExecutor {
  const dir = recorderDir();
  const source = join(dir, 'executor.c');
  const text = readFileSync(source);
  const defines = [
    `-DTEXT_PAD=${pads.text}`, `-DRODATA_PAD=${pads.rodata}`, `-DRELRO_PAD=${pads.relro}`,
    `-DDATA_PAD=${pads.data}`, `-DBSS_PAD=${pads.bss}`, `-DINBUF_SIZE=${EXECUTOR_INPUT_LIMIT}`,
  ];
  const source8 = sourceKey(text);
  const key = source8 + createHash('sha256').update(CFLAGS.join(' ')).update(defines.join(' ')).update(compilerVersion(cc)).digest('hex').slice(0, 8);
  const build = join(dir, 'build');
  mkdirSync(build, { recursive: true });
  pruneBuilds(build, source8);
  for (const kind of ['static', 'dynamic'] as const) {
    const out = join(build, `mmsim-rec-${key}-${kind}`);
    if (existsSync(out)) return { path: out, static: kind === 'static', pads };
  }
  for (const kind of ['static', 'dynamic'] as const) {
    const out = join(build, `mmsim-rec-${key}-${kind}`);
    const args = [...CFLAGS, ...(kind === 'static' ? ['-static'] : []), ...defines, '-o', `${out}.tmp`, source];
    const r = spawnSync(cc, args, { encoding: 'utf8' });
    if (r.status === 0) {
      renameSync(`${out}.tmp`, out);
      return { path: out, static: kind === 'static', pads };
    }
    if (kind === 'dynamic') throw new RecordError(`cannot build the executor: ${cc} ${args.join(' ')}: ${(r.stderr || r.error?.message || '').trim().split('\n')[0]}`, 5);
  }
  throw new RecordError('unreachable', 5);
}

/** Run an executor (launcher mode) on a step list; returns its output text. */
function runExecutor(binary: string, stepList: string, timeoutMs: number): string {
  const r = spawnSync(binary, ['-'], {
    input: stepList,
    env: {},
    maxBuffer: 1 << 30,
    timeout: timeoutMs,
    killSignal: 'SIGKILL',
  });
  if (r.error) throw new RecordError(`cannot run the executor ${binary}: ${r.error.message}`, 5);
  if (r.signal === 'SIGINT' || r.signal === 'SIGTERM' || r.signal === 'SIGHUP') throw new RecordError(`interrupted (the executor got ${r.signal})`, 130);
  if (r.signal) throw new RecordError(`the executor was killed by ${r.signal}${r.signal === 'SIGKILL' ? ` (time limit ${timeoutMs / 1000} s?)` : ''}`, 5);
  return r.stdout.toString('utf8');
}

/**
 * Fit the executor to the scenario header's layout (see README): build,
 * measure the starting state, pad, rebuild — at most 5 times. The result is
 * cached in the build directory.
 */
export function fitExecutor(cc: string, scenario: Trace): { exe: BuiltExecutor; layout: LayoutNote } {
  const natural = buildExecutor(cc, NO_PADS);
  const header = scenario.header;
  const target = exeLayout(header.maps, header.brk?.start);
  if (!target) return { exe: natural, layout: { kind: 'natural', detail: '' } };
  if (header.config.aslr === 1 || !natural.static) return { exe: natural, layout: { kind: 'differs', detail: 'not fitted: aslr=1 or a dynamic executable' } };
  const dir = join(recorderDir(), 'build');
  const targetKey = sourceKey(readFileSync(join(recorderDir(), 'executor.c'))) + createHash('sha256')
    .update(compilerVersion(cc))
    .update(target.segments.map((l) => `${l.start}-${l.end} ${l.perms} ${l.offset}`).join(';') + ` brk=${target.brkStart}`)
    .digest('hex')
    .slice(0, 8);
  const cacheFile = join(dir, `fit-${targetKey}.json`);
  const cached = readText(cacheFile);
  if (cached) {
    const c = JSON.parse(cached) as { pads: Pads; fits: boolean; detail: string };
    const exe = buildExecutor(cc, c.pads);
    return { exe, layout: c.fits ? { kind: 'fitted', detail: describePads(c.pads) } : { kind: 'differs', detail: c.detail } };
  }
  const probeList = encodeSetup({ ...header.config, privileged: 1 }).concat(['S', 'E']).join('\n') + '\n';
  let pads = NO_PADS;
  let exe = natural;
  let detail = '';
  let fits = false;
  for (let round = 0; round < 5; round++) {
    const out = parseExecutorOutput(runExecutor(exe.path, probeList, 30_000));
    if (!out.maps || !out.brk) throw new RecordError(`the executor did not report its starting state${out.fatal ? `: ${out.fatal}` : ''}`, 5);
    const measured = exeLayout(parseRawMaps(out.maps), out.brk.start);
    if (!measured) break;
    const next = adjustPads(pads, target, measured);
    if (next === 'fits') {
      fits = true;
      break;
    }
    if (next === 'impossible') {
      detail = `this build: ${measured.segments.map((l) => `${l.start.toString(16)}-${l.end.toString(16)} ${l.perms} ${l.offset.toString(16)}`).join(', ')}, brk ${measured.brkStart?.toString(16)}`;
      break;
    }
    pads = next;
    exe = buildExecutor(cc, pads);
  }
  if (!fits) {
    pads = NO_PADS;
    exe = natural;
  }
  writeFileSync(cacheFile, JSON.stringify({ pads, fits, detail }) + '\n');
  return { exe, layout: fits ? { kind: 'fitted', detail: describePads(pads) } : { kind: 'differs', detail } };
}

// ---------------------------------------------------------------------------
// Host state: save, change, restore
// ---------------------------------------------------------------------------

/** The state file: everything needed to put the host back. */
export interface SavedState {
  readonly version: 1;
  readonly pid: number;
  readonly started: string;
  /** Every setting the run may change, with its value before the run. */
  readonly settings: Array<{ path: string; original: string }>;
  /** Directories created for mount points (removed after unmounting). */
  readonly createdDirs: string[];
  /** Filesystems mounted by the run. */
  readonly mounts: string[];
  /** The executor install: whether a file was there before (kept at BINARY_BACKUP while ours is in place). */
  binary: { readonly hadOriginal: boolean } | null;
}

function saveState(state: SavedState): void {
  const tmp = `${STATE_FILE}.tmp`;
  writeFileSync(tmp, JSON.stringify(state, null, 2) + '\n', { mode: 0o600 });
  renameSync(tmp, STATE_FILE);
}

function writeSetting(path: string, value: string): void {
  writeFileSync(path, value + '\n');
}

function readSetting(path: string): string | undefined {
  const t = readText(path);
  return t === undefined ? undefined : normalizeSetting(t);
}

function isMountPoint(path: string): boolean {
  return currentMountPoints().has(path);
}

/**
 * Put the host back as `state` says: unmount, remove created directories,
 * restore settings (in reverse order), put back the binary. Returns the
 * problems (empty if everything is as it was); the state file (`stateFile`)
 * is removed only then.
 */
export function restoreHost(state: SavedState, stateFile: string = STATE_FILE): string[] {
  const problems: string[] = [];
  for (const path of [...state.mounts].reverse()) {
    if (!isMountPoint(path)) continue;
    try {
      execFileSync('umount', [path], { stdio: 'pipe' });
    } catch {
      try {
        execFileSync('umount', ['-l', path], { stdio: 'pipe' });
      } catch (e) {
        problems.push(`cannot unmount ${path}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
  }
  for (const dir of [...state.createdDirs].reverse()) {
    try {
      if (existsSync(dir) && !isMountPoint(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
    } catch (e) {
      problems.push(`cannot remove ${dir}: ${(e as Error).message}`);
    }
  }
  for (const { path, original } of [...state.settings].reverse()) {
    try {
      if (readSetting(path) !== original) writeSetting(path, original);
    } catch (e) {
      problems.push(`cannot restore ${path}=${original}: ${(e as Error).message}`);
    }
  }
  if (state.binary) {
    try {
      if (state.binary.hadOriginal) {
        if (existsSync(BINARY_BACKUP)) renameSync(BINARY_BACKUP, RECORDER_BINARY);
      } else if (existsSync(RECORDER_BINARY)) {
        unlinkSync(RECORDER_BINARY);
      }
    } catch (e) {
      problems.push(`cannot restore ${RECORDER_BINARY}: ${(e as Error).message}`);
    }
  }
  // Verify.
  for (const { path, original } of state.settings) {
    const now = readSetting(path);
    if (now !== original) problems.push(`${path} is ${now ?? '(unreadable)'}, was ${original}`);
  }
  // A pool whose reservation count went below zero cannot shrink back; say why rather than only that it did not.
  for (const pool of ['hugepages-2048kB', 'hugepages-1048576kB']) {
    const resv = readText(`/sys/kernel/mm/hugepages/${pool}/resv_hugepages`)?.trim();
    if (resv !== undefined && /^\d+$/.test(resv) && BigInt(resv) >= 1n << 63n) {
      problems.push(`the kernel's ${pool} HugePages_Rsvd went below zero (${resv}); ${RESV_UNDERFLOW_HINT}`);
    }
  }
  for (const path of state.mounts) if (isMountPoint(path)) problems.push(`${path} is still mounted`);
  if (problems.length === 0) {
    try {
      unlinkSync(stateFile);
    } catch {
      // already gone
    }
  }
  return problems;
}

/** If a previous run left a state file, restore from it (refused while that run is still alive). */
export function restoreLeftover(io: Output): void {
  const text = readText(STATE_FILE);
  if (text === undefined) return;
  let state: SavedState;
  try {
    state = JSON.parse(text) as SavedState;
  } catch {
    throw new RecordError(`${STATE_FILE} is not a state file this recorder wrote; look at it and remove it`, 5);
  }
  if (state.pid !== process.pid) {
    let alive = false;
    try {
      process.kill(state.pid, 0);
      alive = (readText(`/proc/${state.pid}/cmdline`) ?? '').includes('record');
    } catch {
      alive = false;
    }
    if (alive) throw new RecordError(`another mmsim record (pid ${state.pid}) is running (${STATE_FILE})`, 5);
  }
  io.err(`mmsim record: restoring host settings left by an interrupted run (pid ${state.pid}, started ${state.started})`);
  const problems = restoreHost(state);
  if (problems.length > 0) throw new RecordError(`could not restore everything from ${STATE_FILE}: ${problems.join('; ')}`, 5);
}

function mkdirsRecorded(path: string, state: SavedState): void {
  const parts = path.split('/').filter(Boolean);
  let cur = '';
  for (const p of parts) {
    cur += '/' + p;
    if (existsSync(cur)) continue;
    state.createdDirs.push(cur);
    saveState(state);
    mkdirSync(cur);
  }
}

/**
 * A setting as read back; a pool's `nr_hugepages` without its surplus pages
 * (a host may hold surplus pages nobody can free, e.g. a leaked reservation).
 */
function readPersistent(path: string): string | undefined {
  const now = readSetting(path);
  if (!path.endsWith('/nr_hugepages') || now === undefined) return now;
  const surplus = Number(readSetting(path.replace(/nr_hugepages$/, 'surplus_hugepages')) ?? '0');
  return String(Number(now) - surplus);
}

function applySetting(s: Setting): void {
  const write = (): void => {
    try {
      writeSetting(s.path, s.value);
    } catch (e) {
      throw new RecordError(`cannot set ${s.path} to ${s.value}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, 5);
    }
  };
  // Unchanged values are not written (the kernel refuses some writes even of
  // the current value, e.g. nr_overcommit_hugepages of gigantic pages).
  if (readPersistent(s.path) === s.value) return;
  write();
  let now = readPersistent(s.path);
  if (now !== s.value && s.path.endsWith('/nr_hugepages')) {
    // Gigantic pages need contiguous memory: compact once and try again.
    try {
      writeSetting('/proc/sys/vm/compact_memory', '1');
    } catch {
      // not available
    }
    write();
    now = readPersistent(s.path);
  }
  if (now !== s.value) throw new RecordError(`cannot set ${s.path} to ${s.value} (it reads ${now})`, 5);
}

/**
 * The planned settings that no longer read what was set (another process
 * changed them during the run). A pool's `nr_hugepages` is compared without
 * its surplus pages, which files still on hugetlbfs may hold.
 */
function changedDuringRun(plan: readonly Setting[]): string[] {
  const out: string[] = [];
  for (const s of plan) {
    const now = readPersistent(s.path);
    if (now !== s.value) out.push(`${s.path} is ${now}, was set to ${s.value}`);
  }
  return out;
}

/**
 * Run the recording on the host: save, change, run, restore. Returns the
 * executor's output and what could not be put back (empty when everything
 * was; the state file is then kept for `mmsim record --restore`).
 */
export function recordOnHost(
  scenario: Trace,
  exe: BuiltExecutor,
  stepList: string,
  probe: HostProbe,
  timeoutMs: number,
  io: Output,
): { output: string; notRestored: string[] } {
  const plan = planSettings(scenario.header.config, [...probe.pools.keys()], probe.faultAroundBytes !== undefined, probe.thpSettingFiles ?? []);
  const settings = plan.map((s) => ({ path: s.path, original: readSetting(s.path) }));
  const unreadable = settings.find((s) => s.original === undefined);
  if (unreadable) throw new RecordError(`cannot read ${unreadable.path}`, 4);
  const state: SavedState = {
    version: 1,
    pid: process.pid,
    started: new Date().toISOString(),
    settings: settings as Array<{ path: string; original: string }>,
    createdDirs: [],
    mounts: [],
    binary: null,
  };
  saveState(state); // before any change
  const interrupted: { signal?: NodeJS.Signals } = {};
  const onSignal = (sig: NodeJS.Signals): void => {
    interrupted.signal = sig;
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.on(s, onSignal);
  let output: string;
  let problems: string[] = [];
  try {
    for (const s of plan) applySetting(s);
    for (const m of scenario.header.mounts) {
      mkdirsRecorded(m.path, state);
      state.mounts.push(m.path);
      saveState(state);
      const opts = [...m.options].map(([k, v]) => `${k}=${v}`).join(',');
      execFileSync('mount', ['-t', m.fstype, ...(opts ? ['-o', opts] : []), `mmsim-${m.fstype}`, m.path], { stdio: 'pipe' });
    }
    const hadOriginal = existsSync(RECORDER_BINARY);
    state.binary = { hadOriginal };
    saveState(state);
    if (hadOriginal) copyFileSync(RECORDER_BINARY, BINARY_BACKUP);
    copyFileSync(exe.path, `${RECORDER_BINARY}.mmsim-tmp`);
    chmodSync(`${RECORDER_BINARY}.mmsim-tmp`, 0o755);
    renameSync(`${RECORDER_BINARY}.mmsim-tmp`, RECORDER_BINARY);
    output = runExecutor(RECORDER_BINARY, stepList, timeoutMs);
    const changed = changedDuringRun(plan);
    if (changed.length > 0) {
      throw new RecordError(
        `host settings changed while recording (${changed.join('; ')}): something else on this host is changing them; no golden trace written`,
        5,
      );
    }
  } catch (e) {
    if (e instanceof RecordError) {
      const restored = e.exitCode === 130 ? '; host settings restored' : '';
      throw new RecordError(e.message + restored, e.exitCode);
    }
    throw new RecordError(`recording failed: ${(e as Error).message.split('\n')[0]}`, 5);
  } finally {
    problems = restoreHost(state);
    for (const s of signals) process.off(s, onSignal);
    if (problems.length > 0) io.err(`mmsim record: could not restore everything (kept ${STATE_FILE}; run mmsim record --restore): ${problems.join('; ')}`);
  }
  if (interrupted.signal) throw new RecordError(`interrupted by ${interrupted.signal}; host settings restored`, 130);
  return { output, notRestored: problems };
}
