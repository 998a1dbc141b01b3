// Mount options: the tmpfs block limit (size= / nr_blocks=, half the RAM by
// default) against shmem_parse_one's rules and as pages come and go (recorded:
// conformance/fuzz/fuzz-probe-tmpfs-size), hugetlbfs size= and min_size=, and
// the options the model refuses.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { x86_64 } from '@mmsim/arch/x86-64';
import { Errno, NOOP_TRACER, O } from '@mmsim/base';
import { buddyAllocatorFactory, DEFAULT_KERNEL_CONFIG, MmKernel } from '@mmsim/mm-core';
import { FdTable, hugetlbfsSizeToPages, ShmemInode, tmpfsMaxBlocks, tmpfsMaxInodes, Vfs, type OpenFile } from '../src/index.js';

const RAM_PAGES = 6_182_927; // MemTotal 24,731,708 kB, the recording host's

describe('tmpfsMaxBlocks (shmem_parse_one)', () => {
  it('defaults to half the RAM, rounded down', () => {
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map())).toBe(3_091_463);
  });

  it('reads size= in bytes with K/M/G/T suffixes, rounded up to pages, and as a percentage of the RAM', () => {
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['size', '1M']]))).toBe(256);
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['size', '4097']]))).toBe(2);
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['size', '0x2000']]))).toBe(2);
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['size', '2g']]))).toBe(524_288);
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['size', '50%']]))).toBe(3_091_464); // (50 << 12) × pages / 100, rounded up
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['nr_blocks', '8']]))).toBe(8);
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['size', '0']]))).toBe(Infinity);
    expect(tmpfsMaxBlocks(RAM_PAGES, new Map([['mode', '1777']]))).toBe(3_091_463); // other options leave it
  });

  it('rejects what Linux rejects', () => {
    for (const bad of ['', 'x', '1Q', '12%%', '-1']) expect(() => tmpfsMaxBlocks(RAM_PAGES, new Map([['size', bad]]))).toThrow(/tmpfs: bad value for size/);
    expect(() => tmpfsMaxBlocks(RAM_PAGES, new Map([['nr_blocks', '8%']]))).toThrow(/nr_blocks/);
  });
});

describe('mount options the model cannot honour', () => {
  it('refuses huge= other than never instead of answering as without it', () => {
    const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 16 }), NOOP_TRACER);
    const vfs = new Vfs(kernel);
    expect(() => vfs.mount('tmpfs', '/a', new Map([['huge', 'always']]))).toThrow(/huge=always is not modelled/);
    expect(() => vfs.mount('tmpfs', '/b', new Map([['huge', 'never']]))).not.toThrow();
  });
});

describe('unknown options and nr_inodes=', () => {
  function vfs() {
    const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 16 }), NOOP_TRACER);
    return new Vfs(kernel);
  }

  it('refuses an option Linux does not know (EINVAL) and one the model would answer wrongly without', () => {
    const v = vfs();
    expect(() => v.mount('tmpfs', '/a', new Map([['bogus', '1']]))).toThrow(/tmpfs: unknown mount option 'bogus'.*EINVAL/);
    expect(() => v.mount('hugetlbfs', '/b', new Map([['bogus', '1']]))).toThrow(/hugetlbfs: unknown mount option 'bogus'/);
    expect(() => v.mount('tmpfs', '/c', new Map([['mode', '0555']]))).toThrow(/tmpfs: mode= is not modelled/);
    expect(() => v.mount('hugetlbfs', '/d', new Map([['uid', '1000']]))).toThrow(/hugetlbfs: uid= is not modelled/);
  });

  it('parses nr_inodes= as Linux does: tmpfs 0 is no limit and the default is half the RAM; hugetlbfs 0 leaves no inode for the root', () => {
    expect(tmpfsMaxInodes(RAM_PAGES, new Map())).toBe(3_091_463);
    expect(tmpfsMaxInodes(RAM_PAGES, new Map([['nr_inodes', '0']]))).toBe(Infinity);
    expect(tmpfsMaxInodes(RAM_PAGES, new Map([['nr_inodes', '2k']]))).toBe(2048);
    for (const bad of ['x', '5%', '1q']) expect(() => tmpfsMaxInodes(RAM_PAGES, new Map([['nr_inodes', bad]]))).toThrow(/bad value for nr_inodes/);
    const v = vfs();
    v.hugetlb.hstateForKb(2048)!.setMaxHugePages(1);
    expect(() => v.mount('hugetlbfs', '/h0', new Map([['nr_inodes', '0']]))).toThrow(/nr_inodes=0 .*ENOMEM/);
    expect(() => v.mount('hugetlbfs', '/h1', new Map([['nr_inodes', 'k']]))).toThrow(/bad value for nr_inodes/);
  });

  it('counts an inode from its creation until it is evicted; the root directory takes one', () => {
    for (const [fstype, options] of [['tmpfs', [['nr_inodes', '3']]], ['hugetlbfs', [['pagesize', '2M'], ['nr_inodes', '3']]]] as const) {
      const v = vfs();
      v.mount(fstype, '/m', new Map(options));
      const files = new FdTable();
      const create = (name: string): number => {
        const f = v.open(`/m/${name}`, O.RDWR | O.CREAT);
        return typeof f === 'number' ? f : files.install(f);
      };
      const a = create('a');
      expect(create('b')).toBeGreaterThanOrEqual(0);
      expect(create('c')).toBe(-Errno.ENOSPC);
      expect(v.unlink('/m/a')).toBe(0);
      expect(create('c')).toBe(-Errno.ENOSPC); // still open
      files.close(a);
      expect(create('c')).toBeGreaterThanOrEqual(0);
      expect(create('d')).toBe(-Errno.ENOSPC);
    }
  });
});

