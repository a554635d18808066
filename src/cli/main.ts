/**
 * The entry point: builds the program, wires signals, and is the only place that ends the process.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ExitCode } from '../job/errors.js';
import { checkCommand } from './check-command.js';
import { rollbackCommand } from './rollback-command.js';
import { runCommand } from './run-command.js';
import { scheduleCommand } from './schedule-command.js';
import type { CommandContext } from './shared.js';
import { statusCommand } from './status-command.js';
import { versionsCommand } from './versions-command.js';

const FORCED_EXIT_MS = 10_000;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

export function buildProgram(context: CommandContext): Command {
  const program = new Command('stopword-refresh')
    .description('Recompute per-language stopword lists from the corpus and publish them to Redis.')
    .version(packageVersion(), '-V, --version')
    .showHelpAfterError('(add --help for the allowed commands and options)')
    .configureOutput({ writeOut: context.stdout, writeErr: context.stderr })
    .exitOverride();
  program.addCommand(runCommand(context));
  program.addCommand(rollbackCommand(context));
  program.addCommand(versionsCommand(context));
  program.addCommand(statusCommand(context));
  program.addCommand(checkCommand(context));
  program.addCommand(scheduleCommand(context));
  for (const command of program.commands) {
    command
      .exitOverride()
      .showHelpAfterError(
        `(run "stopword-refresh ${command.name()} --help" for the allowed options)`,
      );
    command.configureOutput({ writeOut: context.stdout, writeErr: context.stderr });
  }
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      process.stderr.write(`stopword-refresh: second ${name}, exiting now\n`);
      process.exit(ExitCode.failed);
    }
    controller.abort(name);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);

  const context: CommandContext = {
    env: process.env,
    signal: controller.signal,
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    setExitCode: (code) => {
      process.exitCode = code;
    },
  };
  const program = buildProgram(context);
  if (argv.length <= 2) {
    program.outputHelp();
    process.exitCode = ExitCode.usage;
    return;
  }
  // A command whose promise can no longer settle (nothing left on the event loop) would otherwise
  // end the process with exit 0 and no output; cron must see a failure instead.
  const onDrained = (): void => {
    process.stderr.write(
      'stopword-refresh: internal error: the command stopped before finishing (nothing left to wait for)\n',
    );
    process.exitCode = ExitCode.failed;
  };
  process.once('beforeExit', onDrained);
  try {
    await program.parseAsync(argv as string[]);
  } catch (error) {
    if (error instanceof CommanderError) {
      const benign = ['commander.helpDisplayed', 'commander.version', 'commander.help'];
      process.exitCode = benign.includes(error.code) ? ExitCode.ok : ExitCode.usage;
    } else {
      process.stderr.write(`stopword-refresh: unexpected failure: ${String(error)}\n`);
      process.exitCode = ExitCode.failed;
    }
  } finally {
    process.off('beforeExit', onDrained);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    // Every resource is closed by now; if a stray handle keeps the loop alive, do not hang cron.
    setTimeout(() => process.exit(process.exitCode ?? 0), FORCED_EXIT_MS).unref();
  }
}
