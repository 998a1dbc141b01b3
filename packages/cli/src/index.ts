/**
 * `@mmsim/cli`: the `mmsim` command (replay, check, explain) as a library.
 * @packageDocumentation
 */
export * from './replay-command.js';
export * from './record-command.js';
export * from './pagetable-command.js';
export * from './arch-option.js';
