// Bad input to `mmsim replay` (issue 8, item 3): whatever it is given, the
// command exits non-zero with exactly one line on stderr of the form
// `FILE:LINE: what is wrong`, never a stack trace, and in bounded time.
//
// Two layers: the library entry (`runReplay`) for every case plus a few
// thousand mutated traces (byte flips, truncation, duplicated, swapped and
// deleted lines, from a deterministic PRNG), and the real process
// (`node packages/cli/dist/bin.js replay …`, built by `npm test`) for the
// cases where the process boundary matters (exit code, stderr, time).
import { seededRandom } from '@mmsim/mm-core';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { runReplay } from '../src/index.js';

const conformance = fileURLToPath(new URL('../../../conformance/given/', import.meta.url));
const bin = fileURLToPath(new URL('../dist/bin.js', import.meta.url));
const seedFlags = readFileSync(join(conformance, 'seed-flags.trace'), 'utf8');

const dir = mkdtempSync(join(tmpdir(), 'mmsim-bad-input-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Write `content` to DIR/name and return the path. */
function file(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The one line a malformed input must produce. */
function expectOneLine(stderr: string, path: string): void {
  const lines = stderr.replace(/\n$/, '').split('\n');
  expect(lines, `stderr: ${JSON.stringify(stderr.slice(0, 400))}`).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^${escape(path)}:\\d+: \\S`));
  expect(stderr).not.toMatch(/^\s+at /m);
}

function run(files: string[], check = true): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = runReplay(files, { check }, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out, err };
}

/** Replace the first match of `from` in the seed trace (which must match). */
function seedWith(from: RegExp, to: string): string {
  expect(seedFlags).toMatch(from);
  return seedFlags.replace(from, to);
}

/** The malformed inputs the issue lists, each as [name, make the path]. */
const CASES: ReadonlyArray<readonly [string, () => string]> = [
  ['a missing file', () => join(dir, 'does-not-exist.trace')],
  ['a directory', () => {
    const d = join(dir, 'a-directory.trace');
    mkdirSync(d, { recursive: true });
    return d;
  }],
  ['binary data', () => {
    // Deterministic "random" bytes: every value 0-255, several times over.
    const bytes = Buffer.alloc(4096);
    let x = 0x9e3779b9;
    for (let i = 0; i < bytes.length; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      bytes[i] = x & 0xff;
    }
    return file('binary.trace', bytes);
  }],
  ['a 100 MB line', () => {
    const line = Buffer.alloc(100 * 1024 * 1024, 0x61);
    return file('long-line.trace', Buffer.concat([Buffer.from('# mmsim-trace 1\n'), line, Buffer.from('\n')]));
  }],
  ['an unknown call', () => file('unknown-call.trace', seedWith(/^mmap\(/m, 'frobnicate('))],
  ['a wrong argument count', () => file('arg-count.trace', seedWith(/^mmap\(NULL, 4096, (.*), -1, 0\)/m, 'mmap(NULL, 4096, $1)'))],
  ['a number out of range', () => file('out-of-range.trace', seedWith(/^mmap\(NULL, 4096,/m, 'mmap(NULL, 18446744073709551616,'))],
  ['an unknown @config key', () => file('config-key.trace', seedWith(/^@config /m, '@config bogus_key=1 '))],
  ['an unknown @mount option', () => file('mount-option.trace', seedWith(/^@mount hugetlbfs \/mnt\/mmsim-huge pagesize=2M$/m, '@mount hugetlbfs /mnt/mmsim-huge pagesize=2M bogus=1'))],
  ['a truncated @maps block', () => {
    const end = seedFlags.indexOf('\n@end\n');
    expect(end).toBeGreaterThan(0);
    return file('truncated-maps.trace', seedFlags.slice(0, end + 1));
  }],
];

describe('mmsim replay on bad input (runReplay)', () => {
  for (const [name, make] of CASES) {
    it(`${name}: exit 2 and one FILE:LINE line`, () => {
      const path = make();
      const r = run([path]);
      expect(r.code).toBe(2);
      expect(r.out).toEqual([]);
      expectOneLine(r.err.join('\n'), path);
    });
  }

  it('a mount the model refuses names its @mount line and why', () => {
    const path = file('mount-line.trace', seedWith(/^@mount hugetlbfs \/mnt\/mmsim-huge pagesize=2M$/m, '@mount hugetlbfs /mnt/mmsim-huge pagesize=2M nr_inodes=0'));
    const line = readFileSync(path, 'utf8').split('\n').findIndex((l) => l.includes('nr_inodes=0')) + 1;
    expect(line).toBeGreaterThan(1);
    const r = run([path]);
    expect(r.code).toBe(2);
    expect(r.err).toEqual([`${path}:${line}: cannot build the machine: @mount hugetlbfs /mnt/mmsim-huge: hugetlbfs: nr_inodes=0 leaves no inode for the root directory: Linux refuses the mount (ENOMEM)`]);
  });

  it('names each bad file and still replays the good ones', () => {
    const good = file('good.trace', seedFlags);
    const bad = file('bad-among-good.trace', seedWith(/^@config /m, '@config bogus_key=1 '));
    const r = run([good, bad, good]);
    expect(r.code).toBe(2);
    expect(r.out.filter((l) => /matched 14 of 14 steps/.test(l))).toHaveLength(2);
    expectOneLine(r.err.join('\n'), bad);
  });
});

describe('mmsim replay on bad input (the real process)', () => {
  const hasBin = existsSync(bin);
  const spawned: Array<readonly [string, () => string]> = CASES.filter(([n]) =>
    ['a missing file', 'a directory', 'binary data', 'a 100 MB line', 'an unknown @config key', 'a truncated @maps block', 'a number out of range'].includes(n),
  );
  for (const [name, make] of spawned) {
    it.skipIf(!hasBin)(`${name}: non-zero exit, one FILE:LINE line on stderr, no stack trace, within 20 s`, () => {
      const path = make();
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [bin, 'replay', '--check', path], { encoding: 'utf8', timeout: 30_000 });
      const ms = Date.now() - t0;
      expect(r.error, String(r.error)).toBeUndefined();
      expect(r.signal).toBeNull();
      expect(r.status).toBe(2);
      expect(r.stdout).toBe('');
      expectOneLine(r.stderr, path);
      expect(ms).toBeLessThan(20_000);
    });
  }
});

// ---------------------------------------------------------------- mutated traces

/** A tiny deterministic PRNG (the one the model uses for ASLR). */
const prng = seededRandom;

/** Bytes that make interesting flips: controls, \r, NUL, non-ASCII, syntax characters, digits. */
const INTERESTING = [0x00, 0x0d, 0x09, 0x7f, 0x80, 0xff, 0xc3, 0x28, 0x29, 0x2c, 0x3d, 0x7c, 0x22, 0x23, 0x40, 0x3f, 0x2d, 0x30, 0x39, 0x78, 0x20, 0x0a];

/** One mutation of `src`: a byte flip, a truncation, or a duplicated, swapped or deleted line. */
function mutate(src: Buffer, rnd: () => number): { kind: string; out: Buffer } {
  const int = (n: number): number => Math.floor(rnd() * n);
  const kind = ['flip', 'flip', 'byte', 'truncate', 'duplicate', 'swap', 'delete'][int(7)]!;
  if (kind === 'flip' || kind === 'byte') {
    const out = Buffer.from(src);
    const n = 1 + int(3);
    for (let i = 0; i < n; i++) {
      const at = int(out.length);
      out[at] = kind === 'flip' ? out[at]! ^ (1 << int(8)) : INTERESTING[int(INTERESTING.length)]!;
    }
    return { kind, out };
  }
  if (kind === 'truncate') return { kind, out: src.subarray(0, int(src.length)) };
  const lines = src.toString('latin1').split('\n');
  const i = int(lines.length);
  const j = int(lines.length);
  if (kind === 'duplicate') lines.splice(j, 0, lines[i]!);
  else if (kind === 'swap') [lines[i], lines[j]] = [lines[j]!, lines[i]!];
  else lines.splice(i, 1);
  return { kind, out: Buffer.from(lines.join('\n'), 'latin1') };
}

describe('mmsim replay on mutated traces', () => {
  const sources = ['seed-flags.trace', 'seed-file-mapping.trace', 'seed-anon-hugetlb.trace', 'gen-errors-2.trace']
    .map((n) => join(conformance, n))
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p));
  const COUNT = 3000;

  it(`${COUNT} mutations each replay or fail with exactly one FILE:LINE line, never throwing`, { timeout: 50_000 }, () => {
    expect(sources.length).toBeGreaterThanOrEqual(3);
    const rnd = prng(0x5eed);
    const path = join(dir, 'mutant.trace');
    const outcomes = { replayed: 0, diverged: 0, rejected: 0 };
    for (let n = 0; n < COUNT; n++) {
      let { kind, out } = mutate(sources[n % sources.length]!, rnd);
      // Now and then a second and third mutation on top.
      while (rnd() < 0.3) {
        const m = mutate(out, rnd);
        kind += `+${m.kind}`;
        out = m.out;
      }
      writeFileSync(path, out);
      let r: ReturnType<typeof run>;
      try {
        r = run([path]);
      } catch (e) {
        throw new Error(`mutation ${n} (${kind}) threw: ${(e as Error).stack}\n--- input ---\n${out.toString('latin1').slice(0, 2000)}`);
      }
      const where = `mutation ${n} (${kind}): exit ${r.code}, stderr ${JSON.stringify(r.err)}`;
      if (r.code === 2) {
        expect(r.err, where).toHaveLength(1);
        expect(r.err[0], where).toMatch(new RegExp(`^${escape(path)}:\\d+: \\S`));
        expect(r.err[0], where).not.toMatch(/\n/);
        outcomes.rejected++;
      } else {
        expect([0, 1], where).toContain(r.code);
        expect(r.err, where).toEqual([]);
        if (r.code === 0) outcomes.replayed++;
        else outcomes.diverged++;
      }
    }
    process.stdout.write(`mutated traces: ${outcomes.replayed} replayed and matched, ${outcomes.diverged} replayed with divergences, ${outcomes.rejected} rejected with one FILE:LINE line\n`);
    // The mutations reach all three outcomes.
    expect(outcomes.rejected).toBeGreaterThan(COUNT / 10);
    expect(outcomes.replayed + outcomes.diverged).toBeGreaterThan(COUNT / 20);
  });
});

describe('mmsim replay into a reader that stops early', () => {
  it('ends quietly when the pipe closes (`mmsim replay … | head -1`): exit 0, no EPIPE stack trace', { timeout: 60_000 }, () => {
    if (!existsSync('/bin/bash')) return;
    // Every conformance trace: far more output than a pipe buffer, so the writer hits the closed pipe.
    const traces = join(conformance, '*.trace');
    const r2 = spawnSync('/bin/bash', ['-c', `"${process.execPath}" "${bin}" replay ${traces} | head -1 >/dev/null; echo "\${PIPESTATUS[0]}"`], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r2.stderr).toBe('');
    expect(r2.stdout.trim()).toBe('0');
  });
});
