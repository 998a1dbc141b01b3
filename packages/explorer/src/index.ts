/**
 * `@mmsim/explorer`: the browser explorer of mmsim. The page itself lives in
 * `src/main.ts`; this entry point is the part that runs anywhere (Node
 * included): loading a trace, replaying it to any step, and everything the
 * page draws from that state — the address-space segments, the kinds of
 * mapping, and page-table walks.
 * @packageDocumentation
 */
export * from './session.js';
export * from './address-map.js';
export * from './kinds.js';
export * from './page-walk.js';
export * from './format.js';
