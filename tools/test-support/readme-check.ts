// Keeps the package README's TypeScript example and its copy in
// readme-example.test.ts in step: same code line for line (imports aside,
// since the test imports from ../src), and the README's imports name only
// things the packages export.
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

const START = '// --- copied from README.md ---';
const END = '// --- end of the copy ---';

/** The README next to the test folder. */
export function readReadme(testUrl: string): string {
  return readFileSync(new URL('../README.md', testUrl), 'utf8');
}

/** The first ```ts block of a README. */
export function readmeExample(readme: string): string {
  const m = /```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no ```ts example');
  return m[1]!;
}

/** The code between the copy markers of a test file. */
export function testCopy(testUrl: string): string {
  const self = readFileSync(new URL(testUrl), 'utf8');
  const start = self.indexOf(START);
  const end = self.indexOf(END, start);
  if (start < 0 || end < 0) throw new Error(`${testUrl}: no "${START}" … "${END}" block`);
  return self.slice(start + START.length, end);
}

/** The lines that must agree: trimmed, non-empty, import statements dropped. */
export function codeLines(code: string): string[] {
  return code
    .replace(/^import\b[^;]*;/gm, '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '');
}

/** The value names an example imports, by module specifier (`type` imports left out). */
export function exampleImports(code: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of code.matchAll(/^import\s+(type\s+)?\{([^}]*)\}\s+from\s+'([^']+)';/gm)) {
    if (m[1]) continue;
    const names = m[2]!
      .split(',')
      .map((n) => n.trim())
      .filter((n) => n !== '' && !n.startsWith('type '))
      .map((n) => n.split(/\s+as\s+/)[0]!);
    out.set(m[3]!, [...(out.get(m[3]!) ?? []), ...names]);
  }
  return out;
}

/**
 * The two checks every README example test makes: the README still shows
 * `distinctiveLine` and exactly the test's copy of the code, and the
 * README's imports name only things the packages export.
 */
export function readmeSyncTests(testUrl: string, distinctiveLine: string): void {
  it('shows the code of this test', () => {
    const readme = readReadme(testUrl);
    expect(readme).toContain(distinctiveLine);
    expect(codeLines(testCopy(testUrl))).toEqual(codeLines(readmeExample(readme)));
  });

  it('imports only names the packages export', async () => {
    const imports = exampleImports(readmeExample(readReadme(testUrl)));
    expect(imports.size).toBeGreaterThan(0);
    for (const [specifier, names] of imports) {
      const mod = (await import(/* @vite-ignore */ specifier)) as Record<string, unknown>;
      for (const name of names) expect(mod[name], `${specifier} exports ${name}`).toBeDefined();
    }
  });
}
