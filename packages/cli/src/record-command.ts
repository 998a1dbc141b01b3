/**
 * `mmsim record SCENARIO.trace [-o GOLDEN.trace] [--compare GOLDEN]`: run a
 * scenario's calls on this Linux host with the small C executor of
 * `tools/trace-recorder/` and write the golden trace — the scenario with the
 * kernel's results, the real starting address space and the host's
 * `@kernel`/`@config` lines.
 *
 * The first half of this file is pure (step encoding for the executor,
 * parsing its output, `@maps` renumbering, the golden header, the "cannot
 * record here" decision, the host-settings plan) and is unit-tested. The
 * second half touches the host: it saves every setting it will change to a
 * state file before changing anything, sets the scenario's `@config`, mounts
 * the `@mount` filesystems, installs the executor at `/usr/local/bin/mmsim-rec`,
 * runs it, and restores everything in a `finally` (a leftover state file from
 * a crashed run is restored on the next start, or with `--restore`).
 */

import { spawnSync, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants as fsConstants,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  statSync,
  unlinkSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { machine, release } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { errnoName as baseErrnoName } from '@mmsim/base';
import { faultAroundPages } from '@mmsim/mm-core';
import {
  buildConfig,
  CALL_SIGNATURES,
  CONFIG_KEYS,
  compareTraces,
  parseMapsLine,
  printTrace,
  type CallStep,
  type Comparison,
  type FdDirective,
  type MapsLine,
  type StepOutcome,
  type Trace,
  type TraceComment,
  type TraceConfig,
  type TraceHeader,
  type TraceResult,
  type TraceStep,
} from '@mmsim/trace';
import { loadTrace, UsageError, type Output } from './replay-command.js';

// ---------------------------------------------------------------------------
// Constants
// ---------------------------------------------------------------------------

/** Where the executor is installed while recording (the path the given traces' `@maps` name). */
export const RECORDER_BINARY = '/usr/local/bin/mmsim-rec';
/** The host settings saved before any change, for restoring after a crash. */
export const STATE_FILE = '/var/tmp/mmsim-record.state';
/** Where a pre-existing `/usr/local/bin/mmsim-rec` is kept while ours is installed. */
export const BINARY_BACKUP = '/var/tmp/mmsim-record.mmsim-rec.orig';
/** The executor's input buffer (`INBUF_SIZE` in executor.c): the largest step list it takes. */
export const EXECUTOR_INPUT_LIMIT = 2 * 1024 * 1024;
/** The descriptors the executor starts with (its step pipe, its result pipe, /dev/null). */
export const STANDARD_FDS: readonly FdDirective[] = [
  { fd: 0, target: 'pipe', flags: 'O_RDONLY' },
  { fd: 1, target: 'pipe', flags: 'O_WRONLY' },
  { fd: 2, target: '/dev/null', flags: 'O_RDWR' },
];
/** `personality(2)` flags. */
const ADDR_NO_RANDOMIZE = 0x0040000n;
const ADDR_COMPAT_LAYOUT = 0x0200000n;
const RLIM_INFINITY = (1n << 64n) - 1n;
/** The huge page pools x86-64 can have, in kB. */
const POOL_SIZES_KB = [2048, 1048576] as const;

/** A failure of the record command: one line for the user, an exit code. */
export class RecordError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = 'RecordError';
  }
}

// ---------------------------------------------------------------------------
// Errno names (x86-64): the executor reports numbers
// ---------------------------------------------------------------------------

