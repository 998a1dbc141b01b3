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

/** `DIR/#INO (deleted)`: the name `d_tmpfile` gives an `O_TMPFILE` file, its inode number in it. */
const TMPFILE_NAME = /\/#([0-9]{1,20}) \(deleted\)$/;

/**
 * The name of `line` with the inode number an `O_TMPFILE` file carries in it
 * (`/dev/shm/x/#3568 (deleted)`, from `d_tmpfile`) replaced by `ino`, when
 * that number is the line's own inode; any other name unchanged. The
 * number is the inode column written into the name, so whatever renumbers
 * or ignores that column does the same to it.
 * @see fs/dcache.c d_tmpfile
 */
export function withTmpfileInode(line: Pick<MapsLine, 'inode' | 'name'>, ino: bigint | string): string {
  const m = TMPFILE_NAME.exec(line.name);
  if (!m || BigInt(m[1]!) !== line.inode || line.inode === 0n) return line.name;
  return `${line.name.slice(0, m.index)}/#${ino} (deleted)`;
}
