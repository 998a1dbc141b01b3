// A PageTableFrameSource for tests: hands out frames from a counter, keeps
// the set of live table frames, and can be limited to provoke failures.
import type { PageTableFrameSource } from '@mmsim/arch';

export class TestFrames implements PageTableFrameSource {
  readonly live = new Set<number>();
  private next: number;
  allocs = 0;
  frees = 0;
  constructor(
    public limit = Infinity,
    first = 0x1000,
  ) {
    this.next = first;
  }
  allocTableFrame(): number {
    if (this.live.size >= this.limit) return -1;
    const pfn = this.next++;
    this.live.add(pfn);
    this.allocs++;
    return pfn;
  }
  freeTableFrame(pfn: number): void {
    if (!this.live.delete(pfn)) throw new Error(`table frame ${pfn} freed twice or never allocated`);
    this.frees++;
  }
}