const ERRNOS: ReadonlyArray<readonly [number, string, string]> = [
  [1, 'EPERM', 'Operation not permitted'], [2, 'ENOENT', 'No such file or directory'], [3, 'ESRCH', 'No such process'],
  [4, 'EINTR', 'Interrupted system call'], [5, 'EIO', 'Input/output error'], [6, 'ENXIO', 'No such device or address'],
  [7, 'E2BIG', 'Argument list too long'], [8, 'ENOEXEC', 'Exec format error'], [9, 'EBADF', 'Bad file descriptor'],
  [10, 'ECHILD', 'No child processes'], [11, 'EAGAIN', 'Resource temporarily unavailable'],
  [12, 'ENOMEM', 'Cannot allocate memory'], [13, 'EACCES', 'Permission denied'], [14, 'EFAULT', 'Bad address'],
  [15, 'ENOTBLK', 'Block device required'], [16, 'EBUSY', 'Device or resource busy'], [17, 'EEXIST', 'File exists'],
  [18, 'EXDEV', 'Invalid cross-device link'], [19, 'ENODEV', 'No such device'], [20, 'ENOTDIR', 'Not a directory'],
  [21, 'EISDIR', 'Is a directory'], [22, 'EINVAL', 'Invalid argument'], [23, 'ENFILE', 'Too many open files in system'],
  [24, 'EMFILE', 'Too many open files'], [25, 'ENOTTY', 'Inappropriate ioctl for device'], [26, 'ETXTBSY', 'Text file busy'],
  [27, 'EFBIG', 'File too large'], [28, 'ENOSPC', 'No space left on device'], [29, 'ESPIPE', 'Illegal seek'],
  [30, 'EROFS', 'Read-only file system'], [31, 'EMLINK', 'Too many links'], [32, 'EPIPE', 'Broken pipe'],
  [33, 'EDOM', 'Numerical argument out of domain'], [34, 'ERANGE', 'Numerical result out of range'],
  [35, 'EDEADLK', 'Resource deadlock avoided'], [36, 'ENAMETOOLONG', 'File name too long'], [37, 'ENOLCK', 'No locks available'],
  [38, 'ENOSYS', 'Function not implemented'], [39, 'ENOTEMPTY', 'Directory not empty'],
  [40, 'ELOOP', 'Too many levels of symbolic links'], [42, 'ENOMSG', 'No message of desired type'],
  [43, 'EIDRM', 'Identifier removed'], [61, 'ENODATA', 'No data available'], [62, 'ETIME', 'Timer expired'],
  [71, 'EPROTO', 'Protocol error'], [74, 'EBADMSG', 'Bad message'], [75, 'EOVERFLOW', 'Value too large for defined data type'],
  [84, 'EILSEQ', 'Invalid or incomplete multibyte or wide character'], [88, 'ENOTSOCK', 'Socket operation on non-socket'],
  [95, 'EOPNOTSUPP', 'Operation not supported'], [110, 'ETIMEDOUT', 'Connection timed out'],
  [116, 'ESTALE', 'Stale file handle'], [122, 'EDQUOT', 'Disk quota exceeded'], [125, 'ECANCELED', 'Operation canceled'],
  [133, 'EHWPOISON', 'Memory page has hardware error'],
];
const ERRNO_BY_NUMBER = new Map(ERRNOS.map(([n, name, message]) => [n, { name, message }]));

/** The symbolic name and strerror text of an x86-64 errno number (`12` → `ENOMEM`). */
export function errnoInfo(errno: number): { name: string; message: string | undefined } {
  const base = baseErrnoName(errno);
  const known = ERRNO_BY_NUMBER.get(errno);
  if (!/^E\d+$/.test(base)) return { name: base, message: known?.message };
  return known ?? { name: `E${errno}`, message: undefined };
}

// ---------------------------------------------------------------------------
// Step encoding for the executor (see executor.c for the format)
// ---------------------------------------------------------------------------

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a, t: 0x09, r: 0x0d, v: 0x0b, f: 0x0c, a: 0x07, b: 0x08, e: 0x1b,
  '\\': 0x5c, '"': 0x22, "'": 0x27, '?': 0x3f,
};

/**
 * The exact bytes of a double-quoted C string as written in a trace (`"a\x00b"`),
 * escapes decoded, other characters as UTF-8. (The trace reader's string value
 * is a JavaScript string; bytes that are not UTF-8 need the spelling.)
 */
export function cStringBytes(text: string): Uint8Array {
  const out: number[] = [];
  const enc = new TextEncoder();
  const end = text.length - 1;
  let i = 1;
  while (i < end) {
    const c = text[i]!;
    if (c !== '\\') {
      const code = text.codePointAt(i)!;
      const width = code > 0xffff ? 2 : 1;
      out.push(...enc.encode(text.slice(i, i + width)));
      i += width;
      continue;
    }
    const e = text[i + 1]!;
    if (SIMPLE_ESCAPES[e] !== undefined) {
      out.push(SIMPLE_ESCAPES[e]!);
      i += 2;
    } else if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2, Math.min(i + 4, end)))!;
      out.push(parseInt(m[0], 16));
      i += 2 + m[0].length;
    } else {
      const m = /^[0-7]{1,3}/.exec(text.slice(i + 1, Math.min(i + 4, end)))!;
      out.push(parseInt(m[0], 8) & 0xff);
      i += 1 + m[0].length;
    }
  }
  return Uint8Array.from(out);
}

function hex(v: bigint): string {
  return BigInt.asUintN(64, v).toString(16);
}

function hexBytes(bytes: Uint8Array): string {
  return bytes.length === 0 ? '-' : Buffer.from(bytes).toString('hex');
}

/** The executor's name for each call (`hugepages` → `huge`, `mmap_pgoff` → `pgoff`). */
const EXEC_OPS: Readonly<Record<CallStep['call'], string>> = {
  mmap: 'mmap', mmap_pgoff: 'pgoff', munmap: 'munmap', mprotect: 'mprotect', mremap: 'mremap', madvise: 'madvise',
  brk: 'brk', mlock: 'mlock', munlock: 'munlock', openat: 'openat', ftruncate: 'ftruncate', close: 'close',
  unlinkat: 'unlinkat', dup: 'dup', peek: 'peek', poke: 'poke', fill: 'fill', fpeek: 'fpeek', rss: 'rss',
  hugepages: 'huge',
};

