/**
 * `stopword-refresh status`: the job status API (schema in docs/ops/job-status-schema.md). What is
 * live and since when, how the last runs went, who holds the lock, where the checkpoint stands,
 * and whether the lists are stale. Prints what it could read even when part of it failed.
 */
import { Command } from 'commander';
import { ConfigError } from '../config/errors.js';
import { ExitCode } from '../job/errors.js';
import { type RedisPublisher, RUN_HISTORY_LIMIT } from '../publish/index.js';
import { type Checkpoint, readCheckpoint } from '../state/checkpoint.js';
import { parseNonEmpty } from './options.js';
import type { CommandContext } from './shared.js';
import {
  addOpsOptions,
  errorMessage,
  formatTable,
  loadOpsConfig,
  type OpsFlags,
  openPublisher,
} from './versions-command.js';

/**
 * A nightly schedule plus two hours for a slow run or a rerun by hand. Fixed for now: deriving it
 * from `schedule.cron` needs the cron evaluator of the schedule command.
 */
export const STALE_AFTER_HOURS = 26;

export interface RunSummary {
  runId: string | null;
  /** `delta`, `full` or `rollback`. */
  mode: string | null;
  success: boolean;
  exitCode: number | null;
  /** When it started. */
  timestamp: string | null;
  /** `timestamp` + `durationSeconds`. */
  finishedAt: string | null;
  durationSeconds: number | null;
  documentsProcessed: number | null;
  stopwordsUpdated: number | null;
  /** The version live when it ended. */
  version: number | null;
  published: boolean | null;
  errors: string[];
}

export interface LiveStatus {
  version: number;
  publishedAt: string | null;
  runId: string | null;
  ageSeconds: number | null;
  swappedAt: string | null;
  swapRunId: string | null;
  liveForSeconds: number | null;
  analyzerVersion: string | null;
  languages: string[];
  counts: Record<string, number>;
  words: number;
}

export interface LockStatus {
  runId: string | null;
  host: string | null;
  pid: number | null;
  acquiredAt: string | null;
  expiresInSeconds: number | null;
}

export interface Staleness {
  thresholdHours: number;
  basis: 'lastSuccess' | 'checkpoint' | 'livePublishedAt' | null;
  since: string | null;
  hoursSince: number | null;
  stale: boolean;
}

export interface JobStatus {
  checkedAt: string;
  live: LiveStatus | null;
  lastRun: RunSummary | null;
  lastSuccess: RunSummary | null;
  lastRollback: RunSummary | null;
  lock: LockStatus | null;
  checkpoint: Checkpoint | null;
  staleness: Staleness;
  errors: string[];
}

export function statusCommand(context: CommandContext): Command {
  return addOpsOptions(
    new Command('status').description(
      'show the live version and its age, the last runs, the lock holder, the checkpoint and whether the lists are stale',
    ),
  )
    .option(
      '--state-dir <dir>',
      'directory holding the checkpoint (default: state.dir)',
      parseNonEmpty('a directory'),
    )
    .option('--json', 'print the status as one JSON object (docs/ops/job-status-schema.md)')
    .addHelpText(
      'after',
      `
Exit codes:
  0  the status was read in full (stale or not: see "staleness")
  1  part of it could not be read (Redis, the checkpoint); what was read is still printed
  2  usage or configuration error

Stale means no successful run for more than ${STALE_AFTER_HOURS} hours.`,
    )
    .action(async (flags: OpsFlags & { json?: boolean }) => {
      let status: JobStatus;
      try {
        status = await readStatus(flags, context.env, new Date());
      } catch (error) {
        context.stderr(`stopword-refresh status: ${errorMessage(error)}\n`);
        context.setExitCode(error instanceof ConfigError ? ExitCode.usage : ExitCode.failed);
        return;
      }
      if (flags.json === true) context.stdout(`${JSON.stringify(status)}\n`);
      else context.stdout(statusText(status));
      for (const problem of status.errors) context.stderr(`stopword-refresh status: ${problem}\n`);
      context.setExitCode(status.errors.length === 0 ? ExitCode.ok : ExitCode.failed);
    });
}

