/**
 * What each call of the format takes and returns: argument kinds and counts
 * (the spec's call tables), and how its numeric result is spelled.
 */
import type { CallName, TraceResult } from './model.js';

/**
 * How an argument is written:
 * - `number`: a number or `NULL`;
 * - `prot`, `mapFlags`, `mremapFlags`, `openFlags`, `atFlags`: flag words
 *   (names of that table joined by `|`, numbers allowed as parts);
 * - `advice`: one `MADV_*` name or a number;
 * - `dirfd`: `AT_FDCWD` or a number;
 * - `mode`: a number (octal with a leading `0`);
 * - `byte`: a number from 0 to 0xff;
 * - `path`: a double-quoted string;
 * - `hugeSize`: a huge page size `NkB`.
 */
export type ArgKind =
  | 'number'
  | 'prot'
  | 'mapFlags'
  | 'mremapFlags'
  | 'openFlags'
  | 'atFlags'
  | 'advice'
  | 'dirfd'
  | 'mode'
  | 'byte'
  | 'path'
  | 'hugeSize';

/** How a `value` result is printed: hex address, `0xNN` byte, or decimal. */
export type ResultStyle = 'address' | 'byte' | 'decimal';

/** The shape of one call: its arguments, how many may be left off the end, its results. */
export interface CallSignature {
  readonly args: readonly ArgKind[];
  /** The fewest arguments it takes (trailing optional ones: mremap's `new_addr`, openat's `mode`). */
  readonly minArgs: number;
  readonly style: ResultStyle;
  /** The result kinds it may have besides `?`. */
  readonly results: ReadonlySet<TraceResult['kind']>;
}

const VALUE_OR_ERROR = new Set<TraceResult['kind']>(['value', 'error']);

function sig(
  args: readonly ArgKind[],
  style: ResultStyle = 'decimal',
  results: ReadonlySet<TraceResult['kind']> = VALUE_OR_ERROR,
  minArgs = args.length,
): CallSignature {
  return { args, minArgs, style, results };
}

const MMAP: readonly ArgKind[] = ['number', 'number', 'prot', 'mapFlags', 'number', 'number'];

/** Every call the format knows, with its signature. */
export const CALL_SIGNATURES: Readonly<Record<CallName, CallSignature>> = {
  mmap: sig(MMAP, 'address'),
  mmap_pgoff: sig(MMAP, 'address'),
  munmap: sig(['number', 'number']),
  mprotect: sig(['number', 'number', 'prot']),
  mremap: sig(['number', 'number', 'number', 'mremapFlags', 'number'], 'address', VALUE_OR_ERROR, 4),
  madvise: sig(['number', 'number', 'advice']),
  brk: sig(['number'], 'address', new Set(['value'])),
  mlock: sig(['number', 'number']),
  munlock: sig(['number', 'number']),
  openat: sig(['dirfd', 'path', 'openFlags', 'mode'], 'decimal', VALUE_OR_ERROR, 3),
  ftruncate: sig(['number', 'number']),
  close: sig(['number']),
  unlinkat: sig(['dirfd', 'path', 'atFlags']),
  dup: sig(['number']),
  peek: sig(['number'], 'byte', new Set(['value', 'signal'])),
  poke: sig(['number', 'byte'], 'decimal', new Set(['value', 'signal'])),
  fill: sig(['number', 'number', 'number', 'byte']),
  fpeek: sig(['number', 'number'], 'byte', new Set(['value', 'eof', 'error'])),
  rss: sig(['number']),
  hugepages: sig(['hugeSize'], 'decimal', new Set(['hugepages'])),
};

/** True if `name` is a call the format knows. */
export function isCallName(name: string): name is CallName {
  return Object.prototype.hasOwnProperty.call(CALL_SIGNATURES, name);
}
