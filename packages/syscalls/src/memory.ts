/**
 * What a program observes without a system call: loads and stores through the
 * MMU (`peek`/`poke`), `Rss:` from smaps, and the huge page pool counters.
 */

import { procMaps, userAccess, vmaRssKb, type AccessResult, type MapsEntry } from '@mmsim/mm-core';
import type { Task } from './task.js';

const U64_MAX = (1n << 64n) - 1n;

/** Read one byte as a user-mode load. */
export function peek(task: Task, address: bigint): AccessResult {
  return userAccess(task.mm, address >= 0n && address <= U64_MAX ? address : address & U64_MAX);
}

/** Write one byte as a user-mode store. */
export function poke(task: Task, address: bigint, value: number): AccessResult {
  return userAccess(task.mm, address >= 0n && address <= U64_MAX ? address : address & U64_MAX, value & 0xff);
}

/** The x86-64 vsyscall page (`VSYSCALL_ADDR`): not a VMA, but `/proc/PID/maps` and `smaps` list it. */
const VSYSCALL_START = 0xffffffffff600000n;

/**
 * `Rss:` in kB of the `/proc/PID/smaps` block holding `address`, or null when
 * none holds it. With `withVsyscall`, the gate area's block (`[vsyscall]`,
 * which maps nothing the process owns: 0) is one of them.
 * @see fs/proc/task_mmu.c show_smap, arch/x86/entry/vsyscall/vsyscall_64.c get_gate_vma
 */
export function rss(task: Task, address: bigint, withVsyscall = false): number | null {
  if (withVsyscall && address >= VSYSCALL_START && address < VSYSCALL_START + 4096n) return 0;
  const vpn = Number(address >> 12n);
  const vma = task.mm.vmas.lookup(vpn);
  return vma ? vmaRssKb(task.mm, vma) : null;
}

/** The huge page pool of a size in kB: `total free rsvd surp`, or null if there is no such pool. */
export function hugepages(task: Task, sizeKb: number): { total: number; free: number; rsvd: number; surp: number } | null {
  const h = task.vfs.hugetlb.hstateForKb(sizeKb);
  return h ? { total: h.total, free: h.free, rsvd: h.resv, surp: h.surplus } : null;
}

/** `/proc/PID/maps` entries, `[vsyscall]` last (the gate area is not a VMA). */
export function maps(task: Task, withVsyscall: boolean): MapsEntry[] {
  const entries = procMaps(task.mm);
  if (withVsyscall) {
    entries.push({ start: VSYSCALL_START, end: VSYSCALL_START + 4096n, perms: '--xp', offset: 0n, dev: '00:00', inode: 0, name: '[vsyscall]' });
  }
  return entries;
}
