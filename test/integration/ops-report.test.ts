// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration's reference syntax, not a mistyped template.
/**
 * reportRun against real receivers: a prometheus-pushgateway (read back), the node_exporter
 * textfile, a local HTTP server for Slack and the webhook, and an smtp-server for e-mail.
 */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/types.js';
import type { Logger } from '../../src/ops/logger.js';
import { METRIC } from '../../src/ops/metrics.js';
import { MEMORY_FILE } from '../../src/ops/outcome-memory.js';
import { type ReportConfig, reportRun } from '../../src/ops/report-run.js';
import type { RunReport } from '../../src/ops/run-report.js';
import { type HttpReceiver, startHttpReceiver } from '../support/http-receiver.js';
import {
  type PushgatewayServer,
  parseSamples,
  sampleOf,
  startPushgateway,
} from '../support/pushgateway.js';
import { type SmtpReceiver, startSmtpReceiver } from '../support/smtp-receiver.js';

const SLACK_TOKEN = 'T0000/B0000/slackSecretToken42';
const HOOK_TOKEN = 'hookSecretToken77';
const SMTP_PASSWORD = 'smtpPass-9f3a';

let gateway: PushgatewayServer;
let receiver: HttpReceiver;
let smtp: SmtpReceiver;
let dir: string;
let seq = 0;

