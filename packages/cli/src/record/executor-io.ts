/**
 * What passes between `mmsim record` and its C executor
 * (`tools/trace-recorder/executor.c`): the step list it reads, the results and
 * `/proc/self/maps` snapshots it writes back, errno names for its numbers, and
 * the renumbering of the device and inode columns. Pure: no host access.
 */

import { errnoName as baseErrnoName } from '@mmsim/base';
import { CALL_SIGNATURES, parseMapsLine, withTmpfileInode, type CallStep, type MapsLine, type StepOutcome, type Trace, type TraceConfig, type TraceResult, type TraceStep } from '@mmsim/trace';
import { ADDR_COMPAT_LAYOUT, ADDR_NO_RANDOMIZE, RLIM_INFINITY, RecordError } from './constants.js';

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

/** A byte a trace line may not hold (control characters other than tab; see the trace parser). */
const NOT_TEXT = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/**
 * Parse raw `/proc/self/maps` lines. Linux prints a file name's bytes as they
 * are (only a newline is escaped, as `\012`), and a trace holds text only: a
 * name with another control character cannot be recorded ({@link RecordError}).
 */
export function parseRawMaps(lines: readonly string[]): MapsLine[] {
  return lines.map((l, i) => {
    const bad = NOT_TEXT.exec(l);
    if (bad) {
      const code = bad[0].charCodeAt(0).toString(16).padStart(2, '0');
      throw new RecordError(`a mapping's name holds the control character 0x${code}, which Linux prints as it is and a trace cannot hold: ${JSON.stringify(l.slice(73))}`, 4);
    }
    return parseMapsLine(l, { file: '<executor maps>', line: i + 1 });
  });
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
 * each other (device, inode) pair gets 1, 2, 3 … as it first appears, and
 * an `O_TMPFILE` file's name (`DIR/#INO (deleted)`) the same number.
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
      return { ...line, dev: '00:00', inode, name: withTmpfileInode(line, inode) };
    }),
  );
}
