/**
 * The tracer seam: every modelled kernel function can report its entry
 * (name and arguments) and its exit (result), so that one system call can be
 * printed as ftrace's `function_graph` tracer would show it.
 *
 * The default tracer is a no-op; a {@link RecordingTracer} keeps the call tree.
 * @see kernel/trace/trace_functions_graph.c (the output style)
 */

import { errnoName } from './errno.js';

/** Receives function entries and exits from the model, properly nested. */
export interface Tracer {
  /** False when entries are thrown away, so callers can skip formatting arguments. */
  readonly enabled: boolean;
  /** A modelled kernel function was entered. */
  enter(fn: string, args: string): void;
  /** The innermost entered function returned `result` (already formatted). */
  leave(result: string): void;
}

/** The default tracer: records nothing, costs one property read per call. */
export const NOOP_TRACER: Tracer = Object.freeze({
  enabled: false,
  enter(): void {},
  leave(): void {},
});

/** One call in a recorded call graph. */
export interface TraceNode {
  readonly fn: string;
  readonly args: string;
  result: string | undefined;
  readonly children: TraceNode[];
}

/** A tracer that keeps the call tree of everything since the last {@link RecordingTracer.take}. */
export class RecordingTracer implements Tracer {
  readonly enabled = true;
  private roots: TraceNode[] = [];
  private readonly stack: TraceNode[] = [];

  enter(fn: string, args: string): void {
    const node: TraceNode = { fn, args, result: undefined, children: [] };
    const parent = this.stack[this.stack.length - 1];
    (parent ? parent.children : this.roots).push(node);
    this.stack.push(node);
  }

  leave(result: string): void {
    const node = this.stack.pop();
    if (node) node.result = result;
  }

  /** The calls recorded so far; starts a new recording. */
  take(): TraceNode[] {
    const roots = this.roots;
    this.roots = [];
    this.stack.length = 0;
    return roots;
  }
}

/**
 * Format a kernel-internal result for the graph: `-ENOMEM` for an error
 * (negative values), hex for anything else.
 */
export function formatKernelResult(result: number | bigint | boolean | null | undefined): string {
  if (result === null || result === undefined) return 'void';
  if (typeof result === 'boolean') return result ? 'true' : 'false';
  if (typeof result === 'bigint') return result < 0n ? `-${errnoName(Number(-result))}` : '0x' + result.toString(16);
  if (result < 0) return `-${errnoName(-result)}`;
  return result < 10 ? String(result) : '0x' + result.toString(16);
}

/** Format a kernel-internal result that is a page number (or `-errno`) as the byte address it stands for. */
export function formatPageResult(result: number): string {
  return result < 0 ? formatKernelResult(result) : '0x' + (result * 4096).toString(16);
}

/**
 * Run `body` as the modelled kernel function `fn`, reporting it to `tracer`.
 * Arguments are formatted only when the tracer is enabled.
 */
export function traced<T>(
  tracer: Tracer,
  fn: string,
  args: () => string,
  body: () => T,
  format: (result: T) => string = formatKernelResult as (result: T) => string,
): T {
  if (!tracer.enabled) return body();
  tracer.enter(fn, args());
  let result: T | undefined;
  try {
    result = body();
    return result;
  } finally {
    tracer.leave(result === undefined ? 'void' : format(result));
  }
}

/**
 * Render a call tree in the style of ftrace's function_graph:
 * `fn(args) {` … `} = result` for calls with children, `fn(args) = result` for leaves.
 */
export function formatCallGraph(roots: readonly TraceNode[], indent = '  '): string[] {
  const lines: string[] = [];
  const walk = (node: TraceNode, depth: number): void => {
    const pad = indent.repeat(depth);
    const head = `${node.fn}(${node.args})`;
    const result = node.result ?? '?';
    if (node.children.length === 0) {
      lines.push(`${pad}${head} = ${result}`);
      return;
    }
    lines.push(`${pad}${head} {`);
    for (const child of node.children) walk(child, depth + 1);
    lines.push(`${pad}} = ${result}`);
  };
  for (const root of roots) walk(root, 0);
  return lines;
}