describe('hugetlbfs subpool options', () => {
  it('hugetlbfs: size= and min_size= make a subpool of whole huge pages (bytes or a percentage of the pool)', () => {
    const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 16 }), NOOP_TRACER);
    const vfs = new Vfs(kernel);
    const pool = vfs.hugetlb.hstateForKb(2048)!;
    pool.setMaxHugePages(8);
    const subpool = (options: [string, string][]) => vfs.hugetlb.mount(new Map(options), '00:99').subpool;
    expect(subpool([['pagesize', '2M']])).toBeNull();
    expect(subpool([['pagesize', '2M'], ['size', '4M']])?.max).toBe(2);
    expect(subpool([['pagesize', '2M'], ['size', '5M']])?.max).toBe(2); // rounded down
    expect(subpool([['size', '50%'], ['pagesize', '2M']])?.max).toBe(4); // of the pool's 8 pages
    expect(subpool([['pagesize', '2M'], ['size', '0']])?.max).toBe(0);
    expect(hugetlbfsSizeToPages(pool, '0x400000')).toBe(2);
    expect(() => hugetlbfsSizeToPages(pool, '4Q')).toThrow(/bad value for size/);
    expect(pool.resv).toBe(0);
    // A minimum is reserved in the pool when mounted (HugePages_Rsvd), with or without a maximum.
    const min = subpool([['pagesize', '2M'], ['min_size', '5M']])!;
    expect([min.max, min.min, min.rsv, pool.resv]).toEqual([-1, 2, 2, 2]);
    const both = subpool([['pagesize', '2M'], ['size', '26%'], ['min_size', '25%']])!; // 2.08 and 2 pages
    expect([both.max, both.min, both.rsv, pool.resv]).toEqual([2, 2, 2, 4]);
    expect(() => subpool([['pagesize', '2M'], ['min_size', 'x']])).toThrow(/bad value for min_size/);
    expect(() => subpool([['pagesize', '2M'], ['size', '2M'], ['min_size', '4M']])).toThrow(/greater than size=.*EINVAL/);
    expect(() => subpool([['pagesize', '2M'], ['min_size', '10M']])).toThrow(/needs 5 free unreserved 2048 kB pages \(the pool has 4\).*ENOMEM/);
    expect(pool.resv).toBe(4); // the refused mounts reserved nothing
    expect(vfs.hugetlb.subpools).toHaveLength(6);
  });
});

