/**
 * The pure parts of reporting: outcome classes, the textfile merge, secret scrubbing, and what an
 * alert may carry.
 */
import { describe, expect, it } from 'vitest';
import { ExitCode } from '../../src/job/errors.js';
import { runAlert, testAlert } from '../../src/ops/alerts/alert-message.js';
import { emailBody, slackPayload, webhookPayload } from '../../src/ops/alerts/formats.js';
import { ALL_FAMILIES, METRIC } from '../../src/ops/metrics.js';
import { endpointOf, failureReason, Scrubber } from '../../src/ops/redact.js';
import { outcomeOf, REPORTED_EXIT_CODES, type RunReport } from '../../src/ops/run-report.js';
import { mergeFamilies, parseFamilies } from '../../src/ops/textfile.js';

const report: RunReport = {
  success: false,
  durationSeconds: 4.2,
  documentsProcessed: 10,
  stopwordsUpdated: 0,
  errors: ['Redis: connection refused'],
  timestamp: '2026-11-30T02:00:00.000Z',
  runId: 'r1',
  mode: 'delta',
  dryRun: false,
  version: null,
  published: false,
  exitCode: 1,
  window: { from: '2026-11-29T01:55:00.000Z', to: '2026-11-30T01:55:00.000Z' },
  languages: { en: { documents: 5, stopwords: 3, added: 1, removed: 0, published: true } },
  phases: { connect: 4.1 },
};

describe('outcomes', () => {
  it('mirror the exit codes of the job layer', () => {
    expect(REPORTED_EXIT_CODES).toEqual({
      ok: ExitCode.ok,
      locked: ExitCode.locked,
      guardrail: ExitCode.guardrail,
      deadline: ExitCode.deadline,
    });
  });

  it('classify each exit code', () => {
    expect(outcomeOf({ success: true, exitCode: 0 })).toBe('success');
    expect(outcomeOf({ success: false, exitCode: 1 })).toBe('failure');
    expect(outcomeOf({ success: false, exitCode: 2 })).toBe('failure');
    expect(outcomeOf({ success: false, exitCode: 3 })).toBe('locked');
    expect(outcomeOf({ success: false, exitCode: 4 })).toBe('guardrail');
    expect(outcomeOf({ success: false, exitCode: 5 })).toBe('deadline');
    expect(outcomeOf({ success: false, exitCode: 0 })).toBe('failure');
  });
});

describe('textfile merge', () => {
  const old = [
    '# HELP stopword_refresh_last_success_timestamp_seconds x',
    '# TYPE stopword_refresh_last_success_timestamp_seconds gauge',
    'stopword_refresh_last_success_timestamp_seconds 100',
    '# HELP stopword_refresh_last_run_success x',
    '# TYPE stopword_refresh_last_run_success gauge',
    'stopword_refresh_last_run_success 1',
    'stopword_refresh_stopwords{language="en"} 8',
    'stopword_refresh_stopwords{language="de"} 7',
    'some_other_metric 3',
    '',
  ].join('\n');

  it('groups HELP, TYPE and samples by family', () => {
    expect(parseFamilies(old).map((f) => [f.name, f.lines.length])).toEqual([
      [METRIC.lastSuccess, 3],
      [METRIC.lastRunSuccess, 3],
      [METRIC.stopwords, 2],
      ['some_other_metric', 1],
    ]);
  });

  it('keeps undeclared known families, replaces declared ones whole, drops unknown ones', () => {
    const current =
      '# HELP stopword_refresh_last_run_success y\n# TYPE stopword_refresh_last_run_success gauge\nstopword_refresh_last_run_success 0\n';
    const merged = mergeFamilies(old, current, ALL_FAMILIES);
    expect(merged).toContain('stopword_refresh_last_run_success 0');
    expect(merged).not.toContain('stopword_refresh_last_run_success 1');
    expect(merged).toContain('stopword_refresh_last_success_timestamp_seconds 100');
    expect(merged).toContain('stopword_refresh_stopwords{language="de"} 7');
    expect(merged).not.toContain('some_other_metric');
    expect(merged.endsWith('\n')).toBe(true);
  });
});