/** Throws only `ConfigError`; every other failure lands in `errors`. */
async function readStatus(flags: OpsFlags, env: NodeJS.ProcessEnv, now: Date): Promise<JobStatus> {
  const config = loadOpsConfig(flags, env);
  const status: JobStatus = {
    checkedAt: now.toISOString(),
    live: null,
    lastRun: null,
    lastSuccess: null,
    lastRollback: null,
    lock: null,
    checkpoint: null,
    staleness: {
      thresholdHours: STALE_AFTER_HOURS,
      basis: null,
      since: null,
      hoursSince: null,
      stale: true,
    },
    errors: [],
  };

  try {
    status.checkpoint = await readCheckpoint(config.state.dir);
  } catch (error) {
    status.errors.push(errorMessage(error));
  }

  let publisher: RedisPublisher | null = null;
  try {
    publisher = await openPublisher(config, env);
    await readFromRedis(publisher, status, now);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    status.errors.push(`Redis: ${errorMessage(error)}`);
  } finally {
    await publisher?.close().catch(() => undefined);
  }

  status.staleness = staleness(status, now);
  return status;
}

async function readFromRedis(
  publisher: RedisPublisher,
  status: JobStatus,
  now: Date,
): Promise<void> {
  const meta = await publisher.readLiveMeta();
  if (meta.version !== null) {
    status.live = {
      version: meta.version,
      publishedAt: meta.publishedAt,
      runId: meta.runId,
      ageSeconds: secondsSince(meta.publishedAt, now),
      swappedAt: meta.swappedAt,
      swapRunId: meta.swapRunId,
      liveForSeconds: secondsSince(meta.swappedAt, now),
      analyzerVersion: meta.analyzerVersion,
      languages: meta.languages,
      counts: meta.counts,
      words: Object.values(meta.counts).reduce((sum, count) => sum + count, 0),
    };
  }

  const lock = await publisher.readLock();
  if (lock !== null) {
    // The token is what lets its owner release the lock; it is not shown.
    status.lock = {
      runId: lock.holder?.runId ?? null,
      host: lock.holder?.host ?? null,
      pid: lock.holder?.pid ?? null,
      acquiredAt: lock.holder?.acquiredAt ?? null,
      expiresInSeconds: lock.ttlMs === null ? null : Math.ceil(lock.ttlMs / 1000),
    };
  }

  for (const entry of await publisher.recentRuns(RUN_HISTORY_LIMIT)) {
    const run = summarize(entry);
    if (run === null) continue;
    if (run.mode === 'rollback') {
      status.lastRollback ??= run;
      continue;
    }
    status.lastRun ??= run;
    if (run.success) status.lastSuccess ??= run;
    if (status.lastSuccess !== null && status.lastRollback !== null) break;
  }
}

/** A history entry as recorded (a JobResult); `null` for an unreadable one or a dry run. */
function summarize(json: string): RunSummary | null {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return null;
  const record = value as Record<string, unknown>;
  // A dry run neither refreshes the lists nor reports on them.
  if (record.dryRun === true || typeof record.success !== 'boolean') return null;
  const text = (key: string) => (typeof record[key] === 'string' ? (record[key] as string) : null);
  const num = (key: string) =>
    typeof record[key] === 'number' && Number.isFinite(record[key])
      ? (record[key] as number)
      : null;
  const timestamp = text('timestamp');
  const duration = num('durationSeconds');
  const startedMs = timestamp === null ? Number.NaN : Date.parse(timestamp);
  return {
    runId: text('runId'),
    mode: text('mode'),
    success: record.success,
    exitCode: num('exitCode'),
    timestamp,
    finishedAt:
      Number.isFinite(startedMs) && duration !== null
        ? new Date(startedMs + duration * 1000).toISOString()
        : timestamp,
    durationSeconds: duration,
    documentsProcessed: num('documentsProcessed'),
    stopwordsUpdated: num('stopwordsUpdated'),
    version: num('version'),
    published: typeof record.published === 'boolean' ? record.published : null,
    errors: Array.isArray(record.errors)
      ? record.errors.filter((e): e is string => typeof e === 'string')
      : [],
  };
}

/**
 * Measured from the last successful run in the history; without one (history trimmed, or written
 * by an older version), from the checkpoint, which only a successful run writes, and last from
 * the live version's publication.
 */
function staleness(status: JobStatus, now: Date): Staleness {
  const candidates: Array<[Staleness['basis'], string | null | undefined]> = [
    ['lastSuccess', status.lastSuccess?.finishedAt],
    ['checkpoint', status.checkpoint?.writtenAt],
    ['livePublishedAt', status.live?.publishedAt],
  ];
  for (const [basis, since] of candidates) {
    const seconds = since === null || since === undefined ? null : secondsSince(since, now);
    if (seconds === null || since === null || since === undefined) continue;
    const hoursSince = Math.round((seconds / 3600) * 100) / 100;
    return {
      thresholdHours: STALE_AFTER_HOURS,
      basis,
      since,
      hoursSince,
      stale: hoursSince > STALE_AFTER_HOURS,
    };
  }
  return {
    thresholdHours: STALE_AFTER_HOURS,
    basis: null,
    since: null,
    hoursSince: null,
    stale: true,
  };
}

