/**
 * End-to-end: the built page in a real, headless Chromium (Debian's
 * /usr/bin/chromium driven by playwright-core), served from dist/ by a tiny
 * HTTP server on 127.0.0.1, with every other request blocked.
 *
 * Without Chromium the test is skipped, and says so on the console; with
 * MMSIM_E2E_REQUIRED=1 (CI) it fails instead.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserContext, Page } from 'playwright-core';
import { runReplay } from '@mmsim/cli';
import { X86PageTable } from '@mmsim/arch/x86-64';
import { replayTrace } from '@mmsim/machine';
import { formatMapsLine, parseTrace, type MapsLine } from '@mmsim/trace';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const dist = join(pkg, 'dist');
const walkthrough = resolve(pkg, '../cli/scenarios/seed-walkthrough.trace');
const screenshot = join(pkg, 'test-results', 'explorer.png');
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const hasChromium = existsSync(CHROMIUM);

/** Set where Chromium must be there (CI installs it): then its absence fails instead of skipping. */
const REQUIRED = process.env['MMSIM_E2E_REQUIRED'] === '1';
const MISSING =
  `Chromium is not installed at ${CHROMIUM}, so the page was not tested in a browser. ` +
  'Install it with `apt-get install -y chromium` (or set CHROMIUM_PATH).';

if (!hasChromium) console.warn(`explorer e2e: ${REQUIRED ? 'FAILED' : 'SKIPPED'}: ${MISSING}`);

if (!hasChromium && REQUIRED) {
  it('needs Chromium (MMSIM_E2E_REQUIRED=1)', () => {
    throw new Error(MISSING);
  });
}

/** The newest modification time below `dir` (files only). */
function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((n) => newest(join(path, n))));
}

