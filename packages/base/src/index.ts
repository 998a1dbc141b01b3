/**
 * `@mmsim/base`: the vocabulary every mmsim layer shares — errno values,
 * exact u64 arithmetic for the system-call boundary, the x86-64 user ABI
 * constants, the tracer seam and the dependency-injection tokens.
 * @packageDocumentation
 */
export * from './errno.js';
export * from './u64.js';
export * from './uapi.js';
export * from './tracer.js';
export * from './tokens.js';
