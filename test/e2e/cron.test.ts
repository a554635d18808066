/**
 * The slow one: a real cron daemon (Debian `cron`) runs the built CLI from an /etc/cron.d entry
 * rendered by the same code as `stopword-refresh schedule`, and the run shows up in Redis, in the
 * log and in the metrics textfile. Needs root (as CI has) to write /etc/cron.d; takes up to a
 * minute and a bit, since cron fires on minute boundaries.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crontabLines } from '../../src/ops/crontab.js';
import { METRIC } from '../../src/ops/metrics.js';
import { BIN } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { stopProcess } from '../support/process.js';
import { parseSamples, sampleOf } from '../support/pushgateway.js';
import { type RedisServer, startRedis } from '../support/redis-server.js';

const CRON_BIN = process.env['CRON_BIN'] ?? '/usr/sbin/cron';
const CRON_D = '/etc/cron.d';
const PID_FILE = '/var/run/crond.pid';
/** A minute boundary, cron's own start-up, and the run itself. */
const OBSERVE_MS = 80_000;

let redis: RedisServer;
let dir: string;
let cronFile: string | null = null;
let daemon: ChildProcess | null = null;

beforeAll(async () => {
  if (process.getuid?.() !== 0) {
    throw new Error('the cron end-to-end test needs root to write /etc/cron.d (CI runs as root)');
  }
  if (!existsSync(CRON_BIN)) throw new Error(`${CRON_BIN} is missing; apt-get install cron`);
  redis = await startRedis();
  dir = await mkdtemp(join(tmpdir(), 'swr-cron-'));
});

afterAll(async () => {
  // The entry first, so that the daemon (ours or the host's) never starts the job again.
  if (cronFile !== null) await rm(cronFile, { force: true });
  if (daemon !== null) await stopProcess(daemon);
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

/** A cron daemon already running (the host's), or null. */
function runningDaemon(): number | null {
  try {
    const pid = Number(readFileSync(PID_FILE, 'utf8').trim());
    if (!Number.isSafeInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'cron' ? pid : null;
  } catch {
    return null;
  }
}

async function startDaemon(): Promise<ChildProcess> {
  const child = spawn(CRON_BIN, ['-f'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  await sleep(500);
  if (child.exitCode !== null || child.signalCode !== null) {
    throw new Error(
      `cron exited at start (${child.exitCode ?? child.signalCode}): ${stderr.trim()}`,
    );
  }
  return child;
}

describe('a real cron daemon', () => {
  it('runs the nightly entry and the run publishes, logs its JobResult and writes metrics', async () => {
    const prefix = `cron-${randomBytes(3).toString('hex')}`;
    const corpus = join(dir, 'corpus.ndjson');
    const log = join(dir, 'run.log');
    const textfile = join(dir, 'stopword_refresh.prom');
    await writeCorpus(corpus, makeCorpus({ seed: 11, perLanguage: 20 }));

    const entry = crontabLines({
      cron: '* * * * *',
      timezone: 'UTC',
      user: 'root',
      bin: BIN,
      args: ['--source', `file:${corpus}`, '--redis', redis.url, '--state-dir', join(dir, 'state')],
      lockFile: join(dir, 'run.lock'),
      logFile: log,
      path: [dirname(process.execPath), '/usr/local/bin', '/usr/bin', '/bin'],
    });
    // Cron gives the job none of this process's environment: what the run needs is in the file.
    const env = [
      `STOPWORD_REFRESH_REDIS_KEY_PREFIX=${prefix}`,
      'STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS=10',
      'STOPWORD_REFRESH_ANALYSIS_WORKERS=1',
      `STOPWORD_REFRESH_MONITORING_TEXTFILE_PATH=${textfile}`,
    ];
    const [last, ...head] = [...entry].reverse();
    // Only letters, digits, - and _: Debian's cron skips files with other characters in the name.
    cronFile = join(CRON_D, `stopword-refresh-e2e-${randomBytes(4).toString('hex')}`);
    await writeFile(cronFile, `${[...head.reverse(), ...env, last].join('\n')}\n`, { mode: 0o644 });
    await chmod(cronFile, 0o644);
    if (runningDaemon() === null) daemon = await startDaemon();

    const client = createClient({ url: redis.url });
    await client.connect();
    let version: string | null | undefined;
    const deadline = Date.now() + OBSERVE_MS;
    try {
      while (Date.now() < deadline) {
        version = await client.hGet(`${prefix}:meta`, 'version');
        if (
          version !== undefined &&
          existsSync(log) &&
          /^\{"success":/m.test(await readFile(log, 'utf8'))
        )
          break;
        await sleep(1_000);
      }
    } finally {
      await client.quit();
    }
    const logText = existsSync(log) ? await readFile(log, 'utf8') : '(no log written)';
    expect(
      version,
      `cron did not run the job within ${OBSERVE_MS / 1000} s; log:\n${logText}`,
    ).toBe('1');

    const results = logText
      .split('\n')
      .filter((line) => line.startsWith('{"success":'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(results[0]).toMatchObject({
      success: true,
      version: 1,
      published: true,
      exitCode: 0,
      documentsProcessed: 60,
    });
    const metrics = parseSamples(await readFile(textfile, 'utf8'));
    expect(sampleOf(metrics, METRIC.lastRunSuccess)?.value).toBe(1);
    expect(sampleOf(metrics, METRIC.lastSuccess)?.value).toBeGreaterThan(
      Date.now() / 1000 - OBSERVE_MS / 1000 - 60,
    );
  }, 150_000);
});
