/**
 * Keeping the section tables of physical memory's metadata (the `mem_map`
 * sections, the buddy allocator's per-frame maps, the page-contents
 * directory) in V8's flat element stores.
 *
 * Those tables are arrays indexed by section number, filled as frames are
 * used. Storing to an index far past an array's end (the first use of the
 * frames at the top of a 24 GB machine: the sub-max-order tail the buddy
 * allocator hands out first) makes V8 switch the array to dictionary
 * elements, and from then on every access hashes: an anonymous page fault
 * went from ~320 to ~530 ns. Growing the array one element at a time keeps it
 * flat.
 * @see include/linux/mmzone.h struct mem_section (Linux sizes its section table for the whole address range)
 */

/**
 * Sections up to which {@link extendTo} grows an array densely: 2^22 sections
 * of 4096 frames, 64 TiB of RAM, at most 32 MiB per table. Beyond that a table
 * is left sparse (slower, but no machine that size keeps a dense table).
 */
export const DENSE_SECTION_LIMIT = 2 ** 22;

/**
 * Make `array` long enough to hold index `index` by appending `fill`, so that
 * V8 keeps its elements flat (see the module comment). Indices past
 * {@link DENSE_SECTION_LIMIT} are left to a sparse store.
 * @internal
 */
export function extendTo<T>(array: T[], index: number, fill: T): void {
  if (index >= DENSE_SECTION_LIMIT) return;
  while (array.length <= index) array.push(fill);
}
