/*
 * Linux 6.18.44 x86-64: whether MADV_PAGEOUT after MADV_FREE discards a page
 * just written depends on the CPU the process ran on. A page faulted in waits
 * in its CPU's LRU batch (lru_add) until something drains it; MADV_FREE drains
 * only the batches of the CPU it runs on (lru_add_drain), and
 * folio_mark_lazyfree skips a folio that is not on an LRU list yet. If the
 * process moved to another CPU between the write and MADV_FREE, the page stays
 * swap-backed; without swap, MADV_PAGEOUT cannot reclaim it, and it still
 * holds what was written. On one CPU it is discarded and reads as zero.
 *
 * Found by `npm run fuzz:kernel -- --seed 2119 --only 152 --profile
 * hugetlb,file --steps 200-400`: a 1 TiB MADV_GUARD_INSTALL and a 690 GB
 * mremap shrink before the write made the next step (reading smaps) long
 * enough that the scheduler moved the process every time, so the divergence
 * even survived minimisation. Since then the recorder pins the recorded
 * process to the CPU it starts on (tools/trace-recorder/executor.c), as the
 * model has one CPU; the pinned recording is
 * conformance/fuzz/fuzz-hugetlb-s2119-152.trace.
 *
 *   cc -O2 -o free-migration madv-free-cpu-migration.c
 *   RSS=1 ./free-migration 3               # "d7 cpu 0->1": moved, page kept
 *   RSS=1 taskset -c 0 ./free-migration 3  # "00 cpu 0->0": pinned, page discarded
 *   RSS=1 ./free-migration 0               # "00": nothing long in between, no move
 *
 * The argument: 0 nothing before the write; 1 a 1 TiB shared NORESERVE
 * mapping; 2 and MADV_GUARD_INSTALL over it; 3 and an mremap shrink of most of
 * it (what makes the smaps read slow). Needs no root and changes nothing.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif

int main(int argc, char **argv) {
  int big = argc > 1 ? atoi(argv[1]) : 1;
  if (big) {
    size_t len = 1UL << 40;
    char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (s == MAP_FAILED) {
      perror("mmap");
      return 1;
    }
    if (big > 1 && madvise(s, len - 8192, MADV_GUARD_INSTALL)) perror("MADV_GUARD_INSTALL");
    if (big > 2 && mremap(s + 0x5f53bd4000UL, 690084823040UL, 268435456UL, 0) == MAP_FAILED) perror("mremap");
  }
  size_t n = 4 << 20;
  char *a = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) {
    perror("mmap");
    return 1;
  }
  char *p = a + 0x2d6421;
  *p = (char)0xd7;
  int before = sched_getcpu();
  if (getenv("RSS")) {
    FILE *f = fopen("/proc/self/smaps", "r");
    static char buf[65536];
    while (f && fread(buf, 1, sizeof buf, f) > 0) {
    }
    if (f) fclose(f);
  }
  int after = sched_getcpu();
  madvise(a, n, MADV_FREE);
  madvise(a, n, MADV_PAGEOUT);
  printf("%02x cpu %d->%d\n", (unsigned char)*p, before, after);
  return 0;
}
