// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration's reference syntax, not a mistyped template.
/**
 * The built CLI reporting its runs: metrics to a real prometheus-pushgateway and a textfile,
 * alerts to a local HTTP receiver (Slack, webhook) and an smtp-server, against a real redis-server.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { METRIC } from '../../src/ops/metrics.js';
import { runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { type HttpReceiver, startHttpReceiver } from '../support/http-receiver.js';
import {
  type PushgatewayServer,
  parseSamples,
  type Sample,
  sampleOf,
  startPushgateway,
} from '../support/pushgateway.js';
import { type RedisServer, refusedPort, startRedis } from '../support/redis-server.js';
import { type SmtpReceiver, startSmtpReceiver } from '../support/smtp-receiver.js';

const SLACK_PATH = '/services/T0E2E/B0E2E/e2eSlackToken31';
const HOOK_PATH = '/hook/e2eHookToken59';
const SMTP_PASSWORD = 'e2eSmtpPass-77';

let redis: RedisServer;
let gateway: PushgatewayServer;
let receiver: HttpReceiver;
let smtp: SmtpReceiver;
let dir: string;
let corpus: string;
let seq = 0;

beforeAll(async () => {
  [redis, gateway, receiver, smtp] = await Promise.all([
    startRedis(),
    startPushgateway(),
    startHttpReceiver(),
    startSmtpReceiver('alerts', SMTP_PASSWORD),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-ops-e2e-'));
  corpus = join(dir, 'corpus.ndjson');
  await writeCorpus(corpus, makeCorpus({ seed: 6, perLanguage: 30 }));
});

afterAll(async () => {
  await Promise.all([redis?.stop(), gateway?.stop(), receiver?.stop(), smtp?.stop()]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  receiver.clear();
  smtp.clear();
});

interface Deployment {
  readonly config: string;
  readonly stateDir: string;
  readonly textfile: string;
  readonly env: Record<string, string>;
  readonly prefix: string;
}

/** A configuration file as an operator would write it: secrets as ${VAR} references. */
async function deployment(
  options: { hookPath?: string; pushgateway?: string } = {},
): Promise<Deployment> {
  seq++;
  const prefix = `ops${seq}-${Math.random().toString(36).slice(2, 7)}`;
  const config = join(dir, `config-${seq}.yaml`);
  const textfile = join(dir, `metrics-${seq}.prom`);
  await writeFile(
    config,
    [
      'analysis:',
      '  minDocuments: 10',
      '  workers: 2',
      'redis:',
      `  keyPrefix: ${prefix}`,
      '  connectTimeoutSeconds: 1',
      'monitoring:',
      `  pushgateway: { url: "${options.pushgateway ?? gateway.url}" }`,
      `  textfile: { path: ${textfile} }`,
      'alerts:',
      '  slack: { webhookUrl: "${TEST_SLACK_WEBHOOK}" }',
      `  webhook: { url: "${receiver.url}\${TEST_HOOK_PATH}" }`,
      '  email:',
      `    smtpUrl: "smtp://alerts:\${TEST_SMTP_PASSWORD}@127.0.0.1:${smtp.port}"`,
      '    from: stopword-refresh@example.com',
      '    to: [search-oncall@example.com]',
      '',
    ].join('\n'),
  );
  return {
    config,
    stateDir: join(dir, `state-${seq}`),
    textfile,
    prefix,
    env: {
      TEST_SLACK_WEBHOOK: `${receiver.url}${SLACK_PATH}`,
      TEST_HOOK_PATH: options.hookPath ?? HOOK_PATH,
      TEST_SMTP_PASSWORD: SMTP_PASSWORD,
      STOPWORD_REFRESH_LOGGING_LEVEL: 'info',
    },
  };
}

function run(d: Deployment, redisUrl = redis.url, extra: string[] = []) {
  return runCli(
    [
      'run',
      '--config',
      d.config,
      '--source',
      `file:${corpus}`,
      '--redis',
      redisUrl,
      '--state-dir',
      d.stateDir,
      ...extra,
    ],
    { env: d.env },
  );
}

async function pushed(): Promise<Sample[]> {
  return (await gateway.samples()).filter(
    (s) => s.labels['instance'] === hostname() && s.labels['job'] === 'stopword-refresh',
  );
}

async function textfileSamples(d: Deployment): Promise<Sample[]> {
  return parseSamples(await readFile(d.textfile, 'utf8'));
}

function expectNoSecrets(text: string): void {
  for (const secret of ['e2eSlackToken31', 'e2eHookToken59', SMTP_PASSWORD, 's3cretRedis']) {
    expect(text).not.toContain(secret);
  }
}

