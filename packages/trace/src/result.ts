/**
 * The right-hand side of a step: parsing it (checked against what the call
 * may return) and printing it canonically.
 */
import { errnoMessage, errnoValue } from '@mmsim/base';
import type { CallName, SourcePos, TraceResult } from './model.js';
import { CALL_SIGNATURES } from './calls.js';
import { fail, quote } from './errors.js';
import { looksLikeInteger, parseInteger } from './numbers.js';

const ERROR = /^-1[ \t]+(E[A-Z0-9]+)(?:[ \t]+\((.*)\))?$/;
const HUGEPAGES = /^total=([0-9]+) free=([0-9]+) rsvd=([0-9]+) surp=([0-9]+)$/;

function parseShape(text: string, pos: SourcePos): TraceResult {
  switch (text) {
    case '?':
      return { kind: 'unknown' };
    case 'SIGSEGV':
    case 'SIGBUS':
    case 'SIGKILL':
      return { kind: 'signal', signal: text };
    case 'EOF':
      return { kind: 'eof' };
  }
  const error = ERROR.exec(text);
  if (error) {
    const errno = error[1] as string;
    if (errnoValue(errno) === undefined) fail(pos, `unknown errno name ${quote(errno)}`);
    return { kind: 'error', errno, message: error[2] };
  }
  if (text.startsWith('-1') && /^-1[ \t]/.test(text)) fail(pos, `bad error result ${quote(text)}: expected -1 ERRNO (message)`);
  const huge = HUGEPAGES.exec(text);
  if (huge) {
    const [total, free, rsvd, surp] = huge.slice(1).map((n) => parseInteger(n.replace(/^0+(?=.)/, ''), pos, 'counter'));
    return { kind: 'hugepages', total: total!, free: free!, rsvd: rsvd!, surp: surp! };
  }
  if (looksLikeInteger(text)) {
    if (text.startsWith('-')) fail(pos, `bad result ${quote(text)}: a failure is written -1 ERRNO`);
    if (/^0[0-9]/.test(text)) fail(pos, `bad result ${quote(text)}: leading zero`);
    return { kind: 'value', value: parseInteger(text, pos, 'result') };
  }
  if (text === '') fail(pos, 'missing result after =');
  fail(pos, `bad result ${quote(text)}`);
}

/**
 * Parse a result `text` (trimmed) of a `call`: a number, `-1 ERRNO
 * (message)`, `SIGSEGV`/`SIGBUS`, `EOF`, `?` or the huge page counters.
 * Throws a {@link TraceSyntaxError} at `pos` if it is malformed or a result
 * this call cannot have.
 */
export function parseResult(text: string, call: CallName, pos: SourcePos): TraceResult {
  const result = parseShape(text, pos);
  const signature = CALL_SIGNATURES[call];
  if (result.kind !== 'unknown' && !signature.results.has(result.kind)) {
    fail(pos, `${call} cannot return ${quote(text)}`);
  }
  if (result.kind === 'value' && signature.style === 'byte' && result.value > 0xffn) {
    fail(pos, `${call} returns a byte, not ${quote(text)}`);
  }
  return result;
}

/** The strerror text printed after an errno name: base's table, else the one given. */
function messageFor(errno: string, given: string | undefined): string | undefined {
  const value = errnoValue(errno);
  const known = value === undefined ? undefined : errnoMessage(value);
  return known !== undefined && known !== 'Unknown error' ? known : given;
}

/**
 * Print a result of `call` canonically: addresses of `mmap`, `mmap_pgoff`,
 * `mremap` and `brk` in hex, bytes of `peek`/`fpeek` as `0xNN`, other numbers
 * in decimal, failures as `-1 ENOMEM (Cannot allocate memory)`.
 */
export function formatResult(call: CallName, result: TraceResult): string {
  switch (result.kind) {
    case 'unknown':
      return '?';
    case 'value':
      return CALL_SIGNATURES[call].style === 'decimal'
        ? result.value.toString(10)
        : '0x' + result.value.toString(16);
    case 'error': {
      const message = messageFor(result.errno, result.message);
      return message === undefined ? `-1 ${result.errno}` : `-1 ${result.errno} (${message})`;
    }
    case 'signal':
      return result.signal;
    case 'eof':
      return 'EOF';
    case 'hugepages':
      return `total=${result.total} free=${result.free} rsvd=${result.rsvd} surp=${result.surp}`;
  }
}
