/**
 * Exact unsigned 64-bit arithmetic for the system-call boundary.
 *
 * Linux's argument checks depend on wrap-around (`PAGE_ALIGN` of a huge
 * length overflowing to 0, `pgoff + pages` wrapping). JavaScript numbers are
 * exact only to 2^53, so every value that crosses a system call is a
 * `bigint` reduced modulo 2^64, and all checks on raw arguments are done here.
 * Inside the model, page numbers (address >> 12) are plain numbers.
 */

/** 2^64 − 1. */
export const U64_MAX = (1n << 64n) - 1n;
/** 2^63 − 1: `LLONG_MAX`, `MAX_LFS_FILESIZE` on 64-bit. */
export const S64_MAX = (1n << 63n) - 1n;

/** Reduce any integer to its u64 value (two's complement for negatives), as a C cast to `unsigned long`. */
export function u64(value: bigint | number): bigint {
  return BigInt.asUintN(64, typeof value === 'number' ? BigInt(value) : value);
}

/** Reinterpret a u64 as a signed 64-bit value (`long`). */
export function s64(value: bigint): bigint {
  return BigInt.asIntN(64, value);
}

/**
 * Scratch memory for the allocation-free conversions below: storing a bigint
 * in a `BigUint64Array` reduces it modulo 2^64 (`ToBigUint64`), and the two
 * 32-bit halves read back are plain numbers — a few nanoseconds, where
 * `Number(BigInt.asUintN(...))` or a shift allocates and costs tens.
 */
const U64_SCRATCH = new BigUint64Array(1);
const U64_HALVES = new Uint32Array(U64_SCRATCH.buffer);
/** Index of the low half in {@link U64_HALVES} (the platform's byte order). */
const LO = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
const HI = 1 - LO;

/** Reduce to u32 (a C `int`/`unsigned int` argument, such as `prot` or `fd`). */
export function u32(value: bigint): number {
  U64_SCRATCH[0] = value;
  return U64_HALVES[LO]!;
}

/** Reduce to a signed 32-bit value (a C `int` argument such as a file descriptor). */
export function s32(value: bigint): number {
  U64_SCRATCH[0] = value;
  return U64_HALVES[LO]! | 0;
}

/**
 * The u64 value of `value` (reduced modulo 2^64, as {@link u64}) as an exact
 * number when it is below 2^53, else -1. Allocation-free: the fast paths of the
 * system-call boundary use it to do their arithmetic on numbers.
 */
export function u64ToSafeNumber(value: bigint): number {
  U64_SCRATCH[0] = value;
  const hi = U64_HALVES[HI]!;
  return hi < 0x200000 ? hi * 4294967296 + U64_HALVES[LO]! : -1;
}

/**
 * The bigint of an exact integer in [0, 2^53) — an address or length the
 * model computed in numbers, on its way back to the system-call boundary.
 * The same value as `BigInt(n)`, which V8 converts in its runtime for a
 * number above 2^31 (about twice the cost of this store and load).
 */
export function safeNumberToU64(n: number): bigint {
  U64_HALVES[LO] = n >>> 0;
  U64_HALVES[HI] = (n / 4294967296) >>> 0;
  return U64_SCRATCH[0]!;
}

/** `ALIGN(x, a)` modulo 2^64 for a power-of-two `a` (may wrap to 0, as in C). */
export function alignUp64(value: bigint, alignment: bigint): bigint {
  return (value + alignment - 1n) & ~(alignment - 1n) & U64_MAX;
}

/** `x & ~(a-1)` for a power-of-two `a`. */
export function alignDown64(value: bigint, alignment: bigint): bigint {
  return value & ~(alignment - 1n) & U64_MAX;
}

/** `a + b` modulo 2^64, and whether it wrapped (C's `check_add_overflow`). */
export function addOverflows64(a: bigint, b: bigint): boolean {
  return a + b > U64_MAX;
}

/** Format a u64 as lower-case hex with `0x`, as strace does. */
export function hex(value: bigint | number): string {
  return '0x' + (typeof value === 'number' ? value.toString(16) : value.toString(16));
}

/**
 * A page number to a byte address as a bigint.
 * @param vpn virtual or physical page number
 * @param pageShift log2 of the page size
 */
export function pageToAddress(vpn: number, pageShift = 12): bigint {
  return BigInt(vpn) << BigInt(pageShift);
}

/** A byte address (u64) to its page number, as a number (exact below 2^65). */
export function addressToPage(address: bigint, pageShift = 12): number {
  return Number(address >> BigInt(pageShift));
}
