/**
 * The header directives other than `@config` and `@maps`: `@kernel`,
 * `@mount`, `@fd`, `@brk`.
 */
import type { FdDirective, MountDirective, SourcePos } from './model.js';
import { fail, quote } from './errors.js';
import { parseInteger, parseSafeInteger } from './numbers.js';

/** Split `k=v` words into pairs, rejecting words without `=` or with an empty key or value. */
export function keyValues(words: readonly string[], directive: string, pos: SourcePos): [string, string][] {
  return words.map((word) => {
    const eq = word.indexOf('=');
    if (eq <= 0 || eq === word.length - 1) fail(pos, `bad ${directive} entry ${quote(word)}: expected KEY=VALUE`);
    return [word.slice(0, eq), word.slice(eq + 1)];
  });
}

/** Read `k=v` words that must be exactly the given keys, each once. */
function exactKeys(words: readonly string[], keys: readonly string[], directive: string, pos: SourcePos): Map<string, string> {
  const found = new Map<string, string>();
  for (const [k, v] of keyValues(words, directive, pos)) {
    if (!keys.includes(k)) fail(pos, `unknown ${directive} key ${quote(k)} (expected ${keys.join(', ')})`);
    if (found.has(k)) fail(pos, `duplicate ${directive} key ${quote(k)}`);
    found.set(k, v);
  }
  for (const k of keys) if (!found.has(k)) fail(pos, `${directive} lacks ${k}=`);
  return found;
}

/** `@kernel release=R arch=A`. */
export function parseKernel(words: readonly string[], pos: SourcePos): { release: string; arch: string } {
  const kv = exactKeys(words, ['release', 'arch'], '@kernel', pos);
  return { release: kv.get('release')!, arch: kv.get('arch')! };
}

/** `@mount FSTYPE PATH [k=v …]`. */
export function parseMount(words: readonly string[], pos: SourcePos): MountDirective {
  const [fstype, path, ...rest] = words;
  if (fstype === undefined || path === undefined) fail(pos, '@mount needs FSTYPE PATH [options]');
  if (!/^[a-z0-9_]+$/.test(fstype)) fail(pos, `bad @mount filesystem type ${quote(fstype)}`);
  if (!path.startsWith('/')) fail(pos, `bad @mount path ${quote(path)}: not absolute`);
  const options = new Map<string, string>();
  for (const [k, v] of keyValues(rest, '@mount', pos)) {
    if (options.has(k)) fail(pos, `duplicate @mount option ${quote(k)}`);
    options.set(k, v);
  }
  return { fstype, path, options, pos };
}

const FD_FLAGS = ['O_RDONLY', 'O_WRONLY', 'O_RDWR'];

/** `@fd N TARGET FLAGS`. */
export function parseFd(words: readonly string[], pos: SourcePos): FdDirective {
  if (words.length !== 3) fail(pos, '@fd needs N TARGET FLAGS');
  const [n, target, flags] = words as [string, string, string];
  const fd = parseSafeInteger(n, pos, '@fd descriptor');
  if (fd > 0x7fffffff) fail(pos, `bad @fd descriptor ${quote(n)}`);
  if (target !== 'pipe' && !target.startsWith('/')) fail(pos, `bad @fd target ${quote(target)}: a path or pipe`);
  if (!FD_FLAGS.includes(flags)) fail(pos, `bad @fd flags ${quote(flags)}: expected ${FD_FLAGS.join(', ')}`);
  return { fd, target, flags };
}

/** `@brk start=A cur=B`. */
export function parseBrk(words: readonly string[], pos: SourcePos): { start: bigint; cur: bigint } {
  const kv = exactKeys(words, ['start', 'cur'], '@brk', pos);
  const num = (k: string): bigint => {
    const text = kv.get(k)!;
    if (text.startsWith('-')) fail(pos, `bad @brk ${k}=${text}: negative`);
    return parseInteger(text, pos, `@brk ${k}`);
  };
  return { start: num('start'), cur: num('cur') };
}
