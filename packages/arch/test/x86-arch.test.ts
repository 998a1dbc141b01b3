import { describe, expect, it } from 'vitest';
import * as contract from '@mmsim/arch';
import { PteBits } from '@mmsim/arch';
import { x86AddressSpace, x86Mmu, x86_64 } from '@mmsim/arch/x86-64';

describe('x86_64 Architecture', () => {
  it('describes itself', () => {
    expect(x86_64.name).toBe('x86_64');
    expect(x86_64.pageShift).toBe(12);
    expect(x86_64.addressSpace).toBe(x86AddressSpace);
    expect(x86_64.mmu).toBe(x86Mmu);
    expect(x86_64.defaultHugePageShift({ la57: false, gbpages: true })).toBe(21);
  });

  it('offers 2 MiB pages always and 1 GiB pages with gbpages', () => {
    expect(x86_64.hugePageSizes({ la57: false, gbpages: false })).toEqual([{ shift: 21, order: 9, level: 'PMD' }]);
    expect(x86_64.hugePageSizes({ la57: false, gbpages: true })).toEqual([
      { shift: 21, order: 9, level: 'PMD' },
      { shift: 30, order: 18, level: 'PUD' },
    ]);
  });

  it('describes leaves in x86 words', () => {
    const bits = PteBits.PRESENT | PteBits.WRITE | PteBits.USER | PteBits.ACCESSED | PteBits.DIRTY | PteBits.READ;
    expect(x86_64.describeLeaf({ pfn: 0x1234, order: 0, bits })).toBe(
      'pte 0x8000000001234067 pfn 0x1234 4K PRESENT|RW|USER|ACCESSED|DIRTY|NX',
    );
    expect(x86_64.describeLeaf({ pfn: 0x200, order: 9, bits: bits | PteBits.EXEC })).toBe(
      'pmd 0x00000000002000e7 pfn 0x200 2M PRESENT|RW|USER|ACCESSED|DIRTY|PSE',
    );
  });

  it('keeps the plug-in out of the generic entry point', () => {
    expect(Object.keys(contract).sort()).toEqual(['AccessKind', 'PteBits', 'TRANSLATION_SIGSEGV']);
  });
});
