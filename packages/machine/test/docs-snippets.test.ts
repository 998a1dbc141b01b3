// docs/writing-an-architecture.md stays true: its snippets (docs/snippets/*.ts)
// type-check with tsc, every ```ts block of the guide is a verbatim copy of a
// snippet region, the registration example runs on RISC-V and on the guide's
// sketch architecture, and the sketch passes a few of the arch-suite scenarios.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { PROT } from '@mmsim/base';
import { x86_64 } from '@mmsim/arch/x86-64';
import { hugepages, sysFpeek, sysMprotect, sysMunmap } from '@mmsim/syscalls';
import { sketchArch } from '../../../docs/snippets/architecture.js';
import { riscvTour, sketchTour, tour } from '../../../docs/snippets/register.js';
import { FIXED, HUGETLB, NONE, PAGE, PRIVATE, PRIVATE_ANON, RW, machineFor, mmapOk, read, taskSizeBytes, tmpfsFile, write } from './arch-suite-lib.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const snippetsDir = join(root, 'docs/snippets');
const guide = readFileSync(join(root, 'docs/writing-an-architecture.md'), 'utf8');

describe('docs/writing-an-architecture.md', () => {
  it('its snippets type-check (tsc --noEmit -p docs/snippets)', () => {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    const run = () => execFileSync(process.execPath, [tsc, '--noEmit', '-p', join(snippetsDir, 'tsconfig.json')], { cwd: root, encoding: 'utf8' });
    expect(run).not.toThrow();
  });

  it('every code block of the guide is a snippet region, verbatim, and every region is shown', () => {
    const regions = new Map<string, string>();
    for (const f of readdirSync(snippetsDir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(snippetsDir, f), 'utf8');
      for (const m of text.matchAll(/\/\/ --- snippet: ([\w-]+) ---\n([\s\S]*?)\/\/ --- end snippet ---\n/g)) regions.set(m[1]!, m[2]!);
    }
    const blocks = [...guide.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    expect(blocks.length).toBeGreaterThanOrEqual(7);
    const bodies = new Set(regions.values());
    for (const block of blocks) expect(bodies.has(block), `a guide block is not a snippet:\n${block.slice(0, 200)}`).toBe(true);
    expect(blocks.length).toBe(regions.size);
  });

  it('the registration example runs on riscv64, on the sketch, and on x86-64', () => {
    const r = riscvTour();
    expect(r).toMatchObject({ arch: 'riscv64', stored: 'ok', loaded: 0x2a, kind: 'anon', after: 'SIGSEGV' });
    expect(r.walk).toEqual(['PGD[255] table', 'PMD[447] table', 'PTE[511] leaf']); // Sv39: mmap_base 0x3ff8000000
    expect(r.addr).toBe('0x3ff7fff000');
    const s = sketchTour();
    expect(s).toMatchObject({ arch: 'sketch64', stored: 'ok', loaded: 0x2a, kind: 'anon', after: 'SIGSEGV' });
    expect(s.walk.at(-1)).toMatch(/^L3\[\d+\] leaf$/);
    const x = tour(x86_64);
    expect(x).toMatchObject({ arch: 'x86_64', addr: '0x7ffff7ffe000', loaded: 0x2a });
  });
});

describe('the sketch architecture passes arch-suite scenarios', () => {
  const a = { label: 'sketch64', arch: sketchArch, config: {} } as const;

  it('mmap below TASK_SIZE, write, read, munmap, SIGSEGV; page tables come back', () => {
    const m = machineFor(a);
    const tables = m.mm.pageTable.tablePages();
    const p = mmapOk(m, 0n, 4n * PAGE, RW, PRIVATE_ANON);
    expect(p + 4n * PAGE).toBeLessThanOrEqual(taskSizeBytes(m));
    expect(write(m, p, 5)).toBe(0);
    expect(read(m, p)).toBe(5);
    expect(sysMunmap(m, p, 4n * PAGE)).toBe(0n);
    expect(read(m, p)).toBe('SIGSEGV');
    expect(m.mm.pageTable.tablePages()).toBe(tables);
  });

  it('PROT_NONE faults; mprotect read-only refuses writes', () => {
    const m = machineFor(a);
    const p = mmapOk(m, 0n, PAGE, NONE, PRIVATE_ANON);
    expect(read(m, p)).toBe('SIGSEGV');
    expect(sysMprotect(m, p, PAGE, RW)).toBe(0n);
    expect(write(m, p, 1)).toBe(0);
    expect(sysMprotect(m, p, PAGE, BigInt(PROT.READ))).toBe(0n);
    expect(write(m, p, 2)).toBe('SIGSEGV');
    expect(read(m, p)).toBe(1);
  });

  it('a write to a private file mapping does not reach the file', () => {
    const m = machineFor(a);
    const fd = tmpfsFile(m, 'f', PAGE, 0x61);
    const p = mmapOk(m, 0n, PAGE, RW, PRIVATE, fd);
    expect(read(m, p)).toBe(0x61);
    expect(write(m, p, 0x62)).toBe(0);
    expect(read(m, p)).toBe(0x62);
    expect(sysFpeek(m, fd, 0n)).toBe(0x61n);
  });

  it('a 2 MiB hugetlb mapping and MAP_FIXED at the top of the address space', () => {
    const m = machineFor(a);
    const p = mmapOk(m, 0n, 2n << 20n, RW, PRIVATE_ANON | HUGETLB);
    expect(p % (2n << 20n)).toBe(0n);
    expect(write(m, p + 77n, 7)).toBe(0);
    expect(hugepages(m, 2048)).toMatchObject({ free: 3 });
    const top = taskSizeBytes(m) - PAGE;
    expect(mmapOk(m, top, PAGE, RW, PRIVATE_ANON | FIXED)).toBe(top);
    expect(write(m, top, 1)).toBe(0);
  });
});
