/**
 * One trace loaded in the explorer: parsed, replayed once in full to judge
 * every step against its recorded result, and replayed again from the start
 * for whatever step is shown. Going back is a replay from the start to that
 * step, so every view is exactly what a fresh `mmsim replay` computes.
 */

import { formatCallGraph, RecordingTracer, type TraceNode } from '@mmsim/base';
import { replayTrace, type Machine } from '@mmsim/machine';
import { VM_FLAG_MNEMONICS, vmaRssKb } from '@mmsim/mm-core';
import {
  compareResults,
  formatCall,
  formatMapsLine,
  formatResult,
  formatStep,
  isMapsOutcome,
  parseTrace,
  printTrace,
  TRACE_MAGIC,
  TraceSyntaxError,
  type Divergence,
  type MapsLine,
  type MapsStep,
  type StepOutcome,
  type Trace,
  type TraceStep,
} from '@mmsim/trace';
import { addressSpaceSegments, type MapRegion, type MapSegment } from './address-map.js';
import { vmaKind } from './kinds.js';
import { walkAddress, type PageWalk } from './page-walk.js';

/** How a step's model result compares with the trace's recorded one. */
export type Verdict = 'match' | 'diverge' | 'unrecorded';

/** One step of the loaded trace, with the model's full-replay outcome. */
export interface StepEntry {
  /** 0-based among the steps (comments not counted). */
  readonly index: number;
  readonly step: TraceStep;
  /** The step's line in the text as given to {@link ExplorerSession.load}. */
  readonly line: number;
  /** Comment lines between the previous step and this one (the walk-through's narration). */
  readonly comments: readonly string[];
  /** `CALL(ARGS)` or `@maps`. */
  readonly label: string;
  /** What the model answered: a formatted result, or `N mappings`. */
  readonly modelResult: string;
  /** What the trace recorded: a formatted result, `N mappings`, or `?`. */
  readonly recordedResult: string;
  readonly verdict: Verdict;
  /** The comparator's account of a divergence. */
  readonly divergence: Divergence | undefined;
}

/** A huge page pool's counters (`/sys/kernel/mm/hugepages/hugepages-*kB/`). */
export interface PoolCounters {
  readonly sizeKb: number;
  /** `nr_hugepages`. */
  readonly total: number;
  /** `free_hugepages`. */
  readonly free: number;
  /** `resv_hugepages`. */
  readonly rsvd: number;
  /** `surplus_hugepages`. */
  readonly surp: number;
  /** `nr_overcommit_hugepages`. */
  readonly overcommit: number;
}

/** The state after a number of steps. */
export interface StepView {
  /** Steps executed: 0 is the state the header describes. */
  readonly position: number;
  /** The step executed last (undefined at position 0). */
  readonly entry: StepEntry | undefined;
  readonly machine: Machine;
  /** `/proc/PID/maps` now, numbered as `mmsim replay` numbers a `@maps` step here. */
  readonly maps: readonly MapsLine[];
  /** The same as text, one line per mapping, exactly as `mmsim replay` prints it. */
  readonly mapsText: string;
  /**
   * The last step as `mmsim replay --explain` prints it: the step with the
   * model's result, then its function graph as `#   ` comment lines.
   */
  readonly explain: readonly string[];
  /** Every mapping, for the map. */
  readonly regions: readonly MapRegion[];
  /** The map: VMAs and gaps from 0 to `TASK_SIZE`, then the gate area. */
  readonly segments: readonly MapSegment[];
  /** `TASK_SIZE` in bytes. */
  readonly taskSize: bigint;
  /** `mm->mmap_base` in bytes. */
  readonly mmapBase: bigint;
  readonly pools: readonly PoolCounters[];
  /** `mm_struct` counters in `/proc/PID/status` words. */
  readonly counters: ReadonlyArray<readonly [string, string]>;
}

