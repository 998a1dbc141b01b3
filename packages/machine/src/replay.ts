/**
 * Running a trace's steps on a machine built from its header, and collecting
 * the model's result for every step (the replay output, and what `--check`
 * compares with the recorded results).
 */

import { errnoName, formatCallGraph, RecordingTracer, type TraceNode } from '@mmsim/base';
import * as sys from '@mmsim/syscalls';
import { withTmpfileInode, type CallStep, type MapsLine, type StepOutcome, type Trace, type TraceResult, type TraceStep } from '@mmsim/trace';
import { bootFromHeader, type BootOptions } from './boot.js';
import type { Machine } from './machine.js';

/** The model's outcome of every step, and the call graphs if explaining. */
export interface ReplayResult {
  readonly machine: Machine;
  readonly results: Map<TraceStep, StepOutcome>;
  /** Function graph per call step (only when `explain` was set). */
  readonly graphs: Map<TraceStep, TraceNode[]>;
}

/** Options for {@link replayTrace}. */
export interface ReplayOptions extends BootOptions {
  /** Record the modelled kernel functions each step goes through. */
  readonly explain?: boolean;
  /** Called after each step (for tools that check invariants as they go). */
  readonly afterStep?: (step: TraceStep, machine: Machine) => void;
}

const value = (v: bigint): TraceResult => ({ kind: 'value', value: v });
const error = (errno: number): TraceResult => ({ kind: 'error', errno: errnoName(errno), message: undefined });

/** Turn a raw syscall result into a trace result. */
function fromSys(r: bigint): TraceResult {
  return r < 0n && r >= -4095n ? error(Number(-r)) : value(r);
}

/** A step the model does not implement: always a divergence, never a skip. */
const UNSUPPORTED: TraceResult = { kind: 'unknown' };

type Syscalls = typeof sys & Record<string, unknown>;

/** Execute one call step on `m`. */
export function runCall(m: Machine, step: CallStep, vsyscall: boolean): TraceResult {
  const a = step.args.map((x) => x.value);
  const s = (i: number): string => {
    const arg = step.args[i];
    return arg && arg.kind === 'string' ? arg.value : '';
  };
  const n = (i: number): bigint => (typeof a[i] === 'bigint' ? (a[i] as bigint) : 0n);
  const calls = sys as Syscalls;
  switch (step.call) {
    case 'mmap':
      return fromSys(sys.sysMmap(m, n(0), n(1), n(2), n(3), n(4), n(5)));
    case 'mmap_pgoff':
      return fromSys(sys.ksysMmapPgoff(m, n(0), n(1), n(2), n(3), n(4), n(5)));
    case 'munmap':
      return fromSys(sys.sysMunmap(m, n(0), n(1)));
    case 'openat':
      return fromSys(sys.sysOpenat(m, n(0), s(1), n(2), n(3)));
    case 'close':
      return fromSys(sys.sysClose(m, n(0)));
    case 'dup':
      return fromSys(sys.sysDup(m, n(0)));
    case 'unlinkat':
      return fromSys(sys.sysUnlinkat(m, n(0), s(1), n(2)));
    case 'ftruncate':
      return fromSys(sys.sysFtruncate(m, n(0), n(1)));
    case 'fill':
      return fromSys(sys.sysFill(m, n(0), n(1), n(2), n(3)));
    case 'fpeek': {
      const r = sys.sysFpeek(m, n(0), n(1));
      return r === 'EOF' ? { kind: 'eof' } : fromSys(r);
    }
    case 'peek': {
      const r = sys.peek(m, n(0));
      return r.signal ? { kind: 'signal', signal: r.signal } : value(BigInt(r.value));
    }
    case 'poke': {
      const r = sys.poke(m, n(0), Number(n(1) & 0xffn));
      return r.signal ? { kind: 'signal', signal: r.signal } : value(0n);
    }
    case 'rss': {
      const r = sys.rss(m, n(0), vsyscall);
      return r === null ? error(14) : value(BigInt(r));
    }
    case 'hugepages': {
      const r = sys.hugepages(m, Number(n(0)));
      if (!r) return error(2);
      return { kind: 'hugepages', total: BigInt(r.total), free: BigInt(r.free), rsvd: BigInt(r.rsvd), surp: BigInt(r.surp) };
    }
    default: {
      const fn = calls[`sys${step.call[0]!.toUpperCase()}${step.call.slice(1)}`];
      if (typeof fn === 'function') return fromSys((fn as (t: Machine, ...args: bigint[]) => bigint)(m, ...step.args.map((x) => x.value as bigint)));
      return UNSUPPORTED;
    }
  }
}

