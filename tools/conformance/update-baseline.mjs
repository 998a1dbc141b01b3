#!/usr/bin/env node
// Rewrites tools/conformance/known-divergences.json from a fresh replay of every
// golden trace. The list may only shrink: a step that is not already listed
// is reported and the file is left unchanged (fix the model instead), unless
// --init is given to create the first baseline.
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { basename, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readdirSync } from 'node:fs';
import { replayTrace } from '@mmsim/machine';
import { compareResults, parseTrace } from '@mmsim/trace';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const out = resolve(root, 'tools/conformance/known-divergences.json');
const dirs = [resolve(root, 'conformance')]; // conformance/given (the given set) and the project's own
const init = process.argv.includes('--init');
const old = existsSync(out) ? JSON.parse(readFileSync(out, 'utf8')) : {};
const next = {};
let grew = 0;
let m = 0;
let t = 0;
/** Every .trace below `dir`, subfolders included (as the conformance test reads them). */
function traceFiles(dir) {
  if (!existsSync(dir)) return [];
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [
    ...entries.filter((e) => e.isFile() && e.name.endsWith('.trace')).map((e) => resolve(dir, e.name)),
    ...entries.filter((e) => e.isDirectory()).flatMap((e) => traceFiles(resolve(dir, e.name))),
  ];
}

for (const dir of dirs) {
  for (const file of traceFiles(dir)) {
    const f = basename(file);
    const trace = parseTrace(readFileSync(file, 'utf8'), file);
    const cmp = compareResults(trace, replayTrace(trace).results);
    m += cmp.matched;
    t += cmp.total;
    const lines = cmp.divergences.map((d) => d.pos.line);
    const known = new Set(old[basename(f)] ?? []);
    const added = lines.filter((l) => !known.has(l));
    if (added.length && !init) {
      grew += added.length;
      console.error(`${f}: ${added.length} new divergent steps (lines ${added.slice(0, 10).join(', ')}${added.length > 10 ? ', …' : ''})`);
    }
    if (lines.length) next[basename(f)] = lines;
  }
}
console.log(`matched ${m} of ${t} steps`);
if (grew) {
  console.error('baseline not written: it may only shrink');
  process.exit(1);
}
writeFileSync(out, JSON.stringify(next, null, 1) + '\n');
console.log(`wrote ${out}`);
