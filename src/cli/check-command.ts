/**
 * `stopword-refresh check`: is everything the nightly run needs in place? Loads the configuration,
 * resolves the references the run would use, reaches Redis, the Pushgateway and the SMTP server,
 * and looks at the directories — without writing anything. `--alerts` also sends a test alert.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { Command } from 'commander';
import { resolveChecked } from '../config/env-refs.js';
import { configFilePath, loadConfig } from '../config/load.js';
import type { Config } from '../config/types.js';
import type { MongoSource } from '../corpus/mongo-source.js';
import { parseSourceUri } from '../corpus/source-uri.js';
import { ExitCode, toFailure } from '../job/errors.js';
import { nextRuns, parseCron } from '../ops/cron-expression.js';
import { alertChecks, type CheckLine, directoryCheck, monitoringChecks } from '../ops/readiness.js';
import { endpointOf, Scrubber } from '../ops/redact.js';
import { loadRedisDriver, publisherOptions, RedisPublisher, redactUrl } from '../publish/index.js';
import { parseNonEmpty, parseRedisUrl, parseSource } from './options.js';
import { type CommandContext, printJson } from './shared.js';

interface CheckFlags {
  config?: string;
  source?: string;
  redis?: string;
  stateDir?: string;
  alerts?: boolean;
  json?: boolean;
}

export function checkCommand(context: CommandContext): Command {
  return new Command('check')
    .description('check the configuration and reach every service the run needs; writes nothing')
    .option('--config <file>', 'configuration file (as for run)', parseNonEmpty('a file path'))
    .option('--source <uri>', 'corpus: file:PATH (NDJSON) or mongodb://HOST/DB', parseSource)
    .option('--redis <url>', 'Redis URL, e.g. redis://127.0.0.1:6379', parseRedisUrl)
    .option(
      '--state-dir <dir>',
      'directory for the checkpoint and state',
      parseNonEmpty('a directory'),
    )
    .option('--alerts', 'also send a test alert to every configured channel')
    .option('--json', 'print one JSON document instead of the table')
    .addHelpText(
      'after',
      `
Exit codes:
  0  every check passed (or was skipped because its feature is off)
  1  at least one check failed
  2  usage or configuration error`,
    )
    .action(async (flags: CheckFlags) => {
      let config: Config;
      const file = configFilePath({ file: flags.config ?? null, env: context.env });
      try {
        config = loadConfig({
          file,
          env: context.env,
          overrides: {
            ...(flags.source === undefined ? {} : { source: { uri: flags.source } }),
            ...(flags.redis === undefined ? {} : { redis: { url: flags.redis } }),
            ...(flags.stateDir === undefined ? {} : { state: { dir: flags.stateDir } }),
          },
        });
      } catch (error) {
        const failure = toFailure(error);
        context.stderr(`stopword-refresh: ${failure.message}\n`);
        if (flags.json === true) {
          printJson(context, {
            ok: false,
            checks: [{ name: 'config', status: 'fail', detail: failure.message }],
          });
        }
        context.setExitCode(failure.exitCode);
        return;
      }
      const scrubber = new Scrubber();
      const env = context.env;
      const lines: CheckLine[] = [{ name: 'config', status: 'ok', detail: file }];
      lines.push(scheduleCheck(config));
      lines.push(await sourceCheck(config, env, scrubber));
      lines.push(await redisCheck(config, env, scrubber));
      lines.push(await directoryCheck('state', config.state.dir, 'the state directory'));
      lines.push(...(await monitoringChecks(config, env, scrubber)));
      lines.push(...(await alertChecks(config, env, scrubber, flags.alerts === true)));

      const failed = lines.filter((l) => l.status === 'fail').length;
      if (flags.json === true) {
        printJson(context, { ok: failed === 0, checks: lines });
      } else {
        const width = Math.max(...lines.map((l) => l.name.length));
        const table = lines.map(
          (l) => `${l.status.padEnd(4)}  ${l.name.padEnd(width)}  ${l.detail}`,
        );
        table.push(failed === 0 ? 'all checks passed' : `${failed} check(s) failed`);
        context.stdout(`${table.join('\n')}\n`);
      }
      context.setExitCode(failed === 0 ? ExitCode.ok : ExitCode.failed);
    });
}

function scheduleCheck(config: Config): CheckLine {
  const { cron, timezone } = config.schedule;
  try {
    const next = nextRuns(parseCron(cron), timezone, new Date(), 1)[0];
    return {
      name: 'schedule',
      status: next === undefined ? 'fail' : 'ok',
      detail: `"${cron}" in ${timezone}; next run ${next === undefined ? 'never' : next.toISOString()}`,
    };
  } catch (error) {
    return {
      name: 'schedule',
      status: 'fail',
      detail: error instanceof Error ? error.message : String(error),
    };
  }
}

async function sourceCheck(
  config: Config,
  env: NodeJS.ProcessEnv,
  scrubber: Scrubber,
): Promise<CheckLine> {
  const name = 'source';
  let uri: string;
  try {
    uri = resolveChecked(config.source.uri, 'source.uri', env);
    const location = parseSourceUri(uri);
    if (location.kind !== 'file') {
      scrubber.add(uri);
      return await mongoCheck(config, location, scrubber);
    }
    const info = await stat(location.path);
    if (!info.isFile()) return { name, status: 'fail', detail: `${location.path} is not a file` };
    await access(location.path, constants.R_OK);
    return { name, status: 'ok', detail: `file:${location.path} is readable (${info.size} bytes)` };
  } catch (error) {
    return { name, status: 'fail', detail: reason(error, scrubber) };
  }
}

/** Connects as a run would, reads the server's clock and looks for the (updatedAt, _id) index. */
async function mongoCheck(
  config: Config,
  location: { readonly uri: string; readonly database: string },
  scrubber: Scrubber,
): Promise<CheckLine> {
  const name = 'source';
  let source: MongoSource | null = null;
  try {
    // No retries: a check reports what it finds at once.
    // The driver is loaded only when the source is MongoDB.
    const { MongoSource, mongoSourceOptions } = await import('../corpus/mongo-source.js');
    source = await MongoSource.open({ ...mongoSourceOptions(config.source, location), retries: 0 });
    const clock = await source.serverTime();
    const skew = Math.round((Date.now() - clock.getTime()) / 1000);
    const where = `${endpointOf(location.uri)} ${location.database}.${config.source.collection}`;
    if (!(await source.hasKeysetIndex())) {
      const { updatedAt } = config.source.fields;
      return {
        name,
        status: 'warn',
        detail: `${where}: no index on { ${updatedAt}: 1, _id: 1 }; every page of a run scans the collection. Create it: db.${config.source.collection}.createIndex({ ${updatedAt}: 1, _id: 1 })`,
      };
    }
    return {
      name,
      status: 'ok',
      detail: `${where} answers; index on (${config.source.fields.updatedAt}, _id) present; server clock ${skew === 0 ? 'agrees with this host' : `${Math.abs(skew)} s ${skew > 0 ? 'behind' : 'ahead of'} this host`}`,
    };
  } catch (error) {
    return { name, status: 'fail', detail: reason(error, scrubber) };
  } finally {
    await source?.close();
  }
}

