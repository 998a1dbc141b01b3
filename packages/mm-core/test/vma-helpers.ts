// A bare mm for VMA tests in the manner of Linux's tools/testing/vma: an
// MmKernel and one MmStruct over x86-64 and the buddy allocator, no VFS, and
// a stub file (with a page cache) standing in for a tmpfs file, so the tests
// can look at the VMA tree and its hidden state directly.
import { x86_64 } from '@mmsim/arch/x86-64';
import { MAP, NOOP_TRACER, PROT } from '@mmsim/base';
import {
  buddyAllocatorFactory,
  DEFAULT_KERNEL_CONFIG,
  doMmap,
  doMprotect,
  doMremap,
  doMunmap,
  MmKernel,
  MmStruct,
  PageKind,
  userAccess,
  VmFault,
  type FileOps,
  type KernelConfig,
  type Vma,
  type VmFile,
  type VmInode,
  type VmOperations,
} from '../src/index.js';

export { MAP, PROT };

/** Where the tests place their mappings (MAP_FIXED): a quiet spot, as a vpn. */
export const BASE = 0x10000;

export interface TestMm {
  readonly kernel: MmKernel;
  readonly mm: MmStruct;
}

/** A fresh kernel (256 MiB) and address space. */
export function newMm(config: Partial<KernelConfig> = {}): TestMm {
  const cfg: KernelConfig = { ...DEFAULT_KERNEL_CONFIG, memTotalKb: 256 * 1024, ...config };
  const frames = buddyAllocatorFactory({ totalFrames: cfg.memTotalKb / 4 });
  const kernel = new MmKernel(x86_64, cfg, frames, NOOP_TRACER);
  const mm = new MmStruct(kernel, {
    rlimitStack: 8n << 20n,
    rlimitAs: 'unlimited',
    rlimitData: 'unlimited',
    rlimitMemlock: 8n << 20n,
    privileged: false,
  });
  return { kernel, mm };
}

const bytes = (vpn: number): bigint => BigInt(vpn) << 12n;

/** mmap(MAP_FIXED) `pages` pages at `vpn`; returns the vpn or -errno. */
export function mapAt(mm: MmStruct, vpn: number, pages: number, prot: number, flags = MAP.PRIVATE | MAP.ANONYMOUS, file: VmFile | null = null, pgoff = 0): number {
  const { result } = doMmap(mm, file, bytes(vpn), bytes(pages), prot, flags | MAP.FIXED, BigInt(pgoff));
  mm.releaseDeferredFputs(); // as the system call's return to user space would
  return result;
}

/** mmap without MAP_FIXED (the kernel picks the address). */
export function mapAnywhere(mm: MmStruct, pages: number, prot: number, flags = MAP.PRIVATE | MAP.ANONYMOUS): number {
  return doMmap(mm, null, 0n, bytes(pages), prot, flags, 0n).result;
}

export function unmap(mm: MmStruct, vpn: number, pages: number): number {
  return doMunmap(mm, vpn, vpn + pages);
}

export function protect(mm: MmStruct, vpn: number, pages: number, prot: number): number {
  return doMprotect(mm, bytes(vpn), bytes(pages), BigInt(prot));
}

/** mremap(MREMAP_MAYMOVE | MREMAP_FIXED) of `pages` pages from `from` to `to`; the new vpn or -errno. */
export function moveTo(mm: MmStruct, from: number, pages: number, to: number): number {
  const r = doMremap(mm, bytes(from), bytes(pages), bytes(pages), 3n, bytes(to));
  return r < 0n ? Number(r) : Number(r >> 12n);
}

/** A user store of one byte (a write fault the first time). */
export function write(mm: MmStruct, vpn: number, value = 1, offset = 0): void {
  const r = userAccess(mm, bytes(vpn) + BigInt(offset), value);
  if (r.signal) throw new Error(`write to 0x${(vpn * 4096).toString(16)}: ${r.signal}`);
}

/** A user load of one byte. */
export function read(mm: MmStruct, vpn: number, offset = 0): number {
  const r = userAccess(mm, bytes(vpn) + BigInt(offset));
  if (r.signal) throw new Error(`read of 0x${(vpn * 4096).toString(16)}: ${r.signal}`);
  return r.value;
}

/** The VMAs as [start, end) relative to BASE, for compact assertions. */
export function layout(mm: MmStruct): Array<[number, number]> {
  return mm.vmas.all().map((v) => [v.start - BASE, v.end - BASE]);
}

/** The VMA covering `vpn`. */
export function vmaAt(mm: MmStruct, vpn: number): Vma {
  const v = mm.vmas.lookup(vpn);
  if (!v) throw new Error(`no VMA at 0x${(vpn * 4096).toString(16)}`);
  return v;
}

/** An inode with a page cache, standing in for a tmpfs file. */
export class StubInode implements VmInode {
  readonly dev = '00:2a';
  readonly cache = new Map<number, number>();
  constructor(
    readonly kernel: MmKernel,
    readonly ino: number,
    private readonly bytes: bigint,
  ) {}
  size(): bigint {
    return this.bytes;
  }
  get pageCache() {
    return { lookup: (index: number) => this.cache.get(index) ?? -1 };
  }
}

/** `shmem_vm_ops`-like hooks over a {@link StubInode}. */
const STUB_VM_OPS: VmOperations = {
  fault(vma: Vma, pgoff: number): number {
    const inode = vma.file!.inode as StubInode;
    if (BigInt(pgoff) << 12n >= inode.size()) return -VmFault.SIGBUS;
    let pfn = inode.cache.get(pgoff);
    if (pfn === undefined) {
      pfn = inode.kernel.allocPages(PageKind.FILE, 0);
      if (pfn < 0) return -VmFault.OOM;
      const d = inode.kernel.page(pfn)!;
      d.inode = inode;
      d.index = pgoff;
      inode.cache.set(pgoff, pfn);
    }
    return pfn;
  },
  cachedPage: (vma: Vma, pgoff: number) => (vma.file!.inode as StubInode).cache.get(pgoff) ?? -1,
};

const STUB_FILE_OPS: FileOps = {
  mmap(_file, vma) {
    vma.ops = STUB_VM_OPS;
    return 0;
  },
  regularSizeLimit: true,
};

/** One `open()` of a stub inode: a `struct file` with a reference count. */
export class StubFile implements VmFile {
  refs = 1;
  readonly readable = true;
  readonly writable = true;
  readonly noexec = false;
  readonly ops = STUB_FILE_OPS;
  constructor(readonly inode: StubInode) {}
  path(): string {
    return `/dev/shm/stub${this.inode.ino}`;
  }
  get(): void {
    this.refs++;
  }
  put(): void {
    this.refs--;
  }
}
