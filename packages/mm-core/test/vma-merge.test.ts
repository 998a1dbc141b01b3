// VMA merging, checked on the tree itself (ranges, hidden pgoff, anon_vma
// identity, VM_ACCOUNT, map_count), one Linux rule per test. The rules are
// those of /work/shared/spec/linux-mmap-path.md §5.5 (mm/vma.c
// vma_merge_new_range, vma_merge_existing_range, is_mergeable_anon_vma).
import { describe, expect, it } from 'vitest';
import { VM, VM_ACCESS_FLAGS } from '../src/index.js';
import {
  BASE,
  layout,
  MAP,
  mapAnywhere,
  mapAt,
  moveTo,
  newMm,
  protect,
  PROT,
  read,
  StubFile,
  StubInode,
  vmaAt,
  write,
} from './vma-helpers.js';

const RW = PROT.READ | PROT.WRITE;

describe('vma_merge_new_range: new anonymous mappings', () => {
  it('adjacent anonymous mmaps merge (same flags, contiguous pgoff, no anon_vma) — §5.5 flags/pgoff rules', () => {
    const { mm, kernel } = newMm();
    expect(mapAt(mm, BASE, 2, RW)).toBe(BASE);
    // The next one right above: merges into prev (can_vma_merge_after).
    expect(mapAt(mm, BASE + 2, 3, RW)).toBe(BASE + 2);
    // And one right below: merges into next (can_vma_merge_before), which takes its pgoff.
    expect(mapAt(mm, BASE - 1, 1, RW)).toBe(BASE - 1);
    expect(layout(mm)).toEqual([[-1, 5]]);
    expect(mm.mapCount).toBe(1);
    const vma = vmaAt(mm, BASE);
    // Hidden pgoff of anonymous memory: the vpn at creation of the lowest part.
    expect(vma.pgoff).toBe(BASE - 1);
    expect(vma.anonVma).toBeNull();
    expect(vma.flags & VM.ACCOUNT).toBeTruthy();
    expect(kernel.committedAs).toBe(6);
    expect(mm.totalVm).toBe(6);
  });

  it('top-down placement puts the next mapping right below and merges it — §5.5', () => {
    const { mm } = newMm();
    const a = mapAnywhere(mm, 4, RW);
    const b = mapAnywhere(mm, 4, RW);
    expect(b).toBe(a - 4);
    expect(mm.mapCount).toBe(1);
    expect(vmaAt(mm, a).start).toBe(b);
    expect(vmaAt(mm, a).pgoff).toBe(b);
  });

  it('an unfaulted mapping merges with a faulted neighbour and takes on its anon_vma — §5.5 anon_vma rule (one side null)', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 2, RW);
    write(mm, BASE);
    const anon = vmaAt(mm, BASE).anonVma;
    expect(anon).not.toBeNull();
    mapAt(mm, BASE + 2, 2, RW);
    expect(layout(mm)).toEqual([[0, 4]]);
    expect(vmaAt(mm, BASE + 3).anonVma).toBe(anon);
  });

  it('MAP_FIXED over the middle of a faulted VMA with identical flags re-merges into one VMA, content zeroed — §5.5 visible consequences', () => {
    const { mm, kernel } = newMm();
    mapAt(mm, BASE, 8, RW);
    for (let i = 0; i < 8; i++) write(mm, BASE + i, 0x40 + i);
    const anon = vmaAt(mm, BASE).anonVma;
    expect(mapAt(mm, BASE + 2, 3, RW)).toBe(BASE + 2);
    expect(layout(mm)).toEqual([[0, 8]]);
    expect(mm.mapCount).toBe(1);
    const vma = vmaAt(mm, BASE);
    // The split halves kept the anon_vma, the new middle had none: all three merge.
    expect(vma.anonVma).toBe(anon);
    expect(vma.pgoff).toBe(BASE);
    expect(vma.flags & VM.ACCOUNT).toBeTruthy();
    expect(kernel.committedAs).toBe(8);
    expect([0, 1, 2, 3, 4, 5, 6, 7].map((i) => read(mm, BASE + i))).toEqual([0x40, 0x41, 0, 0, 0, 0x45, 0x46, 0x47]);
  });

  it('separately write-faulted anonymous VMAs never merge; an unfaulted one between joins only the left — §5.5 anon_vma rule (prev/next compatibility)', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 2, RW);
    mapAt(mm, BASE + 3, 2, RW);
    write(mm, BASE);
    write(mm, BASE + 3);
    const left = vmaAt(mm, BASE).anonVma!;
    const right = vmaAt(mm, BASE + 3).anonVma!;
    expect(left).not.toBe(right);
    // The hole gets an identical, never-faulted mapping.
    mapAt(mm, BASE + 2, 1, RW);
    expect(layout(mm)).toEqual([
      [0, 3],
      [3, 5],
    ]);
    expect(mm.mapCount).toBe(2);
    expect(vmaAt(mm, BASE + 2).anonVma).toBe(left);
    expect(vmaAt(mm, BASE + 3).anonVma).toBe(right);
    // pgoffs are contiguous all along: only the anon_vmas keep them apart.
    expect(vmaAt(mm, BASE + 3).pgoff).toBe(vmaAt(mm, BASE).pgoff + 3);
  });

  it('MAP_STACK mappings (VM_NOHUGEPAGE) do not merge with plain ones, but do with each other — §5.5 flags rule', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 2, RW);
    mapAt(mm, BASE + 2, 2, RW, MAP.PRIVATE | MAP.ANONYMOUS | MAP.STACK);
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(vmaAt(mm, BASE + 2).flags & VM.NOHUGEPAGE).toBeTruthy();
    mapAt(mm, BASE + 4, 2, RW, MAP.PRIVATE | MAP.ANONYMOUS | MAP.STACK);
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 6],
    ]);
  });

  it('a writable private mapping (VM_ACCOUNT) does not merge with a read-only one — §5.3/§5.5: VM_ACCOUNT is compared', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 2, PROT.READ);
    mapAt(mm, BASE + 2, 2, RW);
    expect(mm.mapCount).toBe(2);
    expect(vmaAt(mm, BASE).flags & VM.ACCOUNT).toBeFalsy();
    expect(vmaAt(mm, BASE + 2).flags & VM.ACCOUNT).toBeTruthy();
  });
});