function secondsSince(iso: string | null, now: Date): number | null {
  if (iso === null) return null;
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? Math.max(0, Math.round((now.getTime() - ms) / 1000)) : null;
}

function statusText(status: JobStatus): string {
  const rows: string[][] = [];
  const { live } = status;
  if (live === null) {
    rows.push(['live', 'nothing is published yet']);
  } else {
    const rolledBack = live.swapRunId !== null && live.swapRunId !== live.runId;
    rows.push([
      'live',
      `version ${live.version}, published ${live.publishedAt ?? '?'} (${ago(live.ageSeconds)}) by run ${live.runId ?? '?'}`,
    ]);
    if (rolledBack) {
      rows.push([
        '',
        `put live again ${live.swappedAt ?? '?'} (${ago(live.liveForSeconds)}) by ${live.swapRunId}`,
      ]);
    }
    rows.push([
      '',
      `${live.words} words: ${live.languages.map((lang) => `${lang} ${live.counts[lang] ?? 0}`).join(', ')}`,
    ]);
  }
  rows.push(['last run', describeRun(status.lastRun)]);
  rows.push(['last success', describeRun(status.lastSuccess)]);
  if (status.lastRollback !== null) rows.push(['last rollback', describeRun(status.lastRollback)]);
  const { lock } = status;
  rows.push([
    'lock',
    lock === null
      ? 'free'
      : `held by run ${lock.runId ?? '(unknown holder)'} on ${lock.host ?? '?'} (pid ${lock.pid ?? '?'}) since ${lock.acquiredAt ?? '?'}, ${
          lock.expiresInSeconds === null
            ? 'without expiry'
            : `expires in ${lock.expiresInSeconds} s unless renewed`
        }`,
  ]);
  const { checkpoint } = status;
  rows.push([
    'checkpoint',
    checkpoint === null
      ? 'none'
      : `window end ${checkpoint.windowEnd}, run ${checkpoint.runId} (${checkpoint.mode}), written ${checkpoint.writtenAt}`,
  ]);
  const { staleness: s } = status;
  rows.push([
    'staleness',
    s.basis === null
      ? `STALE: no successful run is known (threshold ${s.thresholdHours} h)`
      : `${s.stale ? 'STALE' : 'ok'}: ${basisText(s.basis)} ${hours(s.hoursSince)} ago (threshold ${s.thresholdHours} h)`,
  ]);
  for (const problem of status.errors) rows.push(['error', problem]);
  return formatTable(rows);
}

function describeRun(run: RunSummary | null): string {
  if (run === null) return 'none recorded';
  const outcome = run.success ? 'succeeded' : `failed (exit ${run.exitCode ?? '?'})`;
  const parts = [
    `${outcome} at ${run.timestamp ?? '?'}`,
    run.durationSeconds === null ? null : `in ${run.durationSeconds} s`,
    run.mode === 'rollback' ? null : `${run.documentsProcessed ?? 0} documents`,
    `${run.stopwordsUpdated ?? 0} stopwords changed`,
    run.version === null ? null : `version ${run.version}`,
    `run ${run.runId ?? '?'}`,
  ].filter((part) => part !== null);
  const error = run.success || run.errors.length === 0 ? '' : `: ${run.errors[0]}`;
  return `${parts.join(', ')}${error}`;
}

function basisText(basis: NonNullable<Staleness['basis']>): string {
  switch (basis) {
    case 'lastSuccess':
      return 'last successful run finished';
    case 'checkpoint':
      return 'checkpoint written';
    case 'livePublishedAt':
      return 'live version published';
  }
}

function ago(seconds: number | null): string {
  return seconds === null
    ? 'age unknown'
    : `${hours(Math.round((seconds / 3600) * 100) / 100)} ago`;
}

function hours(value: number | null): string {
  if (value === null) return '?';
  if (value < 1) return `${Math.round(value * 60)} min`;
  if (value < 48) return `${Math.round(value * 10) / 10} h`;
  return `${Math.round((value / 24) * 10) / 10} d`;
}
