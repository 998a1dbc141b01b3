/**
 * The address space as a list of segments from 0 to `TASK_SIZE` (and the
 * gate area above it): each VMA, and the unmapped gaps between them, which
 * the map draws compressed to a fixed height so that a 4 KiB page and a
 * 128 TiB hole both stay visible.
 */

import type { VmaKind } from './kinds.js';

/** One mapping as the map shows it. */
export interface MapRegion {
  /** Position in the /proc/PID/maps listing (0-based). */
  readonly index: number;
  /** First byte. */
  readonly start: bigint;
  /** One past the last byte. */
  readonly end: bigint;
  /** `rw-p` and so on. */
  readonly perms: string;
  /** The maps name (`[heap]`, a path, or `''`). */
  readonly name: string;
  readonly kind: VmaKind;
  /** smaps `VmFlags:` mnemonics (`rd wr mr mw me ac`); empty for the gate area. */
  readonly vmFlags: string;
  /** `Rss:` in kB. */
  readonly rssKb: number;
}

/** A piece of the map, in address order. */
export type MapSegment =
  | { readonly type: 'vma'; readonly region: MapRegion }
  | { readonly type: 'gap'; readonly start: bigint; readonly end: bigint }
  | { readonly type: 'limit'; readonly at: bigint; readonly label: string };

/**
 * The segments of an address space: gaps and VMAs from 0 to `taskSize`, a
 * `TASK_SIZE` marker, then whatever lies above it (`[vsyscall]`), each
 * preceded by the gap before it. `regions` must be sorted and disjoint.
 */
export function addressSpaceSegments(regions: readonly MapRegion[], taskSize: bigint): MapSegment[] {
  const out: MapSegment[] = [];
  let at = 0n;
  let limitShown = false;
  for (const region of regions) {
    if (!limitShown && region.start >= taskSize) {
      if (at < taskSize) out.push({ type: 'gap', start: at, end: taskSize });
      out.push({ type: 'limit', at: taskSize, label: 'TASK_SIZE' });
      at = taskSize;
      limitShown = true;
    }
    if (region.start > at) out.push({ type: 'gap', start: at, end: region.start });
    out.push({ type: 'vma', region });
    if (region.end > at) at = region.end;
  }
  if (!limitShown) {
    if (at < taskSize) out.push({ type: 'gap', start: at, end: taskSize });
    out.push({ type: 'limit', at: taskSize, label: 'TASK_SIZE' });
  }
  return out;
}
