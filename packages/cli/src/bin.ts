#!/usr/bin/env node
/**
 * The `mmsim` command line.
 */
import { Command, CommanderError } from 'commander';
import { runReplay, UsageError } from './replay-command.js';
import { runRecord } from './record-command.js';
import { runPagetable } from './pagetable-command.js';
import { loadArchOption } from './arch-option.js';

// A reader that stops early (`mmsim replay … | head`) closes the pipe: that
// ends the output normally, as for any Unix filter, instead of an unhandled
// EPIPE error with a stack trace.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const ARCH_HELP =
  'architecture to replay on: x86_64, riscv64 (Sv39), riscv64-sv48, riscv64-sv57, or the path of an ES module ' +
  'exporting an Architecture (default or `arch`); default: the trace\'s @kernel arch=, else x86_64';

const program = new Command();
program.name('mmsim').description('A faithful model of Linux memory management around mmap').exitOverride();
program
  .command('replay')
  .description('run traces in the model and print them with the model\'s results')
  .option('--check', 'compare with the recorded results; exit 1 on any divergence')
  .option('--explain', 'print the modelled kernel functions each step went through')
  .option('--out-dir <dir>', 'write each replayed trace to DIR/<file name>')
  .option('--header <trace>', 'starting state (header of this trace) for raw strace logs')
  .option('--arch <name|module>', ARCH_HELP)
  .argument('<files...>', 'trace files, or raw `strace -e trace=%memory` logs')
  .action(async (files: string[], opts: { check?: boolean; explain?: boolean; outDir?: string; header?: string; arch?: string }) => {
    const arch = await loadArchOption(opts.arch);
    process.exitCode = runReplay(files, { ...opts, arch }, {
      out: (t) => process.stdout.write(t + '\n'),
      err: (t) => process.stderr.write(t + '\n'),
    });
  });

program
  .command('record')
  .description('record a golden trace: run a scenario\'s calls on this Linux x86-64 host (as root) and print them with the kernel\'s results')
  .argument('[scenario]', 'scenario trace (results may be ?; a golden trace works too)')
  .option('-o, --output <file>', 'write the golden trace to FILE (default: stdout)')
  .option('--compare <golden>', 'compare the recording with GOLDEN; exit 1 on any divergence')
  .option('--scenario-of', 'print the scenario of the trace (every result ?, @maps steps empty) and exit; touches nothing')
  .option('--restore', 'only restore host settings left by an interrupted recording')
  .option('--timeout <seconds>', 'time limit for the executor', '600')
  .option('--keep-pkeys', 'leave protection keys alone (PROT_EXEC-only memory is then unreadable on PKU CPUs)')
  .action(
    (
      scenario: string | undefined,
      opts: { output?: string; compare?: string; scenarioOf?: boolean; restore?: boolean; timeout?: string; keepPkeys?: boolean },
    ) => {
      process.exitCode = runRecord(scenario, opts, {
        out: (t) => process.stdout.write(t + '\n'),
        err: (t) => process.stderr.write(t + '\n'),
      });
    },
  );

program
  .command('pagetable')
  .description('replay a trace, then print the page-table tree for an address (or every VMA): each level\'s index, entry and bits, and the pagemap view')
  .argument('<trace>', 'trace file')
  .option('--addr <address>', 'the virtual address to walk (0x hex or decimal); default: every VMA, summarised')
  .option('--at-step <n>', 'stop after the Nth step (1-based; 0 = the header\'s state)')
  .option('--at-line <line>', 'stop after the step on this line (as --check names it)')
  .option('--max-leaves <k>', 'leaves shown per VMA in the summary', '8')
  .option('--arch <name|module>', ARCH_HELP)
  .action(async (trace: string, opts: { addr?: string; atStep?: string; atLine?: string; maxLeaves?: string; arch?: string }) => {
    const arch = await loadArchOption(opts.arch);
    process.exitCode = runPagetable(trace, { ...opts, arch }, {
      out: (t) => process.stdout.write(t + '\n'),
      err: (t) => process.stderr.write(t + '\n'),
    });
  });

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof CommanderError) process.exitCode = e.exitCode === 0 ? 0 : 2;
  else if (e instanceof UsageError) {
    process.stderr.write(e.message + '\n');
    process.exitCode = e.exitCode;
  } else {
    process.stderr.write(`mmsim: internal error: ${(e as Error).message}\n`);
    process.exitCode = 3;
  }
}
