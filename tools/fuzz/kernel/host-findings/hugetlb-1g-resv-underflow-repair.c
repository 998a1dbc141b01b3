/*
 * Not a reproducer: what put the benchmark host's 1 GiB huge page pool back
 * together after `HugePages_Rsvd` underflowed, with the evidence.
 *
 * Twice while `npm run fuzz:kernel -- --seed 2093 --profile hugetlb` recorded
 * (scenarios 51 and 122, each started right after the previous recording
 * ended) the 1 GiB pool was left at nr_hugepages=1 free=1
 * resv_hugepages=18446744073709551615 (-1) surplus=1. The recorder could not
 * shrink the pool back (mmsim record: "could not restore"), left its state
 * file, and the fuzzer waited. Neither scenario does it when recorded alone
 * (scenario 51 with a hugepages() step after every call: 221 steps, all as the
 * model answers; scenario 122 twice). So it looks like a race between one
 * recording's process teardown and the next recording's pool resize, not
 * anything a single trace can show; the model does not try to reproduce it.
 *
 * The repair, run as root on the broken pool:
 *
 *   echo 2 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
 *   cc -O2 -o repair hugetlb-1g-resv-underflow-repair.c && ./repair
 *   echo 0 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
 *
 * It maps 2 GiB of private 1 GiB pages (Rsvd -1 -> 1) and moves the first
 * half with mremap(MREMAP_MAYMOVE|MREMAP_FIXED). On the broken pool that
 * mremap failed with ENOMEM both times, and when the process exited Rsvd was
 * 0, not -1: the pool could shrink to 0 again. (Not run on a sound pool:
 * there the model predicts the mremap succeeds and leaves one reservation
 * behind for good, the clear_vma_resv_huge_pages leak it reproduces.)
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <stdlib.h>
#ifndef MAP_HUGE_1GB
#define MAP_HUGE_1GB (30 << 26)
#endif
static void show(const char *w) {
  char b[256]; FILE *f;
  const char *names[] = {"nr_hugepages","free_hugepages","resv_hugepages","surplus_hugepages"};
  printf("%-8s", w);
  for (int i = 0; i < 4; i++) { snprintf(b, sizeof b, "/sys/kernel/mm/hugepages/hugepages-1048576kB/%s", names[i]); f = fopen(b, "r"); long long v = 0; unsigned long long u; if (f && fscanf(f, "%llu", &u) == 1) v = (long long)u; if (f) fclose(f); printf(" %s=%lld", names[i], v); }
  printf("\n");
}
int main(void) {
  size_t G = 1UL << 30;
  char *a = (char *)0x7f0000000000UL, *b = (char *)0x7e0000000000UL;
  show("start");
  void *p = mmap(a, 2 * G, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_1GB | MAP_FIXED_NOREPLACE, -1, 0);
  if (p == MAP_FAILED) { perror("mmap"); return 1; }
  show("mapped");
  void *q = mremap(a, G, G, MREMAP_MAYMOVE | MREMAP_FIXED, b);
  if (q == MAP_FAILED) { perror("mremap"); return 1; }
  show("moved");
  munmap(a, 2 * G); munmap(b, G);
  show("unmapped");
  return 0;
}
