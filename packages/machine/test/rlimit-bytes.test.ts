// Resource limits that are not a whole number of pages. Linux compares some of
// them in bytes (can_do_mlock's "is RLIMIT_MEMLOCK zero", check_data_rlimit in
// brk) and others in pages (mlock_future_ok, may_expand_vm): a limit one byte
// short of a page must not be taken for zero, nor rounded down before a byte
// comparison. The golden trace conformance/fuzz/fuzz-probe-rlimit-odd-bytes
// records the mlock side on Linux; brk's depends on the executable's data
// segment, which no trace header gives (docs/decisions.md §13).
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Errno, MAP, PROT } from '@mmsim/base';
import { parseTrace } from '@mmsim/trace';
import { sysBrk, sysMlock, sysMmap } from '@mmsim/syscalls';
import { bootFromHeader } from '../src/index.js';

const header = parseTrace(readFileSync(new URL('../../cli/scenarios/seed-walkthrough.trace', import.meta.url), 'utf8')).header;

function boot(config: Partial<typeof header.config>) {
  return bootFromHeader({ ...header, config: { ...header.config, ...config } }).machine;
}

const RW = BigInt(PROT.READ | PROT.WRITE);
const ANON = BigInt(MAP.PRIVATE | MAP.ANONYMOUS);

describe('RLIMIT_MEMLOCK below a page', () => {
  it('still allows mlock (can_do_mlock looks for a zero limit): a page is over it, no page is not', () => {
    const m = boot({ rlimit_memlock: 4095n });
    const a = sysMmap(m, 0n, 4096n, RW, ANON, -1n, 0n);
    expect(sysMlock(m, a, 4096n)).toBe(BigInt(-Errno.ENOMEM));
    expect(sysMlock(m, a, 0n)).toBe(0n);
    expect(sysMmap(m, 0n, 4096n, RW, ANON | BigInt(MAP.LOCKED), -1n, 0n)).toBe(BigInt(-Errno.EAGAIN));
  });

  it('is EPERM only when the limit is zero', () => {
    const m = boot({ rlimit_memlock: 0n });
    const a = sysMmap(m, 0n, 4096n, RW, ANON, -1n, 0n);
    expect(sysMlock(m, a, 4096n)).toBe(BigInt(-Errno.EPERM));
    expect(sysMmap(m, 0n, 4096n, RW, ANON | BigInt(MAP.LOCKED), -1n, 0n)).toBe(BigInt(-Errno.EPERM));
  });
});

describe('RLIMIT_DATA and brk (check_data_rlimit, in bytes)', () => {
  it('lets the heap grow up to the byte the limit names, not to the page below it', () => {
    const probe = boot({});
    const start = BigInt(probe.mm.startBrk);
    const data = BigInt(probe.mm.dataSegmentSize);
    const limit = data + 0x1800n; // a page and a half past the data segment
    const m = boot({ rlimit_data: limit });
    const before = BigInt(m.mm.brk);
    expect(sysBrk(m, start + 0x1801n)).toBe(before); // one byte over: refused, the break stays
    expect(sysBrk(m, start + 0x1800n)).toBe(start + 0x1800n);
  });
});
