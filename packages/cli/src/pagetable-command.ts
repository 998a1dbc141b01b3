/**
 * `mmsim pagetable [--addr A] [--at-step N | --at-line L] [--max-leaves K] [--arch A] TRACE`:
 * replay a trace (to the end, or up to a step), then print the page-table
 * tree — for one address, or for every VMA, summarised — with every level's
 * name, index, raw entry and decoded bits, the leaf in the architecture's
 * words, and the `/proc/PID/pagemap` view of the page.
 */

import { BootError, currentMaps, pagemap, pageTableWalk, replayTrace, type Machine } from '@mmsim/machine';
import { formatMapsLine, type MapsLine, type Trace } from '@mmsim/trace';
import { archFor, type ArchChoice } from './arch-option.js';
import { loadTrace, UsageError, type Output } from './replay-command.js';

/** Options of the pagetable command. */
export interface PagetableCommandOptions {
  /** The virtual address to walk (hex with `0x`, or decimal); all VMAs when absent. */
  readonly addr?: string;
  /** Stop after this many steps (1-based; 0 = the header's state). */
  readonly atStep?: string;
  /** Stop after the step on this line of the trace (as `--check` names it). */
  readonly atLine?: string;
  /** At most this many leaves per VMA in the summary (default 8). */
  readonly maxLeaves?: string;
  /** The architecture to replay on (as `mmsim replay --arch`); default: the trace's `@kernel arch=`, else x86-64. */
  readonly arch?: ArchChoice;
}

/** Parse a non-negative integer option (decimal or 0x hex), or fail with exit code 2. */
function parseNumber(name: string, text: string): bigint {
  const t = text.trim();
  if (!/^(0x[0-9a-fA-F]+|[0-9]+)$/.test(t)) throw new UsageError(`mmsim pagetable: ${name} '${text}' is not a number`, 2);
  const v = BigInt(t);
  if (v >= 1n << 64n) throw new UsageError(`mmsim pagetable: ${name} '${text}' does not fit in 64 bits`, 2);
  return v;
}

/** The trace cut after step `n` (comments before the next step kept). */
function cutAfterStep(trace: Trace, n: number): Trace {
  let steps = 0;
  let end = trace.body.length;
  for (let i = 0; i < trace.body.length; i++) {
    if (trace.body[i]!.kind === 'comment') continue;
    if (steps === n) {
      end = i;
      break;
    }
    steps++;
  }
  return { ...trace, body: trace.body.slice(0, end) };
}

/** The number of steps up to and including the step on `line` (error if no step is on that line). */
function stepAtLine(trace: Trace, line: number): number {
  let steps = 0;
  for (const item of trace.body) {
    if (item.kind === 'comment') continue;
    steps++;
    if (item.pos.line === line) return steps;
  }
  throw new UsageError(`${trace.file}:${line}: no step starts on this line`, 2);
}

const hex = (v: bigint | number): string => '0x' + v.toString(16);
const entryHex = (v: bigint): string => '0x' + v.toString(16).padStart(16, '0');

/** The walk lines for one vpn, indented by depth; `from` skips the levels already printed. */
function walkLines(m: Machine, vpn: number, from: number, indent: string): string[] {
  const shift = BigInt(m.arch.pageShift);
  const w = pageTableWalk(m, BigInt(vpn) << shift);
  const out: string[] = [];
  w.steps.forEach((s, d) => {
    if (d < from) return;
    const pad = indent + '  '.repeat(d);
    const name = `${s.level}[${s.index}]`.padEnd(9);
    out.push(`${pad}${name} ${s.kind.padEnd(5)} ${entryHex(s.entry)}  ${s.flags}  (table pfn ${hex(s.tablePfn)})`);
  });
  return out;
}

/** The pagemap line of a page. */
function pagemapLine(m: Machine, address: bigint): string {
  const pm = pagemap(m, address);
  if (!pm.present) return `pagemap: not present${pm.softDirty ? ' PM_SOFT_DIRTY' : ''} (raw ${entryHex(pm.raw)})`;
  const words = [`present pfn ${hex(pm.pfn)}`, pm.kind, pm.file ? 'PM_FILE' : '', pm.exclusive ? 'PM_MMAP_EXCLUSIVE' : '', pm.softDirty ? 'PM_SOFT_DIRTY' : ''];
  return `pagemap: ${words.filter(Boolean).join(' ')} (raw ${entryHex(pm.raw)})`;
}

/** The maps line of the VMA holding `vpn`, if any. */
function vmaLineOf(maps: readonly MapsLine[], address: bigint): MapsLine | undefined {
  return maps.find((l) => l.start <= address && address < l.end);
}

