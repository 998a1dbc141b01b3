/**
 * Reading a trace file: the `# mmsim-trace 1` line, the header directives,
 * `@maps … @end` blocks, comments and steps. Every malformation is a
 * {@link TraceSyntaxError} naming the line; the reader is linear in the input.
 */
import {
  TraceSyntaxError,
  type FdDirective,
  type MapsLine,
  type MountDirective,
  type SourcePos,
  type Trace,
  type TraceComment,
  type TraceConfig,
  type TraceStep,
} from './model.js';
import { DEFAULT_CONFIG, parseConfigValue } from './config.js';
import { keyValues, parseBrk, parseFd, parseKernel, parseMount } from './directives.js';
import { fail, quote } from './errors.js';
import { splitLines } from './lines.js';
import { parseMapsLine } from './maps.js';
import { parseCallStep } from './step.js';

/** The first line of every trace. */
export const TRACE_MAGIC = '# mmsim-trace 1';


/** Control characters (other than tab), DEL, C1 controls and U+FFFD (what invalid UTF-8 decodes to). */
const GARBAGE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f\ufffd]/;

/** The header directives, each allowed only before the first step or `@maps` block ends the header. */
const HEADER_DIRECTIVES = new Set(['@kernel', '@config', '@mount', '@fd', '@brk']);

/** Text of a comment line without the `#` and one following space. */
function commentText(line: string): string {
  return line.slice(line.startsWith('# ') ? 2 : 1);
}

function checkCharacters(line: string, pos: SourcePos): void {
  const bad = GARBAGE.exec(line);
  if (!bad) return;
  const code = bad[0].charCodeAt(0);
  if (code === 0x0d) fail(pos, 'carriage return in line (trace files use \\n line ends)');
  if (code === 0xfffd) fail(pos, 'invalid UTF-8 (U+FFFD) in line: not a text trace');
  fail(pos, `control character 0x${code.toString(16).padStart(2, '0')} in line: not a text trace`);
}

/** Mutable state while reading. */
class Reader {
  readonly headerComments: string[] = [];
  kernel: { release: string; arch: string } | undefined;
  readonly rawConfig: [string, string][] = [];
  readonly config: Record<string, unknown> = { ...DEFAULT_CONFIG };
  readonly mounts: MountDirective[] = [];
  readonly fds: FdDirective[] = [];
  brk: { start: bigint; cur: bigint } | undefined;
  headerMaps: readonly MapsLine[] = [];
  inHeader = true;
  readonly body: (TraceStep | TraceComment)[] = [];
  /** The `@maps` block being read, if any. */
  block: { pos: SourcePos; lines: MapsLine[] } | undefined;

  constructor(readonly file: string) {}

  line(text: string, pos: SourcePos): void {
    if (this.block) return this.mapsLine(text, pos);
    if (text.startsWith('#')) {
      if (this.inHeader) this.headerComments.push(commentText(text));
      else this.body.push({ kind: 'comment', pos, text: commentText(text) });
      return;
    }
    if (text.trim() === '') return;
    if (text.startsWith('@')) return this.directive(text, pos);
    this.inHeader = false;
    this.body.push(parseCallStep(text, pos));
  }

  private mapsLine(text: string, pos: SourcePos): void {
    const block = this.block!;
    if (text.trimEnd() === '@end') {
      this.block = undefined;
      if (this.inHeader) {
        this.headerMaps = block.lines;
        this.inHeader = false;
      } else {
        this.body.push({ kind: 'maps', pos: block.pos, lines: block.lines });
      }
      return;
    }
    if (text.startsWith('@')) fail(pos, `${quote(text.split(/[ \t]/)[0]!)} inside the @maps block opened at line ${block.pos.line} (missing @end?)`);
    block.lines.push(parseMapsLine(text, pos));
  }

  private directive(text: string, pos: SourcePos): void {
    const [name, ...words] = text.trim().split(/[ \t]+/) as [string, ...string[]];
    if (name === '@maps') {
      if (words.length > 0) fail(pos, '@maps takes no arguments');
      this.block = { pos, lines: [] };
      return;
    }
    if (name === '@end') fail(pos, '@end without @maps');
    if (!HEADER_DIRECTIVES.has(name)) fail(pos, `unknown directive ${quote(name)}`);
    if (!this.inHeader) fail(pos, `${name} is only allowed in the header (before the first step or @maps block)`);
    switch (name) {
      case '@kernel':
        if (this.kernel) fail(pos, 'duplicate @kernel');
        this.kernel = parseKernel(words, pos);
        return;
      case '@config':
        for (const [key, value] of keyValues(words, '@config', pos)) {
          if (this.rawConfig.some(([k]) => k === key)) fail(pos, `duplicate @config key ${quote(key)}`);
          this.config[key] = parseConfigValue(key, value, pos);
          this.rawConfig.push([key, value]);
        }
        return;
      case '@mount':
        this.mounts.push(parseMount(words, pos));
        return;
      case '@fd': {
        const fd = parseFd(words, pos);
        if (this.fds.some((f) => f.fd === fd.fd)) fail(pos, `duplicate @fd ${fd.fd}`);
        this.fds.push(fd);
        return;
      }
      case '@brk':
        if (this.brk) fail(pos, 'duplicate @brk');
        this.brk = parseBrk(words, pos);
        return;
    }
  }

  finish(lastLine: number): Trace {
    if (this.block) {
      fail(this.block.pos, `unterminated @maps block (no @end before the end of the file at line ${lastLine})`);
    }
    return {
      file: this.file,
      headerComments: this.headerComments,
      header: {
        kernel: this.kernel,
        config: this.config as unknown as TraceConfig,
        rawConfig: this.rawConfig,
        mounts: this.mounts,
        fds: this.fds,
        brk: this.brk,
        maps: this.headerMaps,
      },
      body: this.body,
    };
  }
}

/**
 * Parse the text of a trace file. `file` names it in error messages.
 *
 * Throws {@link TraceSyntaxError} (`FILE:LINE: reason`) for any malformed
 * input — a missing `# mmsim-trace 1` line, an unknown directive, call,
 * symbolic name, `@config` key or errno, a wrong argument count, a number
 * outside u64, an unterminated `@maps` block, binary data, a line longer than
 * {@link MAX_LINE_LENGTH} — and never any other exception.
 */
export function parseTrace(text: string, file: string): Trace {
  let lineNo = 0;
  try {
    const reader = new Reader(file);
    for (const { text: line, pos } of splitLines(text, file)) {
      lineNo = pos.line;
      checkCharacters(line, pos);
      if (lineNo === 1) {
        if (line !== TRACE_MAGIC) {
          if (/^# mmsim-trace \S/.test(line)) fail(pos, `unsupported trace format ${quote(line)} (expected ${quote(TRACE_MAGIC)})`);
          fail(pos, `missing ${quote(TRACE_MAGIC)} as the first line`);
        }
        continue;
      }
      reader.line(line, pos);
    }
    if (lineNo === 0) fail({ file, line: 1 }, `empty file: missing ${quote(TRACE_MAGIC)} as the first line`);
    return reader.finish(lineNo);
  } catch (e) {
    if (e instanceof TraceSyntaxError) throw e;
    // A bug here must still surface as a syntax error at the line being read.
    throw new TraceSyntaxError(file, Math.max(lineNo, 1), `internal error: ${e instanceof Error ? e.message : String(e)}`);
  }
}
