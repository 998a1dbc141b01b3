/**
 * The golden trace made from a recording: the complete `@config` (the
 * scenario's values, the host's where it cannot be set), the comments that
 * say how it was recorded, the header with the real `@brk` and `@maps`, the
 * results; and the report of a comparison with an earlier golden trace. Pure.
 */

import { buildConfig, CONFIG_KEYS, printTrace, type Comparison, type MapsLine, type StepOutcome, type Trace, type TraceComment, type TraceConfig, type TraceHeader, type TraceStep } from '@mmsim/trace';
import { RECORDER_BINARY, STANDARD_FDS } from './constants.js';
import { renumberMaps } from './executor-io.js';
import { faultAroundSetting, KHUGEPAGED_ASLEEP } from './host-rules.js';

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
    `recorded: khugepaged asleep while recording (scan_sleep_millisecs ${KHUGEPAGED_ASLEEP}: no background collapse at all)`,
    'recorded: pinned to one CPU (LRU batches are per CPU: a migration would change what MADV_FREE marks)',
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
