/**
 * `mmsim record SCENARIO.trace [-o GOLDEN.trace] [--compare GOLDEN]`: run a
 * scenario's calls on this Linux host with the small C executor of
 * `tools/trace-recorder/` and write the golden trace — the scenario with the
 * kernel's results, the real starting address space and the host's
 * `@kernel`/`@config` lines.
 *
 * This file is the command; its parts live in `record/`: the pure ones —
 * the executor's input and output (`executor-io.ts`), the golden trace
 * (`golden.ts`), the "cannot record here" decision, the host-settings plan
 * and the layout fitting (`host-rules.ts`) — are unit-tested; `host.ts`
 * touches the host: it saves every setting it will change to a state file
 * before changing anything, sets the scenario's `@config`, mounts the
 * `@mount` filesystems, installs the executor at `/usr/local/bin/mmsim-rec`,
 * runs it, and restores everything in a `finally` (a leftover state file
 * from a crashed run is restored on the next start, or with `--restore`).
 */

import { existsSync, writeFileSync } from 'node:fs';
import { compareTraces, printTrace, type MapsLine, type StepOutcome, type Trace, type TraceComment, type TraceResult, type TraceStep } from '@mmsim/trace';
import { loadTrace, UsageError, type Output } from './replay-command.js';
import { EXECUTOR_INPUT_LIMIT, RecordError, STATE_FILE } from './record/constants.js';
import { ExecutorOutput, encodeStepList, parseExecutorOutput, parseRawMaps, toOutcome } from './record/executor-io.js';
import { Recording, buildGoldenTrace, formatComparison, scenarioOf } from './record/golden.js';
import { fitExecutor, hostFacts, probeHost, recordOnHost, restoreLeftover } from './record/host.js';
import { cannotRecordReason } from './record/host-rules.js';

// The recorder's parts, as the package has always exported them.
export { RECORDER_BINARY, STATE_FILE, BINARY_BACKUP, EXECUTOR_INPUT_LIMIT, STANDARD_FDS, RecordError } from './record/constants.js';
export { errnoInfo, cStringBytes, encodeStep, personalityOf, encodeSetup, encodeStepList, parseExecutorOutput, parseRawMaps, toOutcome, renumberMaps, type SetupOptions, type ExecResult, type ExecutorOutput } from './record/executor-io.js';
export { goldenConfig, recordedComments, buildGoldenTrace, scenarioOf, formatComparison, type HostFacts, type LayoutNote, type Recording } from './record/golden.js';
export { currentMountPoints, probeHost, hostFacts, recorderDir, buildExecutor, restoreHost, restoreLeftover, type BuiltExecutor, type SavedState } from './record/host.js';
export { poolsTouched, cannotRecordReason, faultAroundSetting, planSettings, modelThpSettings, noexecConflict, normalizeSetting, NO_PADS, exeLayout, adjustPads, describePads, type PoolState, type HostProbe, type Setting, type Pads, type ExeLayout } from './record/host-rules.js';

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
  const { output: raw, notRestored } = recordOnHost(scenario, exe, stepList, probe, timeoutMs, io);
  const recording = recordingOf(scenario, parseExecutorOutput(raw));
  const { trace, results } = buildGoldenTrace(scenario, recording, facts, layout, options.output ?? scenarioFile);
  emit(printTrace(trace, results), options.output, io);
  if (recording.unrecordable.size > 0) {
    io.err(`mmsim record: ${recording.unrecordable.size} step(s) could not be recorded on this host (left as ?)`);
  }
  let divergences = 0;
  if (golden) {
    const recorded: Trace = { ...trace, body: trace.body.map((item) => withOutcome(item, results)) };
    const cmp = compareTraces(golden, recorded);
    const report = (t: string): void => (options.output ? io.out(t) : io.err(t));
    for (const line of formatComparison(options.compare!, cmp)) report(line);
    divergences = cmp.divergences.length;
  }
  return recordExitCode({ unrecordable: recording.unrecordable.size, divergences, notRestored: notRestored.length });
}

/**
 * The exit code of a recording that wrote its trace: 6 if a host setting
 * could not be put back (that comes first: the host is not as it was), 1 if
 * a step could not be recorded here or the recording diverges from
 * `--compare`, else 0.
 */
export function recordExitCode(outcome: { readonly unrecordable: number; readonly divergences: number; readonly notRestored: number }): number {
  if (outcome.notRestored > 0) return 6;
  return outcome.unrecordable > 0 || outcome.divergences > 0 ? 1 : 0;
}

function withOutcome(item: TraceStep | TraceComment, results: ReadonlyMap<TraceStep, StepOutcome>): TraceStep | TraceComment {
  if (item.kind === 'comment') return item;
  const o = results.get(item);
  if (o === undefined) return item;
  if (item.kind === 'maps') return { ...item, lines: o as readonly MapsLine[] };
  return { ...item, result: o as TraceResult };
}
