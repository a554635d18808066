/**
 * `stopword-refresh versions`: the kept versions, newest first, and which one is live. Also holds
 * the config-and-connect steps `versions`, `rollback` and `status` share.
 */
import { Command } from 'commander';
import { resolveChecked } from '../config/env-refs.js';
import { ConfigError } from '../config/errors.js';
import { loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import { ExitCode } from '../job/errors.js';
import { publisherOptions, RedisPublisher, type VersionInfo } from '../publish/index.js';
import { parseNonEmpty, parseRedisUrl } from './options.js';
import type { CommandContext } from './shared.js';

export interface OpsFlags {
  config?: string;
  redis?: string;
  stateDir?: string;
}

/** The flags every Redis-reading command takes, as `run` spells them. */
export function addOpsOptions(command: Command): Command {
  return command
    .option(
      '--config <file>',
      'configuration file (default: $STOPWORD_REFRESH_CONFIG or the shipped config/batch_jobs.yaml)',
      parseNonEmpty('a file path'),
    )
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379', parseRedisUrl);
}

/** Throws `ConfigError` (exit 2) for a bad file, flag or environment. */
export function loadOpsConfig(flags: OpsFlags, env: NodeJS.ProcessEnv): Config {
  return loadConfig({
    file: flags.config ?? null,
    env,
    overrides: {
      ...(flags.redis === undefined ? {} : { redis: { url: flags.redis } }),
      ...(flags.stateDir === undefined ? {} : { state: { dir: flags.stateDir } }),
    },
  });
}

/** Throws `ConfigError` when the URL cannot be resolved, a `PublisherError` when Redis cannot be reached. */
export function openPublisher(config: Config, env: NodeJS.ProcessEnv): Promise<RedisPublisher> {
  return RedisPublisher.connect(
    publisherOptions(config.redis, resolveChecked(config.redis.url, 'redis.url', env)),
  );
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `versions --json` prints one of these per kept version, newest first. */
export interface VersionEntry extends VersionInfo {
  /** Stopwords across all languages. */
  words: number;
}

export function versionsCommand(context: CommandContext): Command {
  return addOpsOptions(
    new Command('versions').description(
      'list the kept versions (newest first) with their time, run, languages and word counts, and which one is live',
    ),
  )
    .option('--json', 'print a JSON array on stdout instead of a table')
    .addHelpText(
      'after',
      `
Exit codes:
  0  listed (also when no version is kept yet)
  1  Redis could not be read
  2  usage or configuration error

Any kept version can be put live again with "stopword-refresh rollback --to <version>".`,
    )
    .action(async (flags: OpsFlags & { json?: boolean }) => {
      let publisher: RedisPublisher | null = null;
      try {
        const config = loadOpsConfig(flags, context.env);
        publisher = await openPublisher(config, context.env);
        const entries: VersionEntry[] = (await publisher.listVersions()).map((info) => ({
          ...info,
          words: Object.values(info.counts).reduce((sum, count) => sum + count, 0),
        }));
        if (flags.json === true) context.stdout(`${JSON.stringify(entries)}\n`);
        else context.stdout(versionsTable(entries, config.redis.keyPrefix));
        context.setExitCode(ExitCode.ok);
      } catch (error) {
        context.stderr(`stopword-refresh versions: ${errorMessage(error)}\n`);
        context.setExitCode(error instanceof ConfigError ? ExitCode.usage : ExitCode.failed);
      } finally {
        await publisher?.close().catch(() => undefined);
      }
    });
}

function versionsTable(entries: readonly VersionEntry[], prefix: string): string {
  if (entries.length === 0) return `no versions are kept under the key prefix ${prefix}\n`;
  const header = ['LIVE', 'VERSION', 'PUBLISHED', 'RUN', 'WORDS', 'LANGUAGES'];
  const rows = entries.map((entry) => [
    entry.live ? '*' : '',
    String(entry.version),
    entry.publishedAt,
    entry.runId,
    String(entry.words),
    entry.languages.map((lang) => `${lang} ${entry.counts[lang] ?? 0}`).join(', '),
  ]);
  return formatTable([header, ...rows]);
}

/** Left-aligned columns two spaces apart; the last column is not padded. */
export function formatTable(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows
    .map(
      (row) =>
        `${row
          .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