describe('secrets', () => {
  it('endpoints show scheme, host and port only', () => {
    expect(endpointOf('https://hooks.slack.com/services/T1/B2/abcdef')).toBe(
      'https://hooks.slack.com',
    );
    expect(endpointOf('smtps://u:p@smtp.example.com:465')).toBe('smtps://smtp.example.com:465');
    expect(endpointOf('not a url')).toBe('<unparseable URL>');
  });

  it('the scrubber removes values, passwords, paths and stray user info', () => {
    const s = new Scrubber()
      .add('https://hooks.slack.com/services/T1/B2/abcdefgh')
      .add('smtp://alerts:p%40ssw0rd@smtp.example.com:25')
      .add('redis://127.0.0.1:6379/0');
    expect(s.scrub('posting to https://hooks.slack.com/services/T1/B2/abcdefgh failed')).toBe(
      'posting to [redacted] failed',
    );
    expect(s.scrub('path /services/T1/B2/abcdefgh leaked')).toBe('path [redacted] leaked');
    expect(s.scrub('auth p@ssw0rd and p%40ssw0rd')).toBe('auth [redacted] and [redacted]');
    expect(s.scrub('redis://127.0.0.1:6379/0 down')).toBe('[redacted] down');
    expect(s.scrub('see http://bob:hunter2@elsewhere/x')).toBe('see http://[redacted]@elsewhere/x');
  });

  it('delivery failures are told by code, not by a message that may quote the URL', () => {
    const error = Object.assign(new Error('connect ECONNREFUSED https://x/secret-path'), {
      code: 'ECONNREFUSED',
    });
    expect(failureReason(new TypeError('fetch failed', { cause: error }), new Scrubber())).toBe(
      'ECONNREFUSED',
    );
    expect(
      failureReason(
        Object.assign(new Error('Invalid login: 535'), { code: 'EAUTH', responseCode: 535 }),
        new Scrubber(),
      ),
    ).toBe('EAUTH, SMTP 535');
  });
});

describe('alert messages', () => {
  const context = {
    host: 'batch-1',
    at: new Date('2026-11-30T02:00:05Z'),
    maxDurationSeconds: 3600,
    scrubber: new Scrubber(),
  };

  it('carry counts and identifiers, never document text nor dry-run lists', () => {
    const withText = {
      ...report,
      documents: { badSamples: [{ id: 'd1', reason: 'tooLarge', excerpt: 'PRIVATE TEXT' }] },
      stopwords: { en: { privateword: '1.0' } },
    };
    const message = runAlert('failure', withText, context);
    const sent = JSON.stringify([
      slackPayload(message),
      webhookPayload(message),
      emailBody(message),
    ]);
    expect(sent).not.toContain('PRIVATE TEXT');
    expect(sent).not.toContain('privateword');
    expect(Object.keys(message.result ?? {}).sort()).toEqual(
      [
        'documentsProcessed',
        'dryRun',
        'durationSeconds',
        'errors',
        'exitCode',
        'languages',
        'mode',
        'phases',
        'published',
        'runId',
        'stopwordsUpdated',
        'success',
        'timestamp',
        'version',
        'window',
      ].sort(),
    );
  });

  it('say what happened, what is live and what to do', () => {
    const message = runAlert('failure', report, context);
    expect(message.title).toBe('stopword-refresh FAILED on batch-1 (exit 1)');
    expect(message.lines).toEqual([
      'Error: Redis: connection refused',
      'Live lists: unchanged, the previous version stays live',
      'Run: r1, delta, started 2026-11-30T02:00:00.000Z, took 4.2 s, 10 documents',
      expect.stringMatching(/^What to do: read the error/),
    ]);
    expect(runAlert('failure', { ...report, exitCode: 2 }, context).runbook).toMatch(/#exit-2-/);
    expect(
      runAlert('failure', { ...report, published: true, version: 9 }, context).lines[1],
    ).toMatch(/version 9 was published before the failure/);
  });

  it('escape Slack control characters and clip long errors', () => {
    const message = runAlert(
      'failure',
      { ...report, errors: [`<@channel> & ${'x'.repeat(900)}`] },
      context,
    );
    const text = JSON.stringify(slackPayload(message));
    expect(text).toContain('&lt;@channel&gt; &amp;');
    expect(message.lines[0]?.length).toBeLessThan(520);
  });

  it('a test alert says so', () => {
    const message = testAlert(context);
    expect(message).toMatchObject({ event: 'test', severity: 'info', result: null });
    expect(emailBody(message)).toContain('check --alerts');
  });
});
