/**
 * Building a machine from a trace header: `@config` → kernel parameters,
 * `@mount`, huge page pools, `@fd`, `@brk`, and the initial address space from
 * `@maps` (program image, bss, heap, stack, vdso/vvar, vsyscall).
 */

import { errnoName, type Tracer } from '@mmsim/base';
import {
  PageKind,
  iMmapInsert,
  userAccess,
  VM,
  Vma,
  VmFault,
  type FileOps,
  type MmKernel,
  type PageCacheView,
  type FrameAllocatorFactory,
  type KernelConfig,
  type VmOperations,
} from '@mmsim/mm-core';
import { Inode, OpenFile, type InodeIo } from '@mmsim/fs';
import type { MapsLine, TraceConfig, TraceHeader } from '@mmsim/trace';
import type { Architecture } from '@mmsim/arch';
import { createMachine, type Machine } from './machine.js';

/** Trace `@config` → the model's kernel parameters. */
export function kernelConfigFromTrace(c: TraceConfig): Partial<KernelConfig> {
  return {
    memTotalKb: c.mem_total_kb,
    swapTotalKb: c.swap_total_kb,
    maxMapCount: c.max_map_count,
    mmapMinAddr: c.mmap_min_addr,
    lsmMmapMinAddr: c.lsm_mmap_min_addr,
    overcommitMemory: c.overcommit_memory,
    overcommitRatio: c.overcommit_ratio,
    faultAroundBytes: c.fault_around_bytes,
    thp: c.thp,
    la57: c.la57 === 1,
    gbpages: c.gbpages === 1,
    legacyLayout: c.layout === 'legacy',
    randomize: c.aslr === 1,
    seed: c.seed ?? 0,
    privileged: c.privileged === 1,
    rlimitStack: c.rlimit_stack,
    rlimitAs: c.rlimit_as,
    rlimitData: c.rlimit_data,
    rlimitMemlock: c.rlimit_memlock,
  };
}

/**
 * The program image the recorder ran from: a read-only regular file that can
 * be mapped privately. Its bytes are not known to the model: its pages read
 * as zeros, but they exist (no SIGBUS) and count in Rss like page-cache pages.
 */
class ImageInode extends Inode implements InodeIo, PageCacheView {
  private readonly cache = new Map<number, number>();
  constructor(
    ino: number,
    private readonly kernel: MmKernel,
  ) {
    super(ino, '00:00', 'reg');
  }
  size(): bigint {
    return 1n << 40n;
  }
  override get pageCache(): PageCacheView {
    return this;
  }
  lookup(index: number): number {
    return this.cache.get(index) ?? -1;
  }
  /** The page-cache page of `index`, created on first use. */
  page(index: number): number {
    let pfn = this.cache.get(index);
    if (pfn === undefined) {
      pfn = this.kernel.allocPages(PageKind.FILE, 0);
      if (pfn < 0) return -VmFault.OOM;
      const desc = this.kernel.page(pfn)!;
      desc.inode = this;
      desc.index = index;
      this.cache.set(index, pfn);
    }
    return pfn;
  }
  fileOps(): FileOps {
    return { mmap: (_f, vma) => ((vma.ops = IMAGE_VM_OPS), 0), regularSizeLimit: true };
  }
  io(): InodeIo {
    return this;
  }
  readByte(): number {
    return 0;
  }
  writeFill(): number {
    return -9;
  }
  truncate(): number {
    return -22;
  }
  protected evict(): void {}
}

/** Program-image pages: faults find (or create) the image's page-cache page. */
const IMAGE_VM_OPS: VmOperations = {
  fault: (vma, pgoff) => (vma.file!.inode as ImageInode).page(pgoff),
  cachedPage: (vma, pgoff) => (vma.file!.inode as ImageInode).lookup(pgoff),
};

/**
 * Special mappings (`_install_special_mapping`): never split, never merged;
 * vvar pages have no backing page (SIGBUS), vdso pages read as zeros here.
 */
