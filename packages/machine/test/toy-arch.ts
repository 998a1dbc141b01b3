// A test-only architecture, written against the contract in
// packages/arch/src/contract alone (it never imports '@mmsim/arch/x86-64'):
// a RISC-V Sv39-like machine with 4 KiB pages, a 39-bit virtual address
// space, a 3-level page table kept in Maps, RISC-V style PTE bits and
// protection_map, and an MMU that raises RISC-V page-fault causes.
//
// It shows that a new architecture is a plug-in: `createMachine({ arch: toyArch })`
// runs the generic mm, fs and syscalls code on it unchanged.
import { Errno } from '@mmsim/base';
import {
  AccessKind,
  PteBits,
  type ArchAddressSpace,
  type ArchFeatures,
  type ArchMmu,
  type Architecture,
  type HugePageSize,
  type LayoutInput,
  type MmapLayout,
  type PageTable,
  type PageTableFrameSource,
  type PteView,
  type Translation,
  type UnmappedAreaContext,
  type UnmappedAreaRequest,
  type VmProtection,
} from '@mmsim/arch';

/** log2 of the page size (4 KiB). */
export const TOY_PAGE_SHIFT = 12;
/** Bits of virtual page number translated per level (512 entries per table). */
const LEVEL_BITS = 9;
/** Page-table levels (Sv39: 3 × 9 bits + 12 = 39 bits). */
export const TOY_LEVELS = 3;
/** `TASK_SIZE`: the lower half of the 39-bit space, 2^38 bytes, in pages. */
export const TOY_TASK_SIZE_PAGES = 2 ** (38 - TOY_PAGE_SHIFT);
/** `TASK_UNMAPPED_BASE` = `PAGE_ALIGN(TASK_SIZE / 3)`, the bottom-up start, in pages. */
export const TOY_UNMAPPED_BASE_PAGES = Math.ceil(TOY_TASK_SIZE_PAGES / 3);
/** `MIN_GAP`: 128 MiB left for the stack below `mmap_base`, in pages. */
const MIN_GAP_PAGES = (128 * 1024 * 1024) >> TOY_PAGE_SHIFT;
/** `stack_guard_gap`: 1 MiB, in pages. */
const STACK_GUARD_GAP_PAGES = 256;

// ---- Sv39 page-table entry bits (the privileged spec's layout) --------------------------
/** Valid. */
export const SV_V = 1 << 0;
/** Readable. */
export const SV_R = 1 << 1;
/** Writable. */
export const SV_W = 1 << 2;
/** Executable. */
export const SV_X = 1 << 3;
/** User-accessible. */
export const SV_U = 1 << 4;
/** Global; with V clear Linux/riscv uses it as `_PAGE_PROT_NONE`. */
export const SV_G = 1 << 5;
/** Accessed. */
export const SV_A = 1 << 6;
/** Dirty. */
export const SV_D = 1 << 7;
/** First software bit (RSW), Linux/riscv's `_PAGE_SPECIAL`. */
export const SV_SPECIAL = 1 << 8;
/** The physical page number starts at bit 10. */
const PPN_SHIFT_MUL = 1024;

/** RISC-V `scause` values for page faults. */
export const TOY_CAUSE = { INSTRUCTION_PAGE_FAULT: 12, LOAD_PAGE_FAULT: 13, STORE_PAGE_FAULT: 15 } as const;

/** Encode neutral {@link PteBits} and a frame as a raw Sv39 leaf entry. */
export function toyEncode(pfn: number, bits: number): number {
  let e = 0;
  if (bits & PteBits.PRESENT) e |= SV_V;
  if (bits & PteBits.READ) e |= SV_R;
  if (bits & PteBits.WRITE) e |= SV_W;
  if (bits & PteBits.EXEC) e |= SV_X;
  if (bits & PteBits.USER) e |= SV_U;
  if (bits & (PteBits.GLOBAL | PteBits.PROTNONE)) e |= SV_G;
  if (bits & PteBits.ACCESSED) e |= SV_A;
  if (bits & PteBits.DIRTY) e |= SV_D;
  if (bits & PteBits.SPECIAL) e |= SV_SPECIAL;
  return pfn * PPN_SHIFT_MUL + e;
}

