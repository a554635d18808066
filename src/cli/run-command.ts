/**
 * `stopword-refresh run`: one nightly run. Prints one JobResult on stdout.
 */
import { Command, Option } from 'commander';
import { loadConfig } from '../config/load.js';
import { runJob } from '../job/run-job.js';
import { createLogger } from '../ops/logger.js';
import { createProgress, progressWanted } from '../ops/progress.js';
import { reportRun } from '../ops/report-run.js';
import {
  LOG_LEVELS,
  parseNonEmpty,
  parseRedisUrl,
  parseSource,
  parseUntil,
  parseWorkers,
} from './options.js';
import { type CommandContext, failureResult, printJson } from './shared.js';

interface RunFlags {
  dryRun?: boolean;
  full?: boolean;
  force?: boolean;
  until?: Date;
  config?: string;
  source?: string;
  redis?: string;
  stateDir?: string;
  workers?: number;
  logLevel?: string;
}

export function runCommand(context: CommandContext): Command {
  return new Command('run')
    .description('read the corpus, recompute the stopword lists and publish them to Redis')
    .option(
      '--dry-run',
      'compute and print the lists without writing to Redis or the state directory',
    )
    .option('--full', 'recount the whole corpus into fresh state')
    .option(
      '--force',
      'publish even when a guardrail refuses the new lists (says so in the log and the result)',
    )
    .option(
      '--until <time>',
      'end the window at this ISO 8601 time instead of now − safetyLag',
      parseUntil,
    )
    .option(
      '--config <file>',
      'configuration file (default: $STOPWORD_REFRESH_CONFIG or the shipped config/batch_jobs.yaml)',
      parseNonEmpty('a file path'),
    )
    .option('--source <uri>', 'corpus: file:PATH (NDJSON) or mongodb://HOST/DB', parseSource)
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379', parseRedisUrl)
    .option(
      '--state-dir <dir>',
      'directory for the checkpoint and document-frequency state',
      parseNonEmpty('a directory'),
    )
    .option('--workers <n>', 'analysis worker threads (default: analysis.workers)', parseWorkers)
    .addOption(new Option('--log-level <level>', 'log level on stderr').choices(LOG_LEVELS))
    .addHelpText(
      'after',
      `
Exit codes:
  0  success (also when nothing changed)
  1  the run failed; the live lists and the checkpoint are unchanged
  2  usage or configuration error; nothing was read or written
  3  another run holds the lock; this run did nothing
  4  a guardrail refused the new lists; live lists and state unchanged (--force overrides)
  5  the run passed maxDurationSeconds and was stopped; nothing was published

stdout carries only the JSON JobResult; logs (JSON lines) go to stderr.`,
    )
    .action(async (flags: RunFlags) => {
      const started = new Date();
      let config: ReturnType<typeof loadConfig>;
      try {
        config = loadConfig({
          file: flags.config ?? null,
          env: context.env,
          overrides: {
            ...(flags.source === undefined ? {} : { source: { uri: flags.source } }),
            ...(flags.redis === undefined ? {} : { redis: { url: flags.redis } }),
            ...(flags.stateDir === undefined ? {} : { state: { dir: flags.stateDir } }),
            ...(flags.workers === undefined ? {} : { analysis: { workers: flags.workers } }),
            ...(flags.logLevel === undefined ? {} : { logging: { level: flags.logLevel } }),
          },
        });
      } catch (error) {
        const result = failureResult(error, started, flags.dryRun === true);
        context.stderr(`stopword-refresh: ${result.errors.join('\n')}\n`);
        printJson(context, result);
        context.setExitCode(result.exitCode);
        return;
      }
      const logger = createLogger(config.logging.level);
      const result = await runJob({
        config,
        env: context.env,
        dryRun: flags.dryRun === true,
        full: flags.full === true,
        force: flags.force === true,
        until: flags.until ?? null,
        logger,
        progress: await createProgress(progressWanted(process.stderr, context.env)),
        signal: context.signal,
      });
      printJson(context, result);
      context.setExitCode(result.exitCode);
      // Metrics and alerts after the result is out; reportRun never throws nor alters the result.
      await reportRun({
        config,
        env: context.env,
        report: result,
        logger,
        alertOnLockHeld: config.alerts.onLockHeld === 'alert',
      });
    });
}