/** A trace that cannot be loaded: a syntax error (with its line) or a header the model cannot boot. */
export class LoadError extends Error {
  constructor(
    message: string,
    /** The line in the text as given (1-based), 0 when not tied to a line. */
    readonly line: number,
  ) {
    super(message);
    this.name = 'LoadError';
  }
}

const stepLabel = (step: TraceStep): string => (step.kind === 'maps' ? '@maps' : formatCall(step));

function outcomeText(step: TraceStep, outcome: StepOutcome | undefined): string {
  if (outcome === undefined) return '(not run)';
  if (isMapsOutcome(outcome)) return `${outcome.length} mappings`;
  return formatResult(step.kind === 'call' ? step.call : 'mmap', outcome);
}

/** True if the trace records results (a golden trace), false for a scenario whose results are all `?`. */
function hasRecordedCalls(trace: Trace): boolean {
  return trace.body.some((i) => i.kind === 'call' && i.result.kind !== 'unknown');
}

/**
 * The text of a trace from `text`: a whole trace if it starts with
 * `# mmsim-trace 1`, else steps (and comments) that run from `base`'s header.
 * Returns the text and how many lines were put in front of it.
 */
export function withHeader(text: string, base: Trace): { text: string; offset: number } {
  if (text.startsWith(TRACE_MAGIC)) return { text, offset: 0 };
  const header = printTrace({ ...base, headerComments: [], body: [] });
  const offset = header.split('\n').length - 1;
  return { text: header + text, offset };
}

/** A loaded trace, ready to be stepped through. */
export class ExplorerSession {
  /** The steps, in order. */
  readonly steps: readonly StepEntry[];
  /** Steps whose model result equals the recorded one. */
  readonly matched: number;
  /** Steps with a recorded result to compare with. */
  readonly recorded: number;

  private constructor(
    readonly trace: Trace,
    /** The text the trace was read from (with the header put in front of bare steps). */
    readonly text: string,
    outcomes: ReadonlyMap<TraceStep, StepOutcome>,
    /** Lines put in front of the text as given: step lines are numbered in that text. */
    lineOffset: number,
  ) {
    const golden = hasRecordedCalls(trace);
    const divergences = new Map<number, Divergence>();
    for (const d of compareResults(trace, outcomes).divergences) divergences.set(d.index, d);
    const steps: StepEntry[] = [];
    let comments: string[] = [];
    for (const item of trace.body) {
      if (item.kind === 'comment') {
        comments.push(item.text);
        continue;
      }
      const index = steps.length;
      const isRecorded = item.kind === 'call' ? item.result.kind !== 'unknown' : golden || item.lines.length > 0;
      const divergence = isRecorded ? divergences.get(index) : undefined;
      steps.push({
        index,
        step: item,
        line: item.pos.line - lineOffset,
        comments,
        label: stepLabel(item),
        modelResult: outcomeText(item, outcomes.get(item)),
        recordedResult: item.kind === 'maps' ? (isRecorded ? `${item.lines.length} mappings` : '?') : formatResult(item.call, item.result),
        verdict: !isRecorded ? 'unrecorded' : divergence ? 'diverge' : 'match',
        divergence,
      });
      comments = [];
    }
    this.steps = steps;
    this.recorded = steps.filter((s) => s.verdict !== 'unrecorded').length;
    this.matched = steps.filter((s) => s.verdict === 'match').length;
  }

  /**
   * Parse and replay a trace. `text` may be a whole trace or, given `base`,
   * bare steps that run from `base`'s header. Throws {@link LoadError} with
   * the line (in `text`) of a syntax error, or if the header cannot boot.
   */
  static load(text: string, file: string, base?: Trace): ExplorerSession {
    const { text: full, offset } = base ? withHeader(text, base) : { text, offset: 0 };
    let trace: Trace;
    try {
      trace = parseTrace(full, file);
    } catch (e) {
      if (e instanceof TraceSyntaxError) {
        const line = e.line - offset;
        throw new LoadError(line >= 1 ? `${file}:${line}: ${e.reason}` : `${file}: ${e.reason}`, Math.max(line, 0));
      }
      throw e;
    }
    let outcomes: ReadonlyMap<TraceStep, StepOutcome>;
    try {
      outcomes = replayTrace(trace).results;
    } catch (e) {
      throw new LoadError(`${file}: cannot build the machine: ${(e as Error).message}`, 0);
    }
    return new ExplorerSession(trace, full, outcomes, offset);
  }

