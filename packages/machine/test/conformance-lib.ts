// Shared helpers for the conformance tests: locate the golden traces, replay
// one, and read the committed baseline of known divergences.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { replayTrace } from '../src/index.js';
import { compareResults, parseTrace, printTrace } from '@mmsim/trace';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The repository root. */
export const repoRoot = resolve(here, '../../..');
/** Every committed golden trace: the given set (conformance/given) and the project's own, in subfolders. */
export const ownConformance = resolve(repoRoot, 'conformance');
/** The committed copy of the golden traces given to the project (a copy of ../shared/conformance). */
export const givenConformance = resolve(repoRoot, 'conformance/given');
/** The given traces where the workplace keeps them, beside the repository (absent on CI and most machines). */
export const sharedConformance = resolve(repoRoot, '../shared/conformance');
/** Traces in the given set. */
export const GIVEN_TRACES = 52;
/** The committed list of known divergences. */
export const baselinePath = resolve(repoRoot, 'tools/conformance/known-divergences.json');

/** Known divergences: file name → 1-based line numbers of steps that may still diverge. */
export type Baseline = Record<string, number[]>;

export function readBaseline(): Baseline {
  return JSON.parse(readFileSync(baselinePath, 'utf8')) as Baseline;
}

export function traceFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  // Subfolders too (conformance/la57/…), each folder's traces sorted, folders after files.
  const entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return [
    ...entries.filter((e) => e.isFile() && e.name.endsWith('.trace')).map((e) => join(dir, e.name)),
    ...entries.filter((e) => e.isDirectory()).flatMap((e) => traceFiles(join(dir, e.name))),
  ];
}

export interface FileScore {
  readonly matched: number;
  readonly total: number;
  /** Lines of divergent steps. */
  readonly divergentLines: number[];
  readonly report: string[];
  /** The file as read, and the replay printed back (identical when the model agrees). */
  readonly text: string;
  readonly printed: string;
}

export function scoreFile(file: string): FileScore {
  const text = readFileSync(file, 'utf8');
  const trace = parseTrace(text, file);
  const replay = replayTrace(trace);
  const cmp = compareResults(trace, replay.results);
  return {
    matched: cmp.matched,
    total: cmp.total,
    divergentLines: cmp.divergences.map((d) => d.pos.line),
    report: cmp.divergences.map((d) => `${d.pos.line}: ${d.step}\n  expected: ${d.expected}\n  model:    ${d.actual}`),
    text,
    printed: printTrace(trace, replay.results),
  };
}
