/**
 * Double-quoted strings with C escapes, as strace prints path arguments.
 */
import type { SourcePos } from './model.js';
import { fail, quote } from './errors.js';

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  n: 0x0a, t: 0x09, r: 0x0d, v: 0x0b, f: 0x0c, a: 0x07, b: 0x08, e: 0x1b,
  '\\': 0x5c, '"': 0x22, "'": 0x27, '?': 0x3f,
};

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8');

/**
 * Decode a complete double-quoted literal (`"…"`, quotes included): `\n`, `\t`,
 * `\\`, `\"`, `\xHH`, octal `\ooo` and the other C escapes. Escaped bytes are
 * taken as UTF-8. Throws a {@link TraceSyntaxError} for anything else,
 * including strace's truncation marker (`"abc"...`).
 */
export function decodeCString(text: string, pos: SourcePos): string {
  if (text.length < 2 || text[0] !== '"') fail(pos, `bad string ${quote(text)}`);
  if (text[text.length - 1] !== '"') {
    if (text.endsWith('"...')) fail(pos, `truncated string ${quote(text)} (strace's "..." marker)`);
    fail(pos, `bad string ${quote(text)}`);
  }
  const bytes: number[] = [];
  const end = text.length - 1;
  let i = 1;
  while (i < end) {
    const c = text[i] as string;
    if (c === '"') fail(pos, `bad string ${quote(text)}: unescaped '"'`);
    if (c !== '\\') {
      const code = text.codePointAt(i) as number;
      const width = code > 0xffff ? 2 : 1;
      for (const b of utf8.encode(text.slice(i, i + width))) bytes.push(b);
      i += width;
      continue;
    }
    const e = text[i + 1];
    if (i + 1 >= end || e === undefined) fail(pos, `bad string ${quote(text)}: '\\' at its end`);
    const simple = SIMPLE_ESCAPES[e];
    if (simple !== undefined) {
      bytes.push(simple);
      i += 2;
    } else if (e === 'x') {
      const m = /^[0-9a-fA-F]{1,2}/.exec(text.slice(i + 2, Math.min(i + 4, end)));
      if (!m) fail(pos, `bad string ${quote(text)}: '\\x' without hex digits`);
      bytes.push(parseInt(m[0], 16));
      i += 2 + m[0].length;
    } else if (e >= '0' && e <= '7') {
      const m = /^[0-7]{1,3}/.exec(text.slice(i + 1, Math.min(i + 4, end))) as RegExpExecArray;
      const v = parseInt(m[0], 8);
      if (v > 0xff) fail(pos, `bad string ${quote(text)}: octal escape above \\377`);
      bytes.push(v);
      i += 1 + m[0].length;
    } else {
      fail(pos, `bad string ${quote(text)}: unknown escape '\\${e}'`);
    }
  }
  return utf8Decoder.decode(new Uint8Array(bytes));
}
