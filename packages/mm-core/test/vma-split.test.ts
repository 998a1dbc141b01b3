// VMA splitting, checked on the tree itself (ranges, hidden pgoff, anon_vma
// identity, VM_ACCOUNT, file references, map_count), one Linux rule per test:
// /work/shared/spec/linux-mmap-path.md §5.5 (splits copy the anon_vma), §6.1
// (munmap gather), §6.2 (mprotect_fixup / vma_modify), §6.5, §6.6 and the
// max_map_count table of §6.7 (mm/vma.c __split_vma, split_vma,
// vms_gather_munmap_vmas).
import { describe, expect, it } from 'vitest';
import { Errno, MADV } from '@mmsim/base';
import { doMadvise, doMlock, VM, type VmOperations } from '../src/index.js';
import { BASE, layout, mapAt, newMm, protect, PROT, read, StubFile, StubInode, unmap, vmaAt, write } from './vma-helpers.js';

const RW = PROT.READ | PROT.WRITE;
const bytes = (vpn: number): bigint => BigInt(vpn) << 12n;

describe('__split_vma: what the pieces keep', () => {
  it('mprotect of the middle splits in three; each piece keeps the anon_vma, VM_ACCOUNT and a pgoff offset by its start — §5.5 (splits copy the anon_vma), §6.2', () => {
    const { mm, kernel } = newMm();
    mapAt(mm, BASE, 6, RW);
    write(mm, BASE + 1);
    const anon = vmaAt(mm, BASE).anonVma;
    expect(protect(mm, BASE + 2, 2, PROT.READ)).toBe(0);
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 4],
      [4, 6],
    ]);
    expect(mm.mapCount).toBe(3);
    for (const [vpn, pgoff] of [
      [BASE, BASE],
      [BASE + 2, BASE + 2],
      [BASE + 4, BASE + 4],
    ] as const) {
      const v = vmaAt(mm, vpn);
      expect(v.pgoff).toBe(pgoff);
      expect(v.anonVma).toBe(anon);
      // A faulted region made read-only keeps VM_ACCOUNT (§5.3).
      expect(v.flags & VM.ACCOUNT).toBeTruthy();
    }
    expect(kernel.committedAs).toBe(6);
    expect(read(mm, BASE + 1)).toBe(1);
  });

  it('a split file VMA takes a second reference on its struct file, and offsets follow — §6.1 (__split_vma: vm_area_dup + get_file)', () => {
    const { mm, kernel } = newMm();
    const f = new StubFile(new StubInode(kernel, 3, 16n << 12n));
    mapAt(mm, BASE, 4, RW, 0x01 /* MAP_SHARED */, f, 8);
    expect(f.refs).toBe(2);
    expect(unmap(mm, BASE + 1, 2)).toBe(0);
    expect(layout(mm)).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(vmaAt(mm, BASE).pgoff).toBe(8);
    expect(vmaAt(mm, BASE + 3).pgoff).toBe(11);
    expect(f.refs).toBe(3);
    expect(unmap(mm, BASE, 4)).toBe(0);
    expect(f.refs).toBe(1);
  });

  it('munmap of the middle of a faulted VMA frees its pages and keeps both ends intact — §6.1', () => {
    const { mm, kernel } = newMm();
    mapAt(mm, BASE, 4, RW);
    for (let i = 0; i < 4; i++) write(mm, BASE + i, 10 + i);
    const before = kernel.frames.freeFrames();
    expect(unmap(mm, BASE + 1, 2)).toBe(0);
    expect(kernel.frames.freeFrames()).toBe(before + 2);
    expect(layout(mm)).toEqual([
      [0, 1],
      [3, 4],
    ]);
    expect(vmaAt(mm, BASE).anonVma).toBe(vmaAt(mm, BASE + 3).anonVma);
    expect(read(mm, BASE)).toBe(10);
    expect(read(mm, BASE + 3)).toBe(13);
    expect(kernel.committedAs).toBe(2);
    expect(mm.totalVm).toBe(2);
  });

  it('a VMA whose ->may_split refuses cannot be cut: munmap and mprotect of a part give EINVAL — §5.6 (special mappings), §6.1', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 4, RW);
    const vma = vmaAt(mm, BASE);
    const ops: VmOperations = { special: true, maySplit: () => -Errno.EINVAL };
    vma.ops = ops;
    expect(unmap(mm, BASE + 1, 1)).toBe(-Errno.EINVAL);
    expect(protect(mm, BASE, 1, PROT.READ)).toBe(-Errno.EINVAL);
    expect(layout(mm)).toEqual([[0, 4]]);
    // As a whole it can be changed and removed.
    expect(protect(mm, BASE, 4, PROT.READ)).toBe(0);
    expect(unmap(mm, BASE, 4)).toBe(0);
    expect(mm.mapCount).toBe(0);
  });
});

