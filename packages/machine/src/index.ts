/**
 * `@mmsim/machine`: the composition root. Builds a simulated Linux machine
 * (one tsyringe container per machine) with x86-64 and the buddy allocator by
 * default, boots it from a trace header, and replays traces on it.
 * @packageDocumentation
 */
export * from './machine.js';
export * from './boot.js';
export * from './replay.js';
export * from './inspect.js';
export * from './invariants.js';
