#!/usr/bin/env node
/**
 * The `mmsim` command line.
 */
import { Command, CommanderError } from 'commander';
import { runReplay, UsageError } from './replay-command.js';

const program = new Command();
program.name('mmsim').description('A faithful model of Linux memory management around mmap').exitOverride();
program
  .command('replay')
  .description('run traces in the model and print them with the model\'s results')
  .option('--check', 'compare with the recorded results; exit 1 on any divergence')
  .option('--explain', 'print the modelled kernel functions each step went through')
  .option('--out-dir <dir>', 'write each replayed trace to DIR/<file name>')
  .argument('<files...>', 'trace files')
  .action((files: string[], opts: { check?: boolean; explain?: boolean; outDir?: string }) => {
    process.exitCode = runReplay(files, opts, {
      out: (t) => process.stdout.write(t + '\n'),
      err: (t) => process.stderr.write(t + '\n'),
    });
  });

try {
  program.parse();
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
