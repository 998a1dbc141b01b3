/**
 * The path walk of `openat` and `unlinkat` over the model's namespace: the
 * components up to the last one are looked up one by one (`.` stays, `..`
 * goes up, a name must be a directory to go on), and the last one is
 * returned with its kind and whether slashes follow it, for the caller to
 * treat as `do_open`, `do_unlinkat` or `do_rmdir` do. The namespace has no
 * symbolic links, so `..` is the lexical parent, and `/..` is `/`.
 * @see fs/namei.c link_path_walk, path_parentat, walk_component, handle_dots
 */

import { Errno } from '@mmsim/base';

/** What a walk needs to know of the namespace: which absolute paths are directories and which exist. */
export interface NamespaceView {
  isDir(path: string): boolean;
  exists(path: string): boolean;
}

/**
 * The kind of a path's last component (`LAST_NORM`, `LAST_DOT`,
 * `LAST_DOTDOT`, `LAST_ROOT`: `/` alone).
 */
export type LastType = 'norm' | 'dot' | 'dotdot' | 'root';

/** A path walked up to its last component (`filename_parentat`'s result). */
export interface ParentWalk {
  /** The directory holding the last component, as a canonical absolute path. */
  readonly dir: string;
  /** The last component (`''` for `root`). */
  readonly last: string;
  readonly type: LastType;
  /** Slashes follow the last component (`a/`): it must be a directory. */
  readonly trailingSlash: boolean;
}

/** `PATH_MAX`: a path of this many bytes or more (its NUL included) is ENAMETOOLONG (`getname`). */
export const PATH_MAX = 4096;

/** `NAME_MAX`: a longer component is ENAMETOOLONG when a directory looks it up (`simple_lookup`). */
export const NAME_MAX = 255;

/** The length of `s` in UTF-8 bytes, as the kernel counts a name. */
export function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c < 0xdc00 && i + 1 < s.length) {
      n += 4; // a surrogate pair: one code point above U+FFFF
      i++;
    } else n += 3;
  }
  return n;
}

/** Whether `s` is longer than `limit` bytes in UTF-8. */
function utf8LongerThan(s: string, limit: number): boolean {
  // A UTF-16 unit is 1 to 3 bytes (a surrogate pair 4 for two): count only when the length cannot tell.
  if (s.length > limit) return true;
  return s.length * 3 > limit && utf8Length(s) > limit;
}

/** ENAMETOOLONG if a directory would refuse to look `name` up, else 0. */
export function nameTooLong(name: string): number {
  return utf8LongerThan(name, NAME_MAX) ? -Errno.ENAMETOOLONG : 0;
}

/** ENAMETOOLONG if `getname` would refuse `path` (it does not fit in PATH_MAX with its NUL), else 0. */
export function pathTooLong(path: string): number {
  return utf8LongerThan(path, PATH_MAX - 1) ? -Errno.ENAMETOOLONG : 0;
}

/** `dir/name` for a canonical directory path. */
export function childPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** The parent of a canonical directory path (`/` is its own parent). */
export function parentPath(dir: string): string {
  const i = dir.lastIndexOf('/');
  return i <= 0 ? '/' : dir.slice(0, i);
}

/**
 * Walk an absolute `path` up to its last component: ENOENT if a component
 * on the way does not exist, ENOTDIR if one is not a directory,
 * ENAMETOOLONG if one is longer than {@link NAME_MAX}.
 */
export function walkParent(ns: NamespaceView, path: string): ParentWalk | number {
  const parts = path.split('/');
  let end = parts.length;
  while (end > 0 && parts[end - 1] === '') end--;
  if (end === 0) return { dir: '/', last: '', type: 'root', trailingSlash: false };
  const trailingSlash = end < parts.length;
  const lastIndex = end - 1;
  let dir = '/';
  for (let i = 0; i < lastIndex; i++) {
    const c = parts[i]!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      dir = parentPath(dir);
      continue;
    }
    const tooLong = nameTooLong(c);
    if (tooLong) return tooLong;
    const next = childPath(dir, c);
    if (ns.isDir(next)) dir = next;
    else return ns.exists(next) ? -Errno.ENOTDIR : -Errno.ENOENT;
  }
  const last = parts[lastIndex]!;
  const type: LastType = last === '.' ? 'dot' : last === '..' ? 'dotdot' : 'norm';
  return { dir, last, type, trailingSlash };
}

/** The directory a `.`, `..` or `/` last component names (`handle_dots`). */
export function dotsTarget(walk: ParentWalk): string {
  return walk.type === 'dotdot' ? parentPath(walk.dir) : walk.dir;
}
