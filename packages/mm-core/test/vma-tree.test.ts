import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Vma } from '../src/vma.js';
import { VmaTree, type VmaTreeCheckMode } from '../src/vma-tree.js';

/**
 * The O(n) sorted-array VMA set the tree replaced, kept verbatim as the
 * reference: the tree must answer every query exactly as it does.
 */
class ReferenceVmaTree {
  private readonly vmas: Vma[] = [];

  get size(): number {
    return this.vmas.length;
  }

  private indexAfter(vpn: number): number {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.end > vpn) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  findVma(vpn: number): Vma | undefined {
    return this.vmas[this.indexAfter(vpn)];
  }

  lookup(vpn: number): Vma | undefined {
    const vma = this.vmas[this.indexAfter(vpn)];
    return vma && vma.start <= vpn ? vma : undefined;
  }

  prevOf(vpn: number): Vma | undefined {
    let lo = 0;
    let hi = this.vmas.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.vmas[mid]!.start < vpn) lo = mid + 1;
      else hi = mid;
    }
    return this.vmas[lo - 1];
  }

  next(vma: Vma): Vma | undefined {
    return this.vmas[this.indexAfter(vma.start) + 1];
  }

  prev(vma: Vma): Vma | undefined {
    const i = this.indexAfter(vma.start);
    return i > 0 ? this.vmas[i - 1] : undefined;
  }

  overlapping(start: number, end: number): Vma[] {
    const out: Vma[] = [];
    for (let i = this.indexAfter(start); i < this.vmas.length; i++) {
      const vma = this.vmas[i]!;
      if (vma.start >= end) break;
      out.push(vma);
    }
    return out;
  }

  intersects(start: number, end: number): boolean {
    const vma = this.vmas[this.indexAfter(start)];
    return vma !== undefined && vma.start < end;
  }

  insert(vma: Vma): void {
    const i = this.indexAfter(vma.start);
    this.vmas.splice(i, 0, vma);
  }

  remove(vma: Vma): void {
    const i = this.indexAfter(vma.start);
    if (this.vmas[i] === vma) this.vmas.splice(i, 1);
    else {
      const j = this.vmas.indexOf(vma);
      if (j >= 0) this.vmas.splice(j, 1);
    }
  }

  all(): readonly Vma[] {
    return this.vmas;
  }

  highestGapEnd(low: number, high: number, size: number): number {
    let i = this.indexAfter(high - 1);
    for (;;) {
      const above = this.vmas[i];
      const below = this.vmas[i - 1];
      const gapEnd = Math.min(above ? above.start : Infinity, high);
      const gapStart = Math.max(below ? below.end : 0, low);
      if (gapEnd - gapStart >= size) return gapEnd;
      if (!below || below.end <= low) return -1;
      i--;
    }
  }

  lowestGapStart(low: number, high: number, size: number): number {
    let i = this.indexAfter(low);
    for (;;) {
      const below = this.vmas[i - 1];
      const above = this.vmas[i];
      const gapStart = Math.max(below ? below.end : 0, low);
      const gapEnd = Math.min(above ? above.start : Infinity, high);
      if (gapEnd - gapStart >= size) return gapStart;
      if (!above || above.end >= high) return -1;
      i++;
    }
  }
}

const anon = (start: number, end: number): Vma => new Vma(start, end, 0, start, null, null);

/** Run `body` with the tree's self-checks in `mode`. */
function withCheckMode<T>(mode: VmaTreeCheckMode, body: () => T): T {
  const saved = VmaTree.checkMode;
  VmaTree.checkMode = mode;
  try {
    return body();
  } finally {
    VmaTree.checkMode = saved;
  }
}

/** Both implementations over the same VMA objects; every change goes to both, every query is compared. */
class Pair {
  readonly tree = new VmaTree();
  readonly ref = new ReferenceVmaTree();

  vmas(): readonly Vma[] {
    return this.ref.all();
  }

  insert(vma: Vma): void {
    this.ref.insert(vma);
    this.tree.insert(vma);
  }