describe('vma_merge_existing_range: mprotect', () => {
  it('mprotect(PROT_READ) of a write-faulted region keeps VM_ACCOUNT and stays apart from a never-writable r--p neighbour — §5.3, §5.5 visible consequences', () => {
    const { mm, kernel } = newMm();
    mapAt(mm, BASE, 2, PROT.READ);
    mapAt(mm, BASE + 2, 2, RW);
    write(mm, BASE + 2);
    expect(protect(mm, BASE + 2, 2, PROT.READ)).toBe(0);
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    const ro = vmaAt(mm, BASE);
    const was = vmaAt(mm, BASE + 2);
    // Both print r--p; only the hidden VM_ACCOUNT differs.
    expect(ro.flags & VM_ACCESS_FLAGS).toBe(VM.READ);
    expect(was.flags & VM_ACCESS_FLAGS).toBe(VM.READ);
    expect(was.flags & VM.ACCOUNT).toBeTruthy();
    expect(ro.flags & VM.ACCOUNT).toBeFalsy();
    expect(was.anonVma).not.toBeNull();
    expect(kernel.committedAs).toBe(2);
  });

  it('mprotect(PROT_READ) of a never-faulted region drops VM_ACCOUNT (and its charge) and merges — §5.3 (6.x rule)', () => {
    const { mm, kernel } = newMm();
    mapAt(mm, BASE, 2, PROT.READ);
    mapAt(mm, BASE + 2, 2, RW);
    expect(kernel.committedAs).toBe(2);
    expect(protect(mm, BASE + 2, 2, PROT.READ)).toBe(0);
    expect(layout(mm)).toEqual([[0, 4]]);
    expect(mm.mapCount).toBe(1);
    expect(vmaAt(mm, BASE).flags & VM.ACCOUNT).toBeFalsy();
    expect(vmaAt(mm, BASE).pgoff).toBe(BASE);
    expect(kernel.committedAs).toBe(0);
  });

  it('mprotect back to the neighbour’s protection re-merges split pieces (splits share the anon_vma) — §5.5 anon_vma assignment', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 6, RW);
    write(mm, BASE);
    const anon = vmaAt(mm, BASE).anonVma;
    expect(protect(mm, BASE + 2, 2, PROT.READ)).toBe(0);
    expect(mm.mapCount).toBe(3);
    expect(vmaAt(mm, BASE + 2).anonVma).toBe(anon);
    expect(vmaAt(mm, BASE + 4).anonVma).toBe(anon);
    expect(protect(mm, BASE + 2, 2, RW)).toBe(0);
    expect(layout(mm)).toEqual([[0, 6]]);
  });
});

