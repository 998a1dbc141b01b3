// `--arch`: replaying a trace on another architecture plug-in — a built-in
// name, the trace's own `@kernel arch=`, or a module path — and the errors a
// user gets for a wrong one.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { x86_64 } from '@mmsim/arch/x86-64';
import { riscv64Sv48 } from '@mmsim/arch-riscv64';
import { replayTrace } from '@mmsim/machine';
import { parseTrace, printTrace } from '@mmsim/trace';
import { describe, expect, it } from 'vitest';
import { archFor, loadArchOption, runPagetable, runReplay, UsageError } from '../src/index.js';

const conformance = fileURLToPath(new URL('../../../conformance/given/', import.meta.url));
const seed = join(conformance, 'seed-flags.trace');
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));

function run(files: string[], options: Parameters<typeof runReplay>[1] = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runReplay(files, options, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The seed trace with its `@kernel` line naming another architecture. */
function withKernelArch(arch: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mmsim-arch-'));
  const file = join(dir, `${arch}.trace`);
  writeFileSync(file, readFileSync(seed, 'utf8').replace(/^@kernel (.*) arch=\S+$/m, `@kernel $1 arch=${arch}`));
  return file;
}

describe('mmsim replay --arch', () => {
  const text = readFileSync(seed, 'utf8');
  const trace = parseTrace(text, seed);

  it('replays on the named plug-in: what replayTrace gives on that architecture, not x86-64', () => {
    const r = run([seed], { arch: 'riscv64-sv48' });
    expect(r.code).toBe(0);
    const expected = printTrace(trace, replayTrace(trace, { arch: riscv64Sv48 }).results);
    expect(r.out + '\n').toBe(expected);
    // The same calls place mappings differently on RISC-V (no vvar_vclock, its own mmap_base).
    expect(r.out + '\n').not.toBe(text);
    expect(run([seed], { arch: 'x86_64' }).out + '\n').toBe(text);
  });

  it('--check against an x86-64 recording then reports the divergences (exit 1)', () => {
    const r = run([seed], { arch: 'riscv64-sv48', check: true });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/matched \d+ of 14 steps/);
  });

  it("without --arch, uses the trace's @kernel arch= (x86-64 when absent)", () => {
    expect(archFor(trace, undefined, seed)).toBe(x86_64);
    const rv = parseTrace(readFileSync(withKernelArch('riscv64'), 'utf8'), 'rv.trace');
    expect(archFor(rv, undefined, 'rv.trace').name).toBe('riscv64');
    expect(archFor(rv, 'x86_64', 'rv.trace')).toBe(x86_64);
    const noKernel = parseTrace(text.replace(/^@kernel .*\n/m, ''), 'nk.trace');
    expect(noKernel.header.kernel).toBeUndefined();
    expect(archFor(noKernel, undefined, 'nk.trace')).toBe(x86_64);
  });

  it('an unknown name is one clear line and exit 2, from the option or from the trace', () => {
    const r = run([seed], { arch: 'mips' });
    expect(r.code).toBe(2);
    expect(r.err).toBe('--arch mips: unknown architecture (known: x86_64, riscv64, riscv64-sv39, riscv64-sv48, riscv64-sv57; or the path of a module exporting one)');
    const file = withKernelArch('sparc64');
    const t = run([file]);
    expect(t.code).toBe(2);
    const kernelLine = readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith('@kernel')) + 1;
    expect(kernelLine).toBeGreaterThan(1);
    expect(t.err).toMatch(new RegExp(`sparc64\\.trace:${kernelLine}: @kernel arch=sparc64: unknown architecture`));
  });

  it('for a raw strace log replayed with --header, the unknown @kernel arch= is located in the header file', () => {
    const header = withKernelArch('vax');
    const log = join(mkdtempSync(join(tmpdir(), 'mmsim-arch-')), 'prog.strace');
    writeFileSync(log, '4242 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff5000\n');
    const r = run([log], { header });
    expect(r.code).toBe(2);
    const kernelLine = readFileSync(header, 'utf8').split('\n').findIndex((l) => l.startsWith('@kernel')) + 1;
    expect(r.err).toBe(`${header}:${kernelLine}: @kernel arch=vax: unknown architecture (known: x86_64, riscv64, riscv64-sv39, riscv64-sv48, riscv64-sv57; or the path of a module exporting one)`);
  });

  it("a header this architecture cannot hold is refused with the mapping's name (Sv39: 256 GiB of user space)", () => {
    const r = run([seed], { arch: 'riscv64' });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/seed-flags\.trace:1: cannot build the machine: @maps 7ffff\w+-\w+ \S+ lies above riscv64's user address space \(TASK_SIZE 0x4000000000\)/);
  });

  it('a header of another base page size is refused, not replayed with 4 KiB pages', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-page-'));
    const file = join(dir, 'page.trace');
    writeFileSync(file, readFileSync(seed, 'utf8').replace(/page_size=4096/, 'page_size=16384'));
    for (const arch of ['x86_64', 'riscv64-sv48']) {
      const r = run([file], { arch });
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/page\.trace:1: cannot build the machine: @config page_size=16384: \w+ pages are 4096 bytes/);
    }
  });

  it('loads a plug-in from a module path (default or `arch` export) and checks it is an Architecture', async () => {
    expect(await loadArchOption(undefined)).toBeUndefined();
    expect(await loadArchOption('riscv64-sv57')).toBe('riscv64-sv57');
    expect(await loadArchOption(join(fixtures, 'arch-plugin.mjs'))).toBe(riscv64Sv48);
    await expect(loadArchOption(join(fixtures, 'not-an-arch.mjs'))).rejects.toThrow(
      /its export is not an Architecture: it lacks hugePageSizes \(function\), defaultHugePageShift \(function\), addressSpace \(object\), mmu \(object\), createPageTable \(function\), protectionBits \(function\), describeLeaf \(function\)/,
    );
    await expect(loadArchOption(join(fixtures, 'none.mjs'))).rejects.toBeInstanceOf(UsageError);
    await expect(loadArchOption('sh4')).rejects.toThrow(/--arch sh4: unknown architecture/);
    await expect(loadArchOption('toString')).rejects.toThrow(/--arch toString: unknown architecture/);
    expect(run([withKernelArch('constructor')]).code).toBe(2);
  });

  it('pagetable --arch walks the plug-in\'s tables', () => {
    const out: string[] = [];
    const code = runPagetable(seed, { arch: 'riscv64-sv48' }, { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(code).toBe(0);
    expect(out[0]).toMatch(/: riscv64, 4-level page tables$/);
  });

  it('the command line takes a module path and prints the same as the built-in name', () => {
    const viaModule = spawnSync(process.execPath, [bin, 'replay', '--arch', join(fixtures, 'arch-plugin.mjs'), seed], { encoding: 'utf8', timeout: 60_000 });
    const viaName = spawnSync(process.execPath, [bin, 'replay', '--arch', 'riscv64-sv48', seed], { encoding: 'utf8', timeout: 60_000 });
    expect(viaModule.status).toBe(0);
    expect(viaModule.stdout).toBe(viaName.stdout);
    const bad = spawnSync(process.execPath, [bin, 'replay', '--arch', join(fixtures, 'not-an-arch.mjs'), seed], { encoding: 'utf8', timeout: 60_000 });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/not-an-arch\.mjs: its export is not an Architecture/);
  });
});
