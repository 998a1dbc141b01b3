// The root README's "Using the packages" example runs, and the README still
// shows exactly this code.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createMachine } from '@mmsim/machine';
import { sysMmap, poke, maps } from '@mmsim/syscalls';
import { bitmapAllocatorFactory } from '@mmsim/mm-core';
import { riscv64 } from '@mmsim/arch-riscv64';

const readme = readFileSync(fileURLToPath(new URL('../../../README.md', import.meta.url)), 'utf8');

describe('root README example', () => {
  it('is the code the README shows', () => {
    for (const line of [
      "const m = createMachine();                                   // x86-64, buddy allocator, defaults",
      "const addr = sysMmap(m, 0n, 8192n, 3n, 0x22n, -1n, 0n);      // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS",
      "poke(m, addr, 0x41);",
      "const other = createMachine({ arch: riscv64, frameAllocator: bitmapAllocatorFactory });",
    ]) {
      expect(readme).toContain(line);
    }
  });

  it('runs', () => {
    const m = createMachine(); // x86-64, buddy allocator, defaults
    const addr = sysMmap(m, 0n, 8192n, 3n, 0x22n, -1n, 0n); // PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS
    expect(poke(m, addr, 0x41).signal).toBeNull();
    const entries = maps(m, false);
    expect(entries.some((e) => e.start === addr && e.perms === 'rw-p')).toBe(true);
    const other = createMachine({ arch: riscv64, frameAllocator: bitmapAllocatorFactory });
    expect(other.arch.name).toBe('riscv64');
  });
});