/** Decode a raw Sv39 leaf entry into its frame and neutral {@link PteBits}. */
export function toyDecode(entry: number): { pfn: number; bits: number } {
  const e = entry % PPN_SHIFT_MUL;
  let bits = 0;
  if (e & SV_V) bits |= PteBits.PRESENT;
  if (e & SV_R) bits |= PteBits.READ;
  if (e & SV_W) bits |= PteBits.WRITE;
  if (e & SV_X) bits |= PteBits.EXEC;
  if (e & SV_U) bits |= PteBits.USER;
  if (e & SV_G) bits |= e & SV_V ? PteBits.GLOBAL : PteBits.PROTNONE;
  if (e & SV_A) bits |= PteBits.ACCESSED;
  if (e & SV_D) bits |= PteBits.DIRTY;
  if (e & SV_SPECIAL) bits |= PteBits.SPECIAL;
  return { pfn: Math.floor(entry / PPN_SHIFT_MUL), bits };
}

/** One page-table page below the root: its frame and how many leaves lie beneath it. */
interface TablePage {
  readonly pfn: number;
  used: number;
}

/**
 * A 3-level page table kept sparse in Maps: leaves by their first vpn (raw
 * Sv39 entries), and the table pages below the root by level and index.
 * Leaves of order 0 (4 KiB, level 0), 9 (2 MiB megapage, level 1) and
 * 18 (1 GiB gigapage, level 2) are supported.
 */
export class ToyPageTable implements PageTable {
  readonly levels = TOY_LEVELS;
  /** vpn of a leaf's first page → [order, raw Sv39 entry]. */
  private readonly leaves = new Map<number, [number, number]>();
  /** `${level}:${index}` → the table page at that level covering index << (9 × (level + 1)). */
  private readonly tables = new Map<string, TablePage>();
  private readonly root: number;

  constructor(private readonly frames: PageTableFrameSource) {
    const root = frames.allocTableFrame();
    if (root < 0) throw new Error('toy: no memory for the root page table');
    this.root = root;
  }

  /** The leaf covering `vpn`: its first vpn, order and raw entry. */
  private find(vpn: number): [number, number, number] | null {
    for (const order of [0, 9, 18]) {
      const head = vpn - (vpn % 2 ** order);
      const leaf = this.leaves.get(head);
      if (leaf && leaf[0] === order) return [head, order, leaf[1]];
    }
    return null;
  }

  /** The table pages a leaf of `order` at `vpn` lives in, below the root (level 1 first). */
  private tableKeys(vpn: number, order: number): string[] {
    const keys: string[] = [];
    // A leaf at level L (order 9·L) lives in the table at level L, covering 2^(9·(L+1)) pages.
    for (let level = TOY_LEVELS - 2; level >= order / LEVEL_BITS; level--) {
      keys.push(`${level}:${Math.floor(vpn / 2 ** (LEVEL_BITS * (level + 1)))}`);
    }
    return keys;
  }

  map(vpn: number, pfn: number, order: number, bits: number): boolean {
    if (order !== 0 && order !== 9 && order !== 18) throw new Error(`toy: no leaf of order ${order}`);
    if (vpn % 2 ** order !== 0) throw new Error(`toy: vpn ${vpn} not aligned to order ${order}`);
    const keys = this.tableKeys(vpn, order);
    for (const key of keys) {
      if (this.tables.has(key)) continue;
      const frame = this.frames.allocTableFrame();
      if (frame < 0) return false;
      this.tables.set(key, { pfn: frame, used: 0 });
    }
    if (!this.leaves.has(vpn)) for (const key of keys) this.tables.get(key)!.used++;
    this.leaves.set(vpn, [order, toyEncode(pfn, bits)]);
    return true;
  }

  lookup(vpn: number): PteView | null {
    const found = this.find(vpn);
    if (!found) return null;
    const { pfn, bits } = toyDecode(found[2]);
    return { pfn, order: found[1], bits };
  }

  setBits(vpn: number, bits: number): void {
    const found = this.find(vpn);
    if (!found) return;
    const { pfn } = toyDecode(found[2]);
    this.leaves.set(found[0], [found[1], toyEncode(pfn, bits)]);
  }

  unmap(vpn: number): PteView | null {
    const found = this.find(vpn);
    if (!found) return null;
    this.leaves.delete(found[0]);
    for (const key of this.tableKeys(found[0], found[1])) this.tables.get(key)!.used--;
    const { pfn, bits } = toyDecode(found[2]);
    return { pfn, order: found[1], bits };
  }

