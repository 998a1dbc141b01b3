/**
 * Integer literals as strace prints them, reduced to u64 `bigint`s.
 */
import type { SourcePos } from './model.js';
import { fail, quote } from './errors.js';

/** 2^64. */
const TWO_64 = 1n << 64n;
/** -2^63: the most negative value a negative decimal may have. */
const MIN_S64 = -(1n << 63n);
/** More significant digits than any u64 has in any base we accept. */
const MAX_DIGITS = 23;

const INTEGER = /^(-?)(?:0[xX]([0-9a-fA-F]+)|(0[0-7]*)|([1-9][0-9]*))$/;

/** True if `text` has the shape of an integer literal (it may still be out of range). */
export function looksLikeInteger(text: string): boolean {
  return /^-?(?:0[xX][0-9a-fA-F]+|[0-9]+)$/.test(text);
}

/**
 * Parse an integer literal: decimal (possibly negative, stored as its u64
 * two's complement), hex `0x…`, or octal with a leading `0` (`0600`, as strace
 * prints modes). Throws a {@link TraceSyntaxError} at `pos` if `text` is not a
 * literal or is outside the u64 range (negative values down to -2^63).
 */
export function parseInteger(text: string, pos: SourcePos, what = 'number'): bigint {
  const m = INTEGER.exec(text);
  if (!m) {
    if (/^-?0[0-9]+$/.test(text)) fail(pos, `bad octal ${what} ${quote(text)} (a leading 0 means octal)`);
    fail(pos, `bad ${what} ${quote(text)}`);
  }
  const negative = m[1] === '-';
  const [, , hexDigits, octal, decimal] = m;
  const digits = (hexDigits ?? octal ?? decimal ?? '').replace(/^0+/, '');
  if (digits.length > MAX_DIGITS) fail(pos, `${what} ${quote(text)} is out of the u64 range`);
  let value: bigint;
  if (hexDigits !== undefined) {
    if (negative) fail(pos, `bad ${what} ${quote(text)}: negative hex`);
    value = BigInt('0x' + (digits || '0'));
  } else if (octal !== undefined) {
    if (negative && octal !== '0') fail(pos, `bad ${what} ${quote(text)}: negative octal`);
    value = BigInt('0o' + (digits || '0'));
  } else {
    value = BigInt(digits || '0');
  }
  if (negative) value = -value;
  if (value >= TWO_64 || value < MIN_S64) fail(pos, `${what} ${quote(text)} is out of the u64 range`);
  return BigInt.asUintN(64, value);
}

/** Parse a non-negative decimal that must fit in a JavaScript number exactly. */
export function parseSafeInteger(text: string, pos: SourcePos, what: string): number {
  if (!/^[0-9]{1,16}$/.test(text)) fail(pos, `bad ${what} ${quote(text)}: expected a decimal number`);
  const value = Number(text);
  if (!Number.isSafeInteger(value)) fail(pos, `${what} ${quote(text)} is too large`);
  return value;
}

/** Lower-case hex without `0x`, zero-padded to at least `width` digits. */
export function hexPad(value: bigint, width: number): string {
  return value.toString(16).padStart(width, '0');
}
