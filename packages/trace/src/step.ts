/**
 * Splitting a `CALL(ARGS) = RESULT` line into its parts and checking each
 * against the call's signature.
 */
import type { CallStep, SourcePos, TraceArg } from './model.js';
import { CALL_SIGNATURES, isCallName } from './calls.js';
import { parseArg } from './args.js';
import { fail, quote } from './errors.js';
import { parseResult } from './result.js';

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** The pieces of a step line before they are interpreted. */
interface RawStep {
  readonly name: string;
  readonly args: readonly string[];
  readonly result: string;
}

function isSpace(c: string | undefined): boolean {
  return c === ' ' || c === '\t';
}

/** Split `CALL(ARGS) = RESULT` into name, argument texts (trimmed) and result text (trimmed). */
function split(text: string, pos: SourcePos): RawStep {
  const m = NAME.exec(text);
  if (!m || text[m[0].length] !== '(') fail(pos, `not a step ${quote(text)}: expected CALL(ARGS) = RESULT`);
  const name = m[0];
  const n = text.length;
  const args: string[] = [];
  let i = name.length + 1;
  let closed = false;
  for (;;) {
    while (isSpace(text[i])) i++;
    if (args.length === 0 && text[i] === ')') {
      i++;
      closed = true;
      break;
    }
    const start = i;
    while (i < n && text[i] !== ',' && text[i] !== ')') {
      if (text[i] === '"') {
        i++;
        while (i < n && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
        if (i >= n) fail(pos, `unterminated string in ${quote(text)}`);
      }
      i++;
    }
    if (i >= n) break;
    args.push(text.slice(start, i).trim());
    if (text[i++] === ')') {
      closed = true;
      break;
    }
  }
  if (!closed) fail(pos, `missing ')' in ${quote(text)}`);
  const rest = /^[ \t]*=[ \t]*/.exec(text.slice(i));
  if (!rest) fail(pos, `expected ' = RESULT' after ')' in ${quote(text)}`);
  return { name, args, result: text.slice(i + rest[0].length).trim() };
}

/**
 * Parse one step line `CALL(ARGS) = RESULT` into a {@link CallStep} at `pos`.
 * Throws a {@link TraceSyntaxError} for an unknown call, a wrong number of
 * arguments, a bad argument or a bad result.
 */
export function parseCallStep(text: string, pos: SourcePos): CallStep {
  const raw = split(text, pos);
  if (!isCallName(raw.name)) fail(pos, `unknown call ${quote(raw.name)}`);
  const call = raw.name;
  const signature = CALL_SIGNATURES[call];
  const count = raw.args.length;
  if (count < signature.minArgs || count > signature.args.length) {
    const expected =
      signature.minArgs === signature.args.length
        ? `${signature.minArgs}`
        : `${signature.minArgs} or ${signature.args.length}`;
    fail(pos, `${call} takes ${expected} argument${expected === '1' ? '' : 's'}, got ${count}`);
  }
  const args: TraceArg[] = raw.args.map((a, k) => parseArg(a, signature.args[k]!, pos));
  return { kind: 'call', pos, call, args, result: parseResult(raw.result, call, pos) };
}
