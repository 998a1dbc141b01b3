#!/usr/bin/env node
// Differential fuzzing of the model against the host kernel.
//
//   npm run build
//   npm run fuzz:kernel -- --scenarios N --seed S [--profile P[,P…]] [options]
//
// Generates N random scenarios (deterministic from S), records each on this
// host with the project's recorder (`mmsim record`, Linux x86-64, root),
// replays the recording in the model, and for every divergence writes a
// minimised reproducer (delta debugging over the steps, every candidate
// re-recorded) to the output folder. See tools/fuzz/kernel/README.md.
//
// Plain Node ESM over the BUILT packages (@mmsim/machine, @mmsim/trace, …).

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');

const USAGE = `usage: npm run fuzz:kernel -- --scenarios N --seed S [options]
  --profile P[,P…]   only these profiles (anon, file, hugetlb, errors, legacy, scale); default: all, in turn
  --steps MIN-MAX    steps per scenario (default 30-80; the scale profile runs until max_map_count is reached)
  --out DIR          where minimised reproducers go (default tools/fuzz/kernel/found)
  --budget K         at most K recordings per minimisation (default 250)
  --no-minimise      report divergences, write the full scenario and recording only
  --only I           run only scenario I (0-based) of the seed's sequence
  --from I           start at scenario I
  --huge-size SIZE   huge page size of the hugetlb steps: 2M, 1G or auto (default: 2M, or 1G when this
                     host's 2 MiB pool is in use by someone else at the start, which the recorder refuses)
  --wait SECONDS     how long to wait for a busy host (huge pages in use, settings changing) per recording (default 1200)
  --overcommit P[,P…] only these overcommit_memory policies (0, 1, 2; default all); a scenario drawn with
                     another gets the first listed (e.g. 0,1 on a host whose Committed_AS makes 2 unrecordable)
  --keep-work        keep the scratch directory (every scenario and recording)
  --dry-run          generate (and check on the model) only; record nothing`;

