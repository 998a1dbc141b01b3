import { describe, expect, it } from 'vitest';
import { formatFlags, O, OPEN_NAMES } from '../src/index.js';

describe('formatFlags for open flags', () => {
  it('names a multi-bit flag before the single bit it contains', () => {
    expect(formatFlags(OPEN_NAMES, O.RDWR | O.TMPFILE)).toBe('O_RDWR|O_TMPFILE');
    expect(formatFlags(OPEN_NAMES, O.WRONLY | O.EXCL | O.TMPFILE)).toBe('O_WRONLY|O_EXCL|O_TMPFILE');
    expect(formatFlags(OPEN_NAMES, O.RDONLY | O.DIRECTORY)).toBe('O_RDONLY|O_DIRECTORY');
    expect(formatFlags(OPEN_NAMES, O.RDWR | O.SYNC)).toBe('O_RDWR|O_SYNC');
    // __O_TMPFILE without O_DIRECTORY has no name of its own.
    expect(formatFlags(OPEN_NAMES, O.RDWR | (O.TMPFILE & ~O.DIRECTORY))).toBe('O_RDWR|0x400000');
  });
});
