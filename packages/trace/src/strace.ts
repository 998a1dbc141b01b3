/**
 * Reading raw `strace -e trace=%memory` output (optionally with `-f`, `-t`,
 * `-tt`, `-ttt`, `-r`, `-T`, `-y`, `-X verbose`) as steps, so a replay can run
 * what a real program did. Only the calls the trace format knows are kept;
 * the others are counted.
 */
import type { CallName, CallStep, Trace } from './model.js';
import { defaultHeader } from './config.js';
import { splitLines } from './lines.js';
import { parseCallStep } from './step.js';

/** The result of {@link parseStraceLog}. */
export interface StraceLog {
  /** The steps, under a default header (no `@maps`: strace does not show the address space). */
  readonly trace: Trace;
  /** The same steps. */
  readonly steps: readonly CallStep[];
  /**
   * Calls not kept, by name (calls the format does not know, and calls never
   * resumed); lines that are not calls at all under `(other)`.
   */
  readonly skipped: ReadonlyMap<string, number>;
}

/** The memory calls strace shows that the trace format knows. */
const KNOWN = new Set<string>(['mmap', 'munmap', 'mprotect', 'mremap', 'madvise', 'brk', 'mlock', 'munlock'] satisfies CallName[]);

const PID = /^(?:\[pid +(\d+)\] *|(\d+) +)/;
const TIMESTAMP = /^ *(?:\d{1,2}:\d{2}:\d{2}(?:\.\d+)?|\d+\.\d+) +/;
const DURATION = / *<\d+(?:\.\d+)?>$/;
const UNFINISHED = / *<unfinished \.\.\.>$/;
const RESUMED = /^<\.\.\. ([A-Za-z0-9_]+) resumed> ?/;
const CALL = /^([A-Za-z_][A-Za-z0-9_]*)\(/;

/** Remove strace's decorations our notation lacks: comments (`-X verbose`) and fd paths (`-y`). */
function clean(text: string): string {
  let out = text.replace(/ *\/\*.*?\*\//g, '').replace(/(\d)<[^<>]*>/g, '$1');
  // `= ? <unavailable>`, `= ? ERESTARTSYS (…)`: the call did not return.
  out = out.replace(/\) += +\?.*$/, ') = ?');
  return out;
}

/**
 * Convert raw strace output to steps. Handles `[pid N] ` and `N ` prefixes,
 * timestamps, `<unfinished ...>` / `<... NAME resumed>` pairs (joined per
 * process), and skips `+++ … +++` and `--- SIG… ---` lines. A line of a known
 * call that does not parse is a {@link TraceSyntaxError}.
 */
export function parseStraceLog(text: string, file: string): StraceLog {
  const steps: CallStep[] = [];
  const skipped = new Map<string, number>();
  const skip = (name: string): void => {
    skipped.set(name, (skipped.get(name) ?? 0) + 1);
  };
  /** Per process: the first half of an unfinished call and the line it began on. */
  const pending = new Map<string, { text: string; line: number }>();
  for (const { text: raw, pos } of splitLines(text, file)) {
    let line = raw;
    const pid = PID.exec(line);
    if (pid) line = line.slice(pid[0].length);
    const proc = pid?.[1] ?? pid?.[2] ?? '';
    line = line.replace(TIMESTAMP, '').replace(DURATION, '').trimEnd();
    if (line === '' || line.startsWith('+++') || line.startsWith('---')) continue;
    let start = pos;
    if (UNFINISHED.test(line)) {
      pending.set(proc, { text: line.replace(UNFINISHED, ''), line: pos.line });
      continue;
    }
    const resumed = RESUMED.exec(line);
    if (resumed) {
      const first = pending.get(proc);
      pending.delete(proc);
      if (!first || !first.text.startsWith(resumed[1] + '(')) {
        skip(resumed[1] as string);
        continue;
      }
      line = first.text + line.slice(resumed[0].length);
      start = { file, line: first.line };
    }
    const call = CALL.exec(line);
    if (!call) {
      skip('(other)');
      continue;
    }
    if (!KNOWN.has(call[1] as string)) {
      skip(call[1] as string);
      continue;
    }
    steps.push(parseCallStep(clean(line), start));
  }
  for (const first of pending.values()) skip(CALL.exec(first.text)?.[1] ?? '(other)');
  const trace: Trace = {
    file,
    headerComments: [`converted from strace output ${file}`],
    header: defaultHeader(),
    body: steps,
  };
  return { trace, steps, skipped };
}