/**
 * One step as an executor line: the operation, then every argument already
 * decoded — numbers as u64 hex (flags are just numbers here), strings as hex
 * bytes (`-` when empty). Optional trailing arguments (mremap's `new_addr`,
 * openat's `mode`) are passed as 0, as a caller leaving them out would.
 */
export function encodeStep(step: TraceStep): string {
  if (step.kind === 'maps') return 'maps';
  const sig = CALL_SIGNATURES[step.call];
  const words: string[] = [EXEC_OPS[step.call]];
  for (let i = 0; i < sig.args.length; i++) {
    const arg = step.args[i];
    if (arg === undefined) words.push('0');
    else if (arg.kind === 'string') words.push(hexBytes(cStringBytes(arg.text)));
    else words.push(hex(arg.value));
  }
  return words.join(' ');
}

function rlimitHex(v: bigint | 'unlimited'): string {
  return hex(v === 'unlimited' ? RLIM_INFINITY : v);
}

/** The personality the recorded process runs with. */
export function personalityOf(config: TraceConfig): bigint {
  return (config.aslr === 0 ? ADDR_NO_RANDOMIZE : 0n) | (config.layout === 'legacy' ? ADDR_COMPAT_LAYOUT : 0n);
}

/** How the executor prepares the process before the first snapshot. */
export interface SetupOptions {
  /** Grow the break to this before the snapshot (the scenario header's `@brk cur`); default: leave it. */
  readonly brk?: bigint;
  /** Allocate every protection key first, so PROT_EXEC-only memory stays readable as without PKU [true]. */
  readonly hidePkeys?: boolean;
}

/**
 * The setup lines of a step list: rlimits, personality, privilege, the
 * break to grow to before the first snapshot (0: leave it as the C runtime
 * left it), and whether to use up the protection keys.
 */
export function encodeSetup(config: TraceConfig, options: SetupOptions = {}): string[] {
  return [
    'mmsim-exec 1',
    `R ${rlimitHex(config.rlimit_stack)} ${rlimitHex(config.rlimit_as)} ${rlimitHex(config.rlimit_data)} ${rlimitHex(config.rlimit_memlock)}`,
    `P ${hex(personalityOf(config))}`,
    `C ${config.privileged}`,
    `B ${hex(options.brk ?? 0n)}`,
    `K ${options.hidePkeys === false ? 0 : 1}`,
  ];
}