describe('run reports to monitoring and alerting', () => {
  it('Redis down: exit 1, an alert on every channel, last success unchanged in both sinks; then a recovery', async () => {
    const d = await deployment();

    const ok = await run(d);
    expect(ok.code, ok.stderr).toBe(0);
    expect(receiver.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
    const gatewayAfterSuccess = await pushed();
    const lastSuccess = sampleOf(gatewayAfterSuccess, METRIC.lastSuccess)?.value;
    expect(lastSuccess).toBeGreaterThan(Date.now() / 1000 - 120);
    expect(sampleOf(gatewayAfterSuccess, METRIC.lastRunSuccess)?.value).toBe(1);
    expect(sampleOf(gatewayAfterSuccess, METRIC.liveVersion)?.value).toBe(1);
    expect(sampleOf(gatewayAfterSuccess, METRIC.stopwords, { language: 'fr' })?.value).toBe(8);
    expect(sampleOf(gatewayAfterSuccess, METRIC.documents)?.value).toBe(90);
    expect(sampleOf(await textfileSamples(d), METRIC.lastSuccess)?.value).toBe(lastSuccess);

    const down = `redis://:s3cretRedis@127.0.0.1:${await refusedPort()}`;
    const failed = await run(d, down);
    expect(failed.code).toBe(1);
    expect(failed.json).toMatchObject({ success: false, exitCode: 1 });

    const [slack] = await receiver.waitFor(SLACK_PATH, 1);
    const [hook] = await receiver.waitFor(HOOK_PATH, 1);
    const [mail] = await smtp.waitFor(1);
    expect(slack?.json).toMatchObject({
      text: `stopword-refresh FAILED on ${hostname()} (exit 1)`,
    });
    expect(hook?.json).toMatchObject({
      event: 'failure',
      result: { success: false, exitCode: 1, runId: failed.json?.runId },
    });
    expect(String((hook?.json as { text?: string } | undefined)?.text)).toMatch(/Error: .*Redis/);
    expect(mail?.subject).toContain('FAILED');
    expect(mail?.to).toEqual(['search-oncall@example.com']);

    for (const samples of [await pushed(), await textfileSamples(d)]) {
      expect(sampleOf(samples, METRIC.lastSuccess)?.value).toBe(lastSuccess);
      expect(sampleOf(samples, METRIC.lastRunSuccess)?.value).toBe(0);
      expect(sampleOf(samples, METRIC.lastRunExitCode)?.value).toBe(1);
      expect(sampleOf(samples, METRIC.errors)?.value).toBe(1);
      expect(sampleOf(samples, METRIC.liveVersion)?.value).toBe(1);
    }
    expectNoSecrets([failed.stdout, failed.stderr, slack?.body, hook?.body, mail?.raw].join('\n'));

    receiver.clear();
    smtp.clear();
    const recovered = await run(d);
    expect(recovered.code, recovered.stderr).toBe(0);
    expect((await receiver.waitFor(HOOK_PATH, 1))[0]?.json).toMatchObject({
      event: 'recovery',
      severity: 'info',
    });
    expect(await receiver.waitFor(SLACK_PATH, 1)).toHaveLength(1);
    expect((await smtp.waitFor(1))[0]?.subject).toContain('recovered');
    const after = await pushed();
    expect(sampleOf(after, METRIC.lastSuccess)?.value).toBeGreaterThanOrEqual(lastSuccess ?? 0);
    expect(sampleOf(after, METRIC.lastRunSuccess)?.value).toBe(1);
    expect(recovered.stderr).toContain('"msg":"alert sent"');

    receiver.clear();
    smtp.clear();
    const quiet = await run(d);
    expect(quiet.code, `signal ${String(quiet.signal)}; ${quiet.stderr}`).toBe(0);
    expect(receiver.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
  });

  it('a failing channel and a dead Pushgateway change neither the exit code nor the error', async () => {
    const d = await deployment({
      hookPath: '/fail/hook',
      pushgateway: `http://127.0.0.1:${await refusedPort()}`,
    });
    const ok = await run(d);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json).toMatchObject({ success: true, errors: [] });
    expect(ok.stderr).toContain('"msg":"metrics not pushed"');

    const failed = await run(d, `redis://127.0.0.1:${await refusedPort()}`);
    expect(failed.code).toBe(1);
    expect(String((failed.json?.errors as string[] | undefined)?.[0])).toMatch(/Redis/);
    expect(receiver.on('/fail/hook')).toHaveLength(1);
    expect(receiver.on(SLACK_PATH)).toHaveLength(1);
    expect(await smtp.waitFor(1)).toHaveLength(1);
    const undelivered = failed.stderr
      .split('\n')
      .filter((l) => l.includes('"msg":"alert not delivered"'))
      .map((l) => JSON.parse(l) as { channel: string; reason: string });
    expect(undelivered).toEqual([
      expect.objectContaining({ channel: 'webhook', reason: 'HTTP 500: receiver is down' }),
    ]);
    // The textfile is written even though the gateway is down.
    expect(sampleOf(await textfileSamples(d), METRIC.lastRunSuccess)?.value).toBe(0);
  });

  it('a dry run sends no alert and pushes nothing', async () => {
    const d = await deployment();
    expect((await run(d)).code).toBe(0);
    const pushTime = async () =>
      sampleOf(await gateway.samples(), 'push_time_seconds', {
        job: 'stopword-refresh',
        instance: hostname(),
      })?.value;
    const before = await pushTime();
    const textfile = await readFile(d.textfile, 'utf8');
    expect(before).toBeGreaterThan(0);

    const dry = await run(d, `redis://127.0.0.1:${await refusedPort()}`, ['--dry-run']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(receiver.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
    expect(await pushTime()).toBe(before);
    expect(await readFile(d.textfile, 'utf8')).toBe(textfile);
  });
});