beforeAll(async () => {
  [gateway, receiver, smtp] = await Promise.all([
    startPushgateway(),
    startHttpReceiver(),
    startSmtpReceiver('alerts', SMTP_PASSWORD),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-ops-report-'));
});

afterAll(async () => {
  await Promise.all([gateway?.stop(), receiver?.stop(), smtp?.stop()]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  receiver.clear();
  smtp.clear();
});

interface Setup {
  readonly config: ReportConfig;
  readonly env: NodeJS.ProcessEnv;
  readonly host: string;
  readonly textfile: string;
  readonly stateDir: string;
  readonly slackPath: string;
  readonly hookPath: string;
}

function setup(overrides: { hookPath?: string; slackUrl?: string | null } = {}): Setup {
  seq++;
  const stateDir = join(dir, `state-${seq}`);
  const textfile = join(dir, `metrics-${seq}.prom`);
  const slackPath = `/services/${SLACK_TOKEN}`;
  const hookPath = overrides.hookPath ?? `/hook/${HOOK_TOKEN}`;
  const alerts: Config['alerts'] = {
    slack: {
      webhookUrl: overrides.slackUrl === undefined ? '${TEST_SLACK_URL}' : overrides.slackUrl,
    },
    webhook: { url: `${receiver.url}${hookPath}` },
    email: {
      smtpUrl: `smtp://alerts:\${TEST_SMTP_PASSWORD}@127.0.0.1:${smtp.port}`,
      from: 'stopword-refresh@example.com',
      to: ['oncall@example.com'],
    },
    onLockHeld: 'ignore',
  };
  return {
    config: {
      maxDurationSeconds: 3600,
      monitoring: { pushgateway: { url: gateway.url }, textfile: { path: textfile } },
      alerts,
      state: { dir: stateDir },
      redis: { url: 'redis://:redisPassw0rd@127.0.0.1:6390' },
    },
    env: {
      TEST_SLACK_URL: `${receiver.url}${slackPath}`,
      TEST_SMTP_PASSWORD: SMTP_PASSWORD,
    },
    host: `host-${seq}-${Math.random().toString(36).slice(2, 8)}`,
    textfile,
    stateDir,
    slackPath,
    hookPath,
  };
}

function runReport(overrides: Partial<RunReport> = {}): RunReport {
  return {
    success: true,
    durationSeconds: 12.5,
    documentsProcessed: 120,
    stopwordsUpdated: 24,
    errors: [],
    timestamp: '2026-11-30T02:00:00.000Z',
    runId: `20261130T020000Z-${Math.random().toString(16).slice(2, 8)}`,
    mode: 'full',
    dryRun: false,
    version: 1,
    published: true,
    exitCode: 0,
    window: { from: null, to: '2026-11-30T01:55:00.000Z' },
    languages: {
      en: { documents: 40, stopwords: 8, added: 8, removed: 0, published: true },
      de: { documents: 40, stopwords: 8, added: 8, removed: 0, published: true },
    },
    phases: { connect: 0.01, analyze: 12, select: 0.1, publish: 0.2 },
    ...overrides,
  };
}

function failed(overrides: Partial<RunReport> = {}): RunReport {
  return runReport({
    success: false,
    exitCode: 1,
    errors: ['Redis: connection refused'],
    version: null,
    published: false,
    languages: {},
    stopwordsUpdated: 0,
    ...overrides,
  });
}

/** A logger whose JSON lines the test can read. */
function capturingLogger(): {
  logger: Logger;
  lines: () => Array<Record<string, unknown>>;
  text: () => string;
} {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  const logger = pino({ level: 'debug' }, stream);
  return {
    logger,
    text: () => text,
    lines: () =>
      text
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

let clock = Date.parse('2026-11-30T02:00:13Z');
function at(): () => Date {
  clock += 86_400_000;
  const fixed = new Date(clock);
  return () => fixed;
}

async function groupSamples(host: string) {
  return (await gateway.samples()).filter((s) => s.labels['instance'] === host);
}

describe('metrics', () => {
  it('a success pushes every family under {job, instance} and writes the same to the textfile', async () => {
    const s = setup();
    const now = at();
    const log = capturingLogger();
    const summary = await reportRun({
      ...s,
      report: runReport(),
      logger: log.logger,
      now,
      host: s.host,
    });
    expect(summary).toMatchObject({
      pushgateway: 'written',
      textfile: 'written',
      outcome: 'success',
      alert: null,
    });

    const seconds = now().getTime() / 1000;
    const pushed = await groupSamples(s.host);
    for (const sample of pushed) expect(sample.labels['job']).toBe('stopword-refresh');
    expect(sampleOf(pushed, METRIC.lastSuccess)?.value).toBe(seconds);
    expect(sampleOf(pushed, METRIC.lastRun)?.value).toBe(seconds);
    expect(sampleOf(pushed, METRIC.lastRunSuccess)?.value).toBe(1);
    expect(sampleOf(pushed, METRIC.lastRunExitCode)?.value).toBe(0);
    expect(sampleOf(pushed, METRIC.duration, { phase: 'total' })?.value).toBe(12.5);
    expect(sampleOf(pushed, METRIC.duration, { phase: 'analyze' })?.value).toBe(12);
    expect(sampleOf(pushed, METRIC.documents)?.value).toBe(120);
    expect(sampleOf(pushed, METRIC.stopwords, { language: 'en' })?.value).toBe(8);
    expect(sampleOf(pushed, METRIC.added, { language: 'de' })?.value).toBe(8);
    expect(sampleOf(pushed, METRIC.removed, { language: 'de' })?.value).toBe(0);
    expect(sampleOf(pushed, METRIC.errors)?.value).toBe(0);
    expect(sampleOf(pushed, METRIC.liveVersion)?.value).toBe(1);
    expect(sampleOf(pushed, METRIC.maxDuration)?.value).toBe(3600);

    const local = parseSamples(await readFile(s.textfile, 'utf8'));
    expect(sampleOf(local, METRIC.lastSuccess)?.value).toBe(seconds);
    expect(sampleOf(local, METRIC.stopwords, { language: 'de' })?.value).toBe(8);
    // The collector would reject a file with job/instance labels of its own.
    expect(local.every((sample) => sample.labels['instance'] === undefined)).toBe(true);
    // No temporary file is left beside the textfile.
    expect((await readdir(dir)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });

  it('a failed run keeps the last success and the live-list families, and records its own outcome', async () => {
    const s = setup();
    const log = capturingLogger();
    const first = at();
    await reportRun({ ...s, report: runReport(), logger: log.logger, now: first, host: s.host });
    const success = first().getTime() / 1000;
    const second = at();
    await reportRun({
      ...s,
      report: failed({ durationSeconds: 3, documentsProcessed: 0 }),
      logger: log.logger,
      now: second,
      host: s.host,
    });

    for (const samples of [
      await groupSamples(s.host),
      parseSamples(await readFile(s.textfile, 'utf8')),
    ]) {
      expect(sampleOf(samples, METRIC.lastSuccess)?.value).toBe(success);
      expect(sampleOf(samples, METRIC.lastRun)?.value).toBe(second().getTime() / 1000);
      expect(sampleOf(samples, METRIC.lastRunSuccess)?.value).toBe(0);
      expect(sampleOf(samples, METRIC.lastRunExitCode)?.value).toBe(1);
      expect(sampleOf(samples, METRIC.errors)?.value).toBe(1);
      expect(sampleOf(samples, METRIC.duration, { phase: 'total' })?.value).toBe(3);
      expect(sampleOf(samples, METRIC.stopwords, { language: 'en' })?.value).toBe(8);
      expect(sampleOf(samples, METRIC.liveVersion)?.value).toBe(1);
    }
  });

  it('a success replaces the live-list families: a language no longer live leaves them', async () => {
    const s = setup();
    const log = capturingLogger();
    await reportRun({ ...s, report: runReport(), logger: log.logger, now: at(), host: s.host });
    const second = runReport({
      version: 2,
      languages: {
        en: { documents: 40, stopwords: 9, added: 1, removed: 0, published: true },
        de: { documents: 0, stopwords: 0, added: 0, removed: 8, published: false },
      },
    });
    await reportRun({ ...s, report: second, logger: log.logger, now: at(), host: s.host });
    for (const samples of [
      await groupSamples(s.host),
      parseSamples(await readFile(s.textfile, 'utf8')),
    ]) {
      expect(sampleOf(samples, METRIC.stopwords, { language: 'en' })?.value).toBe(9);
      expect(sampleOf(samples, METRIC.stopwords, { language: 'de' })).toBeUndefined();
      expect(sampleOf(samples, METRIC.removed, { language: 'de' })?.value).toBe(8);
      expect(sampleOf(samples, METRIC.liveVersion)?.value).toBe(2);
    }

    // No list live at all: a family without samples must still clear the old series.
    const none = runReport({
      version: 3,
      languages: { en: { documents: 3, stopwords: 0, added: 0, removed: 9, published: false } },
    });
    await reportRun({ ...s, report: none, logger: log.logger, now: at(), host: s.host });
    for (const samples of [
      await groupSamples(s.host),
      parseSamples(await readFile(s.textfile, 'utf8')),
    ]) {
      expect(samples.filter((x) => x.name === METRIC.stopwords)).toEqual([]);
      expect(sampleOf(samples, METRIC.removed, { language: 'de' })).toBeUndefined();
      expect(sampleOf(samples, METRIC.removed, { language: 'en' })?.value).toBe(9);
    }
  });

  it('a run that found the lock held only records that, and sends nothing by default', async () => {
    const s = setup();
    const log = capturingLogger();
    const first = at();
    await reportRun({ ...s, report: runReport(), logger: log.logger, now: first, host: s.host });
    const locked = at();
    const summary = await reportRun({
      ...s,
      report: failed({ exitCode: 3, errors: ['another run holds the lock'] }),
      logger: log.logger,
      now: locked,
      host: s.host,
    });
    expect(summary.alert).toBeNull();
    for (const samples of [
      await groupSamples(s.host),
      parseSamples(await readFile(s.textfile, 'utf8')),
    ]) {
      expect(sampleOf(samples, METRIC.lockHeld)?.value).toBe(locked().getTime() / 1000);
      expect(sampleOf(samples, METRIC.lastRunSuccess)?.value).toBe(1);
      expect(sampleOf(samples, METRIC.lastRun)?.value).toBe(first().getTime() / 1000);
    }
    expect(receiver.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it('the textfile drops families this job does not write and survives a corrupt previous file', async () => {
    const s = setup();
    await writeFile(
      s.textfile,
      '# HELP stopword_refresh_old_metric gone\n# TYPE stopword_refresh_old_metric gauge\nstopword_refresh_old_metric 1\n\u0000garbage{\n',
    );
    await reportRun({
      ...s,
      report: failed(),
      logger: capturingLogger().logger,
      now: at(),
      host: s.host,
    });
    const text = await readFile(s.textfile, 'utf8');
    expect(text).not.toContain('old_metric');
    expect(text).not.toContain('garbage');
    expect(sampleOf(parseSamples(text), METRIC.lastRunSuccess)?.value).toBe(0);
  });

  it('a dry run reports nothing', async () => {
    const s = setup();
    const summary = await reportRun({
      ...s,
      report: failed({ dryRun: true }),
      logger: capturingLogger().logger,
      host: s.host,
    });
    expect(summary.skipped).toBe('dry run');
    expect(await groupSamples(s.host)).toEqual([]);
    await expect(readFile(s.textfile)).rejects.toThrow(/ENOENT/);
    expect(receiver.requests).toEqual([]);
  });
});

describe('alerts', () => {
  it('a failure alerts every channel, without secrets or document text', async () => {
    const s = setup();
    const log = capturingLogger();
    const report = failed({
      errors: [`Redis: cannot reach ${s.env['TEST_SLACK_URL']} (password redisPassw0rd)`],
    });
    // Fields an alert must never carry, even if a JobResult has them.
    const withText = {
      ...report,
      documents: { badSamples: [{ id: 'd1', text: 'SECRET DOCUMENT TEXT' }] },
      stopwords: { en: { thedocword: '1' } },
    };
    const summary = await reportRun({
      ...s,
      report: withText,
      logger: log.logger,
      now: at(),
      host: s.host,
    });
    expect(summary.alert).toBe('failure');
    expect(summary.channels).toEqual({
      slack: { ok: true },
      webhook: { ok: true },
      email: { ok: true },
    });

    const [slack] = receiver.on(s.slackPath);
    const [hook] = receiver.on(s.hookPath);
    const [mail] = await smtp.waitFor(1);
    expect(slack?.json).toMatchObject({
      text: expect.stringContaining(`FAILED on ${s.host} (exit 1)`),
    });
    expect(hook?.json).toMatchObject({
      source: 'stopword-refresh',
      event: 'failure',
      severity: 'critical',
      host: s.host,
      runbook: 'docs/ops/stopword-refresh-runbook.md#exit-1-the-run-failed',
      result: { success: false, exitCode: 1, runId: report.runId, published: false },
    });
    expect(mail?.subject).toContain(`[critical] stopword-refresh FAILED on ${s.host}`);
    expect(mail?.to).toEqual(['oncall@example.com']);
    expect(mail?.user).toBe('alerts');
    expect(mail?.text).toContain('Live lists: unchanged');

    const everything = [slack?.body, hook?.body, mail?.raw, log.text()].join('\n');
    for (const secret of [
      SLACK_TOKEN,
      HOOK_TOKEN,
      SMTP_PASSWORD,
      'redisPassw0rd',
      'SECRET DOCUMENT TEXT',
      'thedocword',
    ]) {
      expect(everything).not.toContain(secret);
    }
    expect(String(hook?.body)).toContain('[redacted]');
  });

  it('guardrail refusal and SLA breach are alerted with their own advice', async () => {
    const s = setup();
    const log = capturingLogger();
    await reportRun({
      ...s,
      report: failed({ exitCode: 4, errors: ['guardrail: en would lose 60% of its stopwords'] }),
      logger: log.logger,
      now: at(),
      host: s.host,
    });
    await reportRun({
      ...s,
      report: failed({
        exitCode: 5,
        durationSeconds: 3600.2,
        errors: ['the run exceeded maxDurationSeconds (3600 s)'],
      }),
      logger: log.logger,
      now: at(),
      host: s.host,
    });
    const hooks = receiver.on(s.hookPath).map((r) => r.json as Record<string, unknown>);
    expect(hooks.map((h) => [h['event'], h['severity']])).toEqual([
      ['guardrail', 'warning'],
      ['deadline', 'critical'],
    ]);
    expect(hooks[0]?.['runbook']).toMatch(/#exit-4-/);
    expect(hooks[1]?.['title']).toContain('maxDurationSeconds is 3600 (exit 5)');
    expect((await smtp.waitFor(2)).map((m) => m.subject)).toEqual([
      expect.stringContaining('guardrail refused'),
      expect.stringContaining('passed its SLA'),
    ]);
  });

  it('the first success after failures sends one recovery notice, the next success none', async () => {
    const s = setup();
    const log = capturingLogger();
    const failedRun = failed({ timestamp: '2026-11-28T02:00:00.000Z' });
    await reportRun({ ...s, report: failedRun, logger: log.logger, now: at(), host: s.host });
    await reportRun({
      ...s,
      report: failed({ exitCode: 5 }),
      logger: log.logger,
      now: at(),
      host: s.host,
    });
    receiver.clear();
    smtp.clear();

    const recovered = await reportRun({
      ...s,
      report: runReport({ version: 7 }),
      logger: log.logger,
      now: at(),
      host: s.host,
    });
    expect(recovered.alert).toBe('recovery');
    const [hook] = receiver.on(s.hookPath);
    expect(hook?.json).toMatchObject({ event: 'recovery', severity: 'info' });
    const notice = (hook?.json ?? {}) as { title?: string; text?: string };
    expect(notice.title).toContain('after 2 failed run(s)');
    expect(notice.text).toContain('Failing since: 2026-11-28T02:00:00.000Z');
    expect(receiver.on(s.slackPath)).toHaveLength(1);
    expect(await smtp.waitFor(1)).toHaveLength(1);

    const again = await reportRun({
      ...s,
      report: runReport(),
      logger: log.logger,
      now: at(),
      host: s.host,
    });
    expect(again.alert).toBeNull();
    expect(receiver.on(s.hookPath)).toHaveLength(1);
    const memory = JSON.parse(await readFile(join(s.stateDir, MEMORY_FILE), 'utf8'));
    expect(memory).toMatchObject({ failing: false, failedRuns: 0 });
  });

  it('lock held is alerted only when asked, and then ends with a recovery', async () => {
    const s = setup();
    const log = capturingLogger();
    const locked = failed({ exitCode: 3, errors: ['another run holds the lock'] });
    expect(
      (await reportRun({ ...s, report: locked, logger: log.logger, host: s.host })).alert,
    ).toBeNull();
    const asked = await reportRun({
      ...s,
      report: locked,
      logger: log.logger,
      host: s.host,
      alertOnLockHeld: true,
    });
    expect(asked.alert).toBe('locked');
    expect(receiver.on(s.hookPath).map((r) => (r.json as { event: string }).event)).toEqual([
      'locked',
    ]);
    expect(
      (await reportRun({ ...s, report: runReport(), logger: log.logger, host: s.host })).alert,
    ).toBe('recovery');
  });

  it('without any alert channel nothing is sent and nothing is written to the state directory', async () => {
    const s = setup();
    const config: ReportConfig = {
      ...s.config,
      alerts: {
        slack: { webhookUrl: null },
        webhook: { url: null },
        email: { smtpUrl: null, from: null, to: [] },
        onLockHeld: 'ignore',
      },
    };
    const summary = await reportRun({
      ...s,
      config,
      report: failed(),
      logger: capturingLogger().logger,
      host: s.host,
    });
    expect(summary).toMatchObject({ alert: null, channels: {}, pushgateway: 'written' });
    await expect(readdir(s.stateDir)).rejects.toThrow(/ENOENT/);
    expect(receiver.requests).toEqual([]);
  });

  it('a failing channel is logged and the others still deliver; nothing throws', async () => {
    const s = setup({ hookPath: `/fail/${HOOK_TOKEN}` });
    const log = capturingLogger();
    const summary = await reportRun({
      ...s,
      env: { TEST_SMTP_PASSWORD: SMTP_PASSWORD },
      report: failed(),
      logger: log.logger,
      host: s.host,
    });
    expect(summary.channels.slack).toEqual({
      ok: false,
      reason: 'alerts.slack.webhookUrl: environment variable TEST_SLACK_URL is not set',
    });
    expect(summary.channels.webhook).toEqual({ ok: false, reason: 'HTTP 500: receiver is down' });
    expect(summary.channels.email).toEqual({ ok: true });
    expect(await smtp.waitFor(1)).toHaveLength(1);
    const undelivered = log.lines().filter((l) => l['msg'] === 'alert not delivered');
    expect(undelivered.map((l) => l['channel']).sort()).toEqual(['slack', 'webhook']);
    expect(log.text()).not.toContain(HOOK_TOKEN);
  });

  it('an unreachable Pushgateway, textfile directory and SMTP server are logged, never thrown', async () => {
    const s = setup();
    const log = capturingLogger();
    const config: ReportConfig = {
      ...s.config,
      monitoring: {
        pushgateway: { url: 'http://user:pgwPassword1@127.0.0.1:1' },
        textfile: { path: join(dir, 'no-such-dir', 'x.prom') },
      },
      alerts: {
        ...s.config.alerts,
        email: { ...s.config.alerts.email, smtpUrl: 'smtp://alerts:smtpPass-9f3a@127.0.0.1:1' },
      },
    };
    const summary = await reportRun({
      ...s,
      config,
      report: failed(),
      logger: log.logger,
      host: s.host,
      timeoutMs: 3000,
    });
    expect(summary).toMatchObject({ pushgateway: 'failed', textfile: 'failed' });
    expect(summary.channels.email?.ok).toBe(false);
    expect(summary.channels.slack).toEqual({ ok: true });
    expect(log.text()).not.toContain('pgwPassword1');
    expect(log.text()).not.toContain(SMTP_PASSWORD);
    expect(log.lines().map((l) => l['msg'])).toEqual(
      expect.arrayContaining(['metrics not pushed', 'metrics not written', 'alert not delivered']),
    );
  });
});