function specialOps(name: string, kernel: MmKernel): VmOperations {
  const pages = new Map<number, number>();
  return {
    name,
    special: true,
    maySplit: () => -22,
    unbackedPages: name === '[vvar]' || name === '[vvar_vclock]' ? () => true : undefined,
    fault: (_vma, pgoff) => {
      let pfn = pages.get(pgoff);
      if (pfn === undefined) {
        pfn = kernel.allocPages(PageKind.FILE, 0);
        if (pfn < 0) return -VmFault.OOM;
        pages.set(pgoff, pfn);
      }
      return pfn;
    },
  };
}

/**
 * Flags of a special mapping (`_install_special_mapping` adds `VM_DONTEXPAND`):
 * the vDSO's code may become writable (`VM_MAYWRITE`, for debuggers), the vvar
 * pages are the kernel's own, inserted by pfn (`VM_IO | VM_PFNMAP`), read-only
 * for good and left out of core dumps (smaps: `rd mr pf io de dd`).
 * @see arch/x86/entry/vdso/vma.c map_vdso, lib/vdso/datastore.c vdso_install_vvar_mapping
 */
function specialFlags(name: string, fromPerms: number): number {
  if (name === '[vvar]' || name === '[vvar_vclock]') return VM.READ | VM.MAYREAD | VM.IO | VM.PFNMAP | VM.DONTEXPAND | VM.DONTDUMP;
  return (fromPerms & ~VM.ACCOUNT) | VM.DONTEXPAND;
}

/** Flags of a VMA from its maps permissions, for the kinds of mapping an exec'd process starts with. */
function initialFlags(line: MapsLine): number {
  let f = VM.MAYREAD | VM.MAYWRITE | VM.MAYEXEC;
  if (line.perms[0] === 'r') f |= VM.READ;
  if (line.perms[1] === 'w') f |= VM.WRITE;
  if (line.perms[2] === 'x') f |= VM.EXEC;
  if (line.perms[3] === 's') f |= VM.MAYSHARE | VM.SHARED;
  if ((f & (VM.WRITE | VM.SHARED)) === VM.WRITE) f |= VM.ACCOUNT;
  return f;
}

/** A header the machine cannot be built from; `line` is the directive's, when known. */
export class BootError extends Error {
  constructor(
    message: string,
    readonly line?: number,
  ) {
    super(message);
    this.name = 'BootError';
  }
}

/** Options for {@link bootFromHeader}. */
export interface BootOptions {
  readonly arch?: Architecture;
  readonly frameAllocator?: FrameAllocatorFactory;
  readonly tracer?: Tracer;
}

