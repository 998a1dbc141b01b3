// `mmsim pagetable`: the walk for one address after a replay (to the end or a
// step), the summary of every VMA, the pagemap line, and one-line errors.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runPagetable, type PagetableCommandOptions } from '../src/index.js';

const shared = fileURLToPath(new URL('../../../conformance/given/', import.meta.url));
const own = fileURLToPath(new URL('../../../conformance/la57/', import.meta.url));
const seed = join(shared, 'seed-flags.trace');

function run(file: string, options: PagetableCommandOptions = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runPagetable(file, options, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('mmsim pagetable', () => {
  it('walks one address after the whole trace: every level, the leaf, the pagemap entry', () => {
    const r = run(seed, { addr: '0x7ffff7ff1000' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('after step 14 of 14: x86_64, 4-level page tables');
    expect(r.out).toMatch(/^VMA 7ffff7ff1000-7ffff7ff5000 r-xp 00000000 .*\/dev\/shm\/mmsim\/lib$/m);
    expect(r.out).toMatch(/^PGD\[255\] +table 0x[0-9a-f]{13}067  PRESENT\|RW\|USER\|ACCESSED\|DIRTY/m);
    expect(r.out).toMatch(/^ {2}PUD\[511\] +table /m);
    expect(r.out).toMatch(/^ {4}PMD\[447\] +table /m);
    // A private read-only exec page of a file: the page-cache page, no NX.
    expect(r.out).toMatch(/^ {6}PTE\[497\] +leaf  0x[0-9a-f]{13}025  PRESENT\|USER\|ACCESSED /m);
    expect(r.out).toMatch(/^leaf: pte 0x[0-9a-f]{16} pfn 0x[0-9a-f]+ 4K PRESENT\|USER\|ACCESSED$/m);
    expect(r.out).toMatch(/^pagemap: present pfn 0x[0-9a-f]+ file PM_FILE PM_MMAP_EXCLUSIVE( PM_SOFT_DIRTY)? \(raw 0x[ab]1/m);
  });

  it('stops at a step: before the file is mapped there is no leaf', () => {
    const atLine = run(seed, { addr: '0x7ffff7ff1000', atLine: '31' });
    expect(atLine.code).toBe(0);
    expect(atLine.out).toContain('after step 2 of 14');
    expect(atLine.out).toContain('VMA none');
    expect(atLine.out).toContain('leaf: none');
    expect(atLine.out).toMatch(/pagemap: not present/);
    expect(run(seed, { addr: '0x7ffff7ff1000', atStep: '2' }).out).toBe(atLine.out);
  });

  it('shows a 5-level walk with a 2 MiB leaf high in the 56-bit space', () => {
    const r = run(join(own, 'va-high-addr-switch.la57-1.trace'), { addr: '0xfffffff7c01234' });
    expect(r.code).toBe(0);
    expect(r.out).toContain('5-level page tables');
    expect(r.out).toMatch(/^PGD\[255\] +table/m);
    expect(r.out).toMatch(/^ {2}P4D\[511\] +table/m);
    expect(r.out).toMatch(/^ {6}PMD\[446\] +leaf .*\|PSE\|NX/m);
    expect(r.out).toMatch(/^leaf: pmd .* 2M /m);
    expect(r.out).toMatch(/^pagemap: present pfn 0x[0-9a-f]+ hugetlb PM_MMAP_EXCLUSIVE/m);
  });

  it('summarises every VMA as a tree, sharing the upper levels between leaves', () => {
    const r = run(seed, { maxLeaves: '2' });
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^7ffff7fed000-7ffff7ff1000 r--p 00004000 .*lib\n {2}4 pages, 4 mapped \(4 x 4K\)/m);
    const block = r.out.split('\n7ffff7ff1000-')[0]!.split('7ffff7fed000-7ffff7ff1000')[1]!;
    expect(block.match(/PGD\[/g)).toHaveLength(1); // printed once for both leaves
    expect(block.match(/PTE\[/g)).toHaveLength(2);
    expect(block).toContain('... and 2 more leaves');
    expect(r.out).toMatch(/page-table pages: \d+$/);
  });

  it('fails with exit code 2 and one line on bad input', () => {
    expect(run('/nonexistent.trace')).toMatchObject({ code: 2, err: '/nonexistent.trace:0: cannot read: no such file' });
    expect(run(seed, { atStep: '99' })).toMatchObject({ code: 2 });
    expect(run(seed, { atLine: '20' }).err).toMatch(/:20: no step starts on this line/);
    expect(run(seed, { addr: 'zz' }).err).toMatch(/--addr 'zz' is not a number/);
    expect(run(seed, { atStep: '1', atLine: '31' }).code).toBe(2);
  });
});
