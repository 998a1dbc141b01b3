// From a divergent scenario to a minimised reproducer: cut after the first
// divergent step, then delta-debug the steps, re-recording every candidate
// on the kernel and replaying it in the model. A candidate is kept only if
// it still shows the SAME kind of divergence (same call, same kind of
// expected and model results — see `signature`), so minimising cannot drift
// from, say, an EFAULT to an easier ENOMEM of the same call.

import { ddmin } from './minimise.mjs';
import { scenarioText } from './generate.mjs';

/** A short signature of a divergence: which call, and what kind of difference. */
export function signature(d) {
  const cls = (s) =>
    /^-1 (E[A-Z0-9]+)/.exec(s)?.[1] ?? /^(SIGSEGV|SIGBUS|EOF|\?)/.exec(s)?.[1] ?? (/^total=/.test(s) ? 'counters' : /^\(missing\)/.test(s) ? 'missing' : 'value');
  if (d.kind === 'maps') return '@maps';
  return `${d.step.replace(/\(.*/s, '')}:${cls(d.expected)}->${cls(d.actual)}`;
}

/**
 * @param {object} a
 * @param {string} a.name
 * @param {string} a.header       the scenario header (text)
 * @param {string[]} a.steps      the scenario's steps
 * @param {object} a.first        the first divergence of the full scenario's recording
 * @param {import('./record.mjs').Recorder} a.rec
 * @param {(golden: string, file: string) => {cmp: object}} a.judge
 * @param {number} a.budget
 * @param {(s: string) => void} a.log
 * @returns {Promise<{steps: string[], golden: string|undefined, report: object|undefined, tests: number, complete: boolean, target: string}>}
 */
export async function minimiseScenario({ name, header, steps, first, rec, judge, budget, log }) {
  const target = signature(first);
  let golden;
  let report;
  let tests = 0;
  const diverges = async (cand) => {
    tests++;
    const rr = await rec.record(scenarioText(header, cand), `${name}-min`);
    if (rr.status !== 'ok') return false;
    const j = judge(rr.golden, `${name}.trace`);
    if (!j.cmp.divergences.some((d) => signature(d) === target)) return false;
    golden = rr.golden;
    report = j.cmp;
    return true;
  };
  // Nothing after the first divergent step can matter.
  let cur = steps;
  const prefix = steps.slice(0, first.index + 1);
  if (prefix.length < steps.length && (await diverges(prefix))) cur = prefix;
  const m = await ddmin(cur, diverges, { budget, log });
  return { steps: m.steps, golden, report, tests, complete: m.complete, target };
}