  /** The state after `position` steps (0 … steps.length), replayed from the start. */
  view(position: number): StepView {
    const p = Math.max(0, Math.min(this.steps.length, Math.trunc(position)));
    const entry = p > 0 ? this.steps[p - 1] : undefined;
    const target = entry?.step;
    // A @maps step appended after the last step run: its result is the address
    // space as `mmsim replay` would print a @maps step right here.
    const probe: MapsStep = { kind: 'maps', pos: { file: this.trace.file, line: 0 }, lines: [] };
    const tracer = new RecordingTracer();
    let graph: TraceNode[] = [];
    const body = [...this.steps.slice(0, p).map((s) => s.step), probe];
    const replay = replayTrace(
      { ...this.trace, body },
      {
        tracer,
        // replayTrace --explain takes the graph after every call step; do the same.
        afterStep: (step) => {
          if (step.kind !== 'call') return;
          const g = tracer.take();
          if (step === target) graph = g;
        },
      },
    );
    const machine = replay.machine;
    const maps = replay.results.get(probe) as MapsLine[];
    const explain: string[] = [];
    if (target) {
      explain.push(formatStep(target, replay.results.get(target)));
      for (const line of formatCallGraph(graph)) explain.push(`#   ${line}`);
    }
    const taskSize = BigInt(machine.mm.taskSize) << 12n;
    const vmas = machine.mm.vmas.all();
    const regions: MapRegion[] = maps.map((line, index) => {
      const vma = vmas[index];
      const isVma = vma !== undefined && BigInt(vma.start) << 12n === line.start;
      return {
        index,
        start: line.start,
        end: line.end,
        perms: line.perms,
        name: line.name,
        kind: isVma ? vmaKind(vma, line.name) : 'special',
        vmFlags: isVma ? VM_FLAG_MNEMONICS.filter(([bit]) => vma.flags & bit).map(([, m]) => m).join(' ') : '',
        rssKb: isVma ? vmaRssKb(machine.mm, vma) : 0,
      };
    });
    const pools = [...machine.vfs.hugetlb.hstates.values()]
      .sort((a, b) => a.order - b.order)
      .map((h) => ({ sizeKb: h.sizeKb, total: h.total, free: h.free, rsvd: h.resv, surp: h.surplus, overcommit: h.overcommit }));
    const mm = machine.mm;
    const kb = (pages: number): string => `${(pages * 4).toLocaleString('en-US')} kB`;
    const counters: [string, string][] = [
      ['map_count', String(mm.mapCount)],
      ['VmSize', kb(mm.totalVm)],
      ['VmData', kb(mm.dataVm)],
      ['VmStk', kb(mm.stackVm)],
      ['VmExe', kb(mm.execVm)],
      ['VmLck', kb(mm.lockedVm)],
      ['page tables', `${mm.pageTable.tablePages()} pages`],
      ['Committed_AS', kb(machine.kernel.committedAs)],
    ];
    return {
      position: p,
      entry,
      machine,
      maps,
      mapsText: maps.map(formatMapsLine).join('\n'),
      explain,
      regions,
      segments: addressSpaceSegments(regions, taskSize),
      taskSize,
      mmapBase: BigInt(mm.layout.mmapBase) << 12n,
      pools,
      counters,
    };
  }

  /** The page-table walk for `address` in a view. */
  static walk(view: StepView, address: bigint): PageWalk {
    return walkAddress(view.machine, address);
  }
}
