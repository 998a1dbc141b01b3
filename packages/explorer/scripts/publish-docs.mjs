#!/usr/bin/env node
// Copy the built explorer page (packages/explorer/dist, from `vite build`)
// into the documentation site, beside the API reference:
//
//   node packages/explorer/scripts/publish-docs.mjs [DEST]     (DEST: docs/explorer)
//
// The page links to ../api/index.html, TypeDoc's output in docs/api. What was
// in DEST before is removed, except the .gitignore that keeps the built page
// out of git. Exits 1 if the page has not been built.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const root = resolve(pkg, '../..');
const dist = join(pkg, 'dist');
const dest = resolve(root, process.argv[2] ?? 'docs/explorer');
const KEEP = new Set(['.gitignore', '.gitkeep']);

if (!existsSync(join(dist, 'index.html'))) {
  console.error(`publish-docs: ${relative(root, dist)}/index.html is missing: build the page first (npx nx run @mmsim/explorer:build)`);
  process.exit(1);
}
mkdirSync(dest, { recursive: true });
for (const name of readdirSync(dest)) if (!KEEP.has(name)) rmSync(join(dest, name), { recursive: true, force: true });
cpSync(dist, dest, { recursive: true });
console.log(`publish-docs: explorer page copied to ${relative(root, dest) || '.'}/ (open ${relative(root, join(dest, 'index.html'))})`);
