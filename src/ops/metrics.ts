/**
 * The run's metrics as a prom-client registry. What a run sets depends on how it ended:
 *
 * - every finished run sets the `last_run` families (time, success, exit code, durations, …);
 * - only a success sets the families that describe the last success and the live lists;
 * - a run that found the lock held did nothing and sets only its own timestamp.
 *
 * A success replaces everything; after any other run, the families it does not set keep their
 * previous value (a Pushgateway POST, a textfile carry-over). That is how a failed run leaves the
 * last success.
 */
import { Gauge, Registry } from 'prom-client';
import type { Outcome, RunReport } from './run-report.js';

export const METRIC = {
  lastSuccess: 'stopword_refresh_last_success_timestamp_seconds',
  lastRun: 'stopword_refresh_last_run_timestamp_seconds',
  lastRunSuccess: 'stopword_refresh_last_run_success',
  lastRunExitCode: 'stopword_refresh_last_run_exit_code',
  duration: 'stopword_refresh_duration_seconds',
  documents: 'stopword_refresh_documents_processed',
  errors: 'stopword_refresh_errors',
  maxDuration: 'stopword_refresh_max_duration_seconds',
  stopwords: 'stopword_refresh_stopwords',
  added: 'stopword_refresh_stopwords_added',
  removed: 'stopword_refresh_stopwords_removed',
  liveVersion: 'stopword_refresh_live_version',
  lockHeld: 'stopword_refresh_last_lock_held_timestamp_seconds',
} as const;

/** Every family this job writes; anything else found in an old textfile is dropped. */
export const ALL_FAMILIES: ReadonlySet<string> = new Set(Object.values(METRIC));

export interface MetricsContext {
  /** When the run ended; the timestamps are this, in seconds. */
  readonly finishedAt: Date;
  /** `maxDurationSeconds`: the SLA the duration is judged against. */
  readonly maxDurationSeconds: number;
}

const HELP: Record<string, string> = {
  [METRIC.lastSuccess]: 'Unix time the last successful run ended; only a success sets it.',
  [METRIC.lastRun]: 'Unix time the last run ended, whatever its outcome.',
  [METRIC.lastRunSuccess]: '1 if the last run succeeded, 0 if it failed.',
  [METRIC.lastRunExitCode]:
    'Exit code of the last run: 0 ok, 1 failed, 2 configuration, 4 guardrail refused, 5 deadline (SLA).',
  [METRIC.duration]:
    'Seconds the last run took, by phase; phase="total" is the whole run, not the sum of the others.',
  [METRIC.documents]: 'Documents the last run processed (counted plus deleted).',
  [METRIC.errors]: 'Errors the last run reported.',
  [METRIC.maxDuration]:
    'Configured maxDurationSeconds: a run is stopped (exit 5) when it reaches it.',
  [METRIC.stopwords]: 'Stopwords in the live list, by language, as of the last success.',
  [METRIC.added]: 'Stopwords the last successful run added, by language.',
  [METRIC.removed]: 'Stopwords the last successful run removed, by language.',
  [METRIC.liveVersion]: 'Version of the live stopword lists, as of the last success.',
  [METRIC.lockHeld]: 'Unix time a run last found another run holding the lock (exit 3).',
};

/** The registry a run of this outcome pushes; fresh each time so nothing leaks between runs. */
export function runRegistry(
  report: RunReport,
  outcome: Outcome,
  context: MetricsContext,
): Registry {
  const registry = new Registry();
  const gauge = (name: string, labelNames: readonly string[] = []) =>
    new Gauge({ name, help: HELP[name] ?? name, labelNames, registers: [registry] });
  const seconds = context.finishedAt.getTime() / 1000;

  if (outcome === 'locked') {
    gauge(METRIC.lockHeld).set(seconds);
    return registry;
  }

  gauge(METRIC.lastRun).set(seconds);
  gauge(METRIC.lastRunSuccess).set(outcome === 'success' ? 1 : 0);
  gauge(METRIC.lastRunExitCode).set(report.exitCode);
  const duration = gauge(METRIC.duration, ['phase']);
  duration.set({ phase: 'total' }, report.durationSeconds);
  for (const [phase, value] of Object.entries(report.phases)) {
    if (phase !== 'total') duration.set({ phase }, value);
  }
  gauge(METRIC.documents).set(report.documentsProcessed);
  gauge(METRIC.errors).set(report.errors.length);
  gauge(METRIC.maxDuration).set(context.maxDurationSeconds);
  if (outcome !== 'success') return registry;

  gauge(METRIC.lastSuccess).set(seconds);
  const stopwords = gauge(METRIC.stopwords, ['language']);
  const added = gauge(METRIC.added, ['language']);
  const removed = gauge(METRIC.removed, ['language']);
  for (const [language, l] of Object.entries(report.languages)) {
    if (l.published) stopwords.set({ language }, l.stopwords);
    added.set({ language }, l.added);
    removed.set({ language }, l.removed);
  }
  if (report.version !== null) gauge(METRIC.liveVersion).set(report.version);
  return registry;
}