  /** A split's new half, placed beside the VMA it came from (as splitVmaUnchecked does). */
  insertBeside(vma: Vma, neighbour: Vma, below: boolean): void {
    this.ref.insert(vma);
    this.tree.insertBeside(vma, neighbour, below);
  }

  remove(vma: Vma): void {
    this.ref.remove(vma);
    this.tree.remove(vma);
  }

  /** A split in one store (splitVmaUnchecked): shrink `vma` in place, put `piece` beside it. */
  storeSplit(vma: Vma, start: number, end: number, piece: Vma, below: boolean): void {
    vma.start = start;
    vma.end = end;
    this.ref.insert(piece);
    this.tree.storeSplit(vma, piece, below);
  }

  /** A merge in one store (vma_merge): `vma` grows to `[start, end)` over `gone`, its neighbours. */
  storeExpanded(vma: Vma, start: number, end: number, gone: readonly Vma[], below: number, above: number): void {
    for (const g of gone) this.ref.remove(g);
    vma.start = start;
    vma.end = end;
    this.tree.storeExpanded(vma, below, above);
  }

  /** Change a linked VMA's bounds in place, as vma-ops does, then tell the tree. */
  reshape(vma: Vma, start: number, end: number): void {
    vma.start = start;
    vma.end = end;
    this.tree.updated(vma);
  }

  /** Is `[start, end)` free in the reference? */
  free(start: number, end: number): boolean {
    return start < end && !this.ref.intersects(start, end);
  }

  compareQueries(a: number, b: number, size: number): void {
    const { tree, ref } = this;
    expect(tree.size).toBe(ref.size);
    expect(tree.findVma(a)).toBe(ref.findVma(a));
    expect(tree.lookup(a)).toBe(ref.lookup(a));
    expect(tree.prevOf(a)).toBe(ref.prevOf(a));
    expect(tree.intersects(a, b)).toBe(ref.intersects(a, b));
    expect(tree.overlapping(a, b)).toEqual(ref.overlapping(a, b));
    expect(tree.highestGapEnd(a, b, size)).toBe(ref.highestGapEnd(a, b, size));
    expect(tree.lowestGapStart(a, b, size)).toBe(ref.lowestGapStart(a, b, size));
    const vmas = ref.all();
    if (vmas.length > 0) {
      const v = vmas[Math.abs(a) % vmas.length]!;
      expect(tree.next(v)).toBe(ref.next(v));
      expect(tree.prev(v)).toBe(ref.prev(v));
      expect(tree.has(v)).toBe(true);
    }
    // A VMA that is not in the tree: answered by address, as the array did.
    const stray = anon(a, a + 1);
    expect(tree.next(stray)).toBe(ref.next(stray));
    expect(tree.prev(stray)).toBe(ref.prev(stray));
    expect(tree.has(stray)).toBe(false);
    expect([...tree.all()]).toEqual([...vmas]);
  }
}

type Op =
  | { kind: 'insert'; start: number; len: number }
  | { kind: 'remove'; pick: number }
  | { kind: 'split'; pick: number; at: number; newBelow: boolean; fused: boolean }
  | { kind: 'mergeNext'; pick: number }
  | { kind: 'absorb'; pick: number; below: number; above: number }
  | { kind: 'grow'; pick: number; down: number; up: number }
  | { kind: 'shrink'; pick: number; fromStart: number; fromEnd: number }
  | { kind: 'query'; a: number; b: number; size: number };

const SPACE = 300;
/** Property runs (raise with VMA_TREE_RUNS=5000 for a longer hunt). */
const RUNS = Number(process.env.VMA_TREE_RUNS ?? 150);
const opArbFor = (space: number, maxLen: number): fc.Arbitrary<Op> =>
  fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('insert' as const), start: fc.integer({ min: 0, max: space }), len: fc.integer({ min: 1, max: maxLen }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('split' as const), pick: fc.nat(), at: fc.nat(), newBelow: fc.boolean(), fused: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('mergeNext' as const), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('absorb' as const), pick: fc.nat(), below: fc.nat({ max: 2 }), above: fc.nat({ max: 3 }) }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('grow' as const), pick: fc.nat(), down: fc.integer({ min: 0, max: 30 }), up: fc.integer({ min: 0, max: 30 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('shrink' as const), pick: fc.nat(), fromStart: fc.nat({ max: 10 }), fromEnd: fc.nat({ max: 10 }) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('query' as const),
      a: fc.integer({ min: -5, max: space + 60 }),
      b: fc.integer({ min: -5, max: space + 60 }),
      size: fc.integer({ min: -2, max: 2 * maxLen }),
    }),
  },
);
const opArb = opArbFor(SPACE, 40);

