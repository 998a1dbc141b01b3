/**
 * `--arch NAME|MODULE`: which architecture plug-in a replay runs on. A
 * built-in name, or the path of an ES module that exports an `Architecture`
 * (as `default` or `arch`), so a plug-in written outside this repository
 * runs under the command line without changes to it. Without `--arch`, a
 * trace runs on the architecture its `@kernel arch=` line names (x86-64 when
 * it has none).
 */

import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Architecture } from '@mmsim/arch';
import { x86_64 } from '@mmsim/arch/x86-64';
import { riscv64, riscv64Sv48, riscv64Sv57 } from '@mmsim/arch-riscv64';
import type { Trace } from '@mmsim/trace';
import { UsageError } from './usage-error.js';

/** The architectures the command line knows by name (`uname -m`, and the RISC-V paging modes). */
export const BUILTIN_ARCHES: Readonly<Record<string, Architecture>> = Object.freeze({
  x86_64,
  riscv64,
  'riscv64-sv39': riscv64,
  'riscv64-sv48': riscv64Sv48,
  'riscv64-sv57': riscv64Sv57,
});

/** A value given for `--arch`, or what a trace's header implies: a name, or an architecture loaded from a module. */
export type ArchChoice = string | Architecture;

/** The members every architecture plug-in has (the `Architecture` contract), checked on a loaded module's export. */
const REQUIRED: ReadonlyArray<[string, 'string' | 'number' | 'function' | 'object']> = [
  ['name', 'string'],
  ['pageShift', 'number'],
  ['hugePageSizes', 'function'],
  ['defaultHugePageShift', 'function'],
  ['addressSpace', 'object'],
  ['mmu', 'object'],
  ['createPageTable', 'function'],
  ['protectionBits', 'function'],
  ['describeLeaf', 'function'],
];

/** What `value` lacks to be an `Architecture`, or undefined if nothing. */
function missingMembers(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'it is not an object';
  const v = value as Record<string, unknown>;
  const missing = REQUIRED.filter(([k, t]) => typeof v[k] !== t || v[k] === null).map(([k, t]) => `${k} (${t})`);
  return missing.length ? `it lacks ${missing.join(', ')}` : undefined;
}

/** True if `spec` names a module file rather than a built-in architecture. */
function isModulePath(spec: string): boolean {
  return spec.includes('/') || /\.(c|m)?js$/.test(spec);
}

/**
 * Resolve `--arch`'s value for the command line: a built-in name is returned
 * as it is (looked up per trace by {@link archFor}); a module path is
 * imported and its `default` or `arch` export checked against the
 * `Architecture` contract. Fails with a {@link UsageError} (exit 2) saying
 * what is wrong.
 */
export async function loadArchOption(spec: string | undefined): Promise<ArchChoice | undefined> {
  if (spec === undefined) return undefined;
  if (!isModulePath(spec)) {
    if (!Object.hasOwn(BUILTIN_ARCHES, spec)) throw new UsageError(unknownArch(`--arch ${spec}`), 2);
    return spec;
  }
  const file = resolve(spec);
  if (!existsSync(file)) throw new UsageError(`--arch ${spec}: no such module (${file})`, 2);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
  } catch (e) {
    throw new UsageError(`--arch ${spec}: cannot load the module: ${(e as Error).message}`, 2);
  }
  const candidate = mod['default'] ?? mod['arch'];
  if (candidate === undefined) throw new UsageError(`--arch ${spec}: the module exports neither \`default\` nor \`arch\``, 2);
  const why = missingMembers(candidate);
  if (why) throw new UsageError(`--arch ${spec}: its export is not an Architecture: ${why}`, 2);
  return candidate as Architecture;
}

/** The message for an architecture name nobody knows, `what` being where it was given (`--arch NAME`). */
function unknownArch(what: string): string {
  return `${what}: unknown architecture (known: ${Object.keys(BUILTIN_ARCHES).join(', ')}; or the path of a module exporting one)`;
}

/** The 1-based number of the `@kernel` line of trace file `file`, or 0 if it cannot be read or has none. */
function kernelLineOf(file: string): number {
  try {
    return readFileSync(file, 'utf8').split('\n').findIndex((l) => l.startsWith('@kernel')) + 1;
  } catch {
    return 0;
  }
}

/** `FILE:LINE` of the `@kernel` line a trace's header came from: `file`'s own, else `headerFile`'s (a raw strace log replayed with `--header`). */
function kernelLocation(file: string, headerFile: string | undefined): string {
  const own = kernelLineOf(file);
  if (own > 0 || headerFile === undefined) return `${file}:${Math.max(own, 1)}`;
  return `${headerFile}:${Math.max(kernelLineOf(headerFile), 1)}`;
}

/**
 * The architecture `trace` (read from `file`, its header perhaps from
 * `headerFile`) replays on: `choice` if given, else the one its
 * `@kernel arch=` line names, else x86-64. Throws a {@link UsageError}
 * (exit 2) for a name that is not built in, naming `FILE:LINE` when the name
 * came from a trace.
 */
export function archFor(trace: Trace, choice: ArchChoice | undefined, file: string, headerFile?: string): Architecture {
  if (choice !== undefined && typeof choice !== 'string') return choice;
  const name = choice ?? trace.header.kernel?.arch ?? 'x86_64';
  const arch = Object.hasOwn(BUILTIN_ARCHES, name) ? BUILTIN_ARCHES[name] : undefined;
  if (arch === undefined) {
    throw new UsageError(unknownArch(choice !== undefined ? `--arch ${name}` : `${kernelLocation(file, headerFile)}: @kernel arch=${name}`), 2);
  }
  return arch;
}
