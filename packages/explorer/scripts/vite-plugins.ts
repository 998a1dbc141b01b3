/**
 * Build-time helpers for the explorer page (Node side, used by vite.config.ts):
 *
 * - `scenariosPlugin`: the virtual module `virtual:mmsim-scenarios`, the
 *   traces the page bundles, read from disk when the page is built;
 * - `classicScriptPlugin`: the built page loads its one script as a classic
 *   deferred script instead of a module, so `dist/index.html` also works
 *   opened straight from disk (`file://`), where browsers refuse module
 *   scripts; and it gets a Content-Security-Policy that forbids any network
 *   connection.
 */
import { existsSync, readFileSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Plugin } from 'vite';

/** One bundled trace, as the page receives it. */
export interface BundledScenario {
  readonly id: string;
  readonly title: string;
  readonly group: string;
  /** Where it comes from, relative to the workspace root. */
  readonly source: string;
  readonly text: string;
}

/** The golden traces bundled by default (one of each generated profile but `scale`, and every seed trace). */
export const DEFAULT_CONFORMANCE_TRACES = [
  'seed-file-mapping',
  'seed-anon-hugetlb',
  'seed-anon-hugetlb-1g',
  'seed-flags',
  'gen-basic-1',
  'gen-hugetlb-1',
  'gen-mixed-1',
  'gen-legacy-1',
];

const VIRTUAL_ID = 'virtual:mmsim-scenarios';
const RESOLVED_ID = '\0' + VIRTUAL_ID;

/**
 * `workspaceRoot`: the mmsim checkout. Traces: the seed walk-through, then
 * the conformance traces named by `MMSIM_EXPLORER_TRACES` (comma-separated
 * names without `.trace`) or {@link DEFAULT_CONFORMANCE_TRACES}.
 */
export function scenariosPlugin(workspaceRoot: string): Plugin {
  const conformance = resolve(workspaceRoot, 'conformance/given');
  const walkthrough = resolve(workspaceRoot, 'packages/cli/scenarios/seed-walkthrough.trace');
  const names = (process.env['MMSIM_EXPLORER_TRACES'] ?? DEFAULT_CONFORMANCE_TRACES.join(','))
    .split(',')
    .map((n) => n.trim().replace(/\.trace$/, ''))
    .filter(Boolean);
  return {
    name: 'mmsim-scenarios',
    resolveId(id) {
      return id === VIRTUAL_ID ? RESOLVED_ID : undefined;
    },
    load(id) {
      if (id !== RESOLVED_ID) return undefined;
      const scenarios: BundledScenario[] = [];
      const add = (file: string, group: string, title: string): void => {
        this.addWatchFile(file);
        scenarios.push({
          id: basename(file, '.trace'),
          title,
          group,
          source: file.startsWith(workspaceRoot) ? file.slice(workspaceRoot.length + 1) : basename(file),
          text: readFileSync(file, 'utf8'),
        });
      };
      add(walkthrough, 'Scenario', 'Seed walk-through (ksys_mmap_pgoff)');
      for (const name of names) {
        const file = resolve(conformance, `${name}.trace`);
        if (!existsSync(file)) {
          this.warn(`${file} not found: not bundled`);
          continue;
        }
        add(file, name.startsWith('seed-') ? 'Golden: seed traces' : 'Golden: generated traces', name);
      }
      return `export default ${JSON.stringify(scenarios)};`;
    },
  };
}

/** The built page may fetch nothing: no fetch, XHR, WebSocket or beacon, to any address. */
const NO_NETWORK = `<meta http-equiv="Content-Security-Policy" content="connect-src 'none'" />`;

/** Turn the module script Vite writes into `index.html` into a classic deferred one (the bundle is an IIFE). */
export function classicScriptPlugin(): Plugin {
  return {
    name: 'mmsim-classic-script',
    apply: 'build',
    enforce: 'post',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        return html
          .replace(/<script type="module" crossorigin src=/g, '<script defer src=')
          .replace(/<link rel="stylesheet" crossorigin href=/g, '<link rel="stylesheet" href=')
          .replace('<meta charset="utf-8" />', `<meta charset="utf-8" />\n    ${NO_NETWORK}`);
      },
    },
  };
}
