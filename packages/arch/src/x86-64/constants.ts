/**
 * x86-64 address-space constants, in pages of 4 KiB unless named otherwise.
 * @see arch/x86/include/asm/page_64_types.h
 * @see arch/x86/include/asm/processor.h
 */

/** log2 of the base page size. */
export const X86_PAGE_SHIFT = 12;
/** `PAGE_SIZE`. */
export const X86_PAGE_SIZE = 1 << X86_PAGE_SHIFT;
/** `DEFAULT_MAP_WINDOW` (47-bit user space, one page short of 2^47), in pages. */
export const DEFAULT_MAP_WINDOW_PAGES = 2 ** 35 - 1;
/** `TASK_SIZE_MAX` with 4-level paging, in pages. */
export const TASK_SIZE_4LEVEL_PAGES = 2 ** 35 - 1;
/** `TASK_SIZE_MAX` with 5-level paging (`(1 << 56) - PAGE_SIZE`), in pages. */
export const TASK_SIZE_5LEVEL_PAGES = 2 ** 44 - 1;
/** 128 MiB in pages: the smallest gap `mmap_base` leaves for the stack (`SIZE_128M`). */
export const MMAP_BASE_GAP_MIN_PAGES = (128 * 1024 * 1024) / X86_PAGE_SIZE;
/** `stack_guard_gap`: 256 pages (1 MiB) by default. @see mm/mmap.c */
export const STACK_GUARD_GAP_PAGES = 256;
/** `MAP_32BIT` window `[0x40000000, 0x80000000)`, in pages. @see find_start_end */
export const MAP_32BIT_BEGIN_PAGES = 0x40000000 / X86_PAGE_SIZE;
/** End of the `MAP_32BIT` window, in pages. */
export const MAP_32BIT_END_PAGES = 0x80000000 / X86_PAGE_SIZE;
/** 4 GiB in pages: the low limit for `MAP_ABOVE4G`. */
export const SZ_4G_PAGES = 0x100000000 / X86_PAGE_SIZE;
/** `mmap64_rnd_bits` default: 28 bits of pages of randomisation. */
export const MMAP64_RND_BITS = 28;
/** `[vsyscall]` page address (the gate area; not a VMA). */
export const VSYSCALL_ADDR = 0xffffffffff600000n;
