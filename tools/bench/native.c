/*
 * The native side of `npm run bench`: the same workloads as the model side,
 * with real system calls on this Linux host. Built on demand by
 * tools/bench/native.mjs (`cc -O2`). Each workload runs warm-up rounds, then
 * ROUNDS timed rounds of N operations; it prints one line per workload:
 *
 *   <workload> <V or -> <median ns/op> <rounds> <ops per round> <maps> <ns/op of each round...>
 *
 * or `skip <workload> <V or -> <reason...>` when it cannot run here.
 *
 * Usage: native <rounds> <workload>[:V] ...
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#ifndef MAP_HUGETLB
#define MAP_HUGETLB 0x40000
#endif
#ifndef MADV_NOHUGEPAGE
#define MADV_NOHUGEPAGE 15
#endif

#define PAGE 4096UL
#define WARMUP_ROUNDS 2

static int rounds = 7;

static double now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Number of lines of /proc/self/maps (the process's VMA count, plus [vsyscall]). */
static long count_maps(void) {
  FILE *f = fopen("/proc/self/maps", "r");
  if (!f) return -1;
  long n = 0;
  int c;
  while ((c = fgetc(f)) != EOF)
    if (c == '\n') n++;
  fclose(f);
  return n;
}

/* The V-workloads' starting state: 2V+2 pages read-only, every even page read-write. */
static char *make_region(long v) {
  size_t pages = 2 * (size_t)v + 2;
  char *base = mmap(NULL, pages * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (base == MAP_FAILED) return NULL;
  for (size_t p = 0; p < pages; p += 2) {
    if (mprotect(base + p * PAGE, PAGE, PROT_READ | PROT_WRITE) != 0) {
      munmap(base, pages * PAGE);
      return NULL;
    }
  }
  return base;
}

static void report(const char *name, long v, double *samples, long ops) {
  long maps = count_maps();
  if (v >= 0)
    printf("%s %ld %.3f %d %ld %ld", name, v, median(samples, rounds), rounds, ops, maps);
  else
    printf("%s - %.3f %d %ld %ld", name, median(samples, rounds), rounds, ops, maps);
  for (int r = 0; r < rounds; r++) printf(" %.3f", samples[r]);
  printf("\n");
  fflush(stdout);
}

static void skip(const char *name, long v, const char *why) {
  if (v >= 0)
    printf("skip %s %ld %s (%s)\n", name, v, why, strerror(errno));
  else
    printf("skip %s - %s (%s)\n", name, why, strerror(errno));
  fflush(stdout);
}

static void mmap_munmap_4k(long v) {
  char *base = make_region(v);
  if (!base) return skip("mmap_munmap_4k", v, "cannot build the region");
  const long n = 20000;
  double samples[64];
  for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
      void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
      if (p == MAP_FAILED || munmap(p, PAGE) != 0) {
        munmap(base, (2 * v + 2) * PAGE);
        return skip("mmap_munmap_4k", v, "mmap/munmap failed");
      }
    }
    double t1 = now_ns();
    if (r >= 0) samples[r] = (t1 - t0) / n;
  }
  report("mmap_munmap_4k", v, samples, n);
  munmap(base, (2 * v + 2) * PAGE);
}

static void mprotect_split_merge(long v) {
  char *base = make_region(v);
  if (!base) return skip("mprotect_split_merge", v, "cannot build the region");
  const long n = 20000;
  double samples[64];
  long i = 0;
  for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
    double t0 = now_ns();
    for (long k = 0; k < n; k++, i++) {
      long j = (long)(((uint64_t)i * 7919) % (uint64_t)v);
      char *p = base + (2 * j + 1) * PAGE;
      if (mprotect(p, PAGE, PROT_READ | PROT_WRITE) != 0 || mprotect(p, PAGE, PROT_READ) != 0) {
        munmap(base, (2 * v + 2) * PAGE);
        return skip("mprotect_split_merge", v, "mprotect failed");
      }
    }
    double t1 = now_ns();
    if (r >= 0) samples[r] = (t1 - t0) / (2.0 * n);
  }
  report("mprotect_split_merge", v, samples, 2 * n);
  munmap(base, (2 * v + 2) * PAGE);
}

static void anon_fault_4k(void) {
  const size_t len = 64UL << 20;
  const long pages = (long)(len / PAGE);
  double samples[64];
  for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
    char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return skip("anon_fault_4k", -1, "mmap failed");
    madvise(p, len, MADV_NOHUGEPAGE);
    double t0 = now_ns();
    for (long i = 0; i < pages; i++) ((volatile char *)p)[i * PAGE] = 1;
    double t1 = now_ns();
    munmap(p, len);
    if (r >= 0) samples[r] = (t1 - t0) / pages;
  }
  report("anon_fault_4k", -1, samples, pages);
}

static void hugetlb_map_fault_unmap_2m(void) {
  const size_t len = 2UL << 20;
  const long n = 2000;
  double samples[64];
  for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
      char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
      if (p == MAP_FAILED) return skip("hugetlb_map_fault_unmap_2m", -1, "MAP_HUGETLB mmap failed");
      ((volatile char *)p)[0] = 1;
      munmap(p, len);
    }
    double t1 = now_ns();
    if (r >= 0) samples[r] = (t1 - t0) / n;
  }
  report("hugetlb_map_fault_unmap_2m", -1, samples, n);
}

/* A byte read from a 2 MiB array at the benchmark's offsets: what C does for a TLB hit. */
static void tlb_hit_read(void) {
  const size_t len = 2UL << 20;
  const long n = 1L << 22;
  unsigned char *buf = malloc(len);
  if (!buf) return skip("tlb_hit_read", -1, "malloc failed");
  for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)i;
  double samples[64];
  volatile unsigned sink = 0;
  for (int r = -WARMUP_ROUNDS; r < rounds; r++) {
    unsigned acc = 0;
    uint32_t off = 12345;
    double t0 = now_ns();
    for (long i = 0; i < n; i++) {
      off = (off + 4099u * 7u + 1u) & (uint32_t)(len - 1);
      acc += buf[off];
    }
    double t1 = now_ns();
    sink += acc;
    if (r >= 0) samples[r] = (t1 - t0) / n;
  }
  (void)sink;
  free(buf);
  report("tlb_hit_read", -1, samples, n);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s <rounds> <workload>[:V] ...\n", argv[0]);
    return 2;
  }
  rounds = atoi(argv[1]);
  if (rounds < 1 || rounds > 64) rounds = 7;
  for (int a = 2; a < argc; a++) {
    char name[64];
    long v = -1;
    const char *colon = strchr(argv[a], ':');
    size_t len = colon ? (size_t)(colon - argv[a]) : strlen(argv[a]);
    if (len >= sizeof name) continue;
    memcpy(name, argv[a], len);
    name[len] = 0;
    if (colon) v = atol(colon + 1);
    errno = 0;
    if (!strcmp(name, "mmap_munmap_4k") && v > 0) mmap_munmap_4k(v);
    else if (!strcmp(name, "mprotect_split_merge") && v > 0) mprotect_split_merge(v);
    else if (!strcmp(name, "anon_fault_4k")) anon_fault_4k();
    else if (!strcmp(name, "hugetlb_map_fault_unmap_2m")) hugetlb_map_fault_unmap_2m();
    else if (!strcmp(name, "tlb_hit_read")) tlb_hit_read();
    else printf("skip %s %s unknown workload\n", name, colon ? colon + 1 : "-");
  }
  return 0;
}
