#!/usr/bin/env node
// Workspace consistency checks for mmsim (run with `npm run check`).
//
//   (a) no dependency cycles between @mmsim/* packages (package.json
//       dependencies, devDependencies, peerDependencies, optionalDependencies);
//   (b) every @mmsim/* package a package's src/ imports is declared in its
//       package.json "dependencies", and its tsconfig.lib.json "references"
//       name exactly the packages of its @mmsim/* dependencies;
//   (c) generic code — base, mm-core, fs, syscalls, trace, and the
//       architecture contract (packages/arch/src/contract and the
//       @mmsim/arch entry point packages/arch/src/index.ts) — never imports
//       the x86-64 plug-in ('@mmsim/arch/x86-64' or a file under
//       packages/arch/src/x86-64);
//   (d) every `export function|class|abstract class|interface|const|let|type|enum`
//       in packages/*/src is preceded by a `/** ... */` doc comment
//       (decorators may stand between the comment and the declaration);
//   (e) the root tsconfig.json references every package's tsconfig.lib.json.
//
// Usage: node tools/check-workspace.mjs [WORKSPACE_ROOT]
// Prints `FILE:LINE: problem` (or `FILE: problem`) per finding, paths relative
// to the workspace root, and exits 1 if anything was found, 0 otherwise.

import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCOPE = '@mmsim/';
/** Packages whose whole src/ is generic (must not see an architecture plug-in). */
const GENERIC_PACKAGES = ['base', 'mm-core', 'fs', 'syscalls', 'trace'];
/** Generic parts of the arch package: the contract directory and the package entry point. */
const GENERIC_ARCH_PATHS = ['packages/arch/src/contract', 'packages/arch/src/index.ts'];
/** The x86-64 plug-in: its subpath export and its source/build directories. */
const X86_SPECIFIER = /^@mmsim\/arch\/(?:.*\/)?x86-64(?:\/|$)/;
const X86_DIRS = ['packages/arch/src/x86-64', 'packages/arch/dist/x86-64'];

const DEP_FIELDS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'];
const DOC_EXPORT = /^export\s+(?:default\s+)?(?:declare\s+)?(?:async\s+)?(function\b|abstract\s+class\b|class\b|interface\b|const\b|let\b|var\b|type\b|enum\b)/;

/** Strip a leading BOM and parse JSON with comments (tsconfig files allow them). */
function readJson(file) {
  const text = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  try {
    return JSON.parse(text);
  } catch {
    // Drop // and /* */ comments outside strings, then trailing commas.
    let out = '';
    for (let i = 0; i < text.length; i++) {
      const c = text[i];
      if (c === '"') {
        let j = i + 1;
        while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
        out += text.slice(i, j + 1);
        i = j;
      } else if (c === '/' && text[i + 1] === '/') {
        while (i < text.length && text[i] !== '\n') i++;
        out += '\n';
      } else if (c === '/' && text[i + 1] === '*') {
        i = text.indexOf('*/', i + 2) + 1;
        if (i === 0) break;
      } else out += c;
    }
    return JSON.parse(out.replace(/,(\s*[}\]])/g, '$1'));
  }
}

/** All .ts/.mts/.tsx files below `dir` (no .d.ts), sorted. */
function sourceFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) {
        if (name !== 'node_modules' && name !== 'dist') walk(p);
      } else if (/\.(?:m?ts|tsx)$/.test(name) && !/\.d\.m?ts$/.test(name)) out.push(p);
    }
  };
  walk(dir);
  return out;
}

/**
 * Module specifiers of a TypeScript file with their line numbers: static
 * imports and re-exports (also multi-line, type-only, side-effect only) and
 * dynamic `import('…')`. Lines inside comments are skipped.
 */
