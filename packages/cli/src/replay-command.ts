/**
 * `mmsim replay [--check] [--explain] [--out-dir DIR] [--arch A] FILE…`: run
 * traces in the model and print them back with the model's results.
 */

import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { formatCallGraph } from '@mmsim/base';
import { BootError, replayTrace } from '@mmsim/machine';
import { compareResults, formatStep, parseStraceLog, parseTrace, printTrace, TraceSyntaxError, type Trace } from '@mmsim/trace';
import { archFor, type ArchChoice } from './arch-option.js';
import { UsageError } from './usage-error.js';

/** Options of the replay command. */
export interface ReplayCommandOptions {
  readonly check?: boolean;
  readonly explain?: boolean;
  readonly outDir?: string;
  /**
   * A trace whose header (`@config`, `@mount`, `@fd`, `@brk`, `@maps`) is the
   * starting state for raw strace logs given as FILE.
   */
  readonly header?: string;
  /**
   * The architecture to replay on: a built-in name (`x86_64`, `riscv64`,
   * `riscv64-sv48`, …) or a loaded plug-in (see `loadArchOption`). Default:
   * each trace's `@kernel arch=`, else x86-64.
   */
  readonly arch?: ArchChoice;
}

/** Where output goes (so tests can capture it). */
export interface Output {
  /** Write one line of normal output (stdout). */
  out(text: string): void;
  /** Write one line of error output (stderr). */
  err(text: string): void;
}

export { UsageError } from './usage-error.js';

/**
 * Read and parse a trace file — or a raw `strace -e trace=%memory` log, whose
 * steps then run from `header`'s starting state — turning every problem into
 * `FILE:LINE: reason`.
 */
export function loadTrace(file: string, header?: Trace): Trace {
  let st;
  try {
    st = statSync(file);
  } catch {
    throw new UsageError(`${file}:0: cannot read: no such file`, 2);
  }
  if (st.isDirectory()) throw new UsageError(`${file}:0: is a directory, not a trace`, 2);
  if (st.size > 256 * 1024 * 1024) throw new UsageError(`${file}:0: file too large (${st.size} bytes)`, 2);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new UsageError(`${file}:0: cannot read: ${(e as Error).message}`, 2);
  }
  try {
    if (!text.startsWith('# mmsim-trace') && looksLikeStrace(text)) {
      const log = parseStraceLog(text, file);
      return header ? { ...log.trace, header: header.header, headerComments: header.headerComments } : log.trace;
    }
    return parseTrace(text, file);
  } catch (e) {
    if (e instanceof TraceSyntaxError) throw new UsageError(e.message, 2);
    throw e;
  }
}

/** A raw strace log: its first call-looking line is `name(` with an optional pid or timestamp prefix. */
function looksLikeStrace(text: string): boolean {
  const first = text.split('\n', 20).find((l) => l.trim() !== '');
  return first !== undefined && /^(\[pid +\d+\] *|\d+ +)?([\d:.]+ +)?[a-z_0-9]+\(/.test(first);
}

/** Run the replay command over `files`; returns the exit code. */
export function runReplay(files: readonly string[], options: ReplayCommandOptions, io: Output): number {
  let exit = 0;
  let header: Trace | undefined;
  if (options.header) {
    try {
      header = loadTrace(options.header);
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(e.message);
        return e.exitCode;
      }
      throw e;
    }
  }
  for (const file of files) {
    let trace: Trace;
    try {
      trace = loadTrace(file, header);
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(e.message);
        exit = Math.max(exit, e.exitCode);
        continue;
      }
      throw e;
    }
    let replay;
    try {
      const arch = archFor(trace, options.arch, file, options.header);
      replay = replayTrace(trace, { explain: options.explain, arch });
    } catch (e) {
      if (e instanceof UsageError) {
        io.err(e.message);
        exit = Math.max(exit, e.exitCode);
        continue;
      }
      io.err(`${file}:${e instanceof BootError && e.line !== undefined ? e.line : 1}: cannot build the machine: ${(e as Error).message}`);
      exit = Math.max(exit, 2);
      continue;
    }
    const printed = options.explain ? explainTrace(trace, replay) : printTrace(trace, replay.results);
    if (options.outDir) {
      mkdirSync(options.outDir, { recursive: true });
      writeFileSync(join(options.outDir, basename(file)), printed);
    } else if (!options.check || options.explain) {
      io.out(printed.endsWith('\n') ? printed.slice(0, -1) : printed);
    }
    if (options.check) {
      const cmp = compareResults(trace, replay.results);
      io.out(`${file}: matched ${cmp.matched} of ${cmp.total} steps`);
      for (const d of cmp.divergences) {
        io.out(`${d.pos.file}:${d.pos.line}: ${d.step}`);
        io.out(`    expected: ${d.expected.split('\n').join('\n              ')}`);
        io.out(`    model:    ${d.actual.split('\n').join('\n              ')}`);
      }
      if (cmp.divergences.length > 0) exit = Math.max(exit, 1);
    }
  }
  return exit;
}

/** The trace with each call step followed by its function graph as `#` comment lines. */
function explainTrace(trace: Trace, replay: ReturnType<typeof replayTrace>): string {
  const lines: string[] = [];
  // The header as it is, then each body item with its graph.
  const header = printTrace({ ...trace, body: [] });
  lines.push(...header.replace(/\n$/, '').split('\n'));
  for (const item of trace.body) {
    if (item.kind === 'comment') {
      lines.push(`# ${item.text}`);
      continue;
    }
    const outcome = replay.results.get(item);
    lines.push(formatStep(item, outcome));
    const graph = replay.graphs.get(item);
    if (graph && graph.length) for (const g of formatCallGraph(graph)) lines.push(`#   ${g}`);
  }
  return lines.join('\n') + '\n';
}
