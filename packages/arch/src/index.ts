/**
 * `@mmsim/arch`: the architecture contract of mmsim — page sizes, the
 * address-space layout seam, the page-table seam, the MMU and the
 * `protection_map` hook — that generic mm code programs against, as Linux's
 * `mm/` calls hooks `arch/` provides. Architecture plug-ins live in subpath
 * exports (`@mmsim/arch/x86-64`) so generic code never imports them.
 * @packageDocumentation
 */
export * from './contract/index.js';