async function redisCheck(
  config: Config,
  env: NodeJS.ProcessEnv,
  scrubber: Scrubber,
): Promise<CheckLine> {
  const name = 'redis';
  let url: string;
  try {
    url = resolveChecked(config.redis.url, 'redis.url', env);
  } catch (error) {
    return { name, status: 'fail', detail: reason(error, scrubber) };
  }
  scrubber.add(url);
  const shown = redactUrl(url);
  let publisher: RedisPublisher | null = null;
  try {
    const clusterProblem = await clusterHashTagProblem(url, config);
    if (clusterProblem !== null)
      return { name, status: 'fail', detail: `${shown}: ${clusterProblem}` };
    publisher = await RedisPublisher.connect(publisherOptions(config.redis, url));
    const live = await publisher.readLive();
    const what =
      live.version === null
        ? `no version published yet under prefix "${config.redis.keyPrefix}"`
        : `live version ${live.version} (${live.languages.join(', ') || 'no languages'}), published ${live.publishedAt ?? 'at an unknown time'}`;
    return { name, status: 'ok', detail: `${shown}: ${what}` };
  } catch (error) {
    return { name, status: 'fail', detail: `${shown}: ${reason(error, scrubber)}` };
  } finally {
    await publisher?.close().catch(() => undefined);
  }
}

/**
 * DESIGN §6: on Redis Cluster every key must share one slot, which only a hash tag in the prefix
 * guarantees; the swap script would fail with CROSSSLOT at the worst moment otherwise.
 */
async function clusterHashTagProblem(url: string, config: Config): Promise<string | null> {
  const { createClient } = await loadRedisDriver();
  const client = createClient({
    url,
    RESP: 2,
    disableOfflineQueue: true,
    socket: { connectTimeout: config.redis.connectTimeoutSeconds * 1000, reconnectStrategy: false },
  });
  client.on('error', () => {});
  try {
    await client.connect();
    const info = String(await client.sendCommand(['INFO', 'cluster']));
    if (!/^cluster_enabled:1/m.test(info)) return null;
    return /\{[^}]+\}/.test(config.redis.keyPrefix)
      ? null
      : `is a Redis Cluster, but redis.keyPrefix "${config.redis.keyPrefix}" has no hash tag; use one such as "{stopwords}"`;
  } catch {
    // Unreachable: RedisPublisher.connect reports it, with its own message.
    return null;
  } finally {
    await client.close().catch(() => undefined);
  }
}

/** Our own errors (config, publish, fs) say what went wrong safely; the scrubber is a backstop. */
function reason(error: unknown, scrubber: Scrubber): string {
  const message = error instanceof Error ? error.message : String(error);
  return scrubber.scrub(message.replace(/\n\s*/g, ' '));
}