/** The whole step list for a scenario: setup, `S`, one line per step, `E`. */
export function encodeStepList(trace: Trace, options: SetupOptions = {}): string {
  const lines = encodeSetup(trace.header.config, options);
  lines.push('S');
  for (const item of trace.body) if (item.kind !== 'comment') lines.push(encodeStep(item));
  lines.push('E');
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Executor output
// ---------------------------------------------------------------------------

/** One result line (or maps block) of the executor. */
export type ExecResult =
  | { readonly kind: 'value'; readonly value: bigint }
  | { readonly kind: 'errno'; readonly errno: number }
  | { readonly kind: 'signal'; readonly signo: number }
  | { readonly kind: 'eof' }
  | { readonly kind: 'hugepages'; readonly total: bigint; readonly free: bigint; readonly rsvd: bigint; readonly surp: bigint }
  | { readonly kind: 'maps'; readonly lines: readonly string[] }
  | { readonly kind: 'unrecordable'; readonly reason: string };

/** Everything the executor printed. */
export interface ExecutorOutput {
  /** The initial break: `start_brk` and the break, before the first step. */
  readonly brk: { readonly start: bigint; readonly cur: bigint } | undefined;
  /** The initial `/proc/self/maps`, raw lines. */
  readonly maps: readonly string[] | undefined;
  /** One result per step that ran, in order. */
  readonly results: readonly ExecResult[];
  /** True if the executor printed `Z` (every step ran). */
  readonly complete: boolean;
  /** A setup failure before the snapshot (`D` line). */
  readonly fatal: string | undefined;
  /** How the recorded process ended, from the launcher (`exit 0`, `signal 11`). */
  readonly ended: string | undefined;
}

/**
 * Parse the executor's output. Throws a {@link RecordError} on anything that
 * is not in the protocol (a truncated maps block, an unknown line).
 */
export function parseExecutorOutput(text: string): ExecutorOutput {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  let brk: ExecutorOutput['brk'];
  let maps: string[] | undefined;
  const results: ExecResult[] = [];
  let complete = false;
  let fatal: string | undefined;
  let ended: string | undefined;
  const bad = (i: number, why: string): never => {
    throw new RecordError(`executor output line ${i + 1}: ${why}: ${JSON.stringify(lines[i]!.slice(0, 80))}`, 5);
  };
  const big = (i: number, s: string | undefined, radix: 16 | 10): bigint => {
    if (s === undefined || !(radix === 16 ? /^[0-9a-f]+$/ : /^[0-9]+$/).test(s)) bad(i, 'bad number');
    return BigInt(radix === 16 ? '0x' + s : s!);
  };
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const [tag, ...w] = line.split(' ');
    switch (tag) {
      case 'I':
        brk = { start: big(i, w[0], 16), cur: big(i, w[1], 16) };
        break;
      case 'M': {
        const block: string[] = [];
        let j = i + 1;
        while (j < lines.length && lines[j] !== '.') block.push(lines[j++]!);
        if (j >= lines.length) bad(i, 'unterminated maps block');
        if (maps === undefined && brk !== undefined && results.length === 0) maps = block;
        else results.push({ kind: 'maps', lines: block });
        i = j;
        break;
      }
      case 'V':
        results.push({ kind: 'value', value: big(i, w[0], 16) });
        break;
      case 'N':
        results.push({ kind: 'errno', errno: Number(big(i, w[0], 10)) });
        break;
      case 'G':
        results.push({ kind: 'signal', signo: Number(big(i, w[0], 10)) });
        break;
      case 'F':
        results.push({ kind: 'eof' });
        break;
      case 'H': {
        const [total, free, rsvd, surp] = [0, 1, 2, 3].map((k) => big(i, w[k], 10)) as [bigint, bigint, bigint, bigint];
        results.push({ kind: 'hugepages', total, free, rsvd, surp });
        break;
      }
      case 'X':
        results.push({ kind: 'unrecordable', reason: w.join(' ') });
        break;
      case 'Z':
        complete = true;
        break;
      case 'D':
        fatal = w.join(' ');
        break;
      case 'Q':
        ended = w.join(' ');
        break;
      default:
        bad(i, 'unknown line');
    }
  }
  return { brk, maps, results, complete, fatal, ended };
}

/** Parse raw `/proc/self/maps` lines. */
export function parseRawMaps(lines: readonly string[]): MapsLine[] {
  return lines.map((l, i) => parseMapsLine(l, { file: '<executor maps>', line: i + 1 }));
}

const SIGNALS: Readonly<Record<number, 'SIGSEGV' | 'SIGBUS'>> = { 11: 'SIGSEGV', 7: 'SIGBUS' };

/**
 * The trace outcome of a step from the executor's result: a result for a call
 * (`undefined` if the step could not be recorded here), the maps lines for a
 * maps step. Throws a {@link RecordError} if the result cannot belong to the step.
 */
export function toOutcome(step: TraceStep, r: ExecResult): StepOutcome | undefined {
  const where = `${step.pos.file}:${step.pos.line}`;
  const wrong = (): never => {
    throw new RecordError(`${where}: the executor returned ${r.kind} for ${step.kind === 'maps' ? '@maps' : step.call}`, 5);
  };
  if (step.kind === 'maps') return r.kind === 'maps' ? parseRawMaps(r.lines) : wrong();
  const allowed = CALL_SIGNATURES[step.call].results;
  let result: TraceResult;
  switch (r.kind) {
    case 'unrecordable':
      return undefined;
    case 'maps':
      return wrong();
    case 'value':
      result = { kind: 'value', value: r.value };
      break;
    case 'errno': {
      const { name, message } = errnoInfo(r.errno);
      result = { kind: 'error', errno: name, message };
      break;
    }
    case 'signal': {
      const signal = SIGNALS[r.signo];
      if (signal === undefined) return wrong();
      result = { kind: 'signal', signal };
      break;
    }
    case 'eof':
      result = { kind: 'eof' };
      break;
    case 'hugepages':
      result = { kind: 'hugepages', total: r.total, free: r.free, rsvd: r.rsvd, surp: r.surp };
      break;
  }
  if (!allowed.has(result.kind)) wrong();
  return result;
}

// ---------------------------------------------------------------------------
// @maps renumbering
// ---------------------------------------------------------------------------

/**
 * Renumber the device and inode columns of maps blocks in order of first
 * appearance across all of them (the header's block first): every device
 * becomes `00:00`; inode 0 (anonymous memory, `[heap]`, `[vdso]` …) stays 0;
 * each other (device, inode) pair gets 1, 2, 3 … as it first appears.
 */
