// The architectures the architecture-independent suite runs against, and the
// helpers its scenarios share. Adding an architecture to ARCHITECTURES runs
// every scenario of arch-suite*.test.ts against it.
import { MAP, O, PROT } from '@mmsim/base';
import type { Architecture } from '@mmsim/arch';
import { x86_64 } from '@mmsim/arch/x86-64';
import { createRiscv64, riscv64, riscv64Sv48 } from '@mmsim/arch-riscv64';
import type { KernelConfig } from '@mmsim/mm-core';
import { peek, poke, sysFill, sysFtruncate, sysMmap, sysOpenat } from '@mmsim/syscalls';
import { createMachine, type Machine } from '../src/index.js';

/** One registered architecture (and the CPU/kernel features it runs with). */
export interface ArchUnderTest {
  readonly label: string;
  readonly arch: Architecture;
  readonly config: Partial<KernelConfig>;
}

/** Every architecture the suite knows. */
export const ARCHITECTURES: readonly ArchUnderTest[] = [
  { label: 'x86_64 4-level', arch: x86_64, config: { la57: false } },
  { label: 'x86_64 5-level (la57)', arch: x86_64, config: { la57: true } },
  { label: 'riscv64 Sv39', arch: riscv64, config: {} },
  { label: 'riscv64 Sv48', arch: riscv64Sv48, config: {} },
  { label: 'riscv64 Sv57 with Svadu', arch: createRiscv64({ mode: 'sv57', svadu: true }), config: {} },
];

export const PAGE = 4096n;
export const RW = BigInt(PROT.READ | PROT.WRITE);
export const RO = BigInt(PROT.READ);
export const NONE = 0n;
export const PRIVATE_ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);
export const SHARED = BigInt(MAP.SHARED);
export const PRIVATE = BigInt(MAP.PRIVATE);
export const FIXED = BigInt(MAP.FIXED);
export const HUGETLB = BigInt(MAP.HUGETLB);
export const NO_FD = -1n;

/** A machine for `a` with tmpfs on /dev/shm, a 2 MiB hugetlbfs, and small huge page pools. */
export function machineFor(a: ArchUnderTest, config: Partial<KernelConfig> = {}): Machine {
  const m = createMachine({ arch: a.arch, config: { memTotalKb: 8 * 1024 * 1024, ...a.config, ...config } });
  m.vfs.mount('tmpfs', '/dev/shm', new Map());
  m.vfs.mount('hugetlbfs', '/mnt/huge', new Map([['pagesize', '2M']]));
  m.vfs.hugetlb.hstateForKb(2048)?.setMaxHugePages(4);
  m.vfs.hugetlb.hstateForKb(1048576)?.setMaxHugePages(1);
  return m;
}

/** `TASK_SIZE` of the machine, in bytes. */
export function taskSizeBytes(m: Machine): bigint {
  return BigInt(m.mm.taskSize) << 12n;
}

/** True if a raw syscall result is an error (`-4095..-1`). */
export function isErr(r: bigint): boolean {
  return r < 0n && r >= -4095n;
}

/** mmap that must succeed. */
export function mmapOk(m: Machine, addr: bigint, len: bigint, prot: bigint, flags: bigint, fd = NO_FD, off = 0n): bigint {
  const r = sysMmap(m, addr, len, prot, flags, fd, off);
  if (isErr(r)) throw new Error(`mmap(0x${addr.toString(16)}, 0x${len.toString(16)}, ${prot}, 0x${flags.toString(16)}, ${fd}) failed: ${r}`);
  return r;
}

/** A tmpfs file of `size` bytes filled with `byte`, open read-write. */
export function tmpfsFile(m: Machine, name: string, size: bigint, byte: number): bigint {
  const fd = sysOpenat(m, -100n, `/dev/shm/${name}`, BigInt(O.RDWR | O.CREAT), 0o600n);
  if (fd < 0n) throw new Error(`open ${name}: ${fd}`);
  if (sysFtruncate(m, fd, size) !== 0n) throw new Error(`ftruncate ${name}`);
  if (sysFill(m, fd, 0n, size, BigInt(byte)) !== size) throw new Error(`fill ${name}`);
  return fd;
}

/** Read a byte; 'SIGSEGV' / 'SIGBUS' when the access faults. */
export function read(m: Machine, addr: bigint): number | string {
  const r = peek(m, addr);
  return r.signal ?? r.value;
}

/** Write a byte; 0 or 'SIGSEGV' / 'SIGBUS'. */
export function write(m: Machine, addr: bigint, value: number): number | string {
  const r = poke(m, addr, value);
  return r.signal ?? 0;
}
