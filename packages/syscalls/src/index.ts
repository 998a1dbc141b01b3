/**
 * `@mmsim/syscalls`: the system-call entries of the memory-management model
 * with Linux's argument decoding (u64 arguments, errno results): x86-64
 * `mmap`, `ksys_mmap_pgoff`, `munmap`, the file calls a trace uses, and the
 * observations (`peek`, `poke`, `rss`, huge page counters, maps).
 * @packageDocumentation
 */
export * from './task.js';
export * from './mmap.js';
export * from './files.js';
export * from './memory.js';
export * from './mm-calls.js';