export function renumberMaps(blocks: ReadonlyArray<readonly MapsLine[]>): MapsLine[][] {
  const ids = new Map<string, bigint>();
  return blocks.map((block) =>
    block.map((line) => {
      let inode = 0n;
      if (line.inode !== 0n) {
        const key = `${line.dev} ${line.inode}`;
        let id = ids.get(key);
        if (id === undefined) {
          id = BigInt(ids.size + 1);
          ids.set(key, id);
        }
        inode = id;
      }
      return { ...line, dev: '00:00', inode };
    }),
  );
}

// ---------------------------------------------------------------------------
// The golden header
// ---------------------------------------------------------------------------

/** What the host contributes to a golden trace's header. */
export interface HostFacts {
  /** `uname -r`. */
  readonly release: string;
  /** `uname -m`. */
  readonly arch: string;
  readonly memTotalKb: number;
  readonly swapTotalKb: number;
  readonly gbpages: 0 | 1;
  readonly la57: 0 | 1;
  /** `CONFIG_LSM_MMAP_MIN_ADDR`, if the kernel config is readable. */
  readonly lsmMmapMinAddr: bigint | undefined;
  /** `/sys/kernel/debug/fault_around_bytes`, if debugfs is mounted. */
  readonly faultAroundBytes: number | undefined;
  /** True if the executor is a static executable. */
  readonly staticBinary: boolean;
  /** True if the CPU and kernel use protection keys (`ospke`). */
  readonly pkeys: boolean;
  /** True if the protection keys were used up before the first snapshot (see {@link SetupOptions}). */
  readonly pkeysHidden: boolean;
}

function configText(v: unknown): string {
  return typeof v === 'bigint' ? v.toString(10) : String(v);
}

/**
 * The complete `@config` of a recording, in the format's key order: the
 * scenario's values for what the recorder sets (sysctls, pools, rlimits,
 * personality), this host's for what it cannot set (memory size, CPU
 * features, the kernel's `CONFIG_LSM_MMAP_MIN_ADDR`). `seed` only with `aslr=1`.
 */
export function goldenConfig(config: TraceConfig, host: HostFacts): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const key of CONFIG_KEYS) {
    let value: unknown = config[key];
    if (key === 'seed') {
      if (config.aslr !== 1 || config.seed === undefined) continue;
    } else if (key === 'mem_total_kb') value = host.memTotalKb;
    else if (key === 'swap_total_kb') value = host.swapTotalKb;
    else if (key === 'gbpages') value = host.gbpages;
    else if (key === 'la57') value = host.la57;
    else if (key === 'lsm_mmap_min_addr') value = host.lsmMmapMinAddr ?? config.lsm_mmap_min_addr;
    // Readable debugfs: the recording set it, and the kernel keeps it rounded (fault_around_bytes_set).
    else if (key === 'fault_around_bytes') value = host.faultAroundBytes === undefined ? config.fault_around_bytes : faultAroundSetting(config);
    out.push([key, configText(value)]);
  }
  return out;
}

/** How the executable was matched to the scenario's header layout (for a comment). */
export interface LayoutNote {
  /** `fitted`: padded to the scenario's layout; `natural`: no target; `differs`: could not be matched. */
  readonly kind: 'fitted' | 'natural' | 'differs';
  readonly detail: string;
}

/**
 * The `# recorded:` comment lines of a golden trace (text without `# `), like
 * the given traces': how the process ran, khugepaged, the renumbering, and
 * any way this host differs from what the scenario asked.
 */
export function recordedComments(config: TraceConfig, rawScenario: ReadonlyArray<readonly [string, string]>, host: HostFacts, layout: LayoutNote): string[] {
  const kind = host.staticBinary ? 'static' : 'dynamic';
  const caps = config.privileged === 1 ? 'every capability kept' : 'all capabilities dropped before the first snapshot';
  const out = [
    `recorded: process: ${kind} ${RECORDER_BINARY}, uid 0, ${caps}`,
    'recorded: khugepaged max_ptes_none=0 while recording (background collapse cannot change Rss)',
    'recorded: @maps device/inode columns renumbered by first appearance (compare ignores them)',
  ];
  const asked = new Map(rawScenario.map(([k, v]) => [k, v]));
  for (const [key, value] of [
    ['mem_total_kb', host.memTotalKb],
    ['swap_total_kb', host.swapTotalKb],
  ] as const) {
    const a = asked.get(key);
    if (a !== undefined && a !== String(value)) out.push(`recorded: ${key}=${value} is this host's (the scenario asked ${a})`);
  }
  if (host.lsmMmapMinAddr === undefined) {
    out.push(`recorded: lsm_mmap_min_addr not verified (kernel config not readable), the scenario's ${config.lsm_mmap_min_addr} assumed`);
  }
  if (host.faultAroundBytes === undefined) {
    out.push(`recorded: fault_around_bytes not read (debugfs not mounted, or closed by kernel lockdown): ${config.fault_around_bytes}, the kernel default`);
  }
  if (host.pkeys) {
    out.push(
      host.pkeysHidden
        ? 'recorded: this CPU has protection keys: all were allocated before the first snapshot, so PROT_EXEC-only memory stays readable (no execute-only pkey), as without PKU'
        : 'recorded: this CPU has protection keys: PROT_EXEC-only mappings got the execute-only pkey (reads fault)',
    );
  }
  if (layout.kind === 'fitted' && layout.detail !== '') out.push(`recorded: executable padded to the scenario's @maps layout (${layout.detail})`);
  if (layout.kind === 'differs') out.push(`recorded: executable layout differs from the scenario's @maps header (${layout.detail})`);
  return out;
}

