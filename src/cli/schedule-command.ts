/**
 * `stopword-refresh schedule`: the crontab entry for `schedule.cron` and the next run times.
 * The output is itself a valid /etc/cron.d file: the run times are comments.
 */
import { realpathSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError } from 'commander';
import { ConfigError } from '../config/errors.js';
import { configFilePath, loadConfig, shippedConfigPath } from '../config/load.js';
import { ExitCode } from '../job/errors.js';
import { CronExpressionError, nextRuns, parseCron } from '../ops/cron-expression.js';
import { crontabLines } from '../ops/crontab.js';
import { formatWall, wallTimeOf } from '../ops/zoned-time.js';
import { parseNonEmpty, parseUntil } from './options.js';
import { type CommandContext, printJson } from './shared.js';

interface ScheduleFlags {
  config?: string;
  count: number;
  from?: Date;
  user: string;
  userCrontab?: boolean;
  bin?: string;
  log: string;
  lock: string;
  json?: boolean;
}

const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

function parseCount(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || Number(value) > 100) {
    throw new InvalidArgumentError('expected a whole number of run times between 1 and 100.');
  }
  return Number(value);
}

function parseAbsolute(what: string): (value: string) => string {
  return (value) => {
    if (!value.startsWith('/')) {
      throw new InvalidArgumentError(
        `expected an absolute path to ${what}: cron has no working directory.`,
      );
    }
    return value;
  };
}

/** bin/stopword-refresh of this installation; this file is dist/cli/schedule-command.js. */
function installedBin(): string {
  const bin = fileURLToPath(new URL('../../bin/stopword-refresh', import.meta.url));
  try {
    return realpathSync(bin);
  } catch {
    return bin;
  }
}

export function scheduleCommand(context: CommandContext): Command {
  return new Command('schedule')
    .description('print the crontab entry for schedule.cron and the next run times')
    .option('--config <file>', 'configuration file (as for run)', parseNonEmpty('a file path'))
    .option('--count <n>', 'how many next run times to list', parseCount, 5)
    .option('--from <time>', 'list run times after this ISO 8601 time instead of now', parseUntil)
    .option(
      '--user <name>',
      'account the job runs as (the user field of /etc/cron.d)',
      'stopword-refresh',
    )
    .option('--user-crontab', 'print a user crontab line (for crontab -e), without the user field')
    .option(
      '--bin <path>',
      'absolute path of bin/stopword-refresh (default: this installation)',
      parseAbsolute('the binary'),
    )
    .option(
      '--log <file>',
      'log file the run appends to',
      parseAbsolute('the log file'),
      '/var/log/stopword-refresh/run.log',
    )
    .option(
      '--lock <file>',
      'flock file that keeps two runs on this host apart',
      parseAbsolute('the lock file'),
      '/run/lock/stopword-refresh.lock',
    )
    .option('--json', 'print one JSON document instead of the crontab text')
    .addHelpText(
      'after',
      `
The text output is a valid /etc/cron.d file:
  stopword-refresh schedule --config /etc/stopword-refresh/batch_jobs.yaml > /etc/cron.d/stopword-refresh
crontab.example shows the full setup, with a weekly --full run.

Exit codes: 0 printed; 2 usage or configuration error.`,
    )
    .action((flags: ScheduleFlags) => {
      let config: ReturnType<typeof loadConfig>;
      let file: string;
      let schedule: ReturnType<typeof parseCron>;
      try {
        file = configFilePath({ file: flags.config ?? null, env: context.env });
        config = loadConfig({ file, env: context.env });
        schedule = parseCron(config.schedule.cron);
      } catch (error) {
        if (!(error instanceof ConfigError || error instanceof CronExpressionError)) throw error;
        context.stderr(`stopword-refresh: ${error.message}\n`);
        context.setExitCode(ExitCode.usage);
        return;
      }
      const { timezone } = config.schedule;
      const from = flags.from ?? new Date();
      const runs = nextRuns(schedule, timezone, from, flags.count);
      // Cron has neither the caller's environment nor its working directory.
      const args = resolve(file) === shippedConfigPath() ? [] : ['--config', resolve(file)];
      const lines = crontabLines({
        cron: config.schedule.cron,
        timezone,
        user: flags.userCrontab === true ? null : flags.user,
        bin: flags.bin ?? installedBin(),
        args,
        lockFile: flags.lock,
        logFile: flags.log,
        path: [...new Set([dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'])],
      });
      const hostZone = new Intl.DateTimeFormat().resolvedOptions().timeZone;
      const hostRuns = nextRuns(schedule, hostZone, from, flags.count);
      const warning = hostRuns.every((t, i) => t.getTime() === runs[i]?.getTime())
        ? null
        : `this host's time zone is ${hostZone}, not schedule.timezone ${timezone}: Debian's cron ignores CRON_TZ and would start the run at ${iso(hostRuns[0])} instead of ${iso(runs[0])}; run cron in ${timezone} or translate the expression`;

      if (flags.json === true) {
        printJson(context, {
          cron: config.schedule.cron,
          timezone,
          configFile: resolve(file),
          crontab: lines,
          next: runs.map(iso),
          hostTimeZone: hostZone,
          warning,
        });
      } else {
        const out = [
          `# stopword-refresh nightly run: schedule.cron "${config.schedule.cron}" in ${timezone}, from ${resolve(file)}`,
          flags.userCrontab === true
            ? '# Install with `crontab -e` as the account that runs the job.'
            : '# Install as /etc/cron.d/stopword-refresh (owned by root, mode 0644; no dot in the file name).',
          '# crontab.example adds a weekly --full run; docs/ops/stopword-refresh-runbook.md explains both.',
          ...lines,
          '',
          `# Next ${runs.length} runs (${timezone}):`,
          ...runs.map(
            (t) =>
              `#   ${iso(t)}  ${weekday(t, timezone)} ${formatWall(t.getTime(), timezone)} ${timezone}`,
          ),
        ];
        if (runs.length === 0)
          out.push('#   none: the expression never matches a date that exists');
        context.stdout(`${out.join('\n')}\n`);
      }
      if (warning !== null) context.stderr(`stopword-refresh: warning: ${warning}\n`);
      context.setExitCode(ExitCode.ok);
    });
}

function iso(time: Date | undefined): string {
  return time === undefined ? 'never' : time.toISOString().replace(/\.000Z$/, 'Z');
}

function weekday(time: Date, timeZone: string): string {
  const w = wallTimeOf(time.getTime(), timeZone);
  return WEEKDAYS[new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay()] ?? '';
}
