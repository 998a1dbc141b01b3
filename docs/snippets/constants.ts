// Step 1 of docs/writing-an-architecture.md: the address-space constants of
// the new architecture, in pages, each one citing the Linux header it comes
// from. (The values below are the sketch's: replace them with your target's.)

// --- snippet: constants ---
/** log2 of the base page size (`PAGE_SHIFT`). */
export const SKETCH_PAGE_SHIFT = 12;
/** Page-table levels, 9 bits of vpn each (512 entries of 8 bytes per 4 KiB table). */
export const SKETCH_LEVELS = 4;
/** `TASK_SIZE` in pages: half of a 48-bit space. @see arch/<yours>/include/asm/processor.h */
export const SKETCH_TASK_SIZE_PAGES = 2 ** (47 - SKETCH_PAGE_SHIFT);
/** `TASK_UNMAPPED_BASE` = `PAGE_ALIGN(TASK_SIZE / 3)`: where bottom-up searches start. */
export const SKETCH_UNMAPPED_BASE_PAGES = Math.ceil(SKETCH_TASK_SIZE_PAGES / 3);
/** `STACK_TOP` (= `DEFAULT_MAP_WINDOW` here): `mmap_base` is computed below it. */
export const SKETCH_STACK_TOP_PAGES = SKETCH_TASK_SIZE_PAGES;
// --- end snippet ---
