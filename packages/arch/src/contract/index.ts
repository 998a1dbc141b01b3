export * from './arch.js';
export * from './features.js';
export * from './layout.js';
export * from './page-table.js';
