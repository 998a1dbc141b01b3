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
 * went from ~320 to ~530 ns. Growing the array to the index first keeps it
 * flat.
 * @see include/linux/mmzone.h struct mem_section (Linux sizes its section table for the whole address range)
 */

/**
 * Sections up to which {@link extendTo} grows an array densely: 2^17 sections
 * of 4096 frames, 2 TiB of RAM, at most 1 MiB per table. A table that gets a
 * section beyond (a machine of more than 2 TiB using its top frames) is left
 * to V8's sparse store: slower, still exact, and without allocating a table
 * for the whole range (a frame above 2^32 would otherwise cost 8 MiB per
 * table).
 */
export const DENSE_SECTION_LIMIT = 2 ** 17;

/**
 * Make `array` long enough to hold index `index` by appending `fill`, so that
 * V8 keeps its elements flat (see the module comment). Indices past
 * {@link DENSE_SECTION_LIMIT} are left to a sparse store.
 * @internal
 */
export function extendTo<T>(array: T[], index: number, fill: T): void {
  if (index >= DENSE_SECTION_LIMIT || index < array.length) return;
  const from = array.length;
  // Setting the length keeps the elements flat (holey) at any size up to the limit, in one
  // allocation; the new slots then get `fill`.
  array.length = index + 1;
  array.fill(fill, from);
}