/**
 * Numbers files in order of first appearance, as the recorder does for golden
 * traces (`00:00` and 1, 2, 3… in the device and inode columns), so a replay
 * that agrees with the kernel prints a golden trace back byte for byte.
 */
export class MapsNumbering {
  private readonly ids = new Map<string, bigint>();
  private next = 1n;

  /** Give the file `dev:ino` the number `id` (the initial maps' numbers). */
  seed(dev: string, ino: number, id: bigint): void {
    this.ids.set(`${dev}:${ino}`, id);
    if (id >= this.next) this.next = id + 1n;
  }

  /** The number of `dev:ino`, assigning the next one on first sight. */
  number(dev: string, ino: number): bigint {
    if (ino === 0) return 0n;
    const key = `${dev}:${ino}`;
    let id = this.ids.get(key);
    if (id === undefined) {
      id = this.next++;
      this.ids.set(key, id);
    }
    return id;
  }
}

/** The model's `/proc/PID/maps` as trace maps lines (files numbered by `numbering` when given). */
export function currentMaps(m: Machine, vsyscall: boolean, numbering?: MapsNumbering): MapsLine[] {
  return sys.maps(m, vsyscall).map((e) => {
    const inode = numbering ? numbering.number(e.dev, e.inode) : BigInt(e.inode);
    return {
      start: e.start,
      end: e.end,
      perms: e.perms,
      offset: e.offset,
      dev: numbering ? '00:00' : e.dev,
      inode,
      // An O_TMPFILE file's name carries its inode number: numbered with the column.
      name: numbering ? withTmpfileInode({ inode: BigInt(e.inode), name: e.name }, inode) : e.name,
    };
  });
}

/** Replay every step of `trace` on a machine built from its header. */
export function replayTrace(trace: Trace, options: ReplayOptions = {}): ReplayResult {
  const tracer = options.explain ? new RecordingTracer() : undefined;
  const { machine, vsyscall } = bootFromHeader(trace.header, { ...options, tracer: tracer ?? options.tracer });
  const results = new Map<TraceStep, StepOutcome>();
  const graphs = new Map<TraceStep, TraceNode[]>();
  const numbering = new MapsNumbering();
  const initial = sys.maps(machine, vsyscall);
  trace.header.maps.forEach((line, i) => {
    const e = initial[i];
    if (e && e.inode !== 0 && e.start === line.start) numbering.seed(e.dev, e.inode, line.inode);
  });
  for (const item of trace.body) {
    if (item.kind === 'comment') continue;
    if (item.kind === 'maps') {
      results.set(item, currentMaps(machine, vsyscall, numbering));
    } else {
      let result: TraceResult;
      try {
        result = runCall(machine, item, vsyscall);
      } catch (e) {
        // An exception escaping the model is a bug: report it as a divergence with its message.
        result = { kind: 'error', errno: `EXCEPTION(${(e as Error).message})`, message: undefined };
      }
      results.set(item, result);
      if (tracer) graphs.set(item, tracer.take());
    }
    options.afterStep?.(item, machine);
  }
  return { machine, results, graphs };
}

/** Render a step's call graph as text lines (ftrace function_graph style). */
export function formatGraph(nodes: readonly TraceNode[]): string[] {
  return formatCallGraph(nodes);
}