/** What one run of the executor produced, already turned into trace terms. */
export interface Recording {
  readonly brk: { readonly start: bigint; readonly cur: bigint };
  /** The initial address space (raw device and inode columns). */
  readonly maps: readonly MapsLine[];
  /** Outcome per step; a call step without one could not be recorded here. */
  readonly outcomes: ReadonlyMap<TraceStep, StepOutcome>;
  /** Steps that could not be recorded on this host, with the reason. */
  readonly unrecordable: ReadonlyMap<TraceStep, string>;
}

/**
 * The golden trace: the scenario's header comments (earlier `recorded:` lines
 * dropped) plus this recording's, the `@kernel` of this host, the complete
 * `@config`, the scenario's `@mount` lines, the executor's descriptors, the
 * real `@brk` and `@maps` (renumbered, as every later `@maps` block), the
 * scenario's steps and comments (a note after any step that could not be
 * recorded). Returns the trace and the outcome map to print it with.
 */
export function buildGoldenTrace(
  scenario: Trace,
  recording: Recording,
  host: HostFacts,
  layout: LayoutNote,
  file: string,
): { trace: Trace; results: Map<TraceStep, StepOutcome> } {
  const mapsSteps = scenario.body.filter((s): s is Extract<TraceStep, { kind: 'maps' }> => s.kind === 'maps');
  const blocks = renumberMaps([recording.maps, ...mapsSteps.map((s) => (recording.outcomes.get(s) as readonly MapsLine[] | undefined) ?? [])]);
  const results = new Map<TraceStep, StepOutcome>();
  for (const item of scenario.body) {
    if (item.kind === 'comment') continue;
    const outcome = recording.outcomes.get(item);
    if (item.kind === 'maps') continue;
    results.set(item, outcome ?? { kind: 'unknown' });
  }
  mapsSteps.forEach((s, i) => results.set(s, blocks[i + 1]!));
  const body: Array<TraceStep | TraceComment> = [];
  for (const item of scenario.body) {
    body.push(item);
    const why = item.kind !== 'comment' ? recording.unrecordable.get(item) : undefined;
    if (why !== undefined) body.push({ kind: 'comment', pos: item.pos, text: `recorded: not recordable here: ${why}` });
  }
  const rawConfig = goldenConfig(scenario.header.config, host);
  const header: TraceHeader = {
    kernel: { release: host.release, arch: host.arch },
    config: buildConfig(rawConfig, { file, line: 1 }),
    rawConfig,
    mounts: scenario.header.mounts,
    fds: STANDARD_FDS,
    brk: recording.brk,
    maps: blocks[0]!,
  };
  const headerComments = [
    ...scenario.headerComments.filter((c) => !c.startsWith('recorded:')),
    ...recordedComments(scenario.header.config, scenario.header.rawConfig, host, layout),
  ];
  return { trace: { file, headerComments, header, body }, results };
}

/**
 * The scenario of a trace: the same file with every call's result `?` and
 * every `@maps` step empty; earlier `# recorded:` header comments dropped.
 */
export function scenarioOf(trace: Trace): string {
  const results = new Map<TraceStep, StepOutcome>();
  for (const item of trace.body) {
    if (item.kind === 'maps') results.set(item, []);
    else if (item.kind === 'call') results.set(item, { kind: 'unknown' });
  }
  return printTrace({ ...trace, headerComments: trace.headerComments.filter((c) => !c.startsWith('recorded:')) }, results);
}

// ---------------------------------------------------------------------------
// Can this host record the scenario? (pure decision over a probe)
// ---------------------------------------------------------------------------

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

const THP_ENABLED = '/sys/kernel/mm/transparent_hugepage/enabled';
const MAX_PTES_NONE = '/sys/kernel/mm/transparent_hugepage/khugepaged/max_ptes_none';
const FAULT_AROUND = '/sys/kernel/debug/fault_around_bytes';

/**
 * The value debugfs `fault_around_bytes` reads after the scenario's value is
 * written: the kernel keeps whole pages, a power of two (`fault_around_bytes_set`).
 * The recorder writes this rounded value, so that reading it back confirms it.
 */
export function faultAroundSetting(config: TraceConfig): number {
  return faultAroundPages(config.fault_around_bytes) * 4096;
}

