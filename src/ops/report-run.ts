/**
 * After a run: metrics to the Pushgateway and the textfile, alerts to every configured channel,
 * and the memory that turns the first success after a failure into a recovery notice.
 *
 * Never throws and never changes how the run ended: each sink that fails is logged (without
 * secrets) and the others go on. Dry runs report nothing: they are on-call's experiments, not
 * the nightly run the metrics and alerts describe.
 */
import { hostname } from 'node:os';
import { resolveRef } from '../config/env-refs.js';
import type { AlertsConfig, MonitoringConfig } from '../config/types.js';
import type { AlertEvent } from './alerts/alert-message.js';
import { runAlert } from './alerts/alert-message.js';
import { alertChannels, type ChannelName, type Delivery, deliver } from './alerts/channels.js';
import type { Logger } from './logger.js';
import { ALL_FAMILIES, runRegistry } from './metrics.js';
import { memoryPath, type OutcomeMemory, readMemory, writeMemory } from './outcome-memory.js';
import { pushMetrics } from './pushgateway.js';
import { failureReason, Scrubber } from './redact.js';
import { type Outcome, outcomeOf, type RunReport } from './run-report.js';
import { writeTextfile } from './textfile.js';

export const DEFAULT_REPORT_TIMEOUT_MS = 10_000;

/** The configuration reporting reads: a narrow view, so any full Config fits. */
export interface ReportConfig {
  readonly maxDurationSeconds: number;
  readonly monitoring: MonitoringConfig;
  readonly alerts: AlertsConfig;
  readonly state: { readonly dir: string };
  readonly redis: { readonly url: string };
}

export interface ReportRunOptions {
  readonly config: ReportConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly report: RunReport;
  readonly logger: Logger;
  readonly now?: () => Date;
  /** The `instance` of the Pushgateway grouping key and the host named in alerts. */
  readonly host?: string;
  /**
   * Alert when another run held the lock (exit 3). Off by default: a lock that never frees shows
   * as "no success for 26 hours" anyway, and a manual run overlapping cron is no incident.
   */
  readonly alertOnLockHeld?: boolean;
  /** Per sink and per channel. */
  readonly timeoutMs?: number;
}

export type SinkStatus = 'off' | 'written' | 'failed';

export interface ReportSummary {
  /** Why nothing was reported, or null. */
  readonly skipped: string | null;
  readonly outcome: Outcome | null;
  readonly pushgateway: SinkStatus;
  readonly textfile: SinkStatus;
  readonly alert: AlertEvent | null;
  readonly channels: Readonly<Partial<Record<ChannelName, Delivery>>>;
}

export async function reportRun(options: ReportRunOptions): Promise<ReportSummary> {
  try {
    return await report(options);
  } catch (error) {
    options.logger.error(
      { err: failureReason(error, new Scrubber()) },
      'reporting the run failed; its result stands',
    );
    return {
      skipped: 'internal error',
      outcome: null,
      pushgateway: 'failed',
      textfile: 'failed',
      alert: null,
      channels: {},
    };
  }
}