  forEachLeaf(startVpn: number, endVpn: number, visit: (vpn: number, leaf: PteView) => void): void {
    const hits: Array<[number, number, number]> = [];
    for (const [vpn, [order, entry]] of this.leaves) {
      if (vpn < endVpn && vpn + 2 ** order > startVpn) hits.push([vpn, order, entry]);
    }
    hits.sort((a, b) => a[0] - b[0]);
    for (const [vpn, order, entry] of hits) {
      const { pfn, bits } = toyDecode(entry);
      visit(vpn, { pfn, order, bits });
    }
  }

  freeEmptyTables(startVpn: number, endVpn: number, floorVpn = 0, ceilingVpn = Infinity): void {
    // A table with no leaf beneath it maps nothing any more; only one wholly between floor and ceiling goes.
    for (let level = 0; level <= TOY_LEVELS - 2; level++) {
      const span = 2 ** (LEVEL_BITS * (level + 1));
      for (const [key, table] of [...this.tables]) {
        const [l, index] = key.split(':').map(Number) as [number, number];
        if (l !== level || table.used !== 0) continue;
        if (index * span >= endVpn || (index + 1) * span <= startVpn) continue;
        if (index * span < floorVpn || (index + 1) * span > ceilingVpn) continue;
        this.tables.delete(key);
        this.frames.freeTableFrame(table.pfn);
      }
    }
  }

  tablePages(): number {
    return 1 + this.tables.size;
  }

  /** The root table's frame (what `satp` would hold). */
  get rootPfn(): number {
    return this.root;
  }
}

/** `protection_map` as Linux/riscv builds it (`PAGE_COPY` = `PAGE_READ`, exec-only really is exec-only). */
const BASE = PteBits.PRESENT | PteBits.ACCESSED | PteBits.USER;
const PAGE_NONE = PteBits.PROTNONE | PteBits.READ;
const PAGE_READ = BASE | PteBits.READ;
const PAGE_WRITE = BASE | PteBits.READ | PteBits.WRITE;
const PAGE_EXEC = BASE | PteBits.EXEC;
const PAGE_READ_EXEC = BASE | PteBits.READ | PteBits.EXEC;
const PAGE_WRITE_EXEC = PAGE_WRITE | PteBits.EXEC;
const TOY_PROTECTION_MAP: readonly number[] = [
  PAGE_NONE, PAGE_READ, PAGE_READ, PAGE_READ, PAGE_EXEC, PAGE_READ_EXEC, PAGE_READ_EXEC, PAGE_READ_EXEC,
  PAGE_NONE, PAGE_READ, PAGE_WRITE, PAGE_WRITE, PAGE_EXEC, PAGE_READ_EXEC, PAGE_WRITE_EXEC, PAGE_WRITE_EXEC,
];

/** `vm_get_page_prot` for the toy. */
export function toyProtectionBits(prot: VmProtection): number {
  return TOY_PROTECTION_MAP[(prot.read ? 1 : 0) | (prot.write ? 2 : 0) | (prot.exec ? 4 : 0) | (prot.shared ? 8 : 0)]!;
}

/** The toy MMU: Sv39 permission checks on the raw entry, A/D set by "hardware", RISC-V fault causes. */
export const toyMmu: ArchMmu = {
  translate(table: PageTable, vpn: number, access: AccessKind): Translation {
    const cause =
      access === AccessKind.WRITE ? TOY_CAUSE.STORE_PAGE_FAULT : access === AccessKind.EXEC ? TOY_CAUSE.INSTRUCTION_PAGE_FAULT : TOY_CAUSE.LOAD_PAGE_FAULT;
    if (!(vpn >= 0 && vpn < TOY_TASK_SIZE_PAGES)) return { ok: false, errorCode: cause, signal: 'SIGSEGV' };
    const leaf = table.lookup(vpn);
    if (!leaf) return { ok: false, errorCode: cause };
    const e = toyEncode(leaf.pfn, leaf.bits) % PPN_SHIFT_MUL;
    const allowed =
      (e & SV_V) !== 0 &&
      (e & SV_U) !== 0 &&
      (access === AccessKind.WRITE ? (e & SV_W) !== 0 : access === AccessKind.EXEC ? (e & SV_X) !== 0 : (e & SV_R) !== 0);
    if (!allowed) return { ok: false, errorCode: cause };
    const set = PteBits.ACCESSED | (access === AccessKind.WRITE ? PteBits.DIRTY : 0);
    if ((leaf.bits & set) !== set) table.setBits(vpn, leaf.bits | set);
    const offsetInLeaf = vpn % 2 ** leaf.order;
    return { ok: true, pfn: leaf.pfn + offsetInLeaf, offsetInLeaf };
  },
  describeErrorCode(errorCode: number): string {
    const name = Object.entries(TOY_CAUSE).find(([, v]) => v === errorCode)?.[0];
    return name ? name.toLowerCase().replace(/_/g, ' ') : `cause ${errorCode}`;
  },
};

