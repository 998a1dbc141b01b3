// The measuring harness of `npm run bench`, on tinybench: each sample is one
// batch of operations timed as a whole (so a sample is far above the timer's
// resolution), reported per operation; warm-up batches first, then ROUNDS
// timed batches, and the figure is the median.

import { Bench, hrtimeNow } from 'tinybench';

/**
 * The clock: wall time by default; with MMSIM_BENCH_CLOCK=cpu the CPU time of
 * this process (user + system), which a busy shared machine disturbs less
 * (time spent waiting for a CPU is not counted). Milliseconds.
 */
const now =
  process.env.MMSIM_BENCH_CLOCK === 'cpu'
    ? () => {
        const u = process.cpuUsage();
        return (u.user + u.system) / 1000;
      }
    : hrtimeNow;

/**
 * Measure a workload.
 * @param {string} name
 * @param {object} w
 * @param {() => void} [w.before] untimed work before each batch (fresh state)
 * @param {() => void} w.batch the timed batch
 * @param {() => void} [w.after] untimed work after each batch
 * @param {number} w.ops operations per batch
 * @param {number} rounds timed batches
 * @param {number} warmup warm-up batches
 * @returns {{ nsPerOp: number, rounds: number, ops: number, samples: number[] }}
 */
export function measure(name, w, rounds, warmup) {
  const bench = new Bench({
    name,
    now,
    iterations: rounds,
    time: 0,
    warmupIterations: warmup,
    warmupTime: 0,
    retainSamples: true,
    throws: true,
  });
  bench.add(name, () => {
    w.before?.();
    const t0 = now();
    w.batch();
    const dt = now() - t0;
    w.after?.();
    return { overriddenDuration: dt / w.ops, overriddenIterationCost: dt };
  });
  const [task] = bench.runSync();
  const result = task.result;
  if (!result || result.state !== 'completed') {
    throw result?.error ?? new Error(`${name}: no result (${result?.state})`);
  }
  const samples = (result.latency.samples ?? []).map((ms) => ms * 1e6);
  return { nsPerOp: result.latency.p50 * 1e6, rounds: samples.length || rounds, ops: w.ops, samples };
}

/** The median of a list of numbers (NaN for none): the figure of a list of samples. */
export function median(xs) {
  const v = [...xs].sort((a, b) => a - b);
  const n = v.length;
  return n === 0 ? NaN : n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
