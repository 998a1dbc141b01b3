/*
 * Not a reproducer: what puts a 1 GiB huge page pool back together after
 * `HugePages_Rsvd` underflowed to 2^64 - 1, as hugetlb-min-size-resv-underflow.c
 * makes it (and as the kernel fuzzer's recordings did twice, seed 2093: the
 * recorder unmounted a min_size= mount whose minimum a failed reservation had
 * lost). With Rsvd below zero the pool cannot shrink, so `mmsim record`
 * cannot restore the host and the fuzzer waits.
 *
 * Run as root on the broken pool:
 *
 *   echo 2 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
 *   cc -O2 -o repair hugetlb-1g-resv-underflow-repair.c && ./repair
 *   echo 0 > /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages
 *
 * It maps 2 GiB of private 1 GiB pages (Rsvd -1 -> 1) and moves the first
 * half with mremap(MREMAP_MAYMOVE|MREMAP_FIXED); when the process is gone
 * Rsvd is 0, not -1, and the pool shrinks to 0 again. That is the
 * clear_vma_resv_huge_pages leak of one reservation (the model reproduces it:
 * invariants' allowResvLeak). On the benchmark host the mremap sometimes
 * failed with ENOMEM and sometimes succeeded; the exit left Rsvd +1 each time
 * (four repairs). Do not run it on a sound pool: it leaks a reservation there.
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
