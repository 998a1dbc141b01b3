import { describe, expect, it } from 'vitest';
import { PteBits } from '@mmsim/arch';
import { encodeX86Entry, x86ProtectionBits, x86ProtectionMap, x86_64 } from '@mmsim/arch/x86-64';

const { PRESENT, WRITE, USER, EXEC, ACCESSED, PROTNONE, READ } = PteBits;

// Raw flag bits (pfn 0) of the PAGE_* values in arch/x86/include/asm/pgtable_types.h.
const PTE_PFN_MASK = 0x000ffffffffff000n;
const PAGE_NONE = 0x120n;
const PAGE_READONLY = 0x8000000000000025n;
const PAGE_READONLY_EXEC = 0x25n;
const PAGE_COPY = 0x8000000000000025n;
const PAGE_COPY_EXEC = 0x25n;
const PAGE_SHARED = 0x8000000000000027n;
const PAGE_SHARED_EXEC = 0x27n;

// [read, write, exec] → [private, shared], as arch/x86/mm/pgprot.c protection_map.
const TABLE: [string, boolean, boolean, boolean, bigint, bigint][] = [
  ['---', false, false, false, PAGE_NONE, PAGE_NONE],
  ['r--', true, false, false, PAGE_READONLY, PAGE_READONLY],
  ['-w-', false, true, false, PAGE_COPY, PAGE_SHARED],
  ['rw-', true, true, false, PAGE_COPY, PAGE_SHARED],
  ['--x', false, false, true, PAGE_READONLY_EXEC, PAGE_READONLY_EXEC],
  ['r-x', true, false, true, PAGE_READONLY_EXEC, PAGE_READONLY_EXEC],
  ['-wx', false, true, true, PAGE_COPY_EXEC, PAGE_SHARED_EXEC],
  ['rwx', true, true, true, PAGE_COPY_EXEC, PAGE_SHARED_EXEC],
];

describe('x86 protection_map (vm_get_page_prot)', () => {
  it.each(TABLE)('%s', (_name, read, write, exec, priv, shared) => {
    const p = x86ProtectionBits({ read, write, exec, shared: false });
    const s = x86ProtectionBits({ read, write, exec, shared: true });
    // pgprot_val: the entry without its frame bits (PTE_PFN_MASK; PAGE_NONE entries store them inverted).
    expect(encodeX86Entry(0, 0, p) & ~PTE_PFN_MASK).toBe(priv);
    expect(encodeX86Entry(0, 0, s) & ~PTE_PFN_MASK).toBe(shared);
    expect(x86_64.protectionBits({ read, write, exec, shared: true })).toBe(s);
  });

  it('speaks PteBits: NX is EXEC clear, READ marks every present protection, private writable is not WRITE', () => {
    expect(x86ProtectionBits({ read: false, write: false, exec: false, shared: false })).toBe(PROTNONE | ACCESSED);
    expect(x86ProtectionBits({ read: true, write: false, exec: false, shared: false })).toBe(PRESENT | USER | ACCESSED | READ);
    expect(x86ProtectionBits({ read: true, write: true, exec: false, shared: false })).toBe(PRESENT | USER | ACCESSED | READ);
    expect(x86ProtectionBits({ read: true, write: true, exec: false, shared: true })).toBe(PRESENT | WRITE | USER | ACCESSED | READ);
    expect(x86ProtectionBits({ read: true, write: true, exec: true, shared: true })).toBe(PRESENT | WRITE | USER | ACCESSED | READ | EXEC);
    expect(x86ProtectionMap).toHaveLength(16);
  });
});
