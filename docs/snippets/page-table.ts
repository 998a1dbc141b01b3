// Step 3: the page table. A first version may keep leaves in a Map; the
// contract only asks for map/lookup/setBits/unmap/forEachLeaf/freeEmptyTables
// and the count of table pages (taken from the machine's frame allocator).
// packages/arch-riscv64/src/page-table.ts is the real thing: a radix tree
// of frames holding entries in the hardware format.
import type { PageTable, PageTableFrameSource, PageTableWalkStep, PteView } from '@mmsim/arch';
import { SKETCH_LEVELS } from './constants.js';

// --- snippet: page-table ---
/** A sparse page table: leaves by first vpn; one frame per (level, index) table that holds something. */
export class SketchPageTable implements PageTable {
  readonly levels = SKETCH_LEVELS;
  private readonly leaves = new Map<number, PteView>();
  /** `${depth}:${first vpn the table covers}` → [frame, leaves below]. */
  private readonly tables = new Map<string, [number, number]>();
  private readonly root: number;

  constructor(private readonly frames: PageTableFrameSource) {
    this.root = frames.allocTableFrame(); // pgd_alloc
    if (this.root < 0) throw new Error('pgd_alloc: out of memory');
  }

  /** The tables (below the root) on the path to a leaf of `order` at `vpn`. */
  private path(vpn: number, order: number): string[] {
    const keys: string[] = [];
    for (let depth = 1; depth < this.levels - order / 9; depth++) {
      const span = 2 ** (9 * (this.levels - depth));
      keys.push(`${depth}:${vpn - (vpn % span)}`);
    }
    return keys;
  }

  private find(vpn: number): [number, PteView] | null {
    for (const order of [0, 9, 18]) {
      const head = vpn - (vpn % 2 ** order);
      const leaf = this.leaves.get(head);
      if (leaf && leaf.order === order) return [head, leaf];
    }
    return null;
  }

  map(vpn: number, pfn: number, order: number, bits: number): boolean {
    const keys = this.path(vpn, order);
    for (const key of keys) {
      if (this.tables.has(key)) continue;
      const frame = this.frames.allocTableFrame(); // __pte_alloc / __pmd_alloc
      if (frame < 0) return false;
      this.tables.set(key, [frame, 0]);
    }
    if (!this.leaves.has(vpn)) for (const key of keys) this.tables.get(key)![1]++;
    this.leaves.set(vpn, { pfn, order, bits });
    return true;
  }

  lookup(vpn: number): PteView | null {
    return this.find(vpn)?.[1] ?? null;
  }

  setBits(vpn: number, bits: number): void {
    const found = this.find(vpn);
    if (found) this.leaves.set(found[0], { ...found[1], bits });
  }

  unmap(vpn: number): PteView | null {
    const found = this.find(vpn);
    if (!found) return null;
    this.leaves.delete(found[0]);
    for (const key of this.path(found[0], found[1].order)) this.tables.get(key)![1]--;
    return found[1];
  }

  forEachLeaf(startVpn: number, endVpn: number, visit: (vpn: number, leaf: PteView) => void): void {
    const hits = [...this.leaves].filter(([vpn, l]) => vpn < endVpn && vpn + 2 ** l.order > startVpn);
    for (const [vpn, leaf] of hits.sort((a, b) => a[0] - b[0])) visit(vpn, leaf);
  }

  freeEmptyTables(startVpn: number, endVpn: number, floorVpn = 0, ceilingVpn = Infinity): void {
    for (const [key, [frame, used]] of [...this.tables]) {
      const [depth, first] = key.split(':').map(Number) as [number, number];
      const span = 2 ** (9 * (this.levels - depth)); // pages the table covers
      // free_pgd_range: only a table wholly between the neighbouring VMAs (floor, ceiling) goes.
      if (used === 0 && first < endVpn && first + span > startVpn && first >= floorVpn && first + span <= ceilingVpn) {
        this.tables.delete(key);
        this.frames.freeTableFrame(frame); // free_pgtables
      }
    }
  }

  tablePages(): number {
    return 1 + this.tables.size;
  }

  /** Optional: what `mmsim pagetable` prints (one step per level, top down; entries in a made-up format). */
  walk(vpn: number): PageTableWalkStep[] {
    const leaf = this.find(vpn);
    const steps: PageTableWalkStep[] = [];
    let table = this.root;
    for (let depth = 0; depth < this.levels; depth++) {
      const span = 2 ** (9 * (this.levels - 1 - depth)); // pages one entry of this level covers
      const next = this.tables.get(`${depth + 1}:${vpn - (vpn % span)}`);
      const isLeaf = leaf !== null && leaf[1].order === 9 * (this.levels - 1 - depth);
      const kind = isLeaf ? 'leaf' : next ? 'table' : 'none';
      const entry = isLeaf ? (BigInt(leaf[1].pfn) << 12n) | BigInt(leaf[1].bits) : next ? (BigInt(next[0]) << 12n) | 1n : 0n;
      steps.push({ level: `L${depth}`, index: Math.floor(vpn / span) % 512, tablePfn: table, entry, kind, flags: kind });
      if (!next || isLeaf) break;
      table = next[0];
    }
    return steps;
  }
}
// --- end snippet ---
