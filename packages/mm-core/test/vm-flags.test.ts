import { describe, expect, it } from 'vitest';
import { VM, VM_FLAG_MNEMONICS } from '../src/index.js';

describe('VM flag values', () => {
  it('are distinct single bits below 2^30, so a flag word stays one of V8\'s small integers', () => {
    const bits = Object.entries(VM).filter(([name]) => name !== 'NONE');
    for (const [name, bit] of bits) {
      expect(bit, name).toBeGreaterThan(0);
      expect(bit, name).toBeLessThan(2 ** 30);
      expect(bit & (bit - 1), `${name} is one bit`).toBe(0);
    }
    expect(new Set(bits.map(([, b]) => b)).size).toBe(bits.length);
    const all = bits.reduce((acc, [, b]) => acc | b, 0);
    expect(all).toBeLessThan(2 ** 30);
    expect(VM_FLAG_MNEMONICS.length).toBeGreaterThan(0);
  });
});
