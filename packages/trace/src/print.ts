/**
 * Writing a trace in the canonical format — byte for byte what the recorder
 * writes, so a parsed golden trace prints back unchanged — optionally with
 * other results (a replay's) in place of the recorded ones.
 */
import type {
  CallStep,
  MapsLine,
  Trace,
  TraceArg,
  TraceComment,
  TraceHeader,
  TraceStep,
} from './model.js';
import { formatMapsLine } from './maps.js';
import { TRACE_MAGIC } from './parse.js';
import { formatResult } from './result.js';
import { isMapsOutcome, type StepOutcome } from './outcome.js';

export { formatMapsLine } from './maps.js';
export { formatResult } from './result.js';


/** Arguments as written (each argument's original `text`), joined by `, `. */
export function formatArgs(args: readonly TraceArg[]): string {
  return args.map((a) => a.text).join(', ');
}

/** A call without its result: `mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 3, 0)`. */
export function formatCall(step: CallStep): string {
  return `${step.call}(${formatArgs(step.args)})`;
}

/** A `@maps` block, `@maps` and `@end` lines included (no final newline). */
export function formatMapsBlock(lines: readonly MapsLine[]): string {
  return ['@maps', ...lines.map(formatMapsLine), '@end'].join('\n');
}

/**
 * One step as it appears in a file (no final newline): `CALL(ARGS) = RESULT`,
 * or a whole `@maps … @end` block. `outcome`, if given, replaces the step's
 * own result (for a call) or lines (for a maps step).
 */
export function formatStep(step: TraceStep, outcome?: StepOutcome): string {
  if (step.kind === 'maps') {
    return formatMapsBlock(outcome !== undefined && isMapsOutcome(outcome) ? outcome : step.lines);
  }
  const result = outcome !== undefined && !isMapsOutcome(outcome) ? outcome : step.result;
  return `${formatCall(step)} = ${formatResult(step.call, result)}`;
}

/** A comment line: `# text`. */
export function formatComment(text: string): string {
  return text === '' ? '#' : `# ${text}`;
}

/** The header directive lines, in the recorder's order, ending with the header's `@maps` block. */
export function formatHeader(header: TraceHeader): string[] {
  const out: string[] = [];
  if (header.kernel) out.push(`@kernel release=${header.kernel.release} arch=${header.kernel.arch}`);
  if (header.rawConfig.length > 0) {
    out.push('@config ' + header.rawConfig.map(([k, v]) => `${k}=${v}`).join(' '));
  }
  for (const m of header.mounts) {
    const options = [...m.options].map(([k, v]) => ` ${k}=${v}`).join('');
    out.push(`@mount ${m.fstype} ${m.path}${options}`);
  }
  for (const fd of header.fds) out.push(`@fd ${fd.fd} ${fd.target} ${fd.flags}`);
  if (header.brk) out.push(`@brk start=0x${header.brk.start.toString(16)} cur=0x${header.brk.cur.toString(16)}`);
  out.push(formatMapsBlock(header.maps));
  return out;
}

/**
 * Print `trace` in the canonical format (ending with a newline). Where
 * `results` has an entry for a step — a result for a call step, lines for a
 * maps step — that is printed instead of what the trace holds.
 */
export function printTrace(trace: Trace, results?: ReadonlyMap<TraceStep, StepOutcome>): string {
  const out: string[] = [TRACE_MAGIC];
  for (const c of trace.headerComments) out.push(formatComment(c));
  out.push(...formatHeader(trace.header));
  for (const item of trace.body) {
    out.push(item.kind === 'comment' ? formatComment((item as TraceComment).text) : formatStep(item, results?.get(item)));
  }
  return out.join('\n') + '\n';
}
