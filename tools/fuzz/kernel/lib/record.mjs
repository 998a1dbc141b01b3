// Recording a scenario with the project's recorder (`mmsim record`, run as
// a child process exactly as a user would) and judging the recording with
// the model (replayTrace + compareResults of the BUILT packages).

import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { replayTrace } from '@mmsim/machine';
import { compareResults, parseTrace } from '@mmsim/trace';
import { unmountHazard } from './unmount.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Transient refusals: another workload holds huge pages, or changed a
 * setting during the run (the recorder checks), or another recording runs.
 */
function transient(stderr) {
  // A pool whose reservation count went below zero stays so until repaired by hand: waiting does not help.
  if (/below zero/.test(stderr)) return false;
  return /in use on this host|changed while recording|another mmsim record|cannot set \S*hugepages|could not restore|is already a mount point/i.test(stderr);
}

export class Recorder {
  /**
   * @param {string} repo  the repository root (where packages/cli/dist/bin.js is)
   * @param {string} work  a scratch directory
   * @param {object} opts  waitMs (total patience for transient refusals), log
   */
  constructor(repo, work, opts = {}) {
    this.repo = repo;
    this.work = work;
    this.bin = join(repo, 'packages/cli/dist/bin.js');
    this.waitMs = opts.waitMs ?? 20 * 60 * 1000;
    this.log = opts.log ?? (() => {});
    this.recordings = 0;
    this.seconds = 0;
    this.retries = 0;
    mkdirSync(work, { recursive: true });
  }

  /**
   * Record `text` (a scenario). Returns {status, golden, stderr}:
   * `ok` (golden is the recorded trace), `unrecordable` (a step could not be
   * recorded here: the trace has `?` results), `refused` (this host cannot
   * record it, even after waiting), `failed` (the recorder failed: the
   * executor died, or settings kept changing).
   */
  async record(text, name = 'scenario') {
    const scen = join(this.work, `${name}.scenario.trace`);
    const gold = join(this.work, `${name}.golden.trace`);
    writeFileSync(scen, text);
    // A scenario whose unmount would break the host's huge page pools (a kernel bug) is not recorded.
    const hazard = unmountHazard(text, scen);
    if (hazard !== undefined) {
      this.unsafe = (this.unsafe ?? 0) + 1;
      return { status: 'refused', golden: undefined, stderr: `not recorded: ${hazard}` };
    }
    const deadline = Date.now() + this.waitMs;
    let failures = 0;
    for (let attempt = 0; ; attempt++) {
      if (existsSync(gold)) rmSync(gold);
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [this.bin, 'record', scen, '-o', gold, '--timeout', '120'], {
        cwd: this.repo,
        encoding: 'utf8',
        timeout: 180_000,
        maxBuffer: 64 << 20,
      });
      this.recordings++;
      this.seconds += (Date.now() - t0) / 1000;
      const stderr = (r.stderr ?? '').trim();
      // 6: recorded (the trace itself is sound), but the host was not put back (a pool keeps a
      // reservation): say so now, not only through the next recording's wait.
      if (r.status === 6) this.log(`  WARNING after recording ${name}: ${stderr.split('\n').find((l) => /could not restore/.test(l)) ?? stderr}`);
      if (r.status === 0 || r.status === 6) return { status: 'ok', golden: readFileSync(gold, 'utf8'), stderr };
      if (r.status === 1 && existsSync(gold)) return { status: 'unrecordable', golden: readFileSync(gold, 'utf8'), stderr };
      if ((r.status === 4 || r.status === 5) && transient(stderr) && Date.now() < deadline) {
        this.retries++;
        if (attempt % 10 === 0) this.log(`  (waiting: ${stderr.split('\n')[0]})`);
        await sleep(Math.min(30_000, 2000 * (attempt + 1)));
        continue;
      }
      if (r.status === 5 && ++failures < 3) {
        this.retries++;
        await sleep(1000);
        continue;
      }
      return { status: r.status === 4 ? 'refused' : 'failed', golden: undefined, stderr: stderr || `exit ${r.status} ${r.signal ?? ''}` };
    }
  }
}

/**
 * Replay a golden trace in the model and compare. Returns the comparison
 * (matched, total, divergences) and the parsed trace.
 */
export function judge(goldenText, file = 'golden.trace') {
  const trace = parseTrace(goldenText, file);
  const replay = replayTrace(trace);
  const cmp = compareResults(trace, replay.results);
  return { trace, cmp };
}

/** One divergence as the `replay --check` lines. */
export function formatDivergence(d) {
  return [
    `${d.pos.file}:${d.pos.line}: ${d.step}`,
    `    expected: ${d.expected.split('\n').join('\n              ')}`,
    `    model:    ${d.actual.split('\n').join('\n              ')}`,
  ].join('\n');
}
