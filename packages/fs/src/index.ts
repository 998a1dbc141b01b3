/**
 * `@mmsim/fs`: the VFS objects a mapping needs — open files and the
 * descriptor table, tmpfs with its page cache, hugetlbfs with huge page
 * pools and reservations, and the device files — implementing the file
 * contract of `@mmsim/mm-core`.
 * @packageDocumentation
 */
export * from './vfs.js';
export * from './fdtable.js';
export * from './mappings.js';
export * from './tmpfs.js';
export * from './page-index.js';
export * from './hstate.js';
export * from './hugetlbfs.js';
export * from './hugetlb-sysfs.js';
export * from './devices.js';
export * from './vfs-namespace.js';