/** The report for one address. */
function addressReport(m: Machine, address: bigint): string[] {
  const shift = BigInt(m.arch.pageShift);
  const vpn = Number(address >> shift);
  const out: string[] = [];
  const vma = vmaLineOf(currentMaps(m, false), address);
  out.push(vma ? `VMA ${formatMapsLine(vma)}` : 'VMA none (no mapping holds this address)');
  const walk = pageTableWalk(m, address);
  if (walk.steps.length === 0) {
    out.push(`walk: ${hex(address)} lies outside the page-table tree`);
  } else {
    out.push(...walkLines(m, vpn, 0, ''));
  }
  out.push(walk.leafText ? `leaf: ${walk.leafText}` : 'leaf: none');
  out.push(pagemapLine(m, address));
  return out;
}

/** The summary of every VMA: its leaves as a tree (levels shared with the previous leaf not repeated). */
function summaryReport(m: Machine, maxLeaves: number): string[] {
  const out: string[] = [];
  const shift = BigInt(m.arch.pageShift);
  const pt = m.mm.pageTable;
  for (const line of currentMaps(m, false)) {
    const start = Number(line.start >> shift);
    const end = Number(line.end >> shift);
    const leaves: Array<[number, number]> = [];
    let mapped = 0;
    const bySize = new Map<number, number>();
    pt.forEachLeaf(start, end, (vpn, leaf) => {
      leaves.push([vpn, leaf.order]);
      bySize.set(leaf.order, (bySize.get(leaf.order) ?? 0) + 1);
      const first = Math.max(vpn, start);
      const last = Math.min(vpn + 2 ** leaf.order, end);
      mapped += Math.max(0, last - first);
    });
    const sizes = [...bySize].map(([order, n]) => `${n} x ${sizeName(order, m.arch.pageShift)}`).join(', ');
    out.push(`${formatMapsLine(line)}`);
    out.push(`  ${end - start} pages, ${mapped} mapped${sizes ? ` (${sizes})` : ''}`);
    let prev: ReturnType<typeof pageTableWalk> | null = null;
    for (const [vpn] of leaves.slice(0, maxLeaves)) {
      const w = pageTableWalk(m, BigInt(vpn) << shift);
      let same = 0;
      while (prev && same < w.steps.length - 1 && prev.steps[same]?.tablePfn === w.steps[same]!.tablePfn && prev.steps[same]?.index === w.steps[same]!.index) same++;
      const lines = walkLines(m, vpn, same, '  ');
      lines[lines.length - 1] += `  -> ${hex(BigInt(vpn) << shift)}`;
      out.push(...lines);
      prev = w;
    }
    if (leaves.length > maxLeaves) out.push(`  ... and ${leaves.length - maxLeaves} more leaves`);
  }
  out.push(`page-table pages: ${pt.tablePages()}`);
  return out;
}

/** `4K`, `2M`, `1G` for a leaf order. */
function sizeName(order: number, pageShift: number): string {
  const bytes = 2 ** (order + pageShift);
  return bytes >= 2 ** 30 ? `${bytes / 2 ** 30}G` : bytes >= 2 ** 20 ? `${bytes / 2 ** 20}M` : `${bytes / 2 ** 10}K`;
}

/** Run the pagetable command on one trace; returns the exit code. */
export function runPagetable(file: string, options: PagetableCommandOptions, io: Output): number {
  try {
    const full = loadTrace(file);
    if (options.atStep !== undefined && options.atLine !== undefined) throw new UsageError('mmsim pagetable: give --at-step or --at-line, not both', 2);
    const totalSteps = full.body.filter((i) => i.kind !== 'comment').length;
    let upTo = totalSteps;
    if (options.atStep !== undefined) {
      const n = parseNumber('--at-step', options.atStep);
      if (n > BigInt(totalSteps)) throw new UsageError(`${file}: --at-step ${n}: the trace has ${totalSteps} steps`, 2);
      upTo = Number(n);
    } else if (options.atLine !== undefined) {
      upTo = stepAtLine(full, Number(parseNumber('--at-line', options.atLine)));
    }
    const maxLeaves = options.maxLeaves !== undefined ? Number(parseNumber('--max-leaves', options.maxLeaves)) : 8;
    const address = options.addr !== undefined ? parseNumber('--addr', options.addr) : undefined;
    const arch = archFor(full, options.arch, file);
    let replay;
    try {
      replay = replayTrace(cutAfterStep(full, upTo), { arch });
    } catch (e) {
      throw new UsageError(`${file}:${e instanceof BootError && e.line !== undefined ? e.line : 1}: cannot build the machine: ${(e as Error).message}`, 2);
    }
    const m = replay.machine;
    io.out(`# ${file} after step ${upTo} of ${totalSteps}: ${m.arch.name}, ${m.mm.pageTable.levels}-level page tables`);
    const lines = address === undefined ? summaryReport(m, maxLeaves) : [`# address ${hex(address)}`, ...addressReport(m, address)];
    for (const l of lines) io.out(l);
    return 0;
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message);
      return e.exitCode;
    }
    throw e;
  }
}
