/*
 * Found by `npm run fuzz:kernel` (seed 2029, scenario 179, legacy profile) on
 * Linux 6.18.44 x86-64: mremap() that shrinks AND moves an accounted
 * (VM_ACCOUNT: private, writable) mapping with MREMAP_MAYMOVE|MREMAP_FIXED
 * leaves the unmapped part charged to Committed_AS, for good: the charge
 * outlives the process. The same shrink without a move releases it.
 *
 *   cc -O2 -o leak mremap-shrink-move-commit-leak.c && ./leak
 *
 * prints Committed_AS around each step. On 6.18.44: "shrink in place" gives
 * back new_len - old_len; "shrink and move" gives back nothing, and after the
 * process exits 63.75 GiB stay committed (check /proc/meminfo). The leak is
 * host-wide and lasts until reboot: with vm.overcommit_memory=2 the machine
 * then refuses allocations. Run it only where that does not matter.
 *
 * Cause (mm/mremap.c, 6.18): mremap_to() shrinks first (shrink_vma uncharges
 * the tail) and sets old_len = new_len, but not delta; move_vma() ->
 * vrm_calc_charge() then charges delta. mmsim models it (mremap.ts moveVma,
 * MmKernel.leakedCommit; conformance/fuzz/fuzz-probe-mremap-shrink-move-charge).
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static long committed_kb(void) {
  FILE *f = fopen("/proc/meminfo", "r");
  char line[256];
  long v = -1;
  while (f && fgets(line, sizeof line, f))
    if (!strncmp(line, "Committed_AS:", 13)) v = atol(line + 13);
  if (f) fclose(f);
  return v;
}

static void run(int move) {
  const size_t big = 64UL << 30, small = 256UL << 20;
  long c0 = committed_kb();
  char *a = mmap(NULL, big, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (a == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  long c1 = committed_kb();
  void *r = move ? mremap(a, big, small, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)0x100000000UL) : mremap(a, big, small, 0);
  long c2 = committed_kb();
  printf("%s: mmap +%ld kB, mremap to %p: %+ld kB (expected %+ld)\n", move ? "shrink and move" : "shrink in place", c1 - c0, r, c2 - c1,
         -(long)((big - small) >> 10));
}

int main(void) {
  for (int move = 0; move <= 1; move++) {
    long before = committed_kb();
    pid_t pid = fork();
    if (pid == 0) {
      run(move);
      fflush(stdout);
      _exit(0);
    }
    waitpid(pid, NULL, 0);
    printf("  after the process exited: %+ld kB still committed\n", committed_kb() - before);
  }
  return 0;
}
