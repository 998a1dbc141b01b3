// Registering an architecture and running programs on it: the RISC-V plug-in
// (@mmsim/arch-riscv64) and the sketch of this guide, side by side with x86-64.
import type { Architecture } from '@mmsim/arch';
import { riscv64 } from '@mmsim/arch-riscv64';
import { MAP, PROT } from '@mmsim/base';
import { createMachine, pagemap, pageTableWalk } from '@mmsim/machine';
import { peek, poke, sysMmap, sysMunmap } from '@mmsim/syscalls';
import { sketchArch } from './architecture.js';

// --- snippet: register ---
/** Map a page, write it, read it back, walk the page tables, unmap it — on any architecture. */
export function tour(arch: Architecture) {
  const m = createMachine({ arch }); // one container per machine; the arch is its ARCH token
  const rw = BigInt(PROT.READ | PROT.WRITE);
  const addr = sysMmap(m, 0n, 4096n, rw, BigInt(MAP.PRIVATE | MAP.ANONYMOUS), -1n, 0n);
  const stored = poke(m, addr + 8n, 0x2a).signal ?? 'ok';
  const loaded = peek(m, addr + 8n);
  const walk = pageTableWalk(m, addr).steps.map((s) => `${s.level}[${s.index}] ${s.kind}`);
  const page = pagemap(m, addr);
  sysMunmap(m, addr, 4096n);
  return { arch: m.arch.name, addr: '0x' + addr.toString(16), stored, loaded: loaded.signal ?? loaded.value, walk, kind: page.kind, after: peek(m, addr).signal };
}

export const riscvTour = () => tour(riscv64);
export const sketchTour = () => tour(sketchArch);
// --- end snippet ---
