/**
 * Parsing one call argument according to its {@link ArgKind}: numbers,
 * symbolic flag words, advice names, quoted paths, huge page sizes.
 */
import {
  AT,
  MADV_NAMES,
  MAP,
  MAP_NAMES,
  MREMAP_NAMES,
  OPEN_NAMES,
  PROT_NAMES,
  type FlagTable,
} from '@mmsim/base';
import type { SourcePos, TraceArg } from './model.js';
import type { ArgKind } from './calls.js';
import { fail, quote } from './errors.js';
import { looksLikeInteger, parseInteger } from './numbers.js';
import { decodeCString } from './strings.js';

type NameTable = ReadonlyMap<string, bigint>;

function namesOf(table: FlagTable): NameTable {
  const names = new Map<string, bigint>();
  const add = (name: string, value: number): void => {
    names.set(name, BigInt(value >>> 0));
  };
  for (const f of table.field?.names ?? []) add(f.name, f.value);
  for (const f of table.bits) add(f.name, f.value);
  for (const f of table.trailingField?.names ?? []) add(f.name, f.value);
  if (table.zero) add(table.zero, 0);
  return names;
}

/** `unlinkat` flags (not in `@mmsim/base`'s tables). */
const AT_FLAG_NAMES: NameTable = new Map([['AT_REMOVEDIR', BigInt(AT.REMOVEDIR)]]);

/** The symbolic names each flag-word kind accepts. */
const FLAG_NAMES: Partial<Record<ArgKind, NameTable>> = {
  prot: namesOf(PROT_NAMES),
  mapFlags: namesOf(MAP_NAMES),
  mremapFlags: namesOf(MREMAP_NAMES),
  openFlags: namesOf(OPEN_NAMES),
  atFlags: AT_FLAG_NAMES,
};

const ADVICE_NAMES: NameTable = new Map(MADV_NAMES.map((n) => [n.name, BigInt(n.value)]));

/** strace's spelling of a huge page size in mmap flags: `21<<MAP_HUGE_SHIFT`. */
const HUGE_SHIFT_PART = /^([0-9]{1,2})<<MAP_HUGE_SHIFT$/;

const AT_FDCWD = BigInt.asUintN(64, BigInt(AT.FDCWD));

function plainNumber(text: string, pos: SourcePos, what: string): bigint {
  if (text === 'NULL') return 0n;
  if (looksLikeInteger(text)) return parseInteger(text, pos, what);
  if (/^[A-Z_][A-Z0-9_]*$/.test(text)) fail(pos, `unknown symbolic name ${quote(text)} for ${what}`);
  return parseInteger(text, pos, what);
}

function flagWord(text: string, kind: ArgKind, names: NameTable, pos: SourcePos): bigint {
  let value = 0n;
  for (const part of text.split('|')) {
    if (part === '') fail(pos, `bad flags ${quote(text)}: empty part`);
    const named = names.get(part);
    if (named !== undefined) {
      value |= named;
      continue;
    }
    const huge = kind === 'mapFlags' ? HUGE_SHIFT_PART.exec(part) : null;
    if (huge) {
      const shift = Number(huge[1]);
      if (shift > MAP.HUGE_MASK) fail(pos, `bad flags ${quote(text)}: huge page shift ${shift} out of range`);
      value |= BigInt(shift) << BigInt(MAP.HUGE_SHIFT);
      continue;
    }
    if (looksLikeInteger(part)) {
      value |= parseInteger(part, pos, 'flag value');
      continue;
    }
    fail(pos, `unknown flag name ${quote(part)} in ${quote(text)}`);
  }
  return value;
}

/**
 * Parse one argument `text` (already trimmed) of the given kind. Numbers keep
 * `text` as their spelling; throws a {@link TraceSyntaxError} at `pos` for
 * anything malformed.
 */
export function parseArg(text: string, kind: ArgKind, pos: SourcePos): TraceArg {
  if (text === '') fail(pos, 'empty argument');
  const number = (value: bigint): TraceArg => ({ kind: 'number', value, text });
  switch (kind) {
    case 'path':
      if (text[0] !== '"') fail(pos, `expected a quoted path, got ${quote(text)}`);
      return { kind: 'string', value: decodeCString(text, pos), text };
    case 'number':
      return number(plainNumber(text, pos, 'argument'));
    case 'mode':
      return number(parseInteger(text, pos, 'mode'));
    case 'byte': {
      const v = parseInteger(text, pos, 'byte');
      if (v > 0xffn) fail(pos, `byte value ${quote(text)} is above 0xff`);
      return number(v);
    }
    case 'dirfd':
      return number(text === 'AT_FDCWD' ? AT_FDCWD : plainNumber(text, pos, 'directory descriptor'));
    case 'advice': {
      const v = ADVICE_NAMES.get(text);
      if (v !== undefined) return number(v);
      if (looksLikeInteger(text)) return number(parseInteger(text, pos, 'advice'));
      fail(pos, `unknown advice ${quote(text)}`);
    }
    case 'hugeSize': {
      const m = /^([1-9][0-9]{0,12})kB$/.exec(text);
      if (!m) fail(pos, `bad huge page size ${quote(text)}: expected e.g. 2048kB`);
      return number(BigInt(m[1] as string));
    }
    default:
      return number(flagWord(text, kind, FLAG_NAMES[kind] as NameTable, pos));
  }
}