describe('the block limit in use', () => {
  function setup(options: Map<string, string>) {
    const kernel = new MmKernel(x86_64, DEFAULT_KERNEL_CONFIG, buddyAllocatorFactory({ totalFrames: 1 << 16 }), NOOP_TRACER);
    const vfs = new Vfs(kernel);
    vfs.mount('tmpfs', '/t', options);
    const files = new FdTable();
    const open = (path: string) => {
      const f = vfs.open(path, O.RDWR | O.CREAT);
      if (typeof f === 'number') throw new Error(`open ${path}: ${f}`);
      return files.install(f);
    };
    return { vfs, files, open };
  }

  it('shares the limit between the files of a mount; truncation and unlinking a closed file give pages back', () => {
    const { vfs, files, open } = setup(new Map([['nr_blocks', '8']]));
    const a = open('/t/a');
    const b = open('/t/b');
    expect(vfs.fill(files, a, 0n, 5n * 4096n, 1)).toBe(5n * 4096n);
    expect(vfs.fill(files, b, 0n, 5n * 4096n, 2)).toBe(3n * 4096n); // a short write
    expect(vfs.fpeek(files, b, 3n * 4096n - 1n)).toBe(2);
    expect(vfs.fpeek(files, b, 3n * 4096n)).toBe('EOF'); // i_size covers what was written
    expect(vfs.fill(files, b, 3n * 4096n, 1n, 3)).toBe(-Errno.ENOSPC);
    expect(vfs.fill(files, b, 40n * 4096n, 8192n, 3)).toBe(-Errno.ENOSPC); // nothing written: i_size stays
    expect(vfs.fpeek(files, b, 40n * 4096n - 1n)).toBe('EOF');
    const inode = (files.peek(a) as OpenFile).inode as ShmemInode;
    expect(inode.blocks?.used).toBe(8);
    expect(vfs.ftruncate(files, a, 4096n)).toBe(0);
    expect(inode.blocks?.used).toBe(4);
    expect(vfs.fill(files, b, 3n * 4096n, 4n * 4096n, 3)).toBe(4n * 4096n);
    files.close(b);
    expect(vfs.unlink('/t/b')).toBe(0);
    expect(inode.blocks?.used).toBe(1);
  });

  it('gives the block of a page reclaim dropped back only at that inode\'s next recalc (shmem_recalc_inode is lazy)', () => {
    const { vfs, files, open } = setup(new Map([['nr_blocks', '4']]));
    const a = open('/t/a');
    const b = open('/t/b');
    expect(vfs.fill(files, a, 0n, 4n * 4096n, 1)).toBe(4n * 4096n);
    const inode = (files.peek(a) as OpenFile).inode as ShmemInode;
    inode.reclaimClean(0); // as MADV_PAGEOUT does with a clean page mapped nowhere else
    expect([inode.cache.size, inode.lazilyFreedPages, inode.blocks?.used]).toEqual([3, 1, 4]);
    expect(vfs.fill(files, b, 0n, 64n, 2)).toBe(-Errno.ENOSPC); // another inode: still full
    expect(vfs.fill(files, a, 8n * 4096n, 1n, 3)).toBe(1n); // its own: recalc on ENOSPC, then the charge
    expect([inode.cache.size, inode.lazilyFreedPages, inode.blocks?.used]).toEqual([4, 0, 4]);
    inode.reclaimClean(1);
    expect(vfs.ftruncate(files, a, 2n * 4096n)).toBe(0); // pages 2, 3 and 8 go; shmem_undo_range recalculates
    expect([inode.cache.size, inode.lazilyFreedPages, inode.blocks?.used]).toEqual([0, 0, 0]);
    expect(vfs.fill(files, b, 0n, 64n, 2)).toBe(64n);
  });

  it('never lets the pages held pass the limit, whatever the writes and truncations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ truncate: fc.boolean(), page: fc.nat(40), pages: fc.integer({ min: 1, max: 12 }) }), { maxLength: 30 }),
        (ops) => {
          const { vfs, files, open } = setup(new Map([['size', '64k']]));
          const fd = open('/t/f');
          const inode = (files.peek(fd) as OpenFile).inode as ShmemInode;
          for (const op of ops) {
            if (op.truncate) vfs.ftruncate(files, fd, BigInt(op.page * 4096));
            else vfs.fill(files, fd, BigInt(op.page * 4096), BigInt(op.pages * 4096), 7);
            expect(inode.blocks!.used).toBe(inode.cache.size);
            expect(inode.blocks!.used).toBeLessThanOrEqual(16);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