/**
 * The settings for a scenario's `@config`, in the order they are applied
 * (restored in reverse): THP mode, khugepaged, the VM sysctls, then for each
 * pool `nr_overcommit_hugepages` before `nr_hugepages`. `pools` lists the pool
 * sizes (kB) the host has; `faultAround` whether debugfs exposes `fault_around_bytes`.
 */
export function planSettings(config: TraceConfig, pools: readonly number[], faultAround: boolean): Setting[] {
  const plan: Setting[] = [
    { path: THP_ENABLED, value: config.thp },
    { path: MAX_PTES_NONE, value: '0' },
    { path: '/proc/sys/vm/legacy_va_layout', value: '0' },
    { path: '/proc/sys/vm/overcommit_ratio', value: String(config.overcommit_ratio) },
    { path: '/proc/sys/vm/overcommit_memory', value: String(config.overcommit_memory) },
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

// ---------------------------------------------------------------------------
// Comparison report
// ---------------------------------------------------------------------------

/** Print a comparison like `mmsim replay --check` does; returns the lines. */
export function formatComparison(goldenFile: string, cmp: Comparison): string[] {
  const out = [`${goldenFile}: matched ${cmp.matched} of ${cmp.total} steps`];
  for (const d of cmp.divergences) {
    out.push(`${d.pos.file}:${d.pos.line}: ${d.step}`);
    out.push(`    golden:   ${d.expected.split('\n').join('\n              ')}`);
    out.push(`    recorded: ${d.actual.split('\n').join('\n              ')}`);
  }
  return out;
}

// ===========================================================================
// Everything below touches the host.
// ===========================================================================

/** Why a pool's `HugePages_Rsvd` reads 2^64 - k, and where the repair is. */
const RESV_UNDERFLOW_HINT =
  'Linux 6.18 does this when a min_size= mount lost its minimum to a failed reservation and is then unmounted ' +
  '(tools/fuzz/kernel/host-findings/hugetlb-min-size-resv-underflow.c); the pool cannot shrink until it is repaired as ' +
  'tools/fuzz/kernel/host-findings/hugetlb-1g-resv-underflow-repair.c says';

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

/** The current mount points (from /proc/self/mounts). */
export function currentMountPoints(): Set<string> {
  const text = readText('/proc/self/mounts') ?? '';
  return new Set(text.split('\n').filter(Boolean).map((l) => unescapeMountPath(l.split(' ')[1] ?? '')));
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
    mountPoints: process.platform === 'linux' ? currentMountPoints() : new Set(),
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

/** `tools/trace-recorder/` (this file is packages/cli/{src,dist}/record-command.*). */
export function recorderDir(): string {
  return process.env['MMSIM_RECORDER_DIR'] ?? resolve(dirname(fileURLToPath(import.meta.url)), '../../../tools/trace-recorder');
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
function fitExecutor(cc: string, scenario: Trace): { exe: BuiltExecutor; layout: LayoutNote } {
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
 * problems (empty if everything is as it was); the state file is removed
 * only then.
 */
export function restoreHost(state: SavedState): string[] {
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
      unlinkSync(STATE_FILE);
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

/** Run the recording on the host: save, change, run, restore. Returns the executor's output. */
function recordOnHost(scenario: Trace, exe: BuiltExecutor, stepList: string, probe: HostProbe, timeoutMs: number, io: Output): string {
  const plan = planSettings(scenario.header.config, [...probe.pools.keys()], probe.faultAroundBytes !== undefined);
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
  return output;
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

/** Options of the record command. */
export interface RecordCommandOptions {
  /** Write the golden trace here (default: stdout). */
  readonly output?: string;
  /** Compare the recording with this golden trace; exit 1 on a divergence. */
  readonly compare?: string;
  /** Print the scenario of the input (every result `?`) and touch nothing. */
  readonly scenarioOf?: boolean;
  /** Only restore a leftover state file. */
  readonly restore?: boolean;
  /** Executor time limit in seconds [600]. */
  readonly timeout?: string;
  /** Record with the CPU's protection keys as they are (PROT_EXEC-only memory unreadable on PKU CPUs). */
  readonly keepPkeys?: boolean;
}

function emit(text: string, output: string | undefined, io: Output): void {
  if (output) writeFileSync(output, text);
  else io.out(text.endsWith('\n') ? text.slice(0, -1) : text);
}

/** Turn the executor's output into a {@link Recording} of the scenario's steps. */
export function recordingOf(scenario: Trace, out: ExecutorOutput): Recording {
  if (out.fatal) throw new RecordError(`the executor failed before the first step: ${out.fatal}`, 5);
  if (!out.brk || !out.maps) throw new RecordError(`the executor reported no starting state (it ended with ${out.ended ?? 'nothing'})`, 5);
  const steps = scenario.body.filter((s): s is TraceStep => s.kind !== 'comment');
  if (!out.complete || out.results.length !== steps.length) {
    const at = steps[out.results.length];
    const where = at ? ` at ${at.pos.file}:${at.pos.line} (${at.kind === 'maps' ? '@maps' : at.call})` : '';
    throw new RecordError(`the executor stopped after ${out.results.length} of ${steps.length} steps${where}; it ended with ${out.ended ?? 'no status'}`, 5);
  }
  const outcomes = new Map<TraceStep, StepOutcome>();
  const unrecordable = new Map<TraceStep, string>();
  steps.forEach((step, i) => {
    const r = out.results[i]!;
    const outcome = toOutcome(step, r);
    if (outcome === undefined) unrecordable.set(step, r.kind === 'unrecordable' ? r.reason : 'no result');
    else outcomes.set(step, outcome);
  });
  return { brk: out.brk, maps: parseRawMaps(out.maps), outcomes, unrecordable };
}

/** Run the record command; returns the exit code. */
export function runRecord(scenarioFile: string | undefined, options: RecordCommandOptions, io: Output): number {
  try {
    return record(scenarioFile, options, io);
  } catch (e) {
    if (e instanceof RecordError || e instanceof UsageError) {
      io.err(e instanceof RecordError ? `mmsim record: ${e.message}` : e.message);
      return e.exitCode;
    }
    throw e;
  }
}

function record(scenarioFile: string | undefined, options: RecordCommandOptions, io: Output): number {
  if (options.restore) {
    if (!existsSync(STATE_FILE)) {
      io.err(`mmsim record: nothing to restore (${STATE_FILE} does not exist)`);
      return 0;
    }
    restoreLeftover(io);
    io.err('mmsim record: host settings restored');
    return 0;
  }
  if (scenarioFile === undefined) throw new UsageError('mmsim record: missing SCENARIO.trace', 2);
  const scenario = loadTrace(scenarioFile);
  if (options.scenarioOf) {
    emit(scenarioOf(scenario), options.output, io);
    return 0;
  }
  const golden = options.compare !== undefined ? loadTrace(options.compare) : undefined;
  const timeoutMs = options.timeout !== undefined ? Number(options.timeout) * 1000 : 600_000;
  if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new UsageError(`mmsim record: bad --timeout ${options.timeout}`, 2);

  // A crashed run's state file is restored first (as root only: otherwise nothing can have been changed).
  if (existsSync(STATE_FILE) && typeof process.getuid === 'function' && process.getuid() === 0) restoreLeftover(io);
  const probe = probeHost();
  const reason = cannotRecordReason(probe, scenario);
  if (reason !== undefined) throw new RecordError(`cannot record here: ${reason}`, 4);

  const { exe, layout } = fitExecutor(probe.compiler!, scenario);
  const brk = layout.kind === 'fitted' ? scenario.header.brk?.cur : undefined;
  const hidePkeys = !options.keepPkeys;
  const stepList = encodeStepList(scenario, { brk, hidePkeys });
  if (Buffer.byteLength(stepList) > EXECUTOR_INPUT_LIMIT) {
    throw new RecordError(`the scenario's step list is ${Buffer.byteLength(stepList)} bytes; the executor takes at most ${EXECUTOR_INPUT_LIMIT}`, 2);
  }
  const facts = hostFacts(probe, exe.static, hidePkeys);
  const raw = recordOnHost(scenario, exe, stepList, probe, timeoutMs, io);
  const recording = recordingOf(scenario, parseExecutorOutput(raw));
  const { trace, results } = buildGoldenTrace(scenario, recording, facts, layout, options.output ?? scenarioFile);
  emit(printTrace(trace, results), options.output, io);
  let exit = 0;
  if (recording.unrecordable.size > 0) {
    io.err(`mmsim record: ${recording.unrecordable.size} step(s) could not be recorded on this host (left as ?)`);
    exit = 1;
  }
  if (golden) {
    const recorded: Trace = { ...trace, body: trace.body.map((item) => withOutcome(item, results)) };
    const cmp = compareTraces(golden, recorded);
    const report = (t: string): void => (options.output ? io.out(t) : io.err(t));
    for (const line of formatComparison(options.compare!, cmp)) report(line);
    if (cmp.divergences.length > 0) exit = 1;
  }
  return exit;
}

function withOutcome(item: TraceStep | TraceComment, results: ReadonlyMap<TraceStep, StepOutcome>): TraceStep | TraceComment {
  if (item.kind === 'comment') return item;
  const o = results.get(item);
  if (o === undefined) return item;
  if (item.kind === 'maps') return { ...item, lines: o as readonly MapsLine[] };
  return { ...item, result: o as TraceResult };
}
