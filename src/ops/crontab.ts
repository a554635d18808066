/**
 * The crontab entry for the nightly run, in the system crontab format of /etc/cron.d (with a
 * user field) or a user crontab (without).
 */

export interface CrontabOptions {
  readonly cron: string;
  readonly timezone: string;
  /** The account the job runs as, for /etc/cron.d; null for a user crontab (`crontab -e`). */
  readonly user: string | null;
  /** Absolute path of bin/stopword-refresh. */
  readonly bin: string;
  /** Arguments after `run`, e.g. `['--config', '/etc/stopword-refresh/batch_jobs.yaml']`. */
  readonly args: readonly string[];
  readonly lockFile: string;
  readonly logFile: string;
  /** Directories for PATH: cron's default PATH rarely holds `node`. */
  readonly path: readonly string[];
}

/** Quotes a word for /bin/sh when it needs it. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** In a crontab command an unescaped `%` ends the command and starts its standard input. */
export function cronEscape(command: string): string {
  return command.replaceAll('%', '\\%');
}

export function crontabLines(options: CrontabOptions): string[] {
  const command = ['flock', '-n', '-E', '3', options.lockFile, options.bin, 'run', ...options.args]
    .map(shellQuote)
    .join(' ');
  const log = shellQuote(options.logFile);
  const user = options.user === null ? '' : `${options.user} `;
  return [
    'SHELL=/bin/sh',
    `PATH=${options.path.join(':')}`,
    // Honoured by cronie; Debian's cron reads times in the host's zone (see `schedule`).
    `CRON_TZ=${options.timezone}`,
    `${options.cron.trim().split(/\s+/).join(' ')} ${user}${cronEscape(`${command} >>${log} 2>&1`)}`,
  ];
}
