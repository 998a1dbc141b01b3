// Resource exhaustion: on a machine with little RAM, mappings that overcommit
// still succeed as Linux lets them, and a fault that finds no free frame —
// for the page or for a page-table page — ends in the OOM killer's SIGKILL,
// with the model's state consistent and every frame back after munmap.
import { describe, expect, it } from 'vitest';
import { MAP, PROT } from '@mmsim/base';
import { poke, peek, sysMmap, sysMunmap } from '@mmsim/syscalls';
import { checkInvariants, createMachine } from '../src/index.js';

const RW = BigInt(PROT.READ | PROT.WRITE);
const ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);

function smallMachine(overcommit: 0 | 1) {
  // 2 MiB of RAM: 512 frames, a few of which the kernel itself uses.
  return createMachine({ config: { memTotalKb: 2048, overcommitMemory: overcommit, thp: 'never' } });
}

describe('out of memory', () => {
  it('overcommit mode 1 maps far more than RAM; touching it ends in SIGKILL, state consistent', () => {
    const m = smallMachine(1);
    const freeAtStart = m.frames.freeFrames();
    const len = 64n << 20n; // 64 MiB on a 2 MiB machine
    const addr = sysMmap(m, 0n, len, RW, ANON, -1n, 0n);
    expect(addr).toBeGreaterThan(0n);
    let killedAt = -1;
    for (let i = 0; i < 1024; i++) {
      const r = poke(m, addr + BigInt(i) * 4096n, 1);
      if (r.signal) {
        expect(r.signal).toBe('SIGKILL');
        killedAt = i;
        break;
      }
    }
    expect(killedAt).toBeGreaterThan(100); // most of RAM was handed out first
    expect(checkInvariants(m)).toEqual([]);
    expect(m.frames.freeFrames()).toBeLessThan(8);
    // A read far away needs a page-table page too: no frame for it, the same outcome.
    expect(peek(m, addr + len - 4096n)).toEqual({ signal: 'SIGKILL' });
    expect(checkInvariants(m)).toEqual([]);
    // Giving memory back makes faults succeed again.
    expect(sysMunmap(m, addr, 64n * 4096n)).toBe(0n);
    expect(poke(m, addr + BigInt(killedAt) * 4096n, 2)).toEqual({ signal: null, value: 0 });
    expect(sysMunmap(m, addr, len)).toBe(0n);
    expect(checkInvariants(m)).toEqual([]);
    expect(m.frames.freeFrames()).toBe(freeAtStart);
  });

  it('overcommit mode 0 refuses one mapping larger than RAM + swap, as Linux does', () => {
    const m = smallMachine(0);
    expect(sysMmap(m, 0n, 4n << 20n, RW, ANON, -1n, 0n)).toBe(-12n); // ENOMEM
    expect(sysMmap(m, 0n, 1n << 20n, RW, ANON, -1n, 0n)).toBeGreaterThan(0n);
  });

  it('shared anonymous memory is not held to a tmpfs mount\'s default limit (half the RAM): only by the RAM itself', () => {
    // shm_mnt is the kernel's own tmpfs instance, which shmem_fill_super leaves unlimited.
    const m = createMachine({ config: { memTotalKb: 65536, overcommitMemory: 1, thp: 'never' } });
    const len = 48n << 20n; // three quarters of the RAM
    const addr = sysMmap(m, 0n, len, RW, BigInt(MAP.SHARED | MAP.ANONYMOUS | MAP.POPULATE), -1n, 0n);
    expect(addr).toBeGreaterThan(0n);
    expect(poke(m, addr + len - 4096n, 7).signal).toBeNull();
    expect(peek(m, addr + len - 4096n)).toEqual({ signal: null, value: 7 });
    expect(checkInvariants(m)).toEqual([]);
  });
});
