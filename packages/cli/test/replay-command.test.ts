// The replay command as a user meets it: exit codes, one-line errors naming
// FILE:LINE, --check scores, --out-dir, and raw strace logs replayed from a
// given header.
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runReplay } from '../src/index.js';

const conformance = fileURLToPath(new URL('../../../conformance/given/', import.meta.url));
const seed = join(conformance, 'seed-flags.trace');

function run(files: string[], options: Parameters<typeof runReplay>[1] = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runReplay(files, options, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('mmsim replay', () => {
  it('--check matches a golden trace and exits 0', () => {
    const r = run([seed], { check: true });
    expect(r.code).toBe(0);
    expect(r.out).toContain('matched 14 of 14 steps');
  });

  it('prints a golden trace back unchanged', () => {
    const r = run([seed]);
    expect(r.out + '\n').toBe(readFileSync(seed, 'utf8'));
  });

  it('--check exits 1 and names the step on a divergence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-'));
    const bad = join(dir, 'bad.trace');
    writeFileSync(bad, readFileSync(seed, 'utf8').replace('= 0x7ffff7ff6000', '= 0x7ffff7ff7000'));
    const r = run([bad], { check: true });
    expect(r.code).toBe(1);
    expect(r.out).toMatch(/bad\.trace:\d+: mmap\(NULL, 4096/);
  });

  it('a malformed file gives one FILE:LINE line and exit 2', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-'));
    const bad = join(dir, 'broken.trace');
    writeFileSync(bad, '# mmsim-trace 1\n@maps\n@end\nfrobnicate(1) = 0\n');
    const r = run([bad], { check: true });
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^.*broken\.trace:4: /);
    expect(r.err.split('\n')).toHaveLength(1);
  });

  it('a missing file and a directory are clear errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-'));
    expect(run([join(dir, 'nope.trace')]).err).toMatch(/nope\.trace:0: cannot read/);
    expect(run([dir]).err).toMatch(/is a directory/);
  });

  it('--out-dir writes the replayed trace under the same name', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-'));
    mkdirSync(join(dir, 'out'));
    expect(run([seed], { outDir: join(dir, 'out') }).code).toBe(0);
    expect(readFileSync(join(dir, 'out', 'seed-flags.trace'), 'utf8')).toBe(readFileSync(seed, 'utf8'));
  });

  it('replays a raw strace log from a given header', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mmsim-'));
    const log = join(dir, 'prog.strace');
    writeFileSync(
      log,
      [
        '4242 mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7ffff7ff5000',
        '4242 mprotect(0x7ffff7ff5000, 4096, PROT_READ) = 0',
        '4242 brk(NULL) = 0x9e2000',
        '4242 munmap(0x7ffff7ff5000, 8192) = 0',
        '4242 +++ exited with 0 +++',
      ].join('\n') + '\n',
    );
    const r = run([log], { check: true, header: seed });
    expect(r.out).toContain('matched 4 of 4 steps');
    expect(r.code).toBe(0);
  });

  it('--explain shows the modelled kernel functions of the seed path', () => {
    const r = run([join(conformance, 'seed-anon-hugetlb.trace')], { explain: true });
    for (const fn of ['ksys_mmap_pgoff', 'hugetlb_file_setup', 'vm_mmap_pgoff', 'do_mmap', 'get_unmapped_area', 'mmap_region', 'hugetlbfs_file_mmap', 'hugetlb_reserve_pages']) {
      expect(r.out).toContain(fn + '(');
    }
  });
});
