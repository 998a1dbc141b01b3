#!/usr/bin/env node
// npm run fuzz -- --calls N --seed S [--seeds K] [--from K] [--trace-from K] [--keep-going]
// Runs the system-call fuzzer over the BUILT packages (npm run build first).
// A failure prints `seed S call K: ...`; rerun with
// `--seed S --calls K+1 --from K --trace-from K-20` to replay just the
// machine (episode) it happened on and print the calls that led to it.
import { runFuzz } from './fuzz-core.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const calls = Number(opt('calls', '100000'));
const seed = Number(opt('seed', '1'));
const seeds = Number(opt('seeds', '1'));
const traceFrom = Number(opt('trace-from', 'Infinity'));
const from = Number(opt('from', '0'));
const keepGoing = args.includes('--keep-going');
if (!Number.isSafeInteger(calls) || calls < 0 || !Number.isSafeInteger(seed)) {
  console.error('usage: fuzz.mjs --calls N --seed S [--seeds K] [--from K] [--trace-from K] [--keep-going]');
  process.exit(2);
}

let failed = 0;
let total = 0;
const t0 = performance.now();
for (let s = seed; s < seed + seeds; s++) {
  const res = runFuzz({ seed: s, calls, from, traceFrom, stopOnFailure: !keepGoing, log: (line) => console.log(line) });
  total += res.executed;
  failed += res.failures.length;
  console.log(
    `seed ${s}: ${res.executed} calls in ${(res.ms / 1000).toFixed(1)} s over ${res.episodes} machines, ${res.failures.length} failure(s)`,
  );
}
console.log(`total: ${total} calls, ${failed} failure(s), ${((performance.now() - t0) / 1000).toFixed(1)} s`);
process.exit(failed ? 1 : 0);
