import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The golden traces shared by every package: /work/shared/conformance. */
export const CONFORMANCE_DIR = fileURLToPath(new URL('../../../../shared/conformance/', import.meta.url));

/** Every golden trace, as [file name, text]. */
export function goldenTraces(): [string, string][] {
  return readdirSync(CONFORMANCE_DIR)
    .filter((f) => f.endsWith('.trace'))
    .sort()
    .map((f) => [f, readFileSync(CONFORMANCE_DIR + f, 'utf8')]);
}
