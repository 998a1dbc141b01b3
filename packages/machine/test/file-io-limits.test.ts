// pwrite64/pread64 at the end of the file offsets (rw_verify_area), on pipes,
// and the trace's `fill` as the recorder's 64 KiB chunks. The golden trace
// conformance/fuzz/fuzz-probe-file-io-limits.trace records the same on Linux.
import { describe, expect, it } from 'vitest';
import { createMachine } from '@mmsim/machine';
import { FILL_CHUNK, sysFill, sysFpeek, sysOpenat } from '@mmsim/syscalls';
import { Errno, O } from '@mmsim/base';

const LLONG_MAX = (1n << 63n) - 1n;
const AT_FDCWD = -100n;

function machineWithFile() {
  const m = createMachine({ config: { memTotalKb: 1024 * 1024 } });
  m.vfs.mount('tmpfs', '/dev/shm/t', new Map());
  const fd = sysOpenat(m, AT_FDCWD, '/dev/shm/t/a', BigInt(O.RDWR | O.CREAT), 0o600n);
  expect(fd).toBeGreaterThanOrEqual(0n);
  return { m, fd };
}

describe('file offsets near LLONG_MAX (rw_verify_area)', () => {
  it('refuses a write whose end passes LLONG_MAX and takes one that ends on it', () => {
    const { m, fd } = machineWithFile();
    expect(sysFill(m, fd, LLONG_MAX - 10n, 10n, 0x41n)).toBe(10n);
    expect(sysFill(m, fd, LLONG_MAX - 10n, 11n, 0x41n)).toBe(BigInt(-Errno.EINVAL));
    expect(sysFill(m, fd, LLONG_MAX, 0n, 0x41n)).toBe(0n);
    expect(sysFpeek(m, fd, LLONG_MAX - 1n)).toBe(0x41n);
    expect(sysFpeek(m, fd, LLONG_MAX)).toBe(BigInt(-Errno.EINVAL)); // not EOF: offset + 1 passes the limit
  });

  it('checks the offset given even with O_APPEND, then writes at the end up to the limit', () => {
    const { m, fd } = machineWithFile();
    const app = sysOpenat(m, AT_FDCWD, '/dev/shm/t/a', BigInt(O.WRONLY | O.APPEND), 0n);
    expect(sysFill(m, fd, LLONG_MAX - 7n, 7n, 0x41n)).toBe(7n);
    expect(sysFill(m, app, LLONG_MAX - 5n, 10n, 0x42n)).toBe(BigInt(-Errno.EINVAL));
    expect(sysFill(m, app, 0n, 10n, 0x42n)).toBe(BigInt(-Errno.EFBIG));
  });

  it('a directory is EINVAL past the limit, EISDIR below it', () => {
    const { m } = machineWithFile();
    const dir = sysOpenat(m, AT_FDCWD, '/dev/shm/t', BigInt(O.RDONLY | O.DIRECTORY), 0n);
    expect(sysFpeek(m, dir, 0n)).toBe(BigInt(-Errno.EISDIR));
    expect(sysFpeek(m, dir, LLONG_MAX)).toBe(BigInt(-Errno.EINVAL));
  });

  it('writes in the recorder chunks: those before the one that would pass the limit stand', () => {
    const { m, fd } = machineWithFile();
    const start = LLONG_MAX - 100_000n;
    expect(sysFill(m, fd, start, 200_000n, 0x43n)).toBe(FILL_CHUNK);
    expect(sysFpeek(m, fd, start + FILL_CHUNK - 1n)).toBe(0x43n);
    expect(sysFpeek(m, fd, start + FILL_CHUNK)).toBe('EOF');
    const zero = sysOpenat(m, AT_FDCWD, '/dev/zero', BigInt(O.RDWR), 0n);
    expect(sysFill(m, zero, start, 200_000n, 0x43n)).toBe(FILL_CHUNK);
    expect(sysFill(m, zero, LLONG_MAX, 1n, 0x43n)).toBe(BigInt(-Errno.EINVAL));
  });

  it('answers a fill of exabytes to a device at once, with the chunks that fit', () => {
    const m = createMachine({ config: { memTotalKb: 1024 * 1024 } });
    const nul = sysOpenat(m, AT_FDCWD, '/dev/null', BigInt(O.RDWR), 0n);
    expect(sysFill(m, nul, 0n, 1n << 62n, 0x41n)).toBe(1n << 62n);
    // More than the room left below LLONG_MAX: the whole chunks that end at or below it.
    const room = (1n << 62n) + 100n;
    expect(sysFill(m, nul, LLONG_MAX - room, room + 5000n, 0x41n)).toBe(1n << 62n);
  });
});

describe('pipes have no positioned I/O', () => {
  it('answers ESPIPE whatever the access mode, after a negative offset is EINVAL', () => {
    const m = createMachine({ config: { memTotalKb: 1024 * 1024 } });
    const rd = m.files.install(m.vfs.pipe(false));
    const wr = m.files.install(m.vfs.pipe(true));
    for (const fd of [rd, wr]) {
      expect(sysFill(m, BigInt(fd), 0n, 1n, 0x41n)).toBe(BigInt(-Errno.ESPIPE));
      expect(sysFpeek(m, BigInt(fd), 0n)).toBe(BigInt(-Errno.ESPIPE));
      expect(sysFpeek(m, BigInt(fd), -1n)).toBe(BigInt(-Errno.EINVAL));
    }
  });
});
