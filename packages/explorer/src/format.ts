/**
 * Number formatting shared by the page: addresses, sizes, 64-bit entries.
 */

/** `0x` and lower-case hex digits, no padding: `0x7ffff7ff5000`. */
export function hex(value: bigint | number): string {
  return '0x' + BigInt(value).toString(16);
}

/** A 64-bit value as 16 hex digits with `0x`: `0x8000000001234067`. */
export function hex64(value: bigint): string {
  return '0x' + value.toString(16).padStart(16, '0');
}

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

/** A byte count in binary units, at most 3 significant digits: `4 KiB`, `2 MiB`, `127 TiB`. */
export function formatSize(bytes: bigint): string {
  if (bytes < 1024n) return `${bytes} B`;
  let unit = 0;
  let whole = bytes;
  while (whole >= 1024n * 1024n && unit < UNITS.length - 2) {
    whole /= 1024n;
    unit++;
  }
  const value = Number(whole) / 1024;
  unit++;
  const text = value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2);
  return `${text.replace(/\.0+$|(\.\d*?)0+$/, '$1')} ${UNITS[unit]}`;
}

/**
 * Parse an address typed by a person: hex digits with or without `0x`, as
 * /proc/PID/maps writes them (`7ffff7ff5000`, `0x7ffff7ff5000`), underscores
 * and spaces ignored. Returns undefined for anything else or beyond 64 bits.
 */
export function parseAddress(text: string): bigint | undefined {
  const t = text.trim().replace(/[_\s]/g, '').toLowerCase();
  const m = /^(?:0x)?([0-9a-f]{1,16})$/.exec(t);
  if (!m) return undefined;
  return BigInt('0x' + m[1]);
}
