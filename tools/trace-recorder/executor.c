/*
 * mmsim-rec: the executor of the mmsim golden-trace recorder.
 *
 * Runs an already-decoded step list (written by `mmsim record`, see README.md)
 * with raw system calls and prints one result per step. Two modes:
 *
 *   mmsim-rec FILE|-     launcher: reads the step list, creates two pipes,
 *                        forks; the child puts the pipes on fds 0 and 1,
 *                        /dev/null on fd 2, closes every other descriptor,
 *                        pins itself to the CPU it runs on (exit 125 if it
 *                        cannot), sets RLIMIT_STACK and the personality
 *                        (ADDR_NO_RANDOMIZE, ADDR_COMPAT_LAYOUT) and re-execs
 *                        this program with an empty environment as
 *                        `mmsim-rec --run`. The launcher feeds the step list
 *                        into the child's fd 0, copies the child's fd 1 to its
 *                        own stdout and ends with `Q exit N` / `Q signal N`.
 *   mmsim-rec --run      the recorded process: reads the whole step list from
 *                        fd 0, sets the rlimits (RLIMIT_NOFILE to 1024), the
 *                        umask and the THP prctl, installs the SIGSEGV/SIGBUS
 *                        handlers on a static alternate stack, drops every
 *                        capability (privileged=0), grows the break to the
 *                        requested start value, takes the initial snapshot
 *                        and runs the steps.
 *
 * After the first snapshot the recorded process never allocates memory: all
 * buffers are static, I/O is done with raw read/write system calls, and no
 * stdio or malloc is used anywhere in this file.
 *
 * Input (one item a line, fields separated by one space, numbers in hex
 * without 0x, strings as hex bytes or "-" when empty):
 *
 *   mmsim-exec 1
 *   R STACK AS DATA MEMLOCK     rlimits (ffffffffffffffff = RLIM_INFINITY)
 *   P PERSONALITY               personality flags to set before the exec
 *   C PRIVILEGED                1 keeps the capabilities, 0 drops them
 *   B BRK                       grow the break to at least BRK before the snapshot (0: leave it)
 *   K HIDE                      1: allocate every protection key before the snapshot, so that
 *                               PROT_EXEC-only memory stays readable as on a CPU without PKU
 *                               (the kernel then finds no pkey for execute-only mappings)
 *   S                           the steps follow, one a line:
 *   mmap ADDR LEN PROT FLAGS FD OFF      pgoff ADDR LEN PROT FLAGS FD PGOFF
 *   munmap A L   mprotect A L P   mremap OLD OLDLEN NEWLEN FLAGS NEW
 *   madvise A L ADVICE   brk A   mlock A L   munlock A L
 *   openat DIRFD PATH FLAGS MODE   ftruncate FD LEN   close FD
 *   unlinkat DIRFD PATH FLAGS   dup FD
 *   peek A   poke A V   fill FD OFF LEN V   fpeek FD OFF   rss A
 *   huge KB   maps
 *   E                           end of the step list
 *
 * Output (fd 1):
 *
 *   I START_BRK BRK             the initial break (hex), then an M block
 *   M                           a /proc/self/maps dump follows, ended by a line "."
 *   V HEX                       a value        N ERRNO       a failure (-errno, decimal errno)
 *   G SIGNO                     a caught signal (11 SIGSEGV, 7 SIGBUS)
 *   F                           end of file (fpeek)
 *   H TOTAL FREE RSVD SURP      huge page counters (decimal)
 *   X REASON                    the step cannot be recorded on this host
 *   Z                           every step ran
 *   D REASON                    setup failed before the snapshot (fatal)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <setjmp.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PR_GET_MDWE
#define PR_GET_MDWE 66
#endif
#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

#ifndef INBUF_SIZE
#define INBUF_SIZE (2u << 20)
#endif
/* Layout padding (bytes), chosen by the driver to reproduce a scenario's @maps header. */
#ifndef TEXT_PAD
#define TEXT_PAD 0
#endif
#ifndef RODATA_PAD
#define RODATA_PAD 0
#endif
#ifndef RELRO_PAD
#define RELRO_PAD 0
#endif
#ifndef DATA_PAD
#define DATA_PAD 0
#endif
#ifndef BSS_PAD
#define BSS_PAD 0
#endif