/** Build the page unless dist/ is newer than everything it is built from. */
async function ensureBuilt(): Promise<void> {
  const index = join(dist, 'index.html');
  const inputs = [join(pkg, 'src'), join(pkg, 'index.html'), join(pkg, 'vite.config.ts'), join(pkg, 'scripts')];
  if (existsSync(index) && statSync(index).mtimeMs >= Math.max(...inputs.map(newest))) return;
  const { build } = await import('vite');
  await build({ root: pkg, configFile: join(pkg, 'vite.config.ts'), logLevel: 'warn' });
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/** Serve dist/ on 127.0.0.1 (a free port). */
function serve(): Promise<{ server: Server; base: string }> {
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const file = normalize(join(dist, path === '/' ? 'index.html' : path));
    if (!file.startsWith(dist) || !existsSync(file) || statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' }).end(readFileSync(file));
  });
  return new Promise((ok) =>
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address();
      ok({ server, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` });
    }),
  );
}

/** The lines of the last `@maps … @end` block `mmsim replay` prints for `file`. */
function cliFinalMaps(file: string): string {
  let out = '';
  expect(runReplay([file], {}, { out: (t) => (out += t + '\n'), err: (t) => (out += t + '\n') })).toBe(0);
  const lines = out.split('\n');
  const start = lines.lastIndexOf('@maps');
  const end = lines.indexOf('@end', start);
  return lines.slice(start + 1, end).join('\n');
}

describe('the explorer page in Chromium', () => {
  let server: Server | undefined;
  let base = '';
  let context: BrowserContext | undefined;
  let userDataDir = '';
  const blocked: string[] = [];
  const errors: string[] = [];

  beforeAll(async () => {
    if (!hasChromium) return;
    await ensureBuilt();
    ({ server, base } = await serve());
    const { chromium } = await import('playwright-core');
    userDataDir = mkdtempSync(join(tmpdir(), 'mmsim-explorer-chromium-'));
    // playwright passes --headless and --user-data-dir (the fresh directory) itself.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1440, height: 900 },
    });
    // No network: only the test server and local files may be loaded.
    await context.route('**/*', (route) => {
      const url = route.request().url();
      if (url.startsWith(base + '/') || url.startsWith('file:') || url.startsWith('data:')) return route.continue();
      blocked.push(url);
      return route.abort();
    });
  });

  afterAll(async () => {
    await context?.close();
    await new Promise((ok) => (server ? server.close(ok) : ok(undefined)));
    if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  });

  async function openPage(url: string): Promise<Page> {
    const page = await context!.newPage();
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]');
    return page;
  }

  const position = (page: Page): Promise<string | null> => page.getAttribute('body', 'data-position');

  it.skipIf(!hasChromium)(
    'runs the seed walk-through to its end, shows what mmsim replay prints, and walks the page tables of a clicked address',
    async () => {
      const page = await openPage(`${base}/index.html`);
      expect(await page.inputValue('#scenario')).toBe('seed-walkthrough');
      expect(await position(page)).toBe('0');

      // Keyboard only: the focus order starts at the skip link, then the trace picker.
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.className)).toBe('skip');
      await page.keyboard.press('Tab');
      expect(await page.evaluate(() => document.activeElement?.id)).toBe('scenario');
      await page.evaluate(() => (document.activeElement as HTMLElement).blur());

      const text = readFileSync(walkthrough, 'utf8');
      const trace = parseTrace(text, walkthrough);
      const steps = trace.body.filter((i) => i.kind !== 'comment');
      for (let i = 0; i < steps.length; i++) await page.keyboard.press('ArrowRight');
      await page.waitForFunction((n) => document.body.dataset['position'] === String(n), steps.length);
      expect(await page.textContent('#position')).toBe(`step ${steps.length} of ${steps.length}`);
      expect(await page.isDisabled('#next')).toBe(true);

      // The last step is a @maps step: the page shows exactly what `mmsim replay` prints for it ...
      const shownMaps = await page.textContent('#maps-text');
      expect(shownMaps).toBe(cliFinalMaps(walkthrough));
      // ... which is replayTrace's result for that step (currentMaps on the replayed machine).
      const replay = replayTrace(trace);
      const last = steps.at(-1)!;
      expect(last.kind).toBe('maps');
      expect(shownMaps).toBe((replay.results.get(last) as MapsLine[]).map(formatMapsLine).join('\n'));

      // Back is a replay from the start: step 7 is the peek of the shared file mapping.
      for (let i = 0; i < steps.length - 7; i++) await page.keyboard.press('ArrowLeft');
      await page.waitForFunction(() => document.body.dataset['position'] === '7');
      expect(await page.textContent('#current .step-line')).toContain('peek(0x7ffff7ff5000) = 0x5a');
      await page.keyboard.press('End');
      await page.waitForFunction((n) => document.body.dataset['position'] === String(n), steps.length);

      // Click the top of the tmpfs file mapping in the map: its first page.
      const row = page.locator('#map .vma', { hasText: '/dev/shm/mmsim/data' });
      await row.click({ position: { x: 40, y: 2 } });
      const address = BigInt(await page.inputValue('#addr'));
      expect(address).toBe(0x7ffff7ff5000n);
      const rows = page.locator('table.walk tbody tr');
      await expect.poll(() => rows.count()).toBe(4);
      const shown = await rows.evaluateAll((trs) =>
        trs.map((tr) => ({
          level: (tr as HTMLElement).dataset['level'],
          kind: (tr as HTMLElement).dataset['kind'],
          index: Number((tr as HTMLElement).dataset['index']),
          entry: tr.querySelector('code.entry')?.textContent ?? '',
        })),
      );
      // x86-64 4-level paging: PGD, PUD, PMD, PTE, and a 4 KiB page at the end.
      expect(shown.map((r) => r.level)).toEqual(['PGD', 'PUD', 'PMD', 'PTE']);
      expect(shown.map((r) => r.kind)).toEqual(['table', 'table', 'table', 'leaf']);
      const pt = replay.machine.mm.pageTable;
      expect(pt).toBeInstanceOf(X86PageTable);
      const expected = (pt as X86PageTable).walk(Number(address >> 12n));
      expect(shown).toEqual(
        expected.map((s) => ({ level: s.level, kind: s.kind, index: s.index, entry: '0x' + s.entry.toString(16).padStart(16, '0') })),
      );
      expect(await page.textContent('.outcome')).toContain('→ physical 0x');

      mkdirSync(join(pkg, 'test-results'), { recursive: true });
      await page.screenshot({ path: screenshot });
      console.log(`explorer e2e: screenshot saved to ${screenshot}`);
      await page.close();

      expect(errors).toEqual([]);
      expect(blocked).toEqual([]);
    },
  );

  it.skipIf(!hasChromium)('works opened straight from disk (file://), with no server', async () => {
    const url = pathToFileURL(join(dist, 'index.html')).href + '#trace=seed-anon-hugetlb&step=3';
    const page = await openPage(url);
    expect(await page.inputValue('#scenario')).toBe('seed-anon-hugetlb');
    expect(await position(page)).toBe('3');
    expect(await page.locator('#map .vma.hugetlb').count()).toBeGreaterThan(0);
    expect(errors).toEqual([]);
    expect(blocked).toEqual([]);
    // The page's Content-Security-Policy forbids any connection, even to the test server.
    const probe = await page.evaluate((url) => fetch(url).then(() => 'fetched', () => 'refused'), `${base}/index.html`);
    expect(probe).toBe('refused');
    await page.close();
  });
});
