import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { s32, safeNumberToU64, u32, u64ToSafeNumber } from '../src/u64.js';

describe('allocation-free u64 conversions', () => {
  const anyBigint = fc.oneof(
    fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }),
    fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
    fc.constantFrom(0n, 1n, -1n, (1n << 53n) - 1n, 1n << 53n, (1n << 64n) - 1n, 1n << 64n, 1n << 63n, 0xffffffffn, 0x80000000n),
  );

  it('u32 and s32 reduce exactly as BigInt.asUintN/asIntN(32)', () => {
    fc.assert(
      fc.property(anyBigint, (v) => {
        expect(u32(v)).toBe(Number(BigInt.asUintN(32, v)));
        expect(s32(v)).toBe(Number(BigInt.asIntN(32, v)));
      }),
      { numRuns: 2000 },
    );
  });

  it('u64ToSafeNumber is the exact u64 value below 2^53 and -1 above', () => {
    fc.assert(
      fc.property(anyBigint, (v) => {
        const u = BigInt.asUintN(64, v);
        expect(u64ToSafeNumber(v)).toBe(u < 1n << 53n ? Number(u) : -1);
      }),
      { numRuns: 2000 },
    );
  });

  it('safeNumberToU64 is BigInt(n) for every exact integer in [0, 2^53)', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: 0, max: 2 ** 32 }), fc.maxSafeNat(), fc.constantFrom(0, 1, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53 - 1)),
        (n) => {
          expect(safeNumberToU64(n)).toBe(BigInt(n));
        },
      ),
      { numRuns: 2000 },
    );
  });
});
