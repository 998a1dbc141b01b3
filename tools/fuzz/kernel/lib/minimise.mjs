// Delta debugging (Zeller's ddmin) over a scenario's steps: the smallest
// list of steps whose recording still diverges from the model at some step.
// Every candidate is RE-RECORDED on the kernel (removing a step changes what
// the kernel returns for the ones after it) and replayed in the model.

/**
 * @param {string[]} steps   the failing scenario's steps
 * @param {(steps: string[]) => Promise<boolean>} diverges  records and replays a candidate
 * @param {object} opts  budget: the most candidates to test; log
 * @returns {Promise<{steps: string[], tests: number, complete: boolean}>}
 */
export async function ddmin(steps, diverges, opts = {}) {
  const budget = opts.budget ?? 250;
  const log = opts.log ?? (() => {});
  const seen = new Map();
  let tests = 0;
  const test = async (cand) => {
    const key = cand.join('\n');
    if (seen.has(key)) return seen.get(key);
    if (tests >= budget) return false;
    tests++;
    const r = await diverges(cand);
    seen.set(key, r);
    return r;
  };
  let cur = steps;
  let n = 2;
  while (cur.length >= 2 && tests < budget) {
    const size = Math.ceil(cur.length / n);
    const chunks = [];
    for (let i = 0; i < cur.length; i += size) chunks.push([i, Math.min(cur.length, i + size)]);
    let reduced = false;
    // A chunk on its own (jumps straight to a small piece when the cause is local).
    if (n > 2 || chunks.length === 2) {
      for (const [a, b] of chunks) {
        if (b - a >= cur.length) continue;
        const cand = cur.slice(a, b);
        if (await test(cand)) {
          cur = cand;
          n = 2;
          reduced = true;
          break;
        }
      }
    }
    // Everything but a chunk.
    if (!reduced) {
      for (const [a, b] of chunks) {
        const cand = [...cur.slice(0, a), ...cur.slice(b)];
        if (cand.length === 0) continue;
        if (await test(cand)) {
          cur = cand;
          n = Math.max(n - 1, 2);
          reduced = true;
          break;
        }
      }
    }
    if (reduced) {
      log(`    ddmin: ${cur.length} steps (${tests} recordings)`);
      continue;
    }
    if (n >= cur.length) break;
    n = Math.min(cur.length, n * 2);
  }
  // One last pass: drop single steps from the end backwards (cheap when already small).
  for (let i = cur.length - 1; i >= 0 && tests < budget && cur.length > 1; i--) {
    const cand = [...cur.slice(0, i), ...cur.slice(i + 1)];
    if (await test(cand)) cur = cand;
  }
  return { steps: cur, tests, complete: tests < budget };
}
