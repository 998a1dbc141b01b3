// The composition root's seams: swapping the frame allocator changes nothing a
// program can observe, machines built in one process share no state, and a new
// architecture plugs in without touching generic code.
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { container } from 'tsyringe';
import { describe, expect, it } from 'vitest';
import { ARCH, FILESYSTEM_TYPES, FRAME_ALLOCATOR, KERNEL_CONFIG, MAP, NOOP_TRACER, PROT, TRACER } from '@mmsim/base';
import { bitmapAllocatorFactory, buddyAllocatorFactory, VM } from '@mmsim/mm-core';
import { hugepages, maps, peek, poke, rss, sysMmap, sysMunmap } from '@mmsim/syscalls';
import { parseTrace, printTrace, type Trace } from '@mmsim/trace';
import { bootFromHeader, createMachine, Machine, machineContainer, replayTrace } from '../src/index.js';
import { TOY_TASK_SIZE_PAGES, TOY_UNMAPPED_BASE_PAGES, toyArch, ToyPageTable, toyMmapBase } from './toy-arch.js';

const ANON_PRIVATE = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);
const RW = BigInt(PROT.READ | PROT.WRITE);
const NO_FD = -1n;

/** A given golden trace (conformance/given), parsed. */
function golden(name: string): Trace {
  const url = new URL(`../../../conformance/given/${name}`, import.meta.url);
  return parseTrace(readFileSync(url, 'utf8'), fileURLToPath(url));
}

/** What a program can observe of a machine: maps, accounting, pools, free memory. */
function observable(m: Machine) {
  return {
    maps: maps(m, false).map((e) => `${e.start.toString(16)}-${e.end.toString(16)} ${e.perms} ${e.name}`),
    totalVm: m.mm.totalVm,
    mapCount: m.mm.mapCount,
    committedAs: m.kernel.committedAs,
    freeFrames: m.frames.freeFrames(),
    tablePages: m.mm.pageTable.tablePages(),
    hugepages2M: hugepages(m, 2048),
  };
}

describe('frame allocators are interchangeable', () => {
  for (const name of ['seed-anon-hugetlb.trace', 'seed-anon-hugetlb-1g.trace', 'seed-file-mapping.trace', 'gen-mixed-1.trace', 'gen-hugetlb-1.trace']) {
    it(`${name}: the buddy and the bitmap allocator give the same replay`, () => {
      const trace = golden(name);
      const buddy = replayTrace(trace, { frameAllocator: buddyAllocatorFactory });
      const bitmap = replayTrace(trace, { frameAllocator: bitmapAllocatorFactory });
      expect(buddy.machine.frames.name).toBe('buddy');
      expect(bitmap.machine.frames.name).toBe('bitmap');
      expect(bitmap.results.size).toBe(buddy.results.size);
      expect(bitmap.results.size).toBeGreaterThan(0);
      expect(printTrace(trace, bitmap.results)).toBe(printTrace(trace, buddy.results));
      // The end states agree too (free memory included: both hold the same frames).
      expect(observable(bitmap.machine)).toEqual(observable(buddy.machine));
    });
  }

  it('the default is the buddy allocator', () => {
    expect(createMachine().frames.name).toBe('buddy');
    expect(createMachine({ frameAllocator: bitmapAllocatorFactory }).frames.name).toBe('bitmap');
  });
});