/** `mmap_base()` of mm/util.c: leave the stack rlimit plus the guard gap, clamped to [128 MiB, 5/6 of TASK_SIZE]. */
export function toyMmapBase(rlimitStack: bigint | 'unlimited'): number {
  const maxGap = Math.floor(TOY_TASK_SIZE_PAGES / 6) * 5;
  let gap = rlimitStack === 'unlimited' ? Infinity : Number(rlimitStack >> BigInt(TOY_PAGE_SHIFT)) + STACK_GUARD_GAP_PAGES;
  gap = Math.min(Math.max(gap, MIN_GAP_PAGES), maxGap);
  return TOY_TASK_SIZE_PAGES - gap;
}

/** The generic `arch_get_unmapped_area[_topdown]` of mm/mmap.c, on the toy's limits. */
function toyGetUnmappedArea(ctx: UnmappedAreaContext, req: UnmappedAreaRequest): number {
  const MAP_FIXED = 0x10;
  if (req.length > TOY_TASK_SIZE_PAGES) return -Errno.ENOMEM;
  if (req.flags & MAP_FIXED) return req.hint;
  if (req.hint !== 0 && req.hint <= TOY_TASK_SIZE_PAGES - req.length && req.hint + req.length <= ctx.nextVmaStartGap(req.hint)) {
    return req.hint;
  }
  const common = { length: req.length, alignMask: req.alignMask, alignOffset: req.alignMask ? 0 : req.pgoff, startGap: 0 };
  if (ctx.layout.topdown) {
    const found = ctx.vmUnmappedArea({ ...common, topdown: true, lowLimit: 1, highLimit: ctx.layout.mmapBase });
    if (found >= 0) return found;
  }
  return ctx.vmUnmappedArea({ ...common, topdown: false, lowLimit: TOY_UNMAPPED_BASE_PAGES, highLimit: TOY_TASK_SIZE_PAGES });
}

/** The toy's address space: 2^38 bytes of user space, canonical = bits 63..38 all equal. */
export const toyAddressSpace: ArchAddressSpace = {
  taskSize: () => TOY_TASK_SIZE_PAGES,
  defaultMapWindow: () => TOY_TASK_SIZE_PAGES,
  isCanonical(address: bigint): boolean {
    const top = address >> 38n;
    return top === 0n || top === (1n << 26n) - 1n;
  },
  pickMmapLayout(input: LayoutInput): MmapLayout {
    return {
      topdown: !input.legacy,
      mmapLegacyBase: TOY_UNMAPPED_BASE_PAGES,
      mmapBase: input.legacy ? TOY_UNMAPPED_BASE_PAGES : toyMmapBase(input.rlimitStack),
    };
  },
  getUnmappedArea: (ctx, req) => toyGetUnmappedArea(ctx, req),
};

const TOY_HUGE: readonly HugePageSize[] = Object.freeze([
  Object.freeze({ shift: 21, order: 9, level: 'megapage' }),
  Object.freeze({ shift: 30, order: 18, level: 'gigapage' }),
]);

/** The toy {@link Architecture}, registered with `createMachine({ arch: toyArch })`. */
export const toyArch: Architecture = {
  name: 'toy-sv39',
  pageShift: TOY_PAGE_SHIFT,
  hugePageSizes: (_features: ArchFeatures) => TOY_HUGE,
  defaultHugePageShift: () => 21,
  addressSpace: toyAddressSpace,
  mmu: toyMmu,
  createPageTable: (frames: PageTableFrameSource) => new ToyPageTable(frames),
  protectionBits: toyProtectionBits,
  describeLeaf(leaf: PteView): string {
    const raw = toyEncode(leaf.pfn, leaf.bits);
    const e = raw % PPN_SHIFT_MUL;
    const flags = (['V', 'R', 'W', 'X', 'U', 'G', 'A', 'D'] as const).filter((_, i) => e & (1 << i)).join('');
    return `sv39 ${leaf.order === 0 ? '4K' : leaf.order === 9 ? '2M' : '1G'} pfn 0x${leaf.pfn.toString(16)} ${flags}`;
  },
};
