/**
 * Comparing a replay with a golden trace, by the spec's rules: step by step,
 * the same call with the same argument values; results equal with errnos
 * compared by name (messages ignored); `@maps` blocks equal on start, end,
 * permissions, offset and name (device, inode and alignment ignored). Every
 * step counts: an unknown (`?`) or missing result is a divergence.
 */
import type { CallStep, MapsLine, SourcePos, Trace, TraceArg, TraceResult, TraceStep } from './model.js';
import { withTmpfileInode } from './maps.js';
import { hexPad } from './numbers.js';
import { isMapsOutcome, type StepOutcome } from './outcome.js';
import { formatCall, formatResult, formatStep } from './print.js';

/** One step where the two traces disagree. */
export interface Divergence {
  /**
   * `call`: different calls or arguments (or a call against a maps step);
   * `result`: different results; `maps`: different address spaces;
   * `missing`: the actual trace ends early; `extra`: it has more steps.
   */
  readonly kind: 'call' | 'result' | 'maps' | 'missing' | 'extra';
  /** 0-based index of the step among the steps (comments not counted). */
  readonly index: number;
  /** Where the step is in the expected trace (the actual one for `extra`). */
  readonly pos: SourcePos;
  /** The step: `CALL(ARGS)` or `@maps`. */
  readonly step: string;
  /** What the expected trace has: a result, a step, or maps lines only it has (`-` lines). */
  readonly expected: string;
  /** What the actual trace has: a result, a step, or maps lines only it has (`+` lines). */
  readonly actual: string;
}

/** The outcome of a comparison: how many steps agree, out of how many, and where they do not. */
export interface Comparison {
  readonly matched: number;
  readonly total: number;
  readonly divergences: readonly Divergence[];
}

/** At most this many differing maps lines are listed on each side of a divergence. */
const MAPS_DIFF_LIMIT = 20;

/**
 * True if two results agree: the same kind and values, errnos compared by
 * name (messages ignored). An unknown result (`?`) agrees with nothing, not
 * even another `?`.
 */
export function resultsEqual(a: TraceResult, b: TraceResult): boolean {
  switch (a.kind) {
    case 'unknown':
      return false;
    case 'value':
      return b.kind === 'value' && a.value === b.value;
    case 'error':
      return b.kind === 'error' && a.errno === b.errno;
    case 'signal':
      return b.kind === 'signal' && a.signal === b.signal;
    case 'eof':
      return b.kind === 'eof';
    case 'hugepages':
      return (
        b.kind === 'hugepages' && a.total === b.total && a.free === b.free && a.rsvd === b.rsvd && a.surp === b.surp
      );
  }
}

/** True if two argument lists have the same values (spelling ignored: `PROT_NONE` equals `0`). */
export function argsEqual(a: readonly TraceArg[], b: readonly TraceArg[]): boolean {
  return a.length === b.length && a.every((x, i) => x.kind === b[i]!.kind && x.value === b[i]!.value);
}

/**
 * The name as compared: an `O_TMPFILE` file's name holds its inode number
 * (`DIR/#INO (deleted)`), which is ignored like the inode column.
 */
function comparedName(line: MapsLine): string {
  return withTmpfileInode(line, 'INO');
}

/** True if two maps lines agree on start, end, permissions, offset and name. */
export function mapsLineEqual(a: MapsLine, b: MapsLine): boolean {
  return a.start === b.start && a.end === b.end && a.perms === b.perms && a.offset === b.offset && comparedName(a) === comparedName(b);
}

/** True if two `@maps` blocks list the same mappings in the same order (device and inode ignored). */
export function mapsEqual(a: readonly MapsLine[], b: readonly MapsLine[]): boolean {
  return a.length === b.length && a.every((x, i) => mapsLineEqual(x, b[i]!));
}

/** The compared fields of a maps line, compactly: `7ffff7ff5000-7ffff7ff7000 rw-p 00000000 [heap]`. */
export function formatMapsKey(line: MapsLine): string {
  const text = `${hexPad(line.start, 8)}-${hexPad(line.end, 8)} ${line.perms} ${hexPad(line.offset, 8)}`;
  return line.name === '' ? text : `${text} ${comparedName(line)}`;
}

/** Lines of `from` with no counterpart left in `other` (a multiset difference on the compared fields). */
function only(from: readonly MapsLine[], other: readonly MapsLine[]): string[] {
  const left = new Map<string, number>();
  for (const l of other) {
    const k = formatMapsKey(l);
    left.set(k, (left.get(k) ?? 0) + 1);
  }
  const out: string[] = [];
  for (const l of from) {
    const k = formatMapsKey(l);
    const n = left.get(k) ?? 0;
    if (n > 0) left.set(k, n - 1);
    else out.push(k);
  }
  return out;
}