export function importsOf(text) {
  const found = [];
  const lineAt = (index) => text.slice(0, index).split('\n').length;
  const masked = maskComments(text);
  const patterns = [
    /^[ \t]*(?:import|export)\b[^'";]*?\bfrom\s*(['"])([^'"]+)\1/gm,
    /^[ \t]*import\s*(['"])([^'"]+)\1/gm,
    /\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
    /\brequire\s*\(\s*(['"])([^'"]+)\1\s*\)/g,
  ];
  for (const re of patterns) {
    for (const m of masked.matchAll(re)) found.push({ spec: m[2], line: lineAt(m.index + m[0].lastIndexOf(m[2])) });
  }
  return found.sort((a, b) => a.line - b.line);
}

/** Replace the contents of comments with spaces (line breaks kept), leaving strings intact. */
function maskComments(text) {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '/' && text[i + 1] === '/') {
      const end = text.indexOf('\n', i);
      const stop = end < 0 ? text.length : end;
      out += ' '.repeat(stop - i);
      i = stop;
    } else if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      const stop = end < 0 ? text.length : end + 2;
      out += text.slice(i, stop).replace(/[^\n]/g, ' ');
      i = stop;
    } else if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== c && !(c !== '`' && text[j] === '\n')) j += text[j] === '\\' ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The package name a bare specifier refers to (`@mmsim/arch/x86-64` → `@mmsim/arch`). */
function packageOfSpecifier(spec) {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:')) return null;
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * Lines `export …` declarations without a preceding `/** … *\/` doc comment,
 * as 1-based line numbers. Decorator lines between the comment and the
 * declaration are allowed; blank lines and `//` comments are not.
 */
export function undocumentedExports(text) {
  const lines = text.split(/\r?\n/);
  const missing = [];
  let inBlockComment = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const wasInComment = inBlockComment;
    // Track block comments so that `export …` inside a comment is not a declaration.
    let scan = line;
    let open = wasInComment;
    while (scan.length) {
      if (open) {
        const end = scan.indexOf('*/');
        if (end < 0) {
          scan = '';
        } else {
          open = false;
          scan = scan.slice(end + 2);
        }
      } else {
        const start = scan.indexOf('/*');
        if (start < 0) scan = '';
        else {
          open = true;
          scan = scan.slice(start + 2);
        }
      }
    }
    inBlockComment = open;
    if (wasInComment || !DOC_EXPORT.test(line)) continue;
    let j = i - 1;
    while (j >= 0 && /^\s*@[\w.]+(?:\(.*\))?\s*$/.test(lines[j])) j--; // decorators
    if (j < 0 || !/\*\/\s*$/.test(lines[j])) {
      missing.push(i + 1);
      continue;
    }
    // Walk up to the comment's opening and require `/**`.
    let k = j;
    while (k >= 0 && !lines[k].includes('/*')) k--;
    const opening = k >= 0 ? lines[k].slice(lines[k].lastIndexOf('/*')) : '';
    if (!opening.startsWith('/**') || opening.startsWith('/**/')) missing.push(i + 1);
  }
  return missing;
}

/** Find the cycles of a directed graph (each reported once, from its smallest node). */
function findCycles(graph) {
  const cycles = [];
  const seen = new Set();
  const state = new Map(); // 1 = on stack, 2 = done
  const stack = [];
  const visit = (node) => {
    state.set(node, 1);
    stack.push(node);
    for (const next of [...(graph.get(node) ?? [])].sort()) {
      if (!graph.has(next)) continue;
      if (state.get(next) === 1) {
        const cycle = stack.slice(stack.indexOf(next));
        const rot = cycle.indexOf([...cycle].sort()[0]);
        const canonical = [...cycle.slice(rot), ...cycle.slice(0, rot)];
        const key = canonical.join(' -> ');
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push([...canonical, canonical[0]]);
        }
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 2);
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}

/** Run every check on the workspace at `root`; returns the problems as printable lines. */
export function checkWorkspace(root) {
  const problems = [];
  const rel = (p) => path.relative(root, p).split(path.sep).join('/');
  const report = (file, line, message) => problems.push(line ? `${rel(file)}:${line}: ${message}` : `${rel(file)}: ${message}`);

  const packagesDir = path.join(root, 'packages');
  const pkgs = [];
  for (const dirName of existsSync(packagesDir) ? readdirSync(packagesDir).sort() : []) {
    const dir = path.join(packagesDir, dirName);
    const manifestFile = path.join(dir, 'package.json');
    if (!existsSync(manifestFile)) continue;
    const manifest = readJson(manifestFile);
    pkgs.push({ dirName, dir, manifestFile, manifest, name: manifest.name });
  }
  const byName = new Map(pkgs.map((p) => [p.name, p]));
  const byDir = new Map(pkgs.map((p) => [path.resolve(p.dir), p]));
  const scoped = (deps) => Object.keys(deps ?? {}).filter((d) => d.startsWith(SCOPE));

  // (a) Dependency cycles.
  const graph = new Map();
  for (const p of pkgs) {
    const deps = new Set();
    for (const field of DEP_FIELDS) for (const d of scoped(p.manifest[field])) deps.add(d);
    graph.set(p.name, deps);
    for (const d of deps) {
      if (!byName.has(d)) report(p.manifestFile, 0, `(a) depends on ${d}, which is not a package of this workspace`);
      if (d === p.name) report(p.manifestFile, 0, `(a) depends on itself`);
    }
  }
  for (const cycle of findCycles(graph)) {
    if (cycle.length > 2) problems.push(`packages: (a) dependency cycle: ${cycle.join(' -> ')}`);
  }

  for (const p of pkgs) {
    const srcDir = path.join(p.dir, 'src');
    const runtimeDeps = new Set(scoped(p.manifest.dependencies));
    const imported = new Map(); // package name -> first place it is imported

    const generic =
      GENERIC_PACKAGES.includes(p.dirName) ? [srcDir] : GENERIC_ARCH_PATHS.filter((g) => g.startsWith(`packages/${p.dirName}/`)).map((g) => path.join(root, g));
    const isGeneric = (file) => generic.some((g) => file === g || file.startsWith(g + path.sep));

    for (const file of sourceFiles(srcDir)) {
      const text = readFileSync(file, 'utf8');
      for (const { spec, line } of importsOf(text)) {
        const pkg = packageOfSpecifier(spec);
        // (b) Imports of @mmsim/* must be declared dependencies.
        if (pkg && pkg.startsWith(SCOPE) && pkg !== p.name) {
          if (!imported.has(pkg)) imported.set(pkg, { file, line });
          if (!runtimeDeps.has(pkg)) {
            const where = DEP_FIELDS.find((f) => f !== 'dependencies' && p.manifest[f]?.[pkg]);
            report(file, line, `(b) imports ${spec}, but ${pkg} is not in ${p.name}'s package.json dependencies${where ? ` (only in ${where})` : ''}`);
          }
        }
        // (c) Generic code never sees the x86-64 plug-in.
        if (isGeneric(file)) {
          let x86 = X86_SPECIFIER.test(spec);
          if (!x86 && spec.startsWith('.')) {
            const target = path.resolve(path.dirname(file), spec);
            x86 = X86_DIRS.some((d) => {
              const abs = path.join(root, d);
              return target === abs || target.startsWith(abs + path.sep);
            });
          }
          if (x86) report(file, line, `(c) generic code imports the x86-64 plug-in (${spec}); import the contract from '@mmsim/arch'`);
        }
      }
      // (d) Exported declarations carry a doc comment.
      for (const line of undocumentedExports(text)) report(file, line, `(d) exported declaration without a /** ... */ doc comment`);
    }

    // (b) tsconfig.lib.json references = the @mmsim/* dependencies.
    const tsconfigFile = path.join(p.dir, 'tsconfig.lib.json');
    if (!existsSync(tsconfigFile)) {
      report(p.dir, 0, '(b) has no tsconfig.lib.json');
      continue;
    }
    const refs = new Map();
    for (const ref of readJson(tsconfigFile).references ?? []) {
      const target = path.resolve(p.dir, ref.path);
      const targetDir = target.endsWith('.json') ? path.dirname(target) : target;
      const refPkg = byDir.get(targetDir);
      if (!refPkg) {
        report(tsconfigFile, 0, `(b) references ${ref.path}, which is not a workspace package`);
        continue;
      }
      if (target.endsWith('.json') && !existsSync(target)) report(tsconfigFile, 0, `(b) references ${ref.path}, which does not exist`);
      refs.set(refPkg.name, ref.path);
    }
    for (const dep of [...runtimeDeps].sort()) {
      if (!refs.has(dep) && byName.has(dep)) {
        report(tsconfigFile, 0, `(b) ${dep} is in package.json dependencies but not in tsconfig.lib.json references (add { "path": "../${byName.get(dep).dirName}/tsconfig.lib.json" }${imported.has(dep) ? '' : ', or drop the unused dependency'})`);
      }
    }
    for (const [refName, refPath] of [...refs].sort()) {
      if (!runtimeDeps.has(refName)) report(tsconfigFile, 0, `(b) references ${refPath} (${refName}), which is not in package.json dependencies`);
    }
  }

  // (e) The root solution tsconfig builds every package.
  const rootTsconfig = path.join(root, 'tsconfig.json');
  if (existsSync(rootTsconfig)) {
    const listed = new Set((readJson(rootTsconfig).references ?? []).map((r) => path.resolve(root, r.path)));
    for (const p of pkgs) {
      const lib = path.resolve(p.dir, 'tsconfig.lib.json');
      if (existsSync(lib) && !listed.has(lib) && !listed.has(path.resolve(p.dir))) {
        report(rootTsconfig, 0, `(e) does not reference ${rel(lib)}`);
      }
    }
  }
  return problems;
}

const isMain = process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const root = path.resolve(process.argv[2] ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '..'));
  const problems = checkWorkspace(root);
  for (const p of problems) console.log(p);
  if (problems.length) {
    console.log(`check-workspace: ${problems.length} problem${problems.length === 1 ? '' : 's'} found`);
    process.exit(1);
  }
  console.log('check-workspace: ok (no cycles, imports declared, references in sync, generic code arch-neutral, exports documented)');
}