async function report(options: ReportRunOptions): Promise<ReportSummary> {
  const { config, env, logger, report: run } = options;
  if (run.dryRun) {
    logger.debug('dry run: no metrics, no alerts');
    return {
      skipped: 'dry run',
      outcome: null,
      pushgateway: 'off',
      textfile: 'off',
      alert: null,
      channels: {},
    };
  }
  const now = options.now ?? (() => new Date());
  const finishedAt = now();
  const host = options.host ?? hostname();
  const timeoutMs = options.timeoutMs ?? DEFAULT_REPORT_TIMEOUT_MS;
  const outcome = outcomeOf(run);
  const scrubber = new Scrubber();
  for (const [value, path] of [
    [config.redis.url, 'redis.url'],
    [config.monitoring.pushgateway.url, 'monitoring.pushgateway.url'],
  ] as const) {
    if (value !== null) scrubber.add(quietResolve(value, path, env));
  }

  const registry = runRegistry(run, outcome, {
    finishedAt,
    maxDurationSeconds: config.maxDurationSeconds,
  });
  // A success sets every family and replaces what was there; any other run only adds its own.
  const replace = outcome === 'success';

  const pushgateway = async (): Promise<SinkStatus> => {
    const ref = config.monitoring.pushgateway.url;
    if (ref === null) return 'off';
    try {
      const url = resolveRef(ref, 'monitoring.pushgateway.url', env);
      await withTimeout(
        pushMetrics({ url, registry, instance: host, timeoutMs, replace }),
        timeoutMs,
        'timed out',
      );
      logger.debug({ sink: 'pushgateway' }, 'metrics pushed');
      return 'written';
    } catch (error) {
      logger.warn(
        { sink: 'pushgateway', reason: failureReason(error, scrubber) },
        'metrics not pushed',
      );
      return 'failed';
    }
  };

  const textfile = async (): Promise<SinkStatus> => {
    const path = config.monitoring.textfile.path;
    if (path === null) return 'off';
    try {
      await writeTextfile(path, await registry.metrics(), replace ? null : ALL_FAMILIES);
      logger.debug({ sink: 'textfile', path }, 'metrics written');
      return 'written';
    } catch (error) {
      logger.warn(
        { sink: 'textfile', path, reason: failureReason(error, scrubber) },
        'metrics not written',
      );
      return 'failed';
    }
  };

  const alerts = async (): Promise<{
    event: AlertEvent | null;
    channels: Partial<Record<ChannelName, Delivery>>;
  }> => {
    const { slack, webhook, email } = config.alerts;
    if (slack.webhookUrl === null && webhook.url === null && email.smtpUrl === null) {
      // Nothing to alert, so nothing to remember: the state directory stays as the run left it.
      return { event: null, channels: {} };
    }
    const path = memoryPath(config.state.dir);
    const memory = await readMemory(path);
    const decision = decide(outcome, run, memory, options.alertOnLockHeld === true, finishedAt);
    if (decision.next !== null) {
      await writeMemory(path, decision.next).catch((error: unknown) => {
        logger.warn(
          { path, reason: failureReason(error, scrubber) },
          'cannot record the run outcome; the next recovery notice may be missed',
        );
      });
    }
    if (decision.event === null) return { event: null, channels: {} };
    const setup = alertChannels(config.alerts, { env, scrubber, timeoutMs });
    const message = runAlert(decision.event, run, {
      host,
      at: finishedAt,
      maxDurationSeconds: config.maxDurationSeconds,
      scrubber,
      failingSince: memory?.failingSince ?? null,
      failedRuns: memory?.failedRuns ?? 0,
    });
    const results = await deliver(message, setup, scrubber);
    const sent: string[] = [];
    for (const [channel, delivery] of results) {
      if (delivery.ok) sent.push(channel);
      else
        logger.error(
          { channel, event: decision.event, reason: delivery.reason },
          'alert not delivered',
        );
    }
    if (sent.length > 0) logger.info({ event: decision.event, channels: sent }, 'alert sent');
    return { event: decision.event, channels: Object.fromEntries(results) };
  };

  const [pushed, written, alerted] = await Promise.all([pushgateway(), textfile(), alerts()]);
  return {
    skipped: null,
    outcome,
    pushgateway: pushed,
    textfile: written,
    alert: alerted.event,
    channels: alerted.channels,
  };
}

interface Decision {
  readonly event: AlertEvent | null;
  /** The memory to record, or null to leave it as it is. */
  readonly next: OutcomeMemory | null;
}

function decide(
  outcome: Outcome,
  run: RunReport,
  memory: OutcomeMemory | null,
  alertOnLockHeld: boolean,
  at: Date,
): Decision {
  const base = {
    schemaVersion: 1,
    lastRunId: run.runId,
    lastOutcome: outcome,
    updatedAt: at.toISOString(),
  } as const;
  if (outcome === 'success') {
    return {
      event: memory?.failing === true ? 'recovery' : null,
      next: { ...base, failing: false, failingSince: null, failedRuns: 0 },
    };
  }
  // A run that found the lock held did nothing; unless on-call asked to hear of it, it is not
  // part of the failure streak either.
  if (outcome === 'locked' && !alertOnLockHeld) return { event: null, next: null };
  const streak = memory?.failing === true;
  return {
    event: outcome,
    next: {
      ...base,
      failing: true,
      failingSince: streak ? memory.failingSince : run.timestamp,
      failedRuns: (streak ? memory.failedRuns : 0) + 1,
    },
  };
}

function quietResolve(value: string, path: string, env: NodeJS.ProcessEnv): string | null {
  try {
    return resolveRef(value, path, env);
  } catch {
    return null;
  }
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms + 1000);
    timer.unref();
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
