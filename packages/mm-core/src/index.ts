/**
 * `@mmsim/mm-core`: Linux's generic memory management — `mm_struct`, VMAs and
 * their tree, address placement, `mmap_region`, unmapping, protection
 * changes, remapping, brk, madvise, mlock, page faults and accounting — over
 * the architecture contract of `@mmsim/arch` and the frame-allocator contract
 * defined here. It never imports an architecture plug-in or a filesystem.
 * @packageDocumentation
 */
export * from './frames/index.js';
export * from './config.js';
export * from './vm-flags.js';
export * from './file.js';
export * from './page.js';
export * from './vma.js';
export * from './vma-tree.js';
export * from './kernel.js';
export * from './mm.js';
export * from './guards.js';
export * from './accounting.js';
export * from './unmapped-area.js';
export * from './vma-ops.js';
export * from './rmap.js';
export * from './fault.js';
export * from './huge-zero.js';
export * from './i-mmap.js';
export * from './access.js';
export * from './mmap.js';
export * from './munmap.js';
export * from './proc.js';
export * from './gup.js';
export * from './mprotect.js';
export * from './madvise.js';
export * from './mlock.js';
export * from './brk.js';
export * from './mremap.js';
