/*
 * Linux 6.18.44 x86-64: a hugetlbfs mount with size= and min_size= loses the
 * minimum's reservation when a mapping's reservation fails, and unmounting it
 * then drives HugePages_Rsvd of the pool below zero (2^64 - 1).
 *
 * Found by `npm run fuzz:kernel -- --seed 2093 --profile hugetlb` (scenarios
 * 50 and 121 end this way; the recorder's unmount left the 1 GiB pool at
 * Rsvd 2^64-1, so the next recording could not restore the pool). Run as root
 * where a 1 GiB huge page can be had; it breaks the pool's counters until the
 * repair in hugetlb-1g-resv-underflow-repair.c (or a reboot):
 *
 *   cc -O2 -o minsize-underflow hugetlb-min-size-resv-underflow.c && ./minsize-underflow
 *
 * What it does and prints (1 GiB pool of one page, mount size=2G min_size=1G):
 *   mounted:   Rsvd 1 (the minimum)
 *   mmap 2 GiB shared of a file there: ENOMEM (the pool has one page)
 *   after:     Rsvd 0 -- the minimum's reservation is gone
 *   unmounted: Rsvd 18446744073709551615
 *
 * Cause (mm/hugetlb.c, hugetlb_reserve_pages' out_put_pages with the stable
 * fix "restore failed global reservations to subpool"): the subpool's get
 * took 2 (used_hpages 2) and covered 1 from its minimum (rsv_hpages 1 -> 0);
 * hugetlb_acct_memory(h, 1) fails; hugepage_subpool_put_pages(spool, 1) then
 * runs while used_hpages is still 1, not below min_hpages, so it does not
 * refill rsv_hpages and hands the page to hugetlb_acct_memory(h, -1); only
 * afterwards is used_hpages lowered by the global part. The subpool is left
 * with rsv_hpages 0 < min_hpages, and hugetlbfs_put_super's
 * unlock_or_release_subpool gives back min_hpages, which it no longer holds.
 * mmsim models the arithmetic inside a trace (fs/src/hugetlbfs.ts
 * reservePages; conformance/fuzz/fuzz-probe-hugetlb-min-reserve-fail);
 * traces cannot unmount.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#define POOL "/sys/kernel/mm/hugepages/hugepages-1048576kB/"

static unsigned long long rd(const char *name) {
  char path[256];
  unsigned long long v = 0;
  snprintf(path, sizeof path, POOL "%s", name);
  FILE *f = fopen(path, "r");
  if (f) {
    if (fscanf(f, "%llu", &v) != 1) v = 0;
    fclose(f);
  }
  return v;
}

static void show(const char *what) {
  printf("%-10s nr_hugepages=%llu free=%llu resv=%llu surplus=%llu\n", what, rd("nr_hugepages"), rd("free_hugepages"),
         rd("resv_hugepages"), rd("surplus_hugepages"));
}

int main(void) {
  const char *dir = "/tmp/mmsim-minsize-underflow";
  FILE *f = fopen(POOL "nr_hugepages", "w");
  if (!f || fprintf(f, "1\n") < 0 || fclose(f) != 0 || rd("nr_hugepages") != 1) {
    fprintf(stderr, "need root and one free 1 GiB huge page\n");
    return 1;
  }
  mkdir(dir, 0700);
  if (mount("none", dir, "hugetlbfs", 0, "pagesize=1G,size=2G,min_size=1G") != 0) {
    perror("mount");
    return 1;
  }
  show("mounted");
  char path[256];
  snprintf(path, sizeof path, "%s/f", dir);
  int fd = open(path, O_RDWR | O_CREAT, 0600);
  void *p = mmap(NULL, 2UL << 30, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  printf("mmap 2 GiB: %s\n", p == MAP_FAILED ? strerror(errno) : "mapped");
  show("after");
  close(fd);
  unlink(path);
  if (umount(dir) != 0) perror("umount");
  rmdir(dir);
  show("unmounted");
  return 0;
}
