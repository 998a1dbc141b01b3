/**
 * Linux error numbers (x86-64, asm-generic/errno-base.h and errno.h) that the
 * memory-management paths return.
 *
 * Kernel-internal functions in mmsim follow Linux's convention: a result that
 * is negative is `-errno`, anything else is a value.
 * @see include/uapi/asm-generic/errno-base.h
 */
export const Errno = {
  EPERM: 1,
  ENOENT: 2,
  EINTR: 4,
  EIO: 5,
  EBADF: 9,
  EAGAIN: 11,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENODEV: 19,
  ENOTDIR: 20,
  EISDIR: 21,
  EINVAL: 22,
  ENFILE: 23,
  EMFILE: 24,
  ETXTBSY: 26,
  EFBIG: 27,
  ENOSPC: 28,
  ESPIPE: 29,
  EROFS: 30,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ENOTEMPTY: 39,
  ELOOP: 40,
  EOVERFLOW: 75,
  EOPNOTSUPP: 95,
} as const;

/** One of the errno names mmsim knows. */
export type ErrnoName = keyof typeof Errno;

const NAMES = new Map<number, ErrnoName>(
  (Object.entries(Errno) as [ErrnoName, number][]).map(([name, value]) => [value, name]),
);

/** strerror(3) texts as glibc prints them (strace shows them after the name). */
const MESSAGES: Record<ErrnoName, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EFAULT: 'Bad address',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  EXDEV: 'Invalid cross-device link',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  ENFILE: 'Too many open files in system',
  EMFILE: 'Too many open files',
  ETXTBSY: 'Text file busy',
  EFBIG: 'File too large',
  ENOSPC: 'No space left on device',
  ESPIPE: 'Illegal seek',
  EROFS: 'Read-only file system',
  ENAMETOOLONG: 'File name too long',
  ENOSYS: 'Function not implemented',
  ENOTEMPTY: 'Directory not empty',
  ELOOP: 'Too many levels of symbolic links',
  EOVERFLOW: 'Value too large for defined data type',
  EOPNOTSUPP: 'Operation not supported',
};

/** The symbolic name of an errno value (`12` → `ENOMEM`), or `E<n>` if unknown. */
export function errnoName(errno: number): string {
  return NAMES.get(errno) ?? `E${errno}`;
}

/** The errno value of a symbolic name, or `undefined`. */
export function errnoValue(name: string): number | undefined {
  return (Errno as Record<string, number>)[name];
}

/** strerror(3)'s text for an errno value, as strace prints it in parentheses. */
export function errnoMessage(errno: number): string {
  const name = NAMES.get(errno);
  return (name && MESSAGES[name]) ?? 'Unknown error';
}

/** `-errno` in Linux's `ERR_PTR` style: the value kernel-internal functions return on failure. */
export function err(errno: number): number {
  return -errno;
}

/** True if a kernel-internal result is an error (`IS_ERR_VALUE`). */
export function isErr(result: number): boolean {
  return result < 0;
}
