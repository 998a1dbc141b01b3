/**
 * The `@config` directive: its keys, their defaults for hand-written
 * scenarios, and parsing `k=v` pairs into a typed {@link TraceConfig}.
 */
import type { SourcePos, TraceConfig, TraceHeader } from './model.js';
import { fail, quote } from './errors.js';
import { parseInteger, parseSafeInteger } from './numbers.js';

/**
 * The values a key left out of `@config` takes (the spec's defaults).
 * The spec gives none for `mem_total_kb` and `swap_total_kb`: we use 16 GiB
 * of RAM (16777216 kB) and no swap.
 */
export const DEFAULT_CONFIG: TraceConfig = Object.freeze({
  page_size: 4096,
  aslr: 0,
  seed: undefined,
  layout: 'topdown',
  privileged: 0,
  rlimit_stack: 8388608n,
  rlimit_as: 'unlimited',
  rlimit_data: 'unlimited',
  rlimit_memlock: 8388608n,
  max_map_count: 65530,
  mmap_min_addr: 65536n,
  lsm_mmap_min_addr: 65536n,
  overcommit_memory: 0,
  overcommit_ratio: 50,
  mem_total_kb: 16777216,
  swap_total_kb: 0,
  fault_around_bytes: 65536,
  thp: 'madvise',
  hugepages_2048kB: 0,
  hugepages_1048576kB: 0,
  overcommit_hugepages_2048kB: 0,
  overcommit_hugepages_1048576kB: 0,
  gbpages: 1,
  la57: 0,
});

/** Any typed `@config` value. */
export type ConfigValue = TraceConfig[keyof TraceConfig];
type KeyParser = (text: string, pos: SourcePos, key: string) => ConfigValue;

const count: KeyParser = (text, pos, key) => parseSafeInteger(text, pos, `@config ${key}`);
const address: KeyParser = (text, pos, key) => {
  if (text.startsWith('-')) fail(pos, `bad @config ${key}=${text}: negative`);
  return parseInteger(text, pos, `@config ${key}`);
};
const limit: KeyParser = (text, pos, key) => (text === 'unlimited' ? 'unlimited' : address(text, pos, key));
const oneOf =
  <T extends string | number>(...allowed: T[]): KeyParser =>
  (text, pos, key) => {
    const found = allowed.find((a) => String(a) === text);
    if (found === undefined) fail(pos, `bad @config ${key}=${text}: expected ${allowed.join(', ')}`);
    return found as ConfigValue;
  };
const flag = oneOf(0, 1);
const pageSize: KeyParser = (text, pos, key) => {
  const v = count(text, pos, key) as number;
  if (v < 4096 || (v & (v - 1)) !== 0) fail(pos, `bad @config ${key}=${text}: not a power of two ≥ 4096`);
  return v;
};

/** debugfs `fault_around_bytes`: any count the kernel's setter accepts (at most 512 pages; it rounds the rest). */
const faultAround: KeyParser = (text, pos, key) => {
  const v = count(text, pos, key) as number;
  if (Math.floor(v / 4096) > 512) fail(pos, `bad @config ${key}=${text}: above 512 pages, which the kernel refuses (EINVAL)`);
  return v;
};

/** How each key's value is read. */
const PARSERS: Readonly<Record<keyof TraceConfig, KeyParser>> = {
  page_size: pageSize,
  aslr: flag,
  seed: count,
  layout: oneOf('topdown', 'legacy'),
  privileged: flag,
  rlimit_stack: limit,
  rlimit_as: limit,
  rlimit_data: limit,
  rlimit_memlock: limit,
  max_map_count: count,
  mmap_min_addr: address,
  lsm_mmap_min_addr: address,
  overcommit_memory: oneOf(0, 1, 2),
  overcommit_ratio: count,
  mem_total_kb: count,
  swap_total_kb: count,
  fault_around_bytes: faultAround,
  thp: oneOf('always', 'madvise', 'never'),
  hugepages_2048kB: count,
  hugepages_1048576kB: count,
  overcommit_hugepages_2048kB: count,
  overcommit_hugepages_1048576kB: count,
  gbpages: flag,
  la57: flag,
};

/** The `@config` keys the format defines. */
export const CONFIG_KEYS: readonly (keyof TraceConfig)[] = Object.keys(PARSERS) as (keyof TraceConfig)[];

function isConfigKey(key: string): key is keyof TraceConfig {
  return Object.prototype.hasOwnProperty.call(PARSERS, key);
}

/**
 * Check one `@config` entry and return its typed value. Throws a
 * {@link TraceSyntaxError} at `pos` for an unknown key or a bad value.
 */
export function parseConfigValue(key: string, text: string, pos: SourcePos): ConfigValue {
  if (!isConfigKey(key)) fail(pos, `unknown @config key ${quote(key)}`);
  if (text === '') fail(pos, `@config ${key} has no value`);
  return PARSERS[key](text, pos, key);
}

/**
 * Build the typed configuration from `@config` entries (already checked with
 * {@link parseConfigValue}), filling in {@link DEFAULT_CONFIG} for missing keys.
 */
export function buildConfig(entries: ReadonlyArray<readonly [string, string]>, pos: SourcePos): TraceConfig {
  const config: Record<string, ConfigValue> = { ...DEFAULT_CONFIG };
  for (const [key, text] of entries) config[key] = parseConfigValue(key, text, pos);
  return config as unknown as TraceConfig;
}

/** A header with nothing recorded: default configuration, no mounts, descriptors, break or mappings. */
export function defaultHeader(): TraceHeader {
  return { kernel: undefined, config: DEFAULT_CONFIG, rawConfig: [], mounts: [], fds: [], brk: undefined, maps: [] };
}
