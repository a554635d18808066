// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the configuration's reference syntax, not a mistyped template.
/**
 * `check` and `schedule` as the built CLI, against real services.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BIN, runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { type HttpReceiver, startHttpReceiver } from '../support/http-receiver.js';
import { type PushgatewayServer, startPushgateway } from '../support/pushgateway.js';
import { freePort, type RedisServer, startRedis } from '../support/redis-server.js';
import { type SmtpReceiver, startSmtpReceiver } from '../support/smtp-receiver.js';

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
    startSmtpReceiver('alerts', 'checkPass-3'),
  ]);
  dir = await mkdtemp(join(tmpdir(), 'swr-check-'));
  corpus = join(dir, 'corpus.ndjson');
  await writeCorpus(corpus, makeCorpus({ seed: 9, perLanguage: 20 }));
});

afterAll(async () => {
  await Promise.all([redis?.stop(), gateway?.stop(), receiver?.stop(), smtp?.stop()]);
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  receiver.clear();
  smtp.clear();
});

async function configFile(lines: readonly string[]): Promise<string> {
  seq++;
  const file = join(dir, `config-${seq}.yaml`);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

function fullConfig(extra: readonly string[] = []): Promise<string> {
  return configFile([
    'redis: { connectTimeoutSeconds: 1 }',
    'monitoring:',
    `  pushgateway: { url: "${gateway.url}" }`,
    `  textfile: { path: ${join(dir, 'check.prom')} }`,
    'alerts:',
    '  slack: { webhookUrl: "${CHECK_SLACK_URL}" }',
    `  webhook: { url: "${receiver.url}/hook/checkHookToken" }`,
    '  email:',
    `    smtpUrl: "smtp://alerts:\${CHECK_SMTP_PASSWORD}@127.0.0.1:${smtp.port}"`,
    '    from: stopword-refresh@example.com',
    '    to: [oncall@example.com]',
    ...extra,
  ]);
}

const checkEnv = {
  CHECK_SLACK_URL: '',
  CHECK_SMTP_PASSWORD: 'checkPass-3',
};

interface CheckJson {
  ok: boolean;
  checks: Array<{ name: string; status: string; detail: string }>;
}

function statuses(json: unknown): Record<string, string> {
  return Object.fromEntries((json as CheckJson).checks.map((c) => [c.name, c.status]));
}

function detail(json: unknown, name: string): string {
  return (json as CheckJson).checks.find((c) => c.name === name)?.detail ?? '';
}

describe('check', () => {
  it('reaches every configured service, prints what it checked, and writes nothing', async () => {
    const config = await fullConfig();
    const client = createClient({ url: redis.url });
    await client.connect();
    const keysBefore = await client.keys('*');
    const env = { ...checkEnv, CHECK_SLACK_URL: `${receiver.url}/services/T1/B1/checkSlackToken` };
    const args = [
      'check',
      '--config',
      config,
      '--source',
      `file:${corpus}`,
      '--redis',
      redis.url,
      '--state-dir',
      join(dir, 'state'),
    ];

    const table = await runCli(args, { env });
    expect(table.code, table.stdout + table.stderr).toBe(0);
    expect(table.stdout).toMatch(/^ok {4}config +\S+config-\d+\.yaml$/m);
    expect(table.stdout).toMatch(
      /^ok {4}redis +redis:\/\/127\.0\.0\.1:\d+: no version published yet/m,
    );
    expect(table.stdout).toMatch(/^ok {4}email +smtp:\/\/127\.0\.0\.1:\d+: server answered$/m);
    expect(table.stdout).toMatch(/all checks passed\n$/);

    const json = await runCli([...args, '--json'], { env });
    expect(json.code).toBe(0);
    expect(statuses(json.json)).toEqual({
      config: 'ok',
      schedule: 'ok',
      source: 'ok',
      redis: 'ok',
      state: 'ok',
      pushgateway: 'ok',
      textfile: 'ok',
      slack: 'ok',
      webhook: 'ok',
      email: 'ok',
    });
    expect(detail(json.json, 'slack')).toBe(
      `${receiver.url}: configured (check --alerts sends a test alert)`,
    );
    expect(json.stdout + json.stderr).not.toContain('checkSlackToken');
    expect(json.stdout + json.stderr).not.toContain('checkHookToken');
    expect(json.stdout + json.stderr).not.toContain('checkPass-3');

    expect(receiver.requests).toEqual([]);
    expect(smtp.mails).toEqual([]);
    expect(await client.keys('*')).toEqual(keysBefore);
    await client.quit();
  });

  it('--alerts sends a test alert to every channel', async () => {
    const config = await fullConfig();
    const env = { ...checkEnv, CHECK_SLACK_URL: `${receiver.url}/services/T1/B1/checkSlackToken` };
    const run = await runCli(
      [
        'check',
        '--config',
        config,
        '--source',
        `file:${corpus}`,
        '--redis',
        redis.url,
        '--alerts',
        '--json',
      ],
      { env },
    );
    expect(run.code, run.stdout).toBe(0);
    expect(detail(run.json, 'webhook')).toBe(`${receiver.url}: test alert delivered`);
    expect(receiver.on('/services/T1/B1/checkSlackToken')[0]?.json).toMatchObject({
      text: expect.stringMatching(/^stopword-refresh test alert from /),
    });
    expect(receiver.on('/hook/checkHookToken')[0]?.json).toMatchObject({
      event: 'test',
      result: null,
    });
    expect((await smtp.waitFor(1))[0]?.subject).toContain('test alert');
  });

  it('fails, naming what is wrong and never a secret: Redis down, unset variable, bad SMTP password', async () => {
    const config = await fullConfig();
    const env = { CHECK_SMTP_PASSWORD: 'wrong-password-5' };
    const run = await runCli(
      [
        'check',
        '--config',
        config,
        '--source',
        `file:${join(dir, 'missing.ndjson')}`,
        '--redis',
        `redis://:redisCheckSecret@127.0.0.1:${await freePort()}`,
        '--json',
      ],
      { env },
    );
    expect(run.code).toBe(1);
    expect(statuses(run.json)).toMatchObject({
      source: 'fail',
      redis: 'fail',
      slack: 'fail',
      email: 'fail',
      pushgateway: 'ok',
    });
    expect(detail(run.json, 'slack')).toBe(
      'alerts.slack.webhookUrl: environment variable CHECK_SLACK_URL is not set',
    );
    expect(detail(run.json, 'redis')).toMatch(/^redis:\/\/:\*\*\*@127\.0\.0\.1:\d+: /);
    expect(detail(run.json, 'email')).toMatch(/EAUTH/);
    expect(detail(run.json, 'source')).toContain('missing.ndjson');
    expect(run.stdout + run.stderr).not.toContain('redisCheckSecret');
    expect(run.stdout + run.stderr).not.toContain('wrong-password-5');

    const table = await runCli(['check', '--config', config, '--redis', redis.url], { env });
    expect(table.code).toBe(1);
    expect(table.stdout).toMatch(/^fail {2}source +source\.uri: /m);
    expect(table.stdout).toMatch(/\d+ check\(s\) failed\n$/);
  });

  it('--alerts with no channel configured fails; a bad configuration exits 2', async () => {
    const none = await configFile(['redis: { connectTimeoutSeconds: 1 }']);
    const run = await runCli([
      'check',
      '--config',
      none,
      '--source',
      `file:${corpus}`,
      '--redis',
      redis.url,
      '--alerts',
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^fail {2}alerts +--alerts: no alert channel is configured$/m);

    const bad = await configFile(['schedule: { cron: "61 2 * * *" }']);
    const refused = await runCli(['check', '--config', bad]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('schedule.cron: minute field "61"');
  });

  it('refuses a Redis Cluster whose key prefix has no hash tag', async () => {
    const port = await freePort();
    const clusterDir = await mkdtemp(join(dir, 'cluster-'));
    const server: ChildProcess = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        join(clusterDir, 'nodes.conf'),
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        clusterDir,
      ],
      { stdio: 'ignore' },
    );
    try {
      const url = `redis://127.0.0.1:${port}`;
      for (let i = 0; i < 100; i++) {
        const probe = createClient({ url, socket: { reconnectStrategy: false } });
        probe.on('error', () => {});
        const up = await probe.connect().then(
          () => true,
          () => false,
        );
        if (up) {
          await probe.close();
          break;
        }
        await sleep(50);
      }
      const plain = await configFile(['redis: { connectTimeoutSeconds: 1 }']);
      const run = await runCli([
        'check',
        '--config',
        plain,
        '--source',
        `file:${corpus}`,
        '--redis',
        url,
        '--json',
      ]);
      expect(run.code).toBe(1);
      expect(detail(run.json, 'redis')).toContain(
        'is a Redis Cluster, but redis.keyPrefix "stopwords" has no hash tag',
      );
    } finally {
      server.kill('SIGTERM');
      await new Promise((resolve) => server.once('exit', resolve));
    }
  });
});

describe('schedule', () => {
  it('prints a cron.d entry and the next five runs of schedule.cron in its zone', async () => {
    const config = await configFile([
      'schedule: { cron: "30 1 * * MON-FRI", timezone: Europe/Paris }',
    ]);
    const run = await runCli(['schedule', '--config', config, '--from', '2026-03-26T12:00:00Z'], {
      env: { TZ: 'Europe/Paris' },
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    const lines = run.stdout.trim().split('\n');
    expect(lines).toContain('CRON_TZ=Europe/Paris');
    const entry = lines.find((l) => l.startsWith('30 1 * * MON-FRI '));
    expect(entry).toBe(
      `30 1 * * MON-FRI stopword-refresh flock -n -E 3 /run/lock/stopword-refresh.lock ${BIN} run --config ${config} >>/var/log/stopword-refresh/run.log 2>&1`,
    );
    // Summer time starts on Sunday 2026-03-29: 01:30 is 00:30Z before it and 23:30Z the day before after it.
    expect(lines.filter((l) => /^# {3}\d{4}-/.test(l))).toEqual([
      '#   2026-03-27T00:30:00Z  Fri 2026-03-27 01:30 Europe/Paris',
      '#   2026-03-29T23:30:00Z  Mon 2026-03-30 01:30 Europe/Paris',
      '#   2026-03-30T23:30:00Z  Tue 2026-03-31 01:30 Europe/Paris',
      '#   2026-03-31T23:30:00Z  Wed 2026-04-01 01:30 Europe/Paris',
      '#   2026-04-01T23:30:00Z  Thu 2026-04-02 01:30 Europe/Paris',
    ]);
  });

  it('--json, the shipped configuration, and a warning when the host zone differs', async () => {
    const run = await runCli(
      ['schedule', '--json', '--from', '2026-11-30T08:00:00Z', '--count', '2', '--user-crontab'],
      { env: { TZ: 'America/New_York' } },
    );
    expect(run.code).toBe(0);
    expect(run.json).toMatchObject({
      cron: '0 2 * * *',
      timezone: 'UTC',
      next: ['2026-12-01T02:00:00Z', '2026-12-02T02:00:00Z'],
      hostTimeZone: 'America/New_York',
    });
    expect(((run.json?.crontab ?? []) as string[]).at(-1)).toBe(
      `0 2 * * * flock -n -E 3 /run/lock/stopword-refresh.lock ${BIN} run >>/var/log/stopword-refresh/run.log 2>&1`,
    );
    expect(run.stderr).toContain(
      "warning: this host's time zone is America/New_York, not schedule.timezone UTC",
    );
  });

  it('quotes paths for the shell, escapes % for cron, and refuses relative paths', async () => {
    const run = await runCli(
      [
        'schedule',
        '--user-crontab',
        '--bin',
        '/opt/stopword refresh/bin/stopword-refresh',
        '--log',
        '/var/log/x%y.log',
      ],
      { env: { TZ: 'UTC' } },
    );
    expect(run.code).toBe(0);
    const entry = run.stdout.split('\n').find((l) => l.startsWith('0 2 * * * ')) ?? '';
    expect(entry).toContain("'/opt/stopword refresh/bin/stopword-refresh' run");
    expect(entry).toContain('>>/var/log/x\\%y.log 2>&1');
    const refused = await runCli(['schedule', '--log', 'relative.log']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('expected an absolute path');
  });
});