function parseArgs(argv) {
  const o = { scenarios: 10, seed: 1, profiles: undefined, steps: [30, 80], out: join(here, 'found'), budget: 250, minimise: true, only: undefined, from: 0, wait: 1200, keepWork: false, dryRun: false, huge: 'auto' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    const int = (v) => {
      if (!/^\d+$/.test(v)) throw new Error(`${a}: not a number: ${v}`);
      return Number(v);
    };
    if (a === '--scenarios') o.scenarios = int(val());
    else if (a === '--seed') o.seed = int(val());
    else if (a === '--profile') o.profiles = val().split(',');
    else if (a === '--steps') {
      const m = /^(\d+)-(\d+)$/.exec(val());
      if (!m) throw new Error('--steps MIN-MAX');
      o.steps = [Number(m[1]), Number(m[2])];
    } else if (a === '--out') o.out = resolve(val());
    else if (a === '--budget') o.budget = int(val());
    else if (a === '--no-minimise' || a === '--no-minimize') o.minimise = false;
    else if (a === '--only') o.only = int(val());
    else if (a === '--from') o.from = int(val());
    else if (a === '--wait') o.wait = int(val());
    else if (a === '--huge-size') {
      o.huge = val().toUpperCase();
      if (!['2M', '1G', 'AUTO'].includes(o.huge)) throw new Error('--huge-size 2M, 1G or auto');
      if (o.huge === 'AUTO') o.huge = 'auto';
    }
    else if (a === '--overcommit') {
      o.overcommit = val().split(',').map((p) => {
        if (!['0', '1', '2'].includes(p)) throw new Error(`--overcommit: ${p} is not 0, 1 or 2`);
        return Number(p);
      });
    } else if (a === '--keep-work') o.keepWork = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '-h' || a === '--help') {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown option ${a}`);
  }
  return o;
}

function hostInfo() {
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  const kb = (k) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(meminfo)?.[1] ?? 0);
  const release = execFileSync('uname', ['-r'], { encoding: 'utf8' }).trim();
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  let lsm = 65536;
  try {
    const cfg = existsSync('/proc/config.gz') ? gunzipSync(readFileSync('/proc/config.gz')).toString() : readFileSync(`/boot/config-${release}`, 'utf8');
    const m = /^CONFIG_LSM_MMAP_MIN_ADDR=(\d+)/m.exec(cfg);
    if (m) lsm = Number(m[1]);
  } catch {
    // not readable: the recorder then records the default and says so
  }
  return { release, memTotalKb: kb('MemTotal'), swapTotalKb: kb('SwapTotal'), gbpages: /\bpdpe1gb\b/.test(cpuinfo), lsmMmapMinAddr: lsm };
}

async function main() {
  let o;
  try {
    o = parseArgs(process.argv.slice(2));
  } catch (e) {
    console.error(`fuzz-kernel: ${e.message}\n${USAGE}`);
    process.exit(2);
  }
  if (!existsSync(join(repo, 'packages/cli/dist/bin.js')) || !existsSync(join(repo, 'packages/machine/dist/index.js'))) {
    console.error('fuzz-kernel: the packages are not built; run `npm run build` first');
    process.exit(2);
  }
  const { PROFILES, ScenarioGenerator, scenarioText } = await import('./lib/generate.mjs');
  const { Rng } = await import('./lib/rng.mjs');
  const { Recorder, judge, formatDivergence } = await import('./lib/record.mjs');
  const { minimiseScenario, signature } = await import('./lib/reproduce.mjs');
  const profiles = o.profiles ?? PROFILES;
  for (const p of profiles) if (!PROFILES.includes(p)) {
    console.error(`fuzz-kernel: unknown profile ${p} (${PROFILES.join(', ')})`);
    process.exit(2);
  }
  if (!o.dryRun && (process.platform !== 'linux' || process.getuid?.() !== 0)) {
    console.error('fuzz-kernel: recording needs Linux and root (use --dry-run to only generate)');
    process.exit(2);
  }
  const host = hostInfo();
  if (o.huge === 'auto') {
    o.huge = '2M';
    const dir = '/sys/kernel/mm/hugepages/hugepages-2048kB';
    try {
      const n = (f) => Number(readFileSync(`${dir}/${f}`, 'utf8'));
      const busy = n('nr_hugepages') !== n('free_hugepages') || n('resv_hugepages') !== 0 || n('surplus_hugepages') !== 0;
      if (busy && host.gbpages) {
        o.huge = '1G';
        console.log(`fuzz-kernel: the 2 MiB huge page pool is in use on this host (the recorder would refuse); hugetlb steps use 1 GiB pages (--huge-size 1G)`);
      }
    } catch {
      // no 2 MiB pool: keep 2M, the recorder says why
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'mmsim-fuzz-kernel-'));
  const log = (s) => process.stdout.write(s + '\n');
  const rec = new Recorder(repo, work, { waitMs: o.wait * 1000, log });
  mkdirSync(o.out, { recursive: true });
  log(`fuzz-kernel: seed ${o.seed}, ${o.scenarios} scenarios, profiles ${profiles.join(',')}, huge pages ${o.huge}, kernel ${host.release}, output ${relative(process.cwd(), o.out) || '.'}`);

  const stats = { scenarios: 0, steps: 0, recorded: 0, divergent: 0, flaky: 0, reproducers: 0, refused: 0, failed: 0, unrecordable: 0, byProfile: {} };
  const found = [];
  const t0 = Date.now();
  const indices = o.only !== undefined ? [o.only] : Array.from({ length: o.scenarios }, (_, k) => o.from + k);

  for (const i of indices) {
    const profile = profiles[i % profiles.length];
    const name = `fuzz-${profile}-s${o.seed}-${i}`;
    const rng = new Rng(o.seed, i);
    const gen = new ScenarioGenerator(profile, rng, host, { steps: o.steps, huge: o.huge, overcommit: o.overcommit });
    const opts = `--seed ${o.seed} --only ${i}${o.profiles ? ` --profile ${o.profiles.join(',')}` : ''} --huge-size ${o.huge}${o.steps[0] !== 30 || o.steps[1] !== 80 ? ` --steps ${o.steps.join('-')}` : ''}${o.overcommit ? ` --overcommit ${o.overcommit.join(',')}` : ''}`;
    const comments = [`fuzz-kernel scenario: profile ${profile}, seed ${o.seed}, scenario ${i} (npm run fuzz:kernel -- ${opts})`];
    const sc = gen.generate(comments);
    const text = scenarioText(sc.header, sc.steps);
    stats.scenarios++;
    stats.steps += sc.steps.length;
    const ps = (stats.byProfile[profile] ??= { scenarios: 0, steps: 0, divergent: 0 });
    ps.scenarios++;
    ps.steps += sc.steps.length;
    if (o.dryRun) {
      writeFileSync(join(work, `${name}.scenario.trace`), text);
      log(`${name}: ${sc.steps.length} steps (generated only)`);
      continue;
    }
    const r = await rec.record(text, name);
    if (r.status === 'refused' || r.status === 'failed') {
      stats[r.status]++;
      log(`${name}: ${sc.steps.length} steps: NOT RECORDED (${r.status}): ${r.stderr.split('\n')[0]}`);
      found.push({ name, profile, status: r.status, why: r.stderr.split('\n')[0] });
      continue;
    }
    if (r.status === 'unrecordable') {
      stats.unrecordable++;
      log(`${name}: a step could not be recorded here; skipped (${r.stderr.split('\n')[0]})`);
      continue;
    }
    stats.recorded++;
    const { cmp } = judge(r.golden, `${name}.trace`);
    if (cmp.divergences.length === 0) {
      log(`${name}: matched ${cmp.matched} of ${cmp.total} steps`);
      continue;
    }
    // Confirm: the kernel must say the same again (no flaky host effects).
    const again = await rec.record(text, name);
    const cmp2 = again.status === 'ok' ? judge(again.golden, `${name}.trace`).cmp : undefined;
    if (!cmp2 || cmp2.divergences.length === 0) {
      stats.flaky++;
      log(`${name}: ${cmp.divergences.length} divergences, NOT reproduced by a second recording (flaky host effect); first: ${signature(cmp.divergences[0])}`);
      found.push({ name, profile, status: 'flaky', first: formatDivergence(cmp.divergences[0]) });
      continue;
    }
    stats.divergent++;
    ps.divergent++;
    const first = cmp.divergences[0];
    log(`${name}: matched ${cmp.matched} of ${cmp.total} steps — DIVERGES (${cmp.divergences.length}); first at step ${first.index + 1}: ${signature(first)}`);
    writeFileSync(join(o.out, `${name}.full.trace`), text);
    writeFileSync(join(o.out, `${name}.full-golden.trace`), r.golden);

    let steps = sc.steps;
    let golden = r.golden;
    let report = cmp;
    let tests = 0;
    let complete = false;
    let target = signature(first);
    if (o.minimise) {
      const m = await minimiseScenario({ name, header: sc.header, steps, first, rec, judge, budget: o.budget, log });
      ({ steps, tests, complete, target } = m);
    }
    const minComments = [
      ...comments,
      o.minimise
        ? `minimised by delta debugging from ${sc.steps.length} to ${steps.length} steps (${tests} recordings${complete ? '' : ', budget exhausted'})`
        : 'not minimised (--no-minimise)',
    ];
    const minHeader = sc.header.replace(/^# fuzz-kernel scenario:.*\n/m, minComments.map((c) => `# ${c}\n`).join(''));
    const minText = scenarioText(minHeader, steps);
    const fin2 = await rec.record(minText, `${name}-final`);
    if (fin2.status === 'ok') {
      golden = fin2.golden;
      report = judge(golden, `${name}.trace`).cmp;
    }
    writeFileSync(join(o.out, `${name}.trace`), golden);
    writeFileSync(join(o.out, `${name}.scenario.trace`), minText);
    const lines = [`${name}: ${steps.length} steps, ${report.divergences.length} divergent (kept while minimising: ${target})`, ...report.divergences.map(formatDivergence)];
    writeFileSync(join(o.out, `${name}.txt`), lines.join('\n') + '\n');
    stats.reproducers++;
    found.push({ name, profile, status: 'divergent', target, fullSteps: sc.steps.length, steps: steps.length, divergences: report.divergences.length, first: report.divergences[0] ? formatDivergence(report.divergences[0]) : '(none after minimising)', signature: report.divergences[0] ? signature(report.divergences[0]) : '' });
    log(`${name}: reproducer ${relative(process.cwd(), join(o.out, `${name}.trace`))} (${steps.length} steps, ${report.divergences.length} divergent)`);
    for (const d of report.divergences.slice(0, 3)) log(formatDivergence(d).replace(/^/gm, '    '));
  }

  const secs = Math.round((Date.now() - t0) / 1000);
  const summary = { seed: o.seed, hugeSize: o.huge, kernel: host.release, date: new Date().toISOString(), profiles, ...stats, recordings: rec.recordings, recordSeconds: Math.round(rec.seconds), seconds: secs, found };
  writeFileSync(join(o.out, `summary-seed${o.seed}.json`), JSON.stringify(summary, null, 2) + '\n');
  log('');
  log(`scenarios: ${stats.scenarios} (${Object.entries(stats.byProfile).map(([p, s]) => `${p} ${s.scenarios}`).join(', ')})`);
  log(`steps: ${stats.steps}`);
  log(`recorded: ${stats.recorded}; not recorded: ${stats.refused} refused, ${stats.failed} failed, ${stats.unrecordable} unrecordable`);
  log(`divergent scenarios: ${stats.divergent} (+ ${stats.flaky} not reproducible)`);
  log(`reproducers written: ${stats.reproducers} (${relative(process.cwd(), o.out) || '.'})`);
  log(`recordings: ${rec.recordings} in ${Math.round(rec.seconds)} s; total ${secs} s`);
  if (!o.keepWork) rmSync(work, { recursive: true, force: true });
  else log(`scratch: ${work}`);
  process.exitCode = stats.divergent > 0 || stats.failed > 0 ? 1 : 0;
}

main().catch((e) => {
  console.error(`fuzz-kernel: ${e.stack ?? e}`);
  process.exit(3);
});