describe('max_map_count (§6.7)', () => {
  /** `count` separate VMAs (read-only / read-write alternate so they never merge), 2 pages each. */
  function fill(count: number, max: number) {
    const t = newMm({ maxMapCount: max });
    for (let i = 0; i < count; i++) mapAt(t.mm, BASE + 4 * i, 2, i % 2 ? PROT.READ : RW);
    expect(t.mm.mapCount).toBe(count);
    return t;
  }

  it('mprotect that needs a split at map_count == max_map_count fails with ENOMEM and changes nothing — split_vma: map_count >= max', () => {
    const { mm } = fill(4, 4);
    expect(protect(mm, BASE, 1, PROT.READ)).toBe(-Errno.ENOMEM);
    expect(protect(mm, BASE + 8, 1, PROT.NONE)).toBe(-Errno.ENOMEM);
    expect(mm.mapCount).toBe(4);
    expect(vmaAt(mm, BASE).flags & VM.WRITE).toBeTruthy();
    // A whole VMA needs no split: allowed at the limit.
    expect(protect(mm, BASE, 2, PROT.READ)).toBe(0);
  });

  it('munmap of the middle of a VMA at the limit is ENOMEM; trimming one end is allowed — vms_gather_munmap_vmas', () => {
    const { mm } = newMm({ maxMapCount: 1 });
    mapAt(mm, BASE, 4, RW);
    expect(unmap(mm, BASE + 1, 1)).toBe(-Errno.ENOMEM);
    expect(layout(mm)).toEqual([[0, 4]]);
    expect(unmap(mm, BASE + 3, 1)).toBe(0);
    expect(unmap(mm, BASE, 1)).toBe(0);
    expect(layout(mm)).toEqual([[1, 3]]);
  });

  it('MAP_FIXED into the middle of a VMA at the limit is ENOMEM and leaves the old mapping — §5.2 gather', () => {
    const { mm } = newMm({ maxMapCount: 1 });
    mapAt(mm, BASE, 4, RW);
    write(mm, BASE + 1, 9);
    expect(mapAt(mm, BASE + 1, 1, PROT.READ)).toBe(-Errno.ENOMEM);
    expect(layout(mm)).toEqual([[0, 4]]);
    expect(read(mm, BASE + 1)).toBe(9);
  });

  it('mprotect of the middle one below the limit: the first split succeeds, the second fails, the first stays — vma_modify is not atomic', () => {
    const { mm } = newMm({ maxMapCount: 2 });
    mapAt(mm, BASE, 6, RW);
    expect(protect(mm, BASE + 2, 2, PROT.READ)).toBe(-Errno.ENOMEM);
    // Two identical pieces that Linux does not merge back.
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 6],
    ]);
    expect(vmaAt(mm, BASE).flags).toBe(vmaAt(mm, BASE + 2).flags);
    expect(vmaAt(mm, BASE + 2).pgoff).toBe(BASE + 2);
  });

  it('madvise that needs a split at the limit reports EAGAIN; mlock reports ENOMEM — §6.5, §6.6', () => {
    const { mm } = fill(3, 3);
    expect(doMadvise(mm, bytes(BASE), bytes(1), BigInt(MADV.DONTFORK))).toBe(-Errno.EAGAIN);
    expect(doMlock(mm, bytes(BASE), bytes(1))).toBe(-Errno.ENOMEM);
    expect(mm.mapCount).toBe(3);
    expect(mm.lockedVm).toBe(0);
    // Whole VMAs: no split, fine.
    expect(doMadvise(mm, bytes(BASE), bytes(2), BigInt(MADV.DONTFORK))).toBe(0);
    expect(doMlock(mm, bytes(BASE), bytes(2))).toBe(0);
    expect(mm.lockedVm).toBe(2);
  });

  it('mmap itself fails only above the limit (map_count > max_map_count), then a merge needs no new VMA — do_mmap', () => {
    const { mm } = fill(2, 2);
    // map_count == max: a new, separate mapping is still allowed by do_mmap…
    expect(mapAt(mm, BASE + 100, 1, RW)).toBe(BASE + 100);
    expect(mm.mapCount).toBe(3);
    // …and now map_count > max refuses even a mapping that would merge.
    expect(mapAt(mm, BASE + 101, 1, RW)).toBe(-Errno.ENOMEM);
  });
});