#define XSTR(x) STR(x)
#define STR(x) #x

#if TEXT_PAD > 0
__asm__(".section .text.mmsim_pad,\"ax\",@progbits\n.skip " XSTR(TEXT_PAD) ", 0xcc\n.previous\n");
#endif
#if RODATA_PAD > 0
__asm__(".section .rodata.mmsim_pad,\"a\",@progbits\n.skip " XSTR(RODATA_PAD) "\n.previous\n");
#endif
#if RELRO_PAD > 0
__asm__(".section .data.rel.ro.mmsim_pad,\"aw\",@progbits\n.skip " XSTR(RELRO_PAD) "\n.previous\n");
#endif
#if DATA_PAD > 0
__asm__(".section .data.mmsim_pad,\"aw\",@progbits\n.skip " XSTR(DATA_PAD) ", 1\n.previous\n");
#endif
#if BSS_PAD > 0
__asm__(".section .bss.mmsim_pad,\"aw\",@nobits\n.skip " XSTR(BSS_PAD) "\n.previous\n");
#endif

/* ---- raw system calls (the kernel's result, -errno on failure, no libc errno) ---- */

static long sys6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  return ret;
}
#define sys0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define sys5(n, a, b, c, d, e) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)

static int is_err(long r) { return (unsigned long)r >= (unsigned long)-4095L; }

/* ---- static buffers: nothing is allocated after the first snapshot ---- */

static char inbuf[INBUF_SIZE];
static size_t inlen;
static char outbuf[1 << 16];
static size_t outlen;
static char iobuf[1 << 16];
static unsigned char fillbuf[1 << 16];
static char pathbuf[1 << 16];
static char linebuf[1 << 12];
static char altstack[1 << 16] __attribute__((aligned(64)));
static char selfexe[4096];

static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_sig;

/* ---- output ---- */

static void flush_out(void) {
  size_t off = 0;
  while (off < outlen) {
    long w = sys3(SYS_write, 1, outbuf + off, outlen - off);
    if (w == -EINTR) continue;
    if (w <= 0) break; /* nobody to tell: the driver sees the output end early */
    off += (size_t)w;
  }
  outlen = 0;
}

static void out_bytes(const char *s, size_t n) {
  while (n > 0) {
    size_t room = sizeof outbuf - outlen;
    size_t k = n < room ? n : room;
    for (size_t i = 0; i < k; i++) outbuf[outlen + i] = s[i];
    outlen += k;
    s += k;
    n -= k;
    if (outlen == sizeof outbuf) flush_out();
  }
}

static void out_str(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  out_bytes(s, n);
}

static void out_hex(unsigned long v) {
  char tmp[17];
  int i = 16;
  tmp[i] = 0;
  do {
    tmp[--i] = "0123456789abcdef"[v & 15];
    v >>= 4;
  } while (v);
  out_str(tmp + i);
}

