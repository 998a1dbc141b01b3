// Runs tools/check-workspace.mjs on the repository (it must report nothing),
// and on a small broken workspace (it must report every kind of problem), so
// the checker itself cannot silently stop checking.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const script = join(repoRoot, 'tools/check-workspace.mjs');

function runCheck(root?: string): { status: number | null; out: string } {
  const r = spawnSync(process.execPath, root ? [script, root] : [script], { encoding: 'utf8', cwd: repoRoot });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

describe('workspace checks (tools/check-workspace.mjs)', () => {
  it('the repository passes: no cycles, imports declared, references in sync, generic code arch-neutral, exports documented', () => {
    const { status, out } = runCheck();
    expect(out, out).toContain('check-workspace: ok');
    expect(status, out).toBe(0);
  });

  describe('a broken workspace', () => {
    const root = mkdtempSync(join(tmpdir(), 'mmsim-check-'));
    afterAll(() => rmSync(root, { recursive: true, force: true }));

    const write = (rel: string, text: string): void => {
      mkdirSync(dirname(join(root, rel)), { recursive: true });
      writeFileSync(join(root, rel), text);
    };
    const pkg = (dir: string, deps: string[], refs: string[]): void => {
      write(`packages/${dir}/package.json`, JSON.stringify({ name: `@mmsim/${dir}`, version: '0.1.0', dependencies: Object.fromEntries(deps.map((d) => [`@mmsim/${d}`, '0.1.0'])) }));
      write(`packages/${dir}/tsconfig.lib.json`, `// comment\n${JSON.stringify({ references: refs.map((r) => ({ path: `../${r}/tsconfig.lib.json` })) }, null, 2)}\n`);
    };
    pkg('base', [], []);
    pkg('arch', ['base'], ['base']);
    pkg('mm-core', ['arch', 'fs'], ['arch']); // cycle with fs; fs missing from references
    pkg('fs', ['mm-core', 'arch'], ['mm-core', 'arch', 'base']); // base referenced, not a dependency
    pkg('machine', ['arch'], ['arch']);
    write('tsconfig.json', JSON.stringify({ files: [], references: ['base', 'arch', 'mm-core', 'fs'].map((p) => ({ path: `packages/${p}/tsconfig.lib.json` })) }));
    write('packages/base/src/index.ts', ['/** Documented. */', 'export const A = 1;', '', 'export const UNDOCUMENTED = 2;', '/* not a doc comment */', 'export function f(): void {}', '/**', ' * export const INSIDE_A_COMMENT = 3;', ' */', 'export type T = number;', ''].join('\n'));
    write('packages/arch/src/index.ts', "/** The contract. */\nexport * from './contract/index.js';\n");
    write('packages/arch/src/contract/index.ts', "import { X } from '../x86-64/page-table.js';\n/** Leaks the plug-in. */\nexport const Y = X;\n");
    write('packages/arch/src/x86-64/page-table.ts', "/** Plug-in code. */\nexport const X = 1;\n");
    write('packages/mm-core/src/index.ts', ["import type { Z } from '@mmsim/arch/x86-64';", "import {", '  B,', "} from '@mmsim/base';", "// import { C } from '@mmsim/trace';", '/** Uses both. */', 'export const M: Z = B;', ''].join('\n'));
    write('packages/fs/src/index.ts', "import { x } from '@mmsim/mm-core';\n/** Fine. */\n@decorator()\nexport class F {}\n");
    write('packages/machine/src/index.ts', "import { x86_64 } from '@mmsim/arch/x86-64';\n/** The composition root may import the plug-in. */\nexport const arch = x86_64;\n");

    const { status, out } = runCheck(root);
    const lines = out.trim().split('\n');

    it('exits 1 and counts the problems', () => {
      expect(status, out).toBe(1);
      expect(lines.at(-1)).toMatch(/^check-workspace: \d+ problems found$/);
    });
    it('(a) finds the dependency cycle', () => {
      expect(out).toContain('(a) dependency cycle: @mmsim/fs -> @mmsim/mm-core -> @mmsim/fs');
    });
    it('(b) finds undeclared imports and references out of sync', () => {
      expect(out).toContain("packages/mm-core/src/index.ts:4: (b) imports @mmsim/base, but @mmsim/base is not in @mmsim/mm-core's package.json dependencies");
      expect(out).toContain('packages/mm-core/tsconfig.lib.json: (b) @mmsim/fs is in package.json dependencies but not in tsconfig.lib.json references');
      expect(out).toContain('packages/fs/tsconfig.lib.json: (b) references ../base/tsconfig.lib.json (@mmsim/base), which is not in package.json dependencies');
      expect(out).not.toContain('@mmsim/trace'); // commented-out import
    });
    it('(c) finds generic code importing the x86-64 plug-in, and only there', () => {
      expect(out).toContain('packages/mm-core/src/index.ts:1: (c) generic code imports the x86-64 plug-in (@mmsim/arch/x86-64)');
      expect(out).toContain('packages/arch/src/contract/index.ts:1: (c) generic code imports the x86-64 plug-in (../x86-64/page-table.js)');
      expect(out).not.toContain('packages/machine/src/index.ts:1: (c)');
    });
    it('(d) finds exports without a doc comment, by FILE:LINE', () => {
      const d = lines.filter((l) => l.includes('(d)')).map((l) => l.split(': ')[0]);
      expect(d).toEqual(['packages/base/src/index.ts:4', 'packages/base/src/index.ts:6']);
    });
    it('(e) finds a package the root tsconfig.json does not build', () => {
      expect(out).toContain('tsconfig.json: (e) does not reference packages/machine/tsconfig.lib.json');
    });
  });
});