/** A machine in the state a trace header describes. Throws an Error with a message for an impossible header. */
export function bootFromHeader(header: TraceHeader, options: BootOptions = {}): { machine: Machine; vsyscall: boolean } {
  const machine = createMachine({ ...options, config: kernelConfigFromTrace(header.config) });
  const { vfs, mm, files } = machine;
  const pageSize = 2 ** machine.arch.pageShift;
  if (header.config.page_size !== pageSize) {
    // (The base page size is the architecture's: a header of another page size describes another machine.)
    throw new BootError(`@config page_size=${header.config.page_size}: ${machine.arch.name} pages are ${pageSize} bytes`);
  }
  const pools: Array<[number, number, number]> = [
    [2048, header.config.hugepages_2048kB, header.config.overcommit_hugepages_2048kB],
    [1048576, header.config.hugepages_1048576kB, header.config.overcommit_hugepages_1048576kB],
  ];
  for (const [kb, count, over] of pools) {
    const h = vfs.hugetlb.hstateForKb(kb);
    if (!h) {
      if (count || over) throw new Error(`no ${kb}kB huge page size on this machine (gbpages=0?)`);
      continue;
    }
    h.overcommit = over;
    h.setMaxHugePages(count);
  }
  // Mounted after the pools are sized, as the recorder does: hugetlbfs
  // `size=N%` and `min_size=` are computed from (and reserved in) the pool.
  for (const m of header.mounts) {
    try {
      vfs.mount(m.fstype, m.path, m.options);
    } catch (e) {
      throw new BootError(`@mount ${m.fstype} ${m.path}: ${(e as Error).message}`, m.pos?.line);
    }
  }
  for (const fd of header.fds) {
    const write = fd.flags !== 'O_RDONLY';
    const read = fd.flags !== 'O_WRONLY';
    let file: OpenFile | number;
    if (fd.target === 'pipe') file = vfs.pipe(write && !read);
    else {
      file = vfs.open(fd.target, fd.flags === 'O_RDWR' ? 2 : fd.flags === 'O_WRONLY' ? 1 : 0);
      if (typeof file === 'number') throw new Error(`@fd ${fd.fd} ${fd.target}: ${errnoName(-file)}`);
    }
    files.installAt(fd.fd, file);
  }
  if (header.brk) {
    mm.startBrk = Number(header.brk.start);
    mm.brk = Number(header.brk.cur);
  }
  const images = new Map<string, OpenFile>();
  let vsyscall = false;
  for (const line of header.maps) {
    if (line.name === '[vsyscall]') {
      vsyscall = true;
      continue;
    }
    const start = Number(line.start >> 12n);
    const end = Number(line.end >> 12n);
    if (end > mm.taskSize) {
      // A header from another architecture (a replay with --arch): no process
      // of this one can have the mapping.
      throw new Error(
        `@maps ${line.start.toString(16)}-${line.end.toString(16)} ${line.name || '(anonymous)'} lies above ${machine.arch.name}'s user address space (TASK_SIZE 0x${(mm.taskSize * 2 ** machine.arch.pageShift).toString(16)})`,
      );
    }
    let flags = initialFlags(line);
    let vma: Vma;
    if (line.name.startsWith('/')) {
      let file = images.get(line.name);
      if (!file) {
        file = new OpenFile(new ImageInode(vfs.inodes.take(), machine.kernel), line.name, true, false);
        images.set(line.name, file);
      }
      file.get();
      if (flags & VM.SHARED) flags &= ~(VM.SHARED | VM.MAYWRITE);
      vma = new Vma(start, end, flags & ~VM.ACCOUNT | (flags & VM.WRITE ? VM.ACCOUNT : 0), Number(line.offset >> 12n), file, IMAGE_VM_OPS);
    } else if (line.name.startsWith('[v')) {
      vma = new Vma(start, end, specialFlags(line.name, flags), 0, null, specialOps(line.name, machine.kernel));
    } else {
      if (line.name === '[stack]') {
        flags |= VM.GROWSDOWN;
        mm.startStack = (end - 1) * 4096;
      }
      vma = new Vma(start, end, flags, start, null, null);
    }
    mm.vmas.insert(vma);
    iMmapInsert(mm, vma); // the program image's mappings, as exec links them
    mm.statAccount(vma.flags, end - start);
    if (vma.flags & VM.ACCOUNT) mm.kernel.committedAs += end - start;
  }
  for (const file of images.values()) file.put();
  // The recorded process's C library read the vDSO's ELF header when it started (every
  // glibc program does): that page is resident, and its page table exists, before the
  // first step. (The kernel's Rss of [vdso] is 4 kB with no step; a THP could not go in
  // the vDSO's 2 MiB block: fuzz-legacy-s2029-113, fuzz-file-s2107-253.)
  const vdso = header.maps.find((l) => l.name === '[vdso]');
  if (vdso) userAccess(mm, vdso.start);
  const data = header.maps.find((l) => l.perms[1] === 'w' && l.name.startsWith('/'));
  if (data) mm.dataSegmentSize = Number(data.end - data.start);
  return { machine, vsyscall };
}
