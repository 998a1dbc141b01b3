/**
 * Lines of `/proc/PID/maps`: parsing and printing them exactly as the kernel
 * does (`show_map_vma`).
 */
import type { MapsLine, SourcePos } from './model.js';
import { fail, quote } from './errors.js';
import { hexPad } from './numbers.js';

const MAPS_LINE =
  /^([0-9a-f]{1,16})-([0-9a-f]{1,16}) +([r-][w-][x-][sp]) +([0-9a-f]{1,16}) +([0-9a-f]{1,8}:[0-9a-f]{1,8}) +([0-9]{1,20})(?: +(.*))?$/;

/** The column (0-based) where the kernel starts a mapping's name: `seq_pad` to 72, then a space. */
export const MAPS_NAME_COLUMN = 73;

/**
 * Parse one `START-END PERMS OFFSET MAJ:MIN INODE [NAME]` line. Column
 * alignment is free; the name is everything after the inode and its padding.
 * Throws a {@link TraceSyntaxError} at `pos` if it is malformed.
 */
export function parseMapsLine(text: string, pos: SourcePos): MapsLine {
  const m = MAPS_LINE.exec(text);
  if (!m) fail(pos, `bad maps line ${quote(text)}: expected START-END PERMS OFFSET MAJ:MIN INODE [NAME]`);
  const start = BigInt('0x' + m[1]);
  const end = BigInt('0x' + m[2]);
  if (start >= end) fail(pos, `bad maps line ${quote(text)}: start is not below end`);
  const inode = BigInt(m[6] as string);
  if (inode >= 1n << 64n) fail(pos, `bad maps line ${quote(text)}: inode out of range`);
  return {
    start,
    end,
    perms: m[3] as string,
    offset: BigInt('0x' + m[4]),
    dev: m[5] as string,
    inode,
    name: m[7] ?? '',
  };
}

/**
 * Print a maps line as `/proc/PID/maps` does: hex fields zero-padded to 8
 * digits, the name (if any) starting at column {@link MAPS_NAME_COLUMN} (or
 * one space after the inode if the line is already that long), and a single
 * trailing space after the inode when there is no name.
 */
export function formatMapsLine(line: MapsLine): string {
  const prefix =
    `${hexPad(line.start, 8)}-${hexPad(line.end, 8)} ${line.perms} ` +
    `${hexPad(line.offset, 8)} ${line.dev} ${line.inode}`;
  if (line.name === '') return prefix + ' ';
  return prefix.padEnd(MAPS_NAME_COLUMN - 1, ' ') + ' ' + line.name;
}
