// Step 6: the Architecture object that ties the pieces together, and its
// registration: `createMachine({ arch: sketchArch })`.
import type { Architecture, HugePageSize, PageTableFrameSource, PteView } from '@mmsim/arch';
import { SKETCH_PAGE_SHIFT } from './constants.js';
import { sketchAddressSpace } from './layout.js';
import { sketchMmu } from './mmu.js';
import { SketchPageTable } from './page-table.js';
import { sketchProtectionBits } from './protection-map.js';

// --- snippet: architecture ---
const HUGE: readonly HugePageSize[] = [{ shift: 21, order: 9, level: 'L2' }];

/** The sketch architecture: everything generic mm, fs and syscalls need. */
export const sketchArch: Architecture = {
  name: 'sketch64',
  pageShift: SKETCH_PAGE_SHIFT,
  hugePageSizes: () => HUGE,
  defaultHugePageShift: () => 21,
  addressSpace: sketchAddressSpace,
  mmu: sketchMmu,
  createPageTable: (frames: PageTableFrameSource) => new SketchPageTable(frames),
  protectionBits: sketchProtectionBits,
  describeLeaf: (leaf: PteView) => `leaf pfn 0x${leaf.pfn.toString(16)} order ${leaf.order} bits 0x${leaf.bits.toString(16)}`,
  // Optional hooks: accessError (arch access_error) when the default x86 rule is wrong for you.
};
// --- end snippet ---
