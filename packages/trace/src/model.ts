/**
 * The in-memory form of an mmsim trace (format version 1,
 * `shared/spec/trace-format.md`): a header describing the process before the
 * first call, then steps. Numbers are kept as u64 `bigint`s exactly as written
 * (negative decimal arguments are stored as their two's-complement u64 value);
 * the original spelling is kept so a trace can be printed back unchanged.
 */

/** Where a thing was read from, for `FILE:LINE: message` errors. */
export interface SourcePos {
  readonly file: string;
  /** 1-based line number. */
  readonly line: number;
}

/** One line of a `/proc/PID/maps` block. */
export interface MapsLine {
  readonly start: bigint;
  readonly end: bigint;
  /** Four characters: `r`/`-`, `w`/`-`, `x`/`-`, `s`/`p`. */
  readonly perms: string;
  readonly offset: bigint;
  /** `MAJ:MIN` as written (ignored by comparison). */
  readonly dev: string;
  /** Inode number as written (ignored by comparison). */
  readonly inode: bigint;
  /** The path or pseudo-name (`[heap]`, `/anon_hugepage (deleted)`), or `''`. */
  readonly name: string;
}

/** An `@mount FSTYPE PATH [k=v …]` directive. */
export interface MountDirective {
  readonly fstype: string;
  readonly path: string;
  readonly options: ReadonlyMap<string, string>;
  /** Where the directive was read (absent for one built in code): a mount that fails names its line. */
  readonly pos?: SourcePos;
}

/** An `@fd N TARGET FLAGS` directive: a descriptor open at the start. */
export interface FdDirective {
  readonly fd: number;
  /** A path, or `pipe`. */
  readonly target: string;
  /** `O_RDONLY`, `O_WRONLY` or `O_RDWR`. */
  readonly flags: string;
}

/**
 * The `@config` values, typed, with the format's defaults filled in for keys a
 * hand-written scenario leaves out. Byte sizes and limits that may be
 * `unlimited` are `bigint | 'unlimited'`.
 */
export interface TraceConfig {
  readonly page_size: number;
  readonly aslr: 0 | 1;
  readonly seed: number | undefined;
  readonly layout: 'topdown' | 'legacy';
  readonly privileged: 0 | 1;
  readonly rlimit_stack: bigint | 'unlimited';
  readonly rlimit_as: bigint | 'unlimited';
  readonly rlimit_data: bigint | 'unlimited';
  readonly rlimit_memlock: bigint | 'unlimited';
  readonly max_map_count: number;
  readonly mmap_min_addr: bigint;
  readonly lsm_mmap_min_addr: bigint;
  readonly overcommit_memory: 0 | 1 | 2;
  readonly overcommit_ratio: number;
  readonly mem_total_kb: number;
  readonly swap_total_kb: number;
  readonly fault_around_bytes: number;
  readonly thp: 'always' | 'madvise' | 'never';
  readonly hugepages_2048kB: number;
  readonly hugepages_1048576kB: number;
  readonly overcommit_hugepages_2048kB: number;
  readonly overcommit_hugepages_1048576kB: number;
  readonly gbpages: 0 | 1;
  readonly la57: 0 | 1;
}

/** Everything up to and including the first `@maps … @end` block. */
export interface TraceHeader {
  /** `@kernel release=R arch=A`, if present. */
  readonly kernel: { readonly release: string; readonly arch: string } | undefined;
  readonly config: TraceConfig;
  /** The `@config` keys exactly as written, in order (for printing back). */
  readonly rawConfig: ReadonlyArray<readonly [string, string]>;
  readonly mounts: readonly MountDirective[];
  readonly fds: readonly FdDirective[];
  readonly brk: { readonly start: bigint; readonly cur: bigint } | undefined;
  readonly maps: readonly MapsLine[];
}

/** A call argument: a number (u64) or a quoted string; `text` is the spelling in the file. */
export type TraceArg =
  | { readonly kind: 'number'; readonly value: bigint; readonly text: string }
  | { readonly kind: 'string'; readonly value: string; readonly text: string };

/** The right-hand side of a step. */
export type TraceResult =
  /** `?`: not yet known (scenario input). */
  | { readonly kind: 'unknown' }
  /** A number: an address, a descriptor, a byte (`0xNN`), a count. */
  | { readonly kind: 'value'; readonly value: bigint }
  /** `-1 ERRNO (message)`. */
  | { readonly kind: 'error'; readonly errno: string; readonly message: string | undefined }
  /**
   * `SIGSEGV` or `SIGBUS` from `peek`/`poke` — or `SIGKILL` when the fault found
   * no memory and the OOM killer chose the process (a model outcome; a recorded
   * process would not survive it).
   */
  | { readonly kind: 'signal'; readonly signal: 'SIGSEGV' | 'SIGBUS' | 'SIGKILL' }
  /** `EOF` from `fpeek`. */
  | { readonly kind: 'eof' }
  /** `total=N free=N rsvd=N surp=N` from `hugepages(SIZE)`. */
  | {
      readonly kind: 'hugepages';
      readonly total: bigint;
      readonly free: bigint;
      readonly rsvd: bigint;
      readonly surp: bigint;
    };

/** The calls (real and pseudo) the format knows. */
export type CallName =
  | 'mmap'
  | 'mmap_pgoff'
  | 'munmap'
  | 'mprotect'
  | 'mremap'
  | 'madvise'
  | 'brk'
  | 'mlock'
  | 'munlock'
  | 'openat'
  | 'ftruncate'
  | 'close'
  | 'unlinkat'
  | 'dup'
  | 'peek'
  | 'poke'
  | 'fill'
  | 'fpeek'
  | 'rss'
  | 'hugepages';

/** `CALL(ARGS) = RESULT`. For `hugepages(2048kB)` the single argument is the pool size in kB. */
export interface CallStep {
  readonly kind: 'call';
  readonly pos: SourcePos;
  readonly call: CallName;
  readonly args: readonly TraceArg[];
  readonly result: TraceResult;
}

/** An `@maps … @end` block after the header: the address space must now be exactly this. */
export interface MapsStep {
  readonly kind: 'maps';
  readonly pos: SourcePos;
  readonly lines: readonly MapsLine[];
}

/** A step of the trace. */
export type TraceStep = CallStep | MapsStep;

/** A comment line (`# …`), kept with its position among the steps so printing preserves it. */
export interface TraceComment {
  readonly kind: 'comment';
  readonly pos: SourcePos;
  readonly text: string;
}

/** A whole trace file. */
export interface Trace {
  readonly file: string;
  /** Comment lines of the header, in order (after the `# mmsim-trace 1` line). */
  readonly headerComments: readonly string[];
  readonly header: TraceHeader;
  /** Steps and comments after the header, in file order. */
  readonly body: ReadonlyArray<TraceStep | TraceComment>;
}

/** A malformed trace: the message is `FILE:LINE: what is wrong`. */
export class TraceSyntaxError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(`${file}:${line}: ${reason}`);
    this.name = 'TraceSyntaxError';
  }
}