describe('machines in one process share no state', () => {
  it('each container resolves its own instances; the root container stays empty', () => {
    const c1 = machineContainer();
    const c2 = machineContainer();
    const m1 = c1.resolve(Machine);
    const m2 = c2.resolve(Machine);
    expect(m1).not.toBe(m2);
    expect(c1.resolve(Machine)).toBe(m1); // one machine per container
    expect(c1.resolve(FRAME_ALLOCATOR)).not.toBe(c2.resolve(FRAME_ALLOCATOR));
    expect(c1.resolve(KERNEL_CONFIG)).not.toBe(c2.resolve(KERNEL_CONFIG));
    expect(c1.resolve(FILESYSTEM_TYPES)).not.toBe(c2.resolve(FILESYSTEM_TYPES));
    expect(m1.frames).toBe(c1.resolve(FRAME_ALLOCATOR));
    for (const part of ['kernel', 'vfs', 'mm', 'files'] as const) expect(m1[part]).not.toBe(m2[part]);
    expect(m1.mm.pageTable).not.toBe(m2.mm.pageTable);
    expect(m1.kernel.memmap).not.toBe(m2.kernel.memmap);
    expect(m1.kernel.phys).not.toBe(m2.kernel.phys);
    expect(m1.vfs.hugetlb).not.toBe(m2.vfs.hugetlb);
    // What may be shared is stateless: the default tracer is frozen, the arch is a plug-in object.
    expect(c1.resolve(TRACER)).toBe(NOOP_TRACER);
    expect(Object.isFrozen(NOOP_TRACER)).toBe(true);
    expect(c1.resolve(ARCH)).toBe(c2.resolve(ARCH));
    for (const token of [ARCH, FRAME_ALLOCATOR, KERNEL_CONFIG, TRACER, FILESYSTEM_TYPES]) {
      expect(container.isRegistered(token, false)).toBe(false);
    }
  });

  it('mapping and touching memory in one machine leaves the other unchanged', () => {
    const a = createMachine();
    const b = createMachine();
    expect(observable(a)).toEqual(observable(b));
    const before = observable(b);

    const addr = sysMmap(a, 0n, 64n * 4096n, RW, ANON_PRIVATE, NO_FD, 0n);
    expect(addr).toBeGreaterThan(0n);
    for (let i = 0n; i < 64n; i++) expect(poke(a, addr + i * 4096n, 0x5a)).toEqual({ signal: null, value: 0 });
    expect(peek(a, addr)).toEqual({ signal: null, value: 0x5a });
    expect(rss(a, addr)).toBe(256);

    expect(observable(b)).toEqual(before);
    expect(peek(b, addr)).toEqual({ signal: 'SIGSEGV' });
    expect(rss(b, addr)).toBeNull();
    expect(b.kernel.phys.storedFrames).toBe(0);

    // The same call in b lands at the same address: b's layout never saw a's mapping.
    expect(sysMmap(b, 0n, 64n * 4096n, RW, ANON_PRIVATE, NO_FD, 0n)).toBe(addr);
    expect(peek(b, addr)).toEqual({ signal: null, value: 0 });
    expect(peek(a, addr)).toEqual({ signal: null, value: 0x5a });
  });

  it('two machines booted from one trace header keep separate huge page pools and files', () => {
    const trace = golden('seed-anon-hugetlb.trace');
    const { machine: a } = bootFromHeader(trace.header);
    const { machine: b } = bootFromHeader(trace.header);
    const flags = BigInt(MAP.PRIVATE | MAP.ANONYMOUS | MAP.HUGETLB);
    const addr = sysMmap(a, 0n, 2n << 20n, RW, flags, NO_FD, 0n);
    expect(addr).toBeGreaterThan(0n);
    expect(poke(a, addr, 1).signal).toBeNull();
    expect(hugepages(a, 2048)).toEqual({ total: 4, free: 3, rsvd: 0, surp: 0 });
    expect(hugepages(b, 2048)).toEqual({ total: 4, free: 4, rsvd: 0, surp: 0 });
    expect(maps(b, false).some((e) => e.name.includes('anon_hugepage'))).toBe(false);
    expect(sysMunmap(a, addr, 2n << 20n)).toBe(0n);
    expect(hugepages(a, 2048)).toEqual({ total: 4, free: 4, rsvd: 0, surp: 0 });
  });
});