function listed(lines: readonly string[], mark: string): string {
  const shown = lines.slice(0, MAPS_DIFF_LIMIT).map((l) => mark + l);
  if (lines.length > MAPS_DIFF_LIMIT) shown.push(`${mark}… ${lines.length - MAPS_DIFF_LIMIT} more`);
  return shown.join('\n');
}

/**
 * The differing lines of two maps blocks, unified-diff style: lines only the
 * expected block has, each prefixed `-`, and lines only the actual block has,
 * prefixed `+` (at most 20 each, then a count).
 */
export function diffMaps(expected: readonly MapsLine[], actual: readonly MapsLine[]): { expected: string; actual: string } {
  const removed = only(expected, actual);
  const added = only(actual, expected);
  if (removed.length === 0 && added.length === 0) {
    return { expected: '(the same mappings in another order)', actual: '(the same mappings in another order)' };
  }
  return { expected: listed(removed, '-'), actual: listed(added, '+') };
}

function stepLabel(step: TraceStep): string {
  return step.kind === 'maps' ? '@maps' : formatCall(step);
}

function sameCall(a: CallStep, b: CallStep): boolean {
  return a.call === b.call && argsEqual(a.args, b.args);
}

/** Compare one expected step with what a replay produced for it; `undefined` if they agree. */
function compareStep(index: number, expected: TraceStep, actual: TraceStep | undefined): Divergence | undefined {
  const base = { index, pos: expected.pos, step: stepLabel(expected) };
  if (actual === undefined) {
    return { ...base, kind: 'missing', expected: formatStep(expected), actual: '(missing)' };
  }
  if (expected.kind === 'maps') {
    if (actual.kind !== 'maps') return { ...base, kind: 'call', expected: '@maps', actual: formatStep(actual) };
    if (mapsEqual(expected.lines, actual.lines)) return undefined;
    return { ...base, kind: 'maps', ...diffMaps(expected.lines, actual.lines) };
  }
  if (actual.kind !== 'call' || !sameCall(expected, actual)) {
    return { ...base, kind: 'call', expected: formatStep(expected), actual: actual.kind === 'maps' ? '@maps' : formatStep(actual) };
  }
  if (resultsEqual(expected.result, actual.result)) return undefined;
  return {
    ...base,
    kind: 'result',
    expected: formatResult(expected.call, expected.result),
    actual: formatResult(expected.call, actual.result),
  };
}

function steps(trace: Trace): TraceStep[] {
  return trace.body.filter((item): item is TraceStep => item.kind !== 'comment');
}

function summarize(total: number, divergences: Divergence[]): Comparison {
  return { matched: total - divergences.length, total, divergences };
}

/**
 * Compare `actual` (a replay's output) with `expected` (a golden trace) step
 * by step. `total` is the larger number of steps; every step that is missing,
 * extra, has other arguments or another outcome is one divergence. The
 * headers are not compared.
 */
export function compareTraces(expected: Trace, actual: Trace): Comparison {
  const e = steps(expected);
  const a = steps(actual);
  const divergences: Divergence[] = [];
  e.forEach((step, i) => {
    const d = compareStep(i, step, a[i]);
    if (d) divergences.push(d);
  });
  for (let i = e.length; i < a.length; i++) {
    const step = a[i]!;
    divergences.push({
      kind: 'extra',
      index: i,
      pos: step.pos,
      step: stepLabel(step),
      expected: '(none)',
      actual: step.kind === 'maps' ? formatStep(step) : formatResult(step.call, step.result),
    });
  }
  return summarize(Math.max(e.length, a.length), divergences);
}

/**
 * Compare the outcomes a replay produced for the steps of `expected` itself
 * (keyed by its step objects, as {@link printTrace} takes them) with the
 * recorded ones. A step without an outcome is a divergence.
 */
export function compareResults(expected: Trace, results: ReadonlyMap<TraceStep, StepOutcome>): Comparison {
  const divergences: Divergence[] = [];
  const e = steps(expected);
  e.forEach((step, i) => {
    const outcome = results.get(step);
    let actual: TraceStep;
    if (step.kind === 'maps') {
      if (outcome === undefined || !isMapsOutcome(outcome)) {
        const expectedText = `(${step.lines.length} mappings)`;
        divergences.push({ kind: 'maps', index: i, pos: step.pos, step: '@maps', expected: expectedText, actual: '(not produced)' });
        return;
      }
      actual = { ...step, lines: outcome };
    } else {
      actual = { ...step, result: outcome !== undefined && !isMapsOutcome(outcome) ? outcome : { kind: 'unknown' } };
    }
    const d = compareStep(i, step, actual);
    if (d) divergences.push(d);
  });
  return summarize(e.length, divergences);
}
