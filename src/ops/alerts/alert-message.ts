/**
 * What an alert says, independent of the channel. Built from an allow-list of JobResult fields,
 * so no document text (bad-document samples, dry-run lists) can reach an alert, and every string
 * passes the scrubber, so no secret does either.
 */
import type { Scrubber } from '../redact.js';
import type { RunReport } from '../run-report.js';

export type AlertEvent = 'failure' | 'guardrail' | 'deadline' | 'locked' | 'recovery' | 'test';

export type Severity = 'critical' | 'warning' | 'info';

export const RUNBOOK = 'docs/ops/stopword-refresh-runbook.md';

export interface AlertMessage {
  readonly event: AlertEvent;
  readonly severity: Severity;
  readonly host: string;
  /** When the alert was raised (ISO 8601). */
  readonly at: string;
  /** One line: what happened, where. */
  readonly title: string;
  /** Plain-text detail lines: the error, the run, what to do. */
  readonly lines: readonly string[];
  /** The runbook section for this event. */
  readonly runbook: string;
  /** The run's result, reduced to fields that are safe to send; null for a test alert. */
  readonly result: Readonly<Record<string, unknown>> | null;
}

export interface AlertContext {
  readonly host: string;
  readonly at: Date;
  readonly maxDurationSeconds: number;
  readonly scrubber: Scrubber;
  /** For a recovery: since when, and how many runs in a row, the job had been failing. */
  readonly failingSince?: string | null;
  readonly failedRuns?: number;
}

const SEVERITY: Record<AlertEvent, Severity> = {
  failure: 'critical',
  guardrail: 'warning',
  deadline: 'critical',
  locked: 'warning',
  recovery: 'info',
  test: 'info',
};

const MAX_ERROR_CHARS = 500;
const MAX_ERRORS = 3;

export function runAlert(
  event: AlertEvent,
  report: RunReport,
  context: AlertContext,
): AlertMessage {
  const { host } = context;
  const exit = `exit ${report.exitCode}`;
  const titles: Record<AlertEvent, string> = {
    failure: `stopword-refresh FAILED on ${host} (${exit})`,
    guardrail: `stopword-refresh: a guardrail refused the new stopword lists on ${host} (${exit})`,
    deadline: `stopword-refresh passed its SLA on ${host}: stopped after ${report.durationSeconds} s, maxDurationSeconds is ${context.maxDurationSeconds} (${exit})`,
    locked: `stopword-refresh did not run on ${host}: another run holds the lock (${exit})`,
    recovery: `stopword-refresh recovered on ${host}: run succeeded after ${context.failedRuns ?? 1} failed run(s)`,
    test: `stopword-refresh test alert from ${host}`,
  };
  const lines: string[] = [];
  const errors = report.errors.slice(0, MAX_ERRORS).map((e) => clip(context.scrubber.scrub(e)));
  for (const error of errors) lines.push(`Error: ${error}`);
  if (report.errors.length > MAX_ERRORS) {
    lines.push(`(${report.errors.length - MAX_ERRORS} more error(s) in the JobResult)`);
  }
  if (event === 'recovery') {
    if (context.failingSince) lines.push(`Failing since: ${context.failingSince}`);
    lines.push(
      `Live version: ${report.version ?? 'none'}${report.published ? ' (published by this run)' : ''}`,
    );
  } else if (event !== 'test') {
    lines.push(
      report.published
        ? `Live lists: version ${report.version} was published before the failure; see the error`
        : 'Live lists: unchanged, the previous version stays live',
    );
  }
  lines.push(
    `Run: ${report.runId}, ${report.mode}, started ${report.timestamp}, took ${report.durationSeconds} s, ${report.documentsProcessed} documents`,
  );
  lines.push(`What to do: ${advice(event, report.exitCode)}`);
  const anchor = anchorFor(event, report.exitCode);
  return {
    event,
    severity: SEVERITY[event],
    host,
    at: context.at.toISOString(),
    title: titles[event],
    lines,
    runbook: `${RUNBOOK}#${anchor}`,
    result: safeResult(report, context.scrubber),
  };
}

export function testAlert(context: Pick<AlertContext, 'host' | 'at'>): AlertMessage {
  return {
    event: 'test',
    severity: 'info',
    host: context.host,
    at: context.at.toISOString(),
    title: `stopword-refresh test alert from ${context.host}`,
    lines: [
      'Sent by `stopword-refresh check --alerts` to show this channel works.',
      'What to do: nothing.',
    ],
    runbook: `${RUNBOOK}#alerts`,
    result: null,
  };
}

function advice(event: AlertEvent, exitCode: number): string {
  switch (event) {
    case 'failure':
      return exitCode === 2
        ? 'the configuration or environment of the scheduled run is wrong (an unset variable, say); fix it and run `stopword-refresh check`.'
        : 'read the error, fix the cause (Redis, corpus, state directory), then run `stopword-refresh run` by hand. Yesterday’s lists stay live meanwhile.';
    case 'guardrail':
      return 'compare the proposed lists with the live ones (`stopword-refresh run --dry-run`) and the corpus; the live lists stay until a run passes the guardrails.';
    case 'deadline':
      return 'nothing was published. Check the phase durations in the log, the corpus size and Redis/source latency; re-run by hand, or raise maxDurationSeconds.';
    case 'locked':
      return 'check `stopword-refresh status` for the run holding the lock; a crashed run’s lock expires by itself.';
    case 'recovery':
    case 'test':
      return 'nothing.';
  }
}

function anchorFor(event: AlertEvent, exitCode: number): string {
  switch (event) {
    case 'failure':
      return exitCode === 2 ? 'exit-2-usage-or-configuration-error' : 'exit-1-the-run-failed';
    case 'guardrail':
      return 'exit-4-a-guardrail-refused-the-lists';
    case 'deadline':
      return 'exit-5-the-run-passed-its-deadline-sla';
    case 'locked':
      return 'exit-3-another-run-holds-the-lock';
    case 'recovery':
    case 'test':
      return 'alerts';
  }
}

/** The JobResult fields an alert may carry; counts and identifiers, never document contents. */
function safeResult(report: RunReport, scrubber: Scrubber): Record<string, unknown> {
  const languages: Record<string, unknown> = {};
  for (const [lang, l] of Object.entries(report.languages)) {
    languages[lang] = {
      documents: l.documents,
      stopwords: l.stopwords,
      added: l.added,
      removed: l.removed,
      published: l.published,
    };
  }
  return {
    success: report.success,
    durationSeconds: report.durationSeconds,
    documentsProcessed: report.documentsProcessed,
    stopwordsUpdated: report.stopwordsUpdated,
    errors: report.errors.map((e) => clip(scrubber.scrub(e))),
    timestamp: report.timestamp,
    runId: report.runId,
    mode: report.mode,
    dryRun: report.dryRun,
    version: report.version,
    published: report.published,
    exitCode: report.exitCode,
    window: { from: report.window.from, to: report.window.to },
    languages,
    phases: { ...report.phases },
  };
}

function clip(text: string): string {
  return text.length > MAX_ERROR_CHARS ? `${text.slice(0, MAX_ERROR_CHARS - 1)}…` : text;
}