describe('mremap and pgoff', () => {
  it('a faulted page moved away keeps its pgoff (it has an anon_vma); an unfaulted one takes the new address — §5.5 pgoff rule, §6.3 copy_vma', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 3, RW);
    write(mm, BASE + 1);
    const far = BASE + 0x1000;
    expect(moveTo(mm, BASE + 1, 1, far)).toBe(far);
    expect(vmaAt(mm, far).pgoff).toBe(BASE + 1);
    expect(layout(mm)).toEqual([
      [0, 1],
      [2, 3],
      [0x1000, 0x1001],
    ]);
    // VM_ACCOUNT is restored on both remaining pieces (move_vma's account_start/end).
    expect(vmaAt(mm, BASE).flags & VM.ACCOUNT).toBeTruthy();
    expect(vmaAt(mm, BASE + 2).flags & VM.ACCOUNT).toBeTruthy();

    const { mm: mm2 } = newMm();
    mapAt(mm2, BASE, 3, RW);
    expect(moveTo(mm2, BASE + 1, 1, far)).toBe(far);
    expect(vmaAt(mm2, far).pgoff).toBe(far);
  });

  it('a faulted page moved away and moved back re-merges with its old neighbours (same anon_vma, pgoff kept) — §5.5 pgoff + anon_vma rules', () => {
    // The spec (§5.5) says this does NOT re-merge [V]. Linux 6.18.44 on this
    // host says it does: mmap 3 pages at 0x100000000, write pages 0 and 1,
    // mremap page 1 to 0x110000000 and back (MREMAP_MAYMOVE|MREMAP_FIXED):
    // /proc/self/maps shows one VMA 100000000-100003000 rw-p. copy_vma keeps
    // the pgoff of a VMA that has an anon_vma, and all three pieces share it
    // (is_mergeable_anon_vma case 3), so vma_merge_new_range merges both ways.
    const { mm } = newMm();
    mapAt(mm, BASE, 3, RW);
    write(mm, BASE);
    write(mm, BASE + 1, 7);
    const anon = vmaAt(mm, BASE).anonVma;
    const far = BASE + 0x1000;
    expect(moveTo(mm, BASE + 1, 1, far)).toBe(far);
    expect(mm.mapCount).toBe(3);
    expect(vmaAt(mm, far).anonVma).toBe(anon);
    expect(moveTo(mm, far, 1, BASE + 1)).toBe(BASE + 1);
    expect(read(mm, BASE + 1)).toBe(7);
    expect(layout(mm)).toEqual([[0, 3]]);
    expect(vmaAt(mm, BASE).pgoff).toBe(BASE);
  });

  it('an unfaulted page moved away and back re-merges too (its pgoff follows it, and comes back with it) — §6.3 copy_vma', () => {
    const { mm } = newMm();
    mapAt(mm, BASE, 3, RW);
    const far = BASE + 0x1000;
    expect(moveTo(mm, BASE + 1, 1, far)).toBe(far);
    expect(vmaAt(mm, far).pgoff).toBe(far);
    expect(moveTo(mm, far, 1, BASE + 1)).toBe(BASE + 1);
    expect(layout(mm)).toEqual([[0, 3]]);
  });

  it('a moved page does not merge at its destination with a VMA of another anon_vma, although flags and pgoffs line up — §5.5 anon_vma rule', () => {
    const { mm } = newMm();
    const far = BASE + 0x1000;
    // X: faulted at BASE (pgoff BASE), then moved to far - 1 (pgoff kept).
    mapAt(mm, BASE, 1, RW);
    write(mm, BASE);
    expect(moveTo(mm, BASE, 1, far - 1)).toBe(far - 1);
    // V: two pages at BASE again, faulted separately (pgoff BASE, another anon_vma).
    mapAt(mm, BASE, 2, RW);
    write(mm, BASE + 1);
    const x = vmaAt(mm, far - 1);
    expect(vmaAt(mm, BASE).anonVma).not.toBe(x.anonVma);
    // V's page 1 (pgoff BASE + 1) lands right after X (pgoff BASE): contiguous, same flags.
    expect(moveTo(mm, BASE + 1, 1, far)).toBe(far);
    expect(vmaAt(mm, far).pgoff).toBe(x.pgoff + 1);
    expect(vmaAt(mm, far).flags).toBe(x.flags);
    expect(vmaAt(mm, far)).not.toBe(x);
    expect(mm.vmas.overlapping(far - 1, far + 1).length).toBe(2);
  });
});

describe('file mappings: the struct file is compared, not the inode', () => {
  it('two open()s of one tmpfs file do not merge, one open() does — §5.5 same vm_file rule [V]', () => {
    const { mm, kernel } = newMm();
    const inode = new StubInode(kernel, 7, 16n << 12n);
    const a = new StubFile(inode);
    const b = new StubFile(inode);
    const shared = MAP.SHARED;
    // Two opens: contiguous offsets, identical flags, still two VMAs.
    expect(mapAt(mm, BASE, 2, RW, shared, a, 0)).toBe(BASE);
    expect(mapAt(mm, BASE + 2, 2, RW, shared, b, 2)).toBe(BASE + 2);
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 4],
    ]);
    expect(vmaAt(mm, BASE).file).toBe(a);
    expect(vmaAt(mm, BASE + 2).file).toBe(b);
    // One open: the next range of the same struct file merges.
    expect(mapAt(mm, BASE + 4, 2, RW, shared, b, 4)).toBe(BASE + 4);
    expect(layout(mm)).toEqual([
      [0, 2],
      [2, 6],
    ]);
    // The merge did not keep a second reference: one per VMA.
    expect(a.refs).toBe(2);
    expect(b.refs).toBe(2);
    // The same struct file at a non-contiguous offset does not merge (pgoff rule).
    expect(mapAt(mm, BASE + 6, 1, RW, shared, b, 9)).toBe(BASE + 6);
    expect(mm.mapCount).toBe(3);
  });

  it('shared file VMAs never take an anon_vma and share page-cache pages — §7.2', () => {
    const { mm, kernel } = newMm();
    const inode = new StubInode(kernel, 8, 4n << 12n);
    const f = new StubFile(inode);
    mapAt(mm, BASE, 2, RW, MAP.SHARED, f, 0);
    write(mm, BASE, 5);
    expect(vmaAt(mm, BASE).anonVma).toBeNull();
    expect(inode.cache.size).toBe(1);
  });
});