static void out_dec(unsigned long v) {
  char tmp[21];
  int i = 20;
  tmp[i] = 0;
  do {
    tmp[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  out_str(tmp + i);
}

/* One result line for a system call's raw return value. */
static void out_result(long r) {
  if (is_err(r)) {
    out_str("N ");
    out_dec((unsigned long)-r);
  } else {
    out_str("V ");
    out_hex((unsigned long)r);
  }
  out_str("\n");
}

static void die(const char *why) {
  out_str("D ");
  out_str(why);
  out_str("\n");
  flush_out();
  sys1(SYS_exit_group, 2);
  for (;;) {
  }
}

/* ---- input parsing ---- */

static size_t inpos;

static size_t line_len;

/* The next line of the input (not terminated: its length is line_len), or 0 at the end. */
static char *next_line(void) {
  if (inpos >= inlen) return 0;
  char *start = inbuf + inpos;
  while (inpos < inlen && inbuf[inpos] != '\n') inpos++;
  line_len = (size_t)(inbuf + inpos - start);
  if (inpos < inlen) inpos++;
  return start;
}

/* The next line, NUL-terminated in place (destroys the input; the recorded process only). */
static char *take_line(void) {
  char *l = next_line();
  if (l) l[line_len] = 0;
  return l;
}

/* The next line copied into linebuf (the input stays intact). */
static char *copy_line(void) {
  char *l = next_line();
  if (!l) return 0;
  if (line_len + 1 > sizeof linebuf) die("setup line too long");
  for (size_t i = 0; i < line_len; i++) linebuf[i] = l[i];
  linebuf[line_len] = 0;
  return linebuf;
}

static char *cursor;

static char *next_word(void) {
  while (*cursor == ' ') cursor++;
  if (!*cursor) return 0;
  char *w = cursor;
  while (*cursor && *cursor != ' ') cursor++;
  if (*cursor) *cursor++ = 0;
  return w;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

static unsigned long num(void) {
  char *w = next_word();
  if (!w) die("missing number in step list");
  unsigned long v = 0;
  for (; *w; w++) {
    int d = hexval(*w);
    if (d < 0) die("bad hex number in step list");
    v = (v << 4) | (unsigned long)d;
  }
  return v;
}

/* A hex-encoded string into pathbuf, NUL-terminated. */
static const char *str(void) {
  char *w = next_word();
  if (!w) die("missing string in step list");
  size_t n = 0;
  if (!(w[0] == '-' && w[1] == 0)) {
    for (; w[0] && w[1]; w += 2) {
      int hi = hexval(w[0]), lo = hexval(w[1]);
      if (hi < 0 || lo < 0 || n + 1 >= sizeof pathbuf) die("bad string in step list");
      pathbuf[n++] = (char)(hi * 16 + lo);
    }
  }
  pathbuf[n] = 0;
  return pathbuf;
}

static int streq(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return *a == *b;
}

/* ---- reading files with raw calls ---- */

/*
 * RLIMIT_NOFILE of the recorded process: 1024, Linux's INR_OPEN_CUR (what init
 * starts every process with), which the model assumes since the trace format
 * has no key for it. The executor would otherwise inherit its launcher's limit
 * (Node raises its own to the hard limit), and a program holding 1,024
 * descriptors would see EMFILE in the model and a descriptor here.
 */
#define NOFILE_SOFT 1024UL
/* The hard limit set with it: room above the soft limit for the reads below. */
static unsigned long nofile_hard;

static int set_nofile(unsigned long soft) {
  struct rlimit r;
  r.rlim_cur = soft;
  r.rlim_max = nofile_hard;
  return sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, &r, 0) == 0;
}

/*
 * Open a file the executor reads for itself (/proc, /sys). When the program
 * holds every descriptor below the limit, take one above it for the moment
 * (the program runs no step meanwhile, and the descriptor is closed before
 * the next one).
 */
static long open_ro(const char *path) {
  long fd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
  if (fd == -EMFILE && nofile_hard > NOFILE_SOFT && set_nofile(nofile_hard)) {
    fd = sys4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (!set_nofile(NOFILE_SOFT)) die("cannot restore RLIMIT_NOFILE");
  }
  return fd;
}

/* Copy a whole file to the output as an M block. */
static void dump_maps(void) {
  long fd = open_ro("/proc/self/maps");
  if (is_err(fd)) die("cannot open /proc/self/maps");
  out_str("M\n");
  for (;;) {
    long n = sys3(SYS_read, fd, iobuf, sizeof iobuf);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    out_bytes(iobuf, (size_t)n);
  }
  sys1(SYS_close, fd);
  out_str(".\n");
}

/* Read a small file into iobuf (NUL-terminated); the length or -errno. */
static long read_small(const char *path) {
  long fd = open_ro(path);
  if (is_err(fd)) return fd;
  size_t len = 0;
  for (;;) {
    long n = sys3(SYS_read, fd, iobuf + len, sizeof iobuf - 1 - len);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    len += (size_t)n;
    if (len == sizeof iobuf - 1) break;
  }
  sys1(SYS_close, fd);
  iobuf[len] = 0;
  return (long)len;
}

static unsigned long parse_dec(const char *s, const char **end) {
  unsigned long v = 0;
  while (*s == ' ' || *s == '\t') s++;
  while (*s >= '0' && *s <= '9') v = v * 10 + (unsigned long)(*s++ - '0');
  if (end) *end = s;
  return v;
}

static unsigned long parse_hex(const char *s, const char **end) {
  unsigned long v = 0;
  int d;
  while ((d = hexval(*s)) >= 0) v = (v << 4) | (unsigned long)d, s++;
  if (end) *end = s;
  return v;
}

/* start_brk: field 47 of /proc/self/stat. */
static unsigned long start_brk(void) {
  if (is_err(read_small("/proc/self/stat"))) die("cannot read /proc/self/stat");
  const char *p = iobuf, *last = 0;
  for (; *p; p++)
    if (*p == ')') last = p;
  if (!last) die("bad /proc/self/stat");
  p = last + 1;
  /* fields 3.. follow; field 47 is the 45th word after ')' */
  for (int field = 3; field < 47; field++) {
    while (*p == ' ') p++;
    while (*p && *p != ' ') p++;
  }
  return parse_dec(p, 0);
}

/* rss(addr): Rss: of the /proc/self/smaps block holding addr. */
static void do_rss(unsigned long addr) {
  long fd = open_ro("/proc/self/smaps");
  if (is_err(fd)) {
    out_result(fd);
    return;
  }
  size_t ll = 0;
  int in_block = 0, found = 0;
  unsigned long kb = 0;
  for (;;) {
    long n = sys3(SYS_read, fd, iobuf, sizeof iobuf);
    if (n == -EINTR) continue;
    if (n <= 0) break;
    for (long i = 0; i < n && !found; i++) {
      char c = iobuf[i];
      if (c != '\n') {
        if (ll + 1 < sizeof linebuf) linebuf[ll++] = c;
        continue;
      }
      linebuf[ll] = 0;
      ll = 0;
      if (hexval(linebuf[0]) >= 0 && !(linebuf[0] >= 'A' && linebuf[0] <= 'F')) {
        const char *e;
        unsigned long s = parse_hex(linebuf, &e);
        unsigned long t = *e == '-' ? parse_hex(e + 1, 0) : 0;
        in_block = addr >= s && addr < t;
      } else if (in_block && linebuf[0] == 'R' && linebuf[1] == 's' && linebuf[2] == 's' && linebuf[3] == ':') {
        kb = parse_dec(linebuf + 4, 0);
        found = 1;
      }
    }
    if (found) break;
  }
  sys1(SYS_close, fd);
  if (found) {
    out_str("V ");
    out_hex(kb);
    out_str("\n");
  } else {
    out_result(-EFAULT);
  }
}

static void append(char *dst, size_t *n, const char *s) {
  while (*s && *n + 1 < 256) dst[(*n)++] = *s++;
  dst[*n] = 0;
}

static char hpath[256];

static long huge_counter(unsigned long kb, const char *name, unsigned long *value) {
  size_t n = 0;
  char num[24];
  int i = 23;
  num[i] = 0;
  unsigned long v = kb;
  do {
    num[--i] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  append(hpath, &n, "/sys/kernel/mm/hugepages/hugepages-");
  append(hpath, &n, num + i);
  append(hpath, &n, "kB/");
  append(hpath, &n, name);
  long r = read_small(hpath);
  if (is_err(r)) return r;
  *value = parse_dec(iobuf, 0);
  return 0;
}

static void do_hugepages(unsigned long kb) {
  static const char *const names[4] = {"nr_hugepages", "free_hugepages", "resv_hugepages", "surplus_hugepages"};
  unsigned long v[4];
  for (int i = 0; i < 4; i++) {
    if (is_err(huge_counter(kb, names[i], &v[i]))) {
      out_str("X this host has no ");
      out_dec(kb);
      out_str("kB huge page pool\n");
      return;
    }
  }
  out_str("H ");
  for (int i = 0; i < 4; i++) {
    out_dec(v[i]);
    out_str(i < 3 ? " " : "\n");
  }
}

/* ---- memory accesses ---- */

static void on_fault(int sig) {
  fault_sig = sig;
  siglongjmp(fault_jmp, 1);
}

static void do_peek(unsigned long addr) {
  fault_sig = 0;
  if (sigsetjmp(fault_jmp, 1) == 0) {
    unsigned char v;
    __asm__ volatile("movb (%1), %0" : "=q"(v) : "r"(addr) : "memory");
    out_str("V ");
    out_hex(v);
    out_str("\n");
  } else {
    out_str("G ");
    out_dec((unsigned long)fault_sig);
    out_str("\n");
  }
}

static void do_poke(unsigned long addr, unsigned long value) {
  fault_sig = 0;
  if (sigsetjmp(fault_jmp, 1) == 0) {
    unsigned char v = (unsigned char)value;
    __asm__ volatile("movb %1, (%0)" : : "r"(addr), "q"(v) : "memory");
    out_str("V 0\n");
  } else {
    out_str("G ");
    out_dec((unsigned long)fault_sig);
    out_str("\n");
  }
}

/* fill: pwrite LEN bytes of VALUE at OFF, in chunks; bytes written, or the first error. */
static void do_fill(long fd, unsigned long off, unsigned long len, unsigned long value) {
  for (size_t i = 0; i < sizeof fillbuf; i++) fillbuf[i] = (unsigned char)value;
  unsigned long done = 0;
  long err = 0;
  if (len == 0) {
    long r = sys4(SYS_pwrite64, fd, fillbuf, 0, off);
    out_result(r);
    return;
  }
  while (done < len) {
    unsigned long chunk = len - done < sizeof fillbuf ? len - done : sizeof fillbuf;
    long r = sys4(SYS_pwrite64, fd, fillbuf, chunk, off + done);
    if (r == -EINTR) continue;
    if (is_err(r)) {
      err = r;
      break;
    }
    if (r == 0) break;
    done += (unsigned long)r;
  }
  if (done == 0 && err) out_result(err);
  else out_result((long)done);
}

static void do_fpeek(long fd, unsigned long off) {
  unsigned char b;
  long r;
  do r = sys4(SYS_pread64, fd, &b, 1, off);
  while (r == -EINTR);
  if (is_err(r)) out_result(r);
  else if (r == 0) out_str("F\n");
  else {
    out_str("V ");
    out_hex(b);
    out_str("\n");
  }
}

/* ---- setup ---- */

static void read_all_input(int fd) {
  for (;;) {
    if (inlen == sizeof inbuf) die("step list too large for the executor's input buffer");
    long n = sys3(SYS_read, fd, inbuf + inlen, sizeof inbuf - inlen);
    if (n == -EINTR) continue;
    if (n < 0) die("cannot read the step list");
    if (n == 0) break;
    inlen += (size_t)n;
  }
}

struct setup {
  unsigned long rlim[4]; /* stack, as, data, memlock */
  unsigned long persona;
  unsigned long privileged;
  unsigned long brk;
  unsigned long hide_pkeys;
};

/* Read the lines before S. */
static void read_setup(struct setup *s) {
  char *line = copy_line();
  if (!line || !streq(line, "mmsim-exec 1")) die("not an mmsim-exec 1 step list");
  s->rlim[0] = s->rlim[1] = s->rlim[2] = s->rlim[3] = (unsigned long)RLIM_INFINITY;
  s->persona = 0;
  s->privileged = 0;
  s->brk = 0;
  s->hide_pkeys = 0;
  while ((line = copy_line())) {
    cursor = line;
    char *w = next_word();
    if (!w) continue;
    if (streq(w, "S")) return;
    if (streq(w, "R")) {
      for (int i = 0; i < 4; i++) s->rlim[i] = num();
    } else if (streq(w, "P")) {
      s->persona = num();
    } else if (streq(w, "C")) {
      s->privileged = num();
    } else if (streq(w, "B")) {
      s->brk = num();
    } else if (streq(w, "K")) {
      s->hide_pkeys = num();
    } else {
      die("unknown setup line in step list");
    }
  }
  die("step list has no S line");
}

static void set_rlimit(int resource, unsigned long value) {
  struct rlimit r;
  r.rlim_cur = value;
  r.rlim_max = value;
  if (sys4(SYS_prlimit64, 0, resource, &r, 0) != 0) die("setrlimit failed");
}

static void drop_capabilities(void) {
  for (long cap = 0; cap < 64; cap++) sys5(SYS_prctl, PR_CAPBSET_DROP, cap, 0, 0, 0);
  sys5(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  if (sys5(SYS_prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("PR_SET_NO_NEW_PRIVS failed");
  struct __user_cap_header_struct hdr = {_LINUX_CAPABILITY_VERSION_3, 0};
  struct __user_cap_data_struct data[2];
  for (int i = 0; i < 2; i++) data[i].effective = data[i].permitted = data[i].inheritable = 0;
  if (sys2(SYS_capset, &hdr, data) != 0) die("capset failed");
  /* check: CapEff must now be 0 */
  if (is_err(read_small("/proc/self/status"))) die("cannot read /proc/self/status");
  for (const char *p = iobuf; *p; p++) {
    if (p[0] == 'C' && p[1] == 'a' && p[2] == 'p' && p[3] == 'E' && p[4] == 'f' && p[5] == 'f' && p[6] == ':') {
      const char *q = p + 7;
      while (*q == '\t' || *q == ' ') q++;
      if (parse_hex(q, 0) != 0) die("capabilities still effective after capset");
      return;
    }
  }
  die("no CapEff in /proc/self/status");
}

static void install_handlers(void) {
  stack_t ss;
  ss.ss_sp = altstack;
  ss.ss_size = sizeof altstack;
  ss.ss_flags = 0;
  if (sys2(SYS_sigaltstack, &ss, 0) != 0) die("sigaltstack failed");
  struct sigaction sa;
  char *p = (char *)&sa;
  for (size_t i = 0; i < sizeof sa; i++) p[i] = 0;
  sa.sa_handler = on_fault;
  sa.sa_flags = SA_ONSTACK;
  /* libc's sigaction supplies the restorer the kernel needs. */
  if (sigaction(SIGSEGV, &sa, 0) != 0 || sigaction(SIGBUS, &sa, 0) != 0) die("sigaction failed");
}

/* ---- the steps ---- */

static void run_steps(void) {
  char *line;
  while ((line = take_line())) {
    cursor = line;
    char *op = next_word();
    if (!op) continue;
    if (streq(op, "E")) break;
    if (streq(op, "mmap")) {
      unsigned long a = num(), l = num(), p = num(), f = num(), fd = num(), off = num();
      out_result(sys6(SYS_mmap, (long)a, (long)l, (long)p, (long)f, (long)fd, (long)off));
    } else if (streq(op, "pgoff")) {
      unsigned long a = num(), l = num(), p = num(), f = num(), fd = num(), pg = num();
      if (pg >> 52) out_str("X mmap_pgoff: pgoff does not fit in a byte offset (x86-64 has no mmap_pgoff system call)\n");
      else out_result(sys6(SYS_mmap, (long)a, (long)l, (long)p, (long)f, (long)fd, (long)(pg << 12)));
    } else if (streq(op, "munmap")) {
      unsigned long a = num(), l = num();
      out_result(sys2(SYS_munmap, a, l));
    } else if (streq(op, "mprotect")) {
      unsigned long a = num(), l = num(), p = num();
      out_result(sys3(SYS_mprotect, a, l, p));
    } else if (streq(op, "mremap")) {
      unsigned long a = num(), ol = num(), nl = num(), f = num(), na = num();
      out_result(sys5(SYS_mremap, a, ol, nl, f, na));
    } else if (streq(op, "madvise")) {
      unsigned long a = num(), l = num(), adv = num();
      out_result(sys3(SYS_madvise, a, l, adv));
    } else if (streq(op, "brk")) {
      unsigned long a = num();
      out_result(sys1(SYS_brk, a));
    } else if (streq(op, "mlock")) {
      unsigned long a = num(), l = num();
      out_result(sys2(SYS_mlock, a, l));
    } else if (streq(op, "munlock")) {
      unsigned long a = num(), l = num();
      out_result(sys2(SYS_munlock, a, l));
    } else if (streq(op, "openat")) {
      unsigned long dirfd = num();
      const char *path = str();
      unsigned long flags = num(), mode = num();
      out_result(sys4(SYS_openat, dirfd, path, flags, mode));
    } else if (streq(op, "ftruncate")) {
      unsigned long fd = num(), len = num();
      out_result(sys2(SYS_ftruncate, fd, len));
    } else if (streq(op, "close")) {
      unsigned long fd = num();
      out_result(sys1(SYS_close, fd));
    } else if (streq(op, "unlinkat")) {
      unsigned long dirfd = num();
      const char *path = str();
      unsigned long flags = num();
      out_result(sys3(SYS_unlinkat, dirfd, path, flags));
    } else if (streq(op, "dup")) {
      unsigned long fd = num();
      out_result(sys1(SYS_dup, fd));
    } else if (streq(op, "peek")) {
      do_peek(num());
    } else if (streq(op, "poke")) {
      unsigned long a = num(), v = num();
      do_poke(a, v);
    } else if (streq(op, "fill")) {
      unsigned long fd = num(), off = num(), len = num(), v = num();
      do_fill((long)fd, off, len, v);
    } else if (streq(op, "fpeek")) {
      unsigned long fd = num(), off = num();
      do_fpeek((long)fd, off);
    } else if (streq(op, "rss")) {
      do_rss(num());
    } else if (streq(op, "huge")) {
      do_hugepages(num());
    } else if (streq(op, "maps")) {
      dump_maps();
    } else {
      out_str("X unknown step in step list\n");
    }
    flush_out();
  }
  out_str("Z\n");
  flush_out();
}

static int run(void) {
  struct setup s;
  read_all_input(0);
  read_setup(&s);
  if (s.brk) {
    long cur = sys1(SYS_brk, 0);
    if ((unsigned long)cur < s.brk) sys1(SYS_brk, s.brk);
  }
  set_rlimit(RLIMIT_STACK, s.rlim[0]);
  set_rlimit(RLIMIT_AS, s.rlim[1]);
  set_rlimit(RLIMIT_DATA, s.rlim[2]);
  set_rlimit(RLIMIT_MEMLOCK, s.rlim[3]);
  {
    /* Still privileged here: the hard limit may be raised for open_ro's room. */
    struct rlimit r;
    if (sys4(SYS_prlimit64, 0, RLIMIT_NOFILE, 0, &r) != 0) die("getrlimit(RLIMIT_NOFILE) failed");
    nofile_hard = r.rlim_max > NOFILE_SOFT + 64 ? r.rlim_max : NOFILE_SOFT + 64;
    if (!set_nofile(NOFILE_SOFT)) die("setrlimit(RLIMIT_NOFILE) failed");
  }
  /*
   * The rest of what the model assumes and a launcher could have changed (all
   * are inherited across fork and exec): the usual umask 022 (it masks the
   * mode O_CREAT gives a file, and the owner's bits decide whether an
   * unprivileged open may read or write it), no file size limit, transparent
   * huge pages not disabled by prctl, and no KSM for every mapping.
   */
  sys1(SYS_umask, 022);
  set_rlimit(RLIMIT_FSIZE, RLIM_INFINITY);
  if (sys5(SYS_prctl, PR_SET_THP_DISABLE, 0, 0, 0, 0) != 0) die("PR_SET_THP_DISABLE failed");
  sys5(SYS_prctl, PR_SET_MEMORY_MERGE, 0, 0, 0, 0); /* EINVAL without CONFIG_KSM */
  /* Memory-deny-write-execute (systemd's MemoryDenyWriteExecute= may set it) is inherited and sticky. */
  if (sys5(SYS_prctl, PR_GET_MDWE, 0, 0, 0, 0) > 0)
    die("the recorder was started with PR_SET_MDWE (memory-deny-write-execute), which cannot be undone: writable executable mappings would fail");
  install_handlers();
  if (s.hide_pkeys) {
    /* pkey_alloc until the kernel has none left (ENOSPC), or has none at all (EINVAL/ENOSYS). */
    for (int i = 0; i < 64 && !is_err(sys2(SYS_pkey_alloc, 0, 0)); i++) {
    }
  }
  if (!s.privileged) drop_capabilities();
  /* The snapshot: from here on nothing is allocated. */
  unsigned long cur = (unsigned long)sys1(SYS_brk, 0);
  unsigned long start = start_brk();
  out_str("I ");
  out_hex(start);
  out_str(" ");
  out_hex(cur);
  out_str("\n");
  dump_maps();
  flush_out();
  run_steps();
  sys1(SYS_exit_group, 0);
  return 0;
}

/* ---- launcher ---- */

static void write_all(int fd, const char *p, size_t n) {
  while (n > 0) {
    long w = sys3(SYS_write, fd, p, n);
    if (w == -EINTR) continue;
    if (w <= 0) return;
    p += w;
    n -= (size_t)w;
  }
}

static int launch(const char *file) {
  long fd = streq(file, "-") ? 0 : sys4(SYS_openat, AT_FDCWD, file, O_RDONLY | O_CLOEXEC, 0);
  if (is_err(fd)) die("cannot open the step list");
  read_all_input((int)fd);
  if (fd != 0) sys1(SYS_close, fd);
  struct setup s;
  read_setup(&s); /* parses copies: inbuf stays as read */
  long n = sys3(SYS_readlink, "/proc/self/exe", selfexe, sizeof selfexe - 1);
  if (is_err(n)) die("cannot readlink /proc/self/exe");
  selfexe[n] = 0;

  /* Die with the driver (a killed `mmsim record` must not leave us running). */
  sys5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
  long launcher = sys0(SYS_getpid);
  /* Raw calls only (no libc fork/pipe/wait): keeps the executable small, see README.md. */
  int in[2], out[2];
  if (sys2(SYS_pipe2, in, O_CLOEXEC) != 0 || sys2(SYS_pipe2, out, O_CLOEXEC) != 0) die("pipe failed");
  long pid = sys0(SYS_fork);
  if (is_err(pid)) die("fork failed");
  if (pid == 0) {
    /* ... and the recorded process with the launcher (kept across execve). */
    sys5(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
    if (sys0(SYS_getppid) != launcher) sys1(SYS_exit_group, 124);
    long devnull = sys4(SYS_openat, AT_FDCWD, "/dev/null", O_RDWR, 0);
    if (is_err(devnull) || is_err(sys3(SYS_dup3, in[0], 0, 0)) || is_err(sys3(SYS_dup3, out[1], 1, 0)) ||
        is_err(sys3(SYS_dup3, devnull, 2, 0)))
      sys1(SYS_exit_group, 120);
    sys3(SYS_close_range, 3, ~0U, 0);
    /* One CPU for the whole recording (the affinity survives the execve): a
       migration between two steps leaves the pages the first one touched in
       the old CPU's LRU batch (lru_add), where MADV_FREE cannot mark them
       lazy-free, so what MADV_PAGEOUT reclaims would depend on the scheduler.
       The model has one CPU. */
    unsigned int cpu = 0;
    unsigned long cpumask[16] = {0};
    if (sys3(SYS_getcpu, &cpu, 0, 0) != 0 || cpu >= 16 * 64) sys1(SYS_exit_group, 125);
    cpumask[cpu / 64] = 1UL << (cpu % 64);
    if (sys3(SYS_sched_setaffinity, 0, sizeof cpumask, cpumask) != 0) sys1(SYS_exit_group, 125);
    struct rlimit r;
    r.rlim_cur = r.rlim_max = s.rlim[0];
    if (sys4(SYS_prlimit64, 0, RLIMIT_STACK, &r, 0) != 0) sys1(SYS_exit_group, 121);
    if (is_err(sys1(SYS_personality, s.persona))) sys1(SYS_exit_group, 122);
    char *const argv[] = {"mmsim-rec", "--run", 0};
    char *const envp[] = {0};
    sys3(SYS_execve, selfexe, argv, envp);
    sys1(SYS_exit_group, 123);
  }
  /* SIGPIPE ignored while feeding a child that may have died. */
  unsigned long ign[4] = {(unsigned long)SIG_IGN, 0, 0, 0};
  sys4(SYS_rt_sigaction, SIGPIPE, ign, 0, 8);
  sys1(SYS_close, in[0]);
  sys1(SYS_close, out[1]);
  write_all(in[1], inbuf, inlen);
  sys1(SYS_close, in[1]);
  for (;;) {
    long r = sys3(SYS_read, out[0], iobuf, sizeof iobuf);
    if (r == -EINTR) continue;
    if (r <= 0) break;
    write_all(1, iobuf, (size_t)r);
  }
  int status = 0;
  while (sys4(SYS_wait4, pid, &status, 0, 0) == -EINTR) {
  }
  outlen = 0;
  if (WIFSIGNALED(status)) {
    out_str("Q signal ");
    out_dec((unsigned long)WTERMSIG(status));
  } else {
    out_str("Q exit ");
    out_dec((unsigned long)WEXITSTATUS(status));
  }
  out_str("\n");
  flush_out();
  return 0;
}

int main(int argc, char **argv) {
  if (argc == 2 && streq(argv[1], "--run")) return run();
  if (argc == 2) return launch(argv[1]);
  write_all(2, "usage: mmsim-rec STEP-LIST|-   (the launcher; see tools/trace-recorder/README.md)\n", 84);
  return 2;
}
