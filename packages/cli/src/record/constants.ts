/**
 * What the recorder's parts share: where the executor and the state file
 * live, the executor's input limit and starting descriptors, personality and
 * rlimit constants, and the record command's error type.
 */

import { type FdDirective } from '@mmsim/trace';

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
/** `personality(2)` flag `ADDR_NO_RANDOMIZE` (`aslr=0`). */
export const ADDR_NO_RANDOMIZE = 0x0040000n;
/** `personality(2)` flag `ADDR_COMPAT_LAYOUT` (`layout=legacy`). */
export const ADDR_COMPAT_LAYOUT = 0x0200000n;
/** `RLIM_INFINITY` as the executor's `setrlimit` takes it. */
export const RLIM_INFINITY = (1n << 64n) - 1n;
/** The huge page pools x86-64 can have, in kB. */
export const POOL_SIZES_KB = [2048, 1048576] as const;

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

/** Why a pool's `HugePages_Rsvd` reads 2^64 - k, and where the repair is. */
export const RESV_UNDERFLOW_HINT =
  'Linux 6.18 does this when a min_size= mount lost its minimum to a failed reservation and is then unmounted ' +
  '(tools/fuzz/kernel/host-findings/hugetlb-min-size-resv-underflow.c); the pool cannot shrink until it is repaired as ' +
  'tools/fuzz/kernel/host-findings/hugetlb-1g-resv-underflow-repair.c says';