describe('a test-only architecture plugs in through the contract', () => {
  const PAGE = 4096n;
  const taskSize = BigInt(TOY_TASK_SIZE_PAGES) << 12n;

  it('is written against the contract only', () => {
    const source = readFileSync(new URL('./toy-arch.ts', import.meta.url), 'utf8');
    const specifiers = [...source.matchAll(/^import[^'"]*['"]([^'"]+)['"]/gm)].map((m) => m[1]);
    expect(specifiers).toEqual(['@mmsim/base', '@mmsim/arch']);
  });

  it('builds a machine whose address space comes from the toy layout', () => {
    const m = createMachine({ arch: toyArch });
    expect(m.arch.name).toBe('toy-sv39');
    expect(m.mm.pageTable).toBeInstanceOf(ToyPageTable);
    expect(m.mm.pageTable.levels).toBe(3);
    expect(m.mm.taskSize).toBe(2 ** 26); // 2^38 bytes
    // mmap_base = TASK_SIZE - max(8 MiB stack + 1 MiB guard, 128 MiB)
    expect(m.mm.layout.mmapBase).toBe(toyMmapBase(8n << 20n));
    expect(BigInt(m.mm.layout.mmapBase) << 12n).toBe(0x3ff8000000n);
  });

  it('mmap, poke, peek and munmap work through the system calls', () => {
    const m = createMachine({ arch: toyArch });
    const addr = sysMmap(m, 0n, 3n * PAGE, RW, ANON_PRIVATE, NO_FD, 0n);
    // Top-down below the toy's mmap_base, far below x86-64's 0x7ffff7fff000.
    expect(addr).toBe(0x3ff8000000n - 3n * PAGE);
    expect(maps(m, false)).toEqual([
      { start: addr, end: addr + 3n * PAGE, perms: 'rw-p', offset: 0n, dev: '00:00', inode: 0, name: '' },
    ]);
    expect(peek(m, addr + 5n)).toEqual({ signal: null, value: 0 }); // the zero page, read-only
    expect(poke(m, addr + 5n, 0xab)).toEqual({ signal: null, value: 0 }); // COW of the zero page
    expect(poke(m, addr + 2n * PAGE + 7n, 0xcd)).toEqual({ signal: null, value: 0 });
    expect(peek(m, addr + 5n)).toEqual({ signal: null, value: 0xab });
    expect(peek(m, addr + 2n * PAGE + 7n)).toEqual({ signal: null, value: 0xcd });
    expect(rss(m, addr)).toBe(8);

    // The toy page table holds Sv39 entries: V R W U A D for the written page.
    const leaf = m.mm.pageTable.lookup(Number(addr >> 12n))!;
    expect(toyArch.describeLeaf(leaf)).toMatch(/^sv39 4K pfn 0x[0-9a-f]+ VRWUAD$/);

    const tablesWhileMapped = m.mm.pageTable.tablePages();
    expect(tablesWhileMapped).toBe(3); // root + one level-1 + one level-0 table
    expect(sysMunmap(m, addr, 3n * PAGE)).toBe(0n);
    expect(maps(m, false)).toEqual([]);
    expect(peek(m, addr)).toEqual({ signal: 'SIGSEGV' });
    expect(m.mm.pageTable.tablePages()).toBe(1);
    expect(m.kernel.committedAs).toBe(0);
  });

  it('read-only and PROT_NONE mappings fault as the toy MMU says', () => {
    const m = createMachine({ arch: toyArch });
    const ro = sysMmap(m, 0n, PAGE, BigInt(PROT.READ), ANON_PRIVATE, NO_FD, 0n);
    expect(peek(m, ro)).toEqual({ signal: null, value: 0 });
    expect(poke(m, ro, 1)).toEqual({ signal: 'SIGSEGV' });
    const none = sysMmap(m, 0n, PAGE, BigInt(PROT.NONE), ANON_PRIVATE, NO_FD, 0n);
    expect(peek(m, none)).toEqual({ signal: 'SIGSEGV' });
    expect(toyArch.mmu.translate(m.mm.pageTable, Number(ro >> 12n), 1)).toEqual({ ok: false, errorCode: 15 });
    expect(toyArch.mmu.describeErrorCode(15)).toBe('store page fault');
  });

  it('the limits are the toy’s: 2^38 bytes of user space, 39-bit canonical addresses', () => {
    const m = createMachine({ arch: toyArch });
    const fixed = BigInt(MAP.PRIVATE | MAP.ANONYMOUS | MAP.FIXED);
    // Just below TASK_SIZE fits; at TASK_SIZE (fine on x86-64) it does not.
    expect(sysMmap(m, taskSize - PAGE, PAGE, RW, fixed, NO_FD, 0n)).toBe(taskSize - PAGE);
    expect(sysMmap(m, taskSize, PAGE, RW, fixed, NO_FD, 0n)).toBe(-12n); // -ENOMEM
    expect(sysMmap(createMachine(), taskSize, PAGE, RW, fixed, NO_FD, 0n)).toBe(taskSize);
    expect(poke(m, taskSize - 1n, 9).signal).toBeNull();
    expect(peek(m, taskSize - 1n)).toEqual({ signal: null, value: 9 });
    expect(peek(m, 1n << 39n)).toEqual({ signal: 'SIGSEGV' }); // not canonical for Sv39
    expect(sysMunmap(m, taskSize, PAGE)).toBe(-22n); // -EINVAL: beyond TASK_SIZE
  });

  it('the legacy layout searches bottom-up from the toy’s TASK_UNMAPPED_BASE', () => {
    const m = createMachine({ arch: toyArch, config: { legacyLayout: true } });
    expect(m.mm.layout.topdown).toBe(false);
    const addr = sysMmap(m, 0n, PAGE, RW, ANON_PRIVATE, NO_FD, 0n);
    expect(addr).toBe(BigInt(TOY_UNMAPPED_BASE_PAGES) << 12n);
  });

  it('huge pages use the toy’s megapages (order-9 leaves in its own table)', () => {
    const m = createMachine({ arch: toyArch });
    const pool = m.vfs.hugetlb.hstateForKb(2048)!;
    pool.setMaxHugePages(2);
    const flags = BigInt(MAP.PRIVATE | MAP.ANONYMOUS | MAP.HUGETLB);
    const addr = sysMmap(m, 0n, 4096n, RW, flags, NO_FD, 0n);
    expect(addr % (2n << 20n)).toBe(0n);
    expect(poke(m, addr + 12345n, 7).signal).toBeNull();
    expect(peek(m, addr + 12345n)).toEqual({ signal: null, value: 7 });
    expect(m.mm.pageTable.lookup(Number(addr >> 12n))?.order).toBe(9);
    expect(m.mm.vmas.lookup(Number(addr >> 12n))!.flags & VM.HUGETLB).toBeTruthy();
    expect(hugepages(m, 2048)).toEqual({ total: 2, free: 1, rsvd: 0, surp: 0 });
    expect(sysMunmap(m, addr, 2n << 20n)).toBe(0n);
    expect(hugepages(m, 2048)).toEqual({ total: 2, free: 2, rsvd: 0, surp: 0 });
  });
});