function apply(pair: Pair, op: Op): void {
  const vmas = pair.vmas();
  const pick = (n: number): Vma | undefined => (vmas.length ? vmas[n % vmas.length] : undefined);
  switch (op.kind) {
    case 'insert':
      if (pair.free(op.start, op.start + op.len)) pair.insert(anon(op.start, op.start + op.len));
      break;
    case 'remove': {
      const v = pick(op.pick);
      if (v) pair.remove(v);
      break;
    }
    case 'split': {
      // splitVmaUnchecked: shrink the original in place, then insert the piece.
      const v = pick(op.pick);
      if (!v || v.end - v.start < 2) break;
      const at = v.start + 1 + (op.at % (v.end - v.start - 1));
      if (op.fused) {
        // The same split through VmaTree.storeSplit (one store).
        const piece = op.newBelow ? anon(v.start, at) : anon(at, v.end);
        if (op.newBelow) pair.storeSplit(v, at, v.end, piece, true);
        else pair.storeSplit(v, v.start, at, piece, false);
      } else if (op.newBelow) {
        const piece = anon(v.start, at);
        pair.reshape(v, at, v.end);
        pair.insertBeside(piece, v, true);
      } else {
        const piece = anon(at, v.end);
        pair.reshape(v, v.start, at);
        pair.insertBeside(piece, v, false);
      }
      break;
    }
    case 'mergeNext': {
      // vma_merge: the left VMA grows over its neighbour, which then leaves the tree.
      const v = pick(op.pick);
      const n = v && pair.ref.next(v);
      if (!v || !n) break;
      pair.reshape(v, v.start, n.end);
      pair.remove(n);
      break;
    }
    case 'absorb': {
      // vma_merge in one store: the VMA grows over up to `below` neighbours before it and `above` after it.
      const v = pick(op.pick);
      if (!v) break;
      const i = vmas.indexOf(v);
      const lo = Math.max(0, i - op.below);
      const hi = Math.min(vmas.length - 1, i + op.above);
      const start = vmas[lo]!.start;
      const end = vmas[hi]!.end;
      const gone = [...vmas.slice(lo, i), ...vmas.slice(i + 1, hi + 1)];
      pair.storeExpanded(v, start, end, gone, i - lo, hi - i);
      for (const g of gone) expect(pair.tree.has(g)).toBe(false);
      break;
    }
    case 'grow': {
      // expand_downwards / expand in place: into free space only.
      const v = pick(op.pick);
      if (!v) break;
      const start = Math.max(0, v.start - op.down);
      const end = v.end + op.up;
      if (start < v.start && !pair.free(start, v.start)) break;
      if (end > v.end && !pair.free(v.end, end)) break;
      pair.reshape(v, start, end);
      break;
    }
    case 'shrink': {
      const v = pick(op.pick);
      if (!v || v.end - v.start <= op.fromStart + op.fromEnd) break;
      pair.reshape(v, v.start + op.fromStart, v.end - op.fromEnd);
      break;
    }
    case 'query':
      pair.compareQueries(op.a, op.b, op.size);
      break;
  }
}

