// Step 4: the MMU — the hardware walk a user access makes, its permission
// checks, Accessed/Dirty, and the architecture's fault code.
import { AccessKind, PteBits, type ArchMmu, type PageTable, type Translation } from '@mmsim/arch';

// --- snippet: mmu ---
/** The sketch's fault codes: one per access kind, like RISC-V's scause 12/13/15. */
export const SKETCH_FAULT = { FETCH: 1, LOAD: 2, STORE: 3 } as const;

/** A user access as the hardware walks it: rights first, then Accessed/Dirty set by the walk. */
export const sketchMmu: ArchMmu = {
  translate(table: PageTable, vpn: number, access: AccessKind): Translation {
    const code = access === AccessKind.WRITE ? SKETCH_FAULT.STORE : access === AccessKind.EXEC ? SKETCH_FAULT.FETCH : SKETCH_FAULT.LOAD;
    const leaf = table.lookup(vpn);
    if (!leaf || !(leaf.bits & PteBits.PRESENT) || !(leaf.bits & PteBits.USER)) return { ok: false, errorCode: code };
    const need = access === AccessKind.WRITE ? PteBits.WRITE : access === AccessKind.EXEC ? PteBits.EXEC : PteBits.READ;
    if (!(leaf.bits & need)) return { ok: false, errorCode: code };
    const ad = PteBits.ACCESSED | (access === AccessKind.WRITE ? PteBits.DIRTY : 0);
    if ((leaf.bits & ad) !== ad) table.setBits(vpn, leaf.bits | ad); // the hardware updates A/D
    const offsetInLeaf = vpn % 2 ** leaf.order;
    return { ok: true, pfn: leaf.pfn + offsetInLeaf, offsetInLeaf };
  },
  describeErrorCode: (code) => ['?', 'fetch fault', 'load fault', 'store fault'][code] ?? `fault ${code}`,
};
// --- end snippet ---
