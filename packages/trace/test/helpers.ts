import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The given golden traces, committed in conformance/given (a copy of ../shared/conformance). */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../../conformance/given/', import.meta.url));

/** Every golden trace, as [file name, text]. */
export function goldenTraces(): [string, string][] {
  return readdirSync(CONFORMANCE_DIR)
    .filter((f) => f.endsWith('.trace'))
    .sort()
    .map((f) => [f, readFileSync(CONFORMANCE_DIR + f, 'utf8')]);
}