describe('VmaTree', () => {
  let saved: VmaTreeCheckMode;
  beforeAll(() => {
    saved = VmaTree.checkMode;
    VmaTree.checkMode = 'full';
  });
  afterAll(() => {
    VmaTree.checkMode = saved;
  });

  it('answers exactly as the sorted-array reference on random operation sequences (full self-checks on)', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 200 }), (ops) => {
        const pair = new Pair();
        for (const op of ops) {
          apply(pair, op);
          expect(pair.tree.verify()).toBeNull();
        }
        // Sweep every query over the whole space at the end.
        for (let a = -2; a < SPACE + 45; a += 7) {
          for (const size of [0, 1, 2, 5, 17]) pair.compareQueries(a, a + 1 + ((a * 13) % 90), size);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it('answers exactly as the reference while the tree grows and shrinks through many node splits and merges', () => {
    // Thousands of VMAs: leaves and inner nodes split, merge, and the root grows and collapses.
    const bigOp = opArbFor(20000, 6);
    fc.assert(
      fc.property(fc.array(bigOp, { minLength: 500, maxLength: 4000 }), fc.array(fc.nat(), { maxLength: 4000 }), (ops, removals) => {
        const pair = new Pair();
        withCheckMode('sampled', () => {
          for (const op of ops) apply(pair, op);
          expect(pair.tree.verify()).toBeNull();
          pair.compareQueries(100, 15000, 3);
          for (const pick of removals) apply(pair, { kind: 'remove', pick });
          expect(pair.tree.verify()).toBeNull();
          for (let a = 0; a < 20000; a += 997) pair.compareQueries(a, a + 3000, (a >> 4) % 9);
        });
      }),
      { numRuns: Math.max(10, RUNS / 10) },
    );
  });

  it('recomputes the gaps above a removed VMA whose child took its place (regression)', () => {
    const pair = new Pair();
    const ops: Op[] = [
      { kind: 'insert', start: 3, len: 2 },
      { kind: 'insert', start: 2, len: 1 },
      { kind: 'insert', start: 0, len: 2 },
      { kind: 'split', pick: 0, at: 0, newBelow: false },
      { kind: 'shrink', pick: 418322371, fromStart: 1, fromEnd: 0 },
      { kind: 'remove', pick: 1461424895 },
    ];
    for (const op of ops) {
      apply(pair, op);
      expect(pair.tree.verify()).toBeNull();
    }
  });

  it('finds gaps exactly as the reference in dense address spaces', () => {
    // Many small gaps of every size: where a pruned search could go wrong.
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 6 })), { minLength: 1, maxLength: 120 }),
        fc.array(fc.tuple(fc.integer({ min: -3, max: 900 }), fc.integer({ min: -3, max: 900 }), fc.integer({ min: 0, max: 8 })), { maxLength: 60 }),
        (layout, queries) => {
          const pair = new Pair();
          let at = 0;
          for (const [len, gap] of layout) {
            at += gap;
            pair.insert(anon(at, at + len));
            at += len;
          }
          for (const [a, b, size] of queries) pair.compareQueries(a, b, size);
        },
      ),
      { numRuns: 2 * RUNS },
    );
  });

  it('keeps the same answers on a large address space (20,000 VMAs, 30,000 changes)', () => {
    withCheckMode('off', () => {
      const pair = new Pair();
      let seed = 12345;
      const rand = (n: number): number => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return seed % n;
      };
      // 2V+2 pages with every other page changed: the benchmark's shape, plus random holes.
      let at = 1000;
      for (let i = 0; i < 20000; i++) {
        const len = 1 + rand(3);
        pair.insert(anon(at, at + len));
        at += len + (rand(4) === 0 ? rand(5) : 0);
      }
      for (let i = 0; i < 30000; i++) {
        if (i % 1000 === 0) expect(pair.tree.verify()).toBeNull();
        const r = rand(10);
        if (r < 3) apply(pair, { kind: 'remove', pick: rand(1 << 30) });
        else if (r < 5) apply(pair, { kind: 'insert', start: 1000 + rand(at - 1000), len: 1 + rand(4) });
        else if (r < 7) apply(pair, { kind: 'split', pick: rand(1 << 30), at: rand(100), newBelow: rand(2) === 0 });
        else if (r < 8) apply(pair, { kind: 'mergeNext', pick: rand(1 << 30) });
        else {
          const a = rand(at + 2000);
          const b = a + rand(60000);
          const size = rand(12);
          expect(pair.tree.highestGapEnd(a, b, size)).toBe(pair.ref.highestGapEnd(a, b, size));
          expect(pair.tree.lowestGapStart(a, b, size)).toBe(pair.ref.lowestGapStart(a, b, size));
          expect(pair.tree.findVma(a)).toBe(pair.ref.findVma(a));
          expect(pair.tree.prevOf(a)).toBe(pair.ref.prevOf(a));
        }
      }
      expect(pair.tree.verify()).toBeNull();
      expect([...pair.tree.all()]).toEqual([...pair.ref.all()]);
    });
  });

  it('keeps every gap right while a large tree is built and torn down one VMA at a time', () => {
    // Removals and insertions at every depth of a big treap, each checked in full.
    const tree = new VmaTree();
    const vmas: Vma[] = [];
    let seed = 99;
    const rand = (n: number): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed % n;
    };
    let at = 0;
    for (let k = 0; k < 1500; k++) {
      at += rand(3) === 0 ? 1 + rand(9) : 0;
      const v = anon(at, at + 1 + rand(3));
      at = v.end;
      vmas.push(v);
      tree.insert(v);
    }
    while (vmas.length > 0) {
      const v = vmas.splice(rand(vmas.length), 1)[0]!;
      tree.remove(v);
      expect(tree.verify()).toBeNull();
      if (rand(4) === 0 && v.end - v.start > 1) {
        // Put back half of it.
        const half = anon(v.start, v.start + 1);
        vmas.push(half);
        tree.insert(half);
        expect(tree.verify()).toBeNull();
      }
    }
  });

  it('reports a VMA whose bounds changed without updated()', () => {
    const tree = new VmaTree();
    const a = anon(10, 20);
    const b = anon(30, 40);
    tree.insert(a);
    tree.insert(b);
    a.end = 25; // forgot tree.updated(a)
    expect(tree.verify()).toMatch(/without VmaTree\.updated\(\)/);
    expect(() => tree.findVma(0)).toThrow(/invariant broken/);
    tree.updated(a);
    expect(tree.verify()).toBeNull();
    expect(tree.highestGapEnd(0, 100, 5)).toBe(100);
    expect(tree.highestGapEnd(0, 40, 5)).toBe(30);
    expect(tree.highestGapEnd(0, 40, 6)).toBe(10);
  });

  it('takes the transient states of vma-ops merges (overlap, equal starts) and re-keys a VMA that moved past a neighbour', () => {
    const tree = new VmaTree();
    const prev = anon(0, 10);
    const vma = anon(10, 20);
    const next = anon(20, 30);
    tree.insert(prev);
    tree.insert(vma);
    tree.insert(next);
    // vma_merge_existing_range, right side: next grows down over vma (equal starts), then vma goes.
    next.start = 10;
    tree.updated(next);
    tree.remove(vma);
    expect(tree.all()).toEqual([prev, next]);
    // left side: prev grows over next, then next goes.
    prev.end = 30;
    tree.updated(prev);
    tree.remove(next);
    expect(tree.all()).toEqual([prev]);
    // A VMA moved elsewhere in place is re-keyed.
    const far = anon(100, 110);
    tree.insert(far);
    far.start = 40;
    far.end = 50;
    tree.updated(far);
    const low = anon(35, 38);
    tree.insert(low);
    low.start = 60;
    low.end = 70;
    tree.updated(low);
    expect(tree.all()).toEqual([prev, far, low]);
    expect(tree.lowestGapStart(0, 1000, 10)).toBe(30);
    expect(tree.lowestGapStart(0, 1000, 11)).toBe(70);
    expect(tree.verify()).toBeNull();
  });

  it('rejects a VMA inserted twice and ignores removing or updating one that is not linked', () => {
    const tree = new VmaTree();
    const a = anon(1, 2);
    tree.insert(a);
    expect(() => tree.insert(a)).toThrow(/already in the tree/);
    const stray = anon(5, 6);
    tree.remove(stray);
    tree.updated(stray);
    expect(tree.size).toBe(1);
    tree.remove(a);
    expect(tree.size).toBe(0);
    expect(a.treeSlot).toBe(0);
    expect(tree.highestGapEnd(0, 10, 10)).toBe(10);
    expect(tree.lowestGapStart(3, 10, 8)).toBe(-1);
  });
});
