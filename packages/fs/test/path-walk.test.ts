import { Errno } from '@mmsim/base';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { childPath, dotsTarget, nameTooLong, NAME_MAX, parentPath, PATH_MAX, pathTooLong, utf8Length, walkParent, type NamespaceView } from '../src/path-walk.js';

/** `/`, `/dev`, `/dev/shm`, `/dev/shm/m` (a mount) holding the file `a`; `/dev/null` a device. */
const DIRS = new Set(['/', '/dev', '/dev/shm', '/dev/shm/m']);
const FILES = new Set(['/dev/null', '/dev/shm/m/a']);
const ns: NamespaceView = { isDir: (p) => DIRS.has(p), exists: (p) => DIRS.has(p) || FILES.has(p) };

describe('walkParent', () => {
  it('stops at the last component and says what it is', () => {
    expect(walkParent(ns, '/dev/shm/m/a')).toEqual({ dir: '/dev/shm/m', last: 'a', type: 'norm', trailingSlash: false });
    expect(walkParent(ns, '/dev/shm/m/a/')).toEqual({ dir: '/dev/shm/m', last: 'a', type: 'norm', trailingSlash: true });
    expect(walkParent(ns, '/dev/shm/m/.')).toEqual({ dir: '/dev/shm/m', last: '.', type: 'dot', trailingSlash: false });
    expect(walkParent(ns, '/dev/shm/m/..//')).toEqual({ dir: '/dev/shm/m', last: '..', type: 'dotdot', trailingSlash: true });
    expect(walkParent(ns, '///')).toEqual({ dir: '/', last: '', type: 'root', trailingSlash: false });
  });

  it('resolves `.`, `..` and repeated slashes on the way; `..` of `/` is `/`', () => {
    expect(walkParent(ns, '//dev/./shm//m/../m/a')).toMatchObject({ dir: '/dev/shm/m', last: 'a' });
    expect(walkParent(ns, '/../../dev/null')).toMatchObject({ dir: '/dev', last: 'null' });
  });

  it('fails with ENOENT through a missing directory and ENOTDIR through a file', () => {
    expect(walkParent(ns, '/dev/shm/x/a')).toBe(-Errno.ENOENT);
    expect(walkParent(ns, '/dev/shm/m/a/b')).toBe(-Errno.ENOTDIR);
    expect(walkParent(ns, '/dev/shm/m/a/.')).toBe(-Errno.ENOTDIR);
    expect(walkParent(ns, '/dev/null/..')).toBe(-Errno.ENOTDIR);
  });

  it('reaches the directory a lexical resolution reaches, whenever it succeeds', () => {
    const component = fc.constantFrom('', '.', '..', 'dev', 'shm', 'm', 'a', 'null', 'x');
    fc.assert(
      fc.property(fc.array(component, { maxLength: 8 }), (parts) => {
        const path = '/' + parts.join('/');
        const walk = walkParent(ns, path);
        if (typeof walk === 'number') return;
        // The directory holding the last component is a directory, and it is where the
        // components before the last one lead by the letter.
        expect(ns.isDir(walk.dir)).toBe(true);
        const before = walk.type === 'root' ? [] : parts.slice(0, parts.lastIndexOf(walk.last));
        let dir = '/';
        for (const c of before) dir = c === '' || c === '.' ? dir : c === '..' ? parentPath(dir) : childPath(dir, c);
        expect(walk.dir).toBe(dir);
        expect(ns.isDir(dotsTarget({ ...walk, type: walk.type === 'norm' ? 'dot' : walk.type }))).toBe(true);
      }),
    );
  });
});

describe('name and path lengths', () => {
  it('counts UTF-8 bytes, as the kernel does', () => {
    expect(utf8Length('abc')).toBe(3);
    expect(utf8Length('é')).toBe(2);
    expect(utf8Length('€')).toBe(3);
    expect(utf8Length('😀')).toBe(4);
  });

  it('refuses a component longer than NAME_MAX bytes, on the way or as the last one looked up', () => {
    expect(nameTooLong('x'.repeat(NAME_MAX))).toBe(0);
    expect(nameTooLong('x'.repeat(NAME_MAX + 1))).toBe(-Errno.ENAMETOOLONG);
    expect(nameTooLong('é'.repeat(128))).toBe(-Errno.ENAMETOOLONG); // 256 bytes in 128 characters
    expect(nameTooLong('é'.repeat(127) + 'a')).toBe(0);
    // A path must fit in PATH_MAX with its NUL.
    expect(pathTooLong('/' + 'x'.repeat(PATH_MAX - 2))).toBe(0);
    expect(pathTooLong('/' + 'x'.repeat(PATH_MAX - 1))).toBe(-Errno.ENAMETOOLONG);
    expect(pathTooLong('/' + 'é'.repeat(2048))).toBe(-Errno.ENAMETOOLONG); // 4097 bytes in 2049 characters
    expect(walkParent(ns, `/dev/${'x'.repeat(256)}/a`)).toBe(-Errno.ENAMETOOLONG);
    expect(walkParent(ns, `/dev/shm/m/a/${'x'.repeat(256)}`)).toBe(-Errno.ENOTDIR); // a file on the way comes first
  });
});
