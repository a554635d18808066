/**
 * The run under contention and anomalies: two runs at once (on two state directories, and on
 * one), a corpus whose language collapses, and Redis restarted in the middle of a run.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import { freePort, type RedisServer } from '../support/redis-server.js';
import { closeRedisSuite, openRedisSuite } from '../support/suite.js';

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let dir: string;

beforeAll(async () => {
  ({ redis, client, dir } = await openRedisSuite('swr-safe-'));
});

afterAll(() => closeRedisSuite({ redis, client, dir }));

function env(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
    STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
    ...extra,
  };
}

describe('two runs at once', () => {
  it('exactly one publishes; the other exits 3 at once and changes nothing', async () => {
    const source = join(dir, 'two.ndjson');
    await writeCorpus(source, makeCorpus({ seed: 21, perLanguage: 3000 }));
    const args = (state: string): string[] => [
      'run',
      '--source',
      `file:${source}`,
      '--redis',
      redis.url,
      '--state-dir',
      join(dir, state),
    ];
    // The first run is stopped (SIGSTOP) as soon as it holds the lock, so the second one meets
    // it there however the two processes happen to be scheduled.
    let first: ChildProcess | undefined;
    const winner = runCli(args('two-a'), {
      env: env('two'),
      onSpawn: (child) => {
        first = child;
      },
    });
    let owner: string | null = null;
    for (let i = 0; i < 3000 && owner === null; i += 1) {
      owner = await client.get('two:lock');
      if (owner === null) await sleep(5);
    }
    expect(owner, 'the first run never took the lock').not.toBeNull();
    first?.kill('SIGSTOP');
    let loser: Awaited<ReturnType<typeof runCli>>;
    try {
      loser = await runCli(args('two-b'), { env: env('two') });
      expect(await client.get('two:lock')).toBe(owner);
    } finally {
      first?.kill('SIGCONT');
    }
    const won = await winner;
    expect(won.code, won.stderr).toBe(0);
    expect(loser.code, loser.stderr).toBe(3);
    expect(loser.json).toMatchObject({ success: false, exitCode: 3, published: false });
    expect(String(loser.json?.errors)).toMatch(/another run holds the lock/);
    expect(won.json).toMatchObject({ success: true, published: true });
    expect(await client.hGet('two:meta', 'version')).toBe('1');
    expect(await client.exists('two:lock')).toBe(0);

    // A run reads its state while it connects, before it asks for the lock: meeting the lock
    // held, it leaves that state as it found it, every file the same.
    const stateFiles = async (): Promise<Map<string, string>> => {
      const files = new Map<string, string>();
      const walk = async (at: string): Promise<void> => {
        for (const entry of await readdir(at, { withFileTypes: true })) {
          const path = join(at, entry.name);
          if (entry.isDirectory()) await walk(path);
          else
            files.set(
              path,
              createHash('sha256')
                .update(await readFile(path))
                .digest('hex'),
            );
        }
      };
      await walk(join(dir, 'two-a'));
      return files;
    };
    const before = await stateFiles();
    await client.set('two:lock', 'held by an operator');
    try {
      const blocked = await runCli(args('two-a'), { env: env('two') });
      expect(blocked.code, blocked.stderr).toBe(3);
      expect(String(blocked.json?.errors)).toMatch(/another run holds the lock/);
    } finally {
      await client.del('two:lock');
    }
    expect(await stateFiles()).toEqual(before);
    const next = await runCli(args('two-a'), { env: env('two') });
    expect(next.code, next.stderr).toBe(0);
    expect(next.json).toMatchObject({ success: true, mode: 'delta' });
  });
});

describe('two runs on one state directory', () => {
  it('the second exits 3 at once, before it reads the state or reaches Redis', async () => {
    const source = join(dir, 'shared.ndjson');
    await writeCorpus(source, makeCorpus({ seed: 23, perLanguage: 3000 }));
    const state = join(dir, 'shared-state');
    const args = ['run', '--source', `file:${source}`, '--redis', redis.url, '--state-dir', state];
    // The first run is stopped as soon as it holds the state directory's lock.
    let first: ChildProcess | undefined;
    const winner = runCli(args, {
      env: env('shared-a'),
      onSpawn: (child) => {
        first = child;
      },
    });
    type Holder = { runId: string; pid: number; acquiredAt: string };
    let holder: Holder | null = null;
    for (let i = 0; i < 3000 && holder === null; i += 1) {
      holder = await readFile(join(state, 'run.lock.json'), 'utf8')
        .then((text) => JSON.parse(text) as Holder)
        .catch(() => null);
      if (holder === null) await sleep(5);
    }
    expect(holder, 'the first run never took the state lock').not.toBeNull();
    first?.kill('SIGSTOP');
    let loser: Awaited<ReturnType<typeof runCli>>;
    try {
      // Another key prefix: Redis's run lock would not stop it, the state directory's does.
      loser = await runCli(args, { env: env('shared-b') });
    } finally {
      first?.kill('SIGCONT');
    }
    expect(loser.code, loser.stderr).toBe(3);
    expect(loser.json).toMatchObject({ success: false, exitCode: 3, published: false });
    expect(String(loser.json?.errors)).toBe(
      `another run holds the lock of the state directory ${state}: run ${holder?.runId} on ${hostname()} (pid ${holder?.pid}) since ${holder?.acquiredAt}; this run did nothing`,
    );
    // It never reached Redis: no lock, no history, no lists under its prefix.
    expect(await client.keys('shared-b:*')).toEqual([]);
    const won = await winner;
    expect(won.code, won.stderr).toBe(0);
    expect(won.json).toMatchObject({ success: true, published: true, mode: 'full' });
    // The lock went with the run, and the holder's note with it.
    expect((await readdir(state)).filter((name) => name.startsWith('run.lock'))).toEqual([
      'run.lock',
    ]);
    const next = await runCli(args, { env: env('shared-a') });
    expect(next.code, next.stderr).toBe(0);
    expect(next.json).toMatchObject({ success: true, mode: 'delta' });
  });
});

describe('guardrails', () => {
  it('a collapsed language is refused with exit 4; --force publishes it', async () => {
    const prefix = 'guard';
    const stateDir = join(dir, 'guard-state');
    const healthy = join(dir, 'healthy.ndjson');
    await writeCorpus(healthy, makeCorpus({ seed: 22, perLanguage: 40 }));
    const base = (source: string): string[] => [
      'run',
      '--source',
      `file:${source}`,
      '--redis',
      redis.url,
      '--state-dir',
      stateDir,
    ];
    expect((await runCli(base(healthy), { env: env(prefix) })).code).toBe(0);
    const before = await client.hGetAll(`${prefix}:fr`);

    // French collapses to a handful of documents, under analysis.minDocuments.
    const collapsed = join(dir, 'collapsed.ndjson');
    const docs = makeCorpus({ seed: 23, perLanguage: 40 }).filter(
      (d) => d.lang !== 'fr' || d._id.endsWith('-1'),
    );
    await writeCorpus(collapsed, docs);
    const refused = await runCli([...base(collapsed), '--full'], { env: env(prefix) });
    expect(refused.code, refused.stderr).toBe(4);
    expect(String(refused.json?.errors)).toMatch(/guardrails refused.*fr/);
    expect(refused.json?.guardrails).toBeDefined();
    expect(await client.hGetAll(`${prefix}:fr`)).toEqual(before);
    expect(await client.hGet(`${prefix}:meta`, 'version')).toBe('1');

    const forced = await runCli([...base(collapsed), '--full', '--force'], {
      env: env(prefix, { STOPWORD_REFRESH_LOGGING_LEVEL: 'info' }),
    });
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.json).toMatchObject({ published: true, version: 2 });
    expect(String(forced.json?.warnings)).toMatch(/--force/);
    expect(forced.stderr).toMatch(/guardrails overridden by --force/);
    expect(await client.exists(`${prefix}:fr`)).toBe(0);
  });
});

describe('Redis restarted during a run', () => {
  it('fails cleanly, leaves the live lists intact, and the next run succeeds', async () => {
    const port = await freePort();
    const dataDir = await mkdtemp(join(tmpdir(), 'swr-restart-redis-'));
    const start = (): ChildProcess =>
      spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dataDir,
          '--appendonly',
          'yes',
          '--save',
          '',
        ],
        { stdio: 'ignore' },
      );
    const waitUp = async (): Promise<void> => {
      for (let i = 0; i < 100; i++) {
        const probe = createClient({
          url: `redis://127.0.0.1:${port}`,
          socket: { reconnectStrategy: false },
        });
        probe.on('error', () => undefined);
        try {
          await probe.connect();
          await probe.ping();
          await probe.quit();
          return;
        } catch {
          await sleep(100);
        }
      }
      throw new Error('redis-server did not start');
    };
    let server = start();
    try {
      await waitUp();
      const url = `redis://127.0.0.1:${port}`;
      const source = join(dir, 'restart.ndjson');
      await writeCorpus(source, makeCorpus({ seed: 24, perLanguage: 6000 }));
      const stateDir = join(dir, 'restart-state');
      const args = ['run', '--source', `file:${source}`, '--redis', url, '--state-dir', stateDir];
      const first = await runCli([...args, '--until', '2026-11-10T00:00:00Z'], { env: env('rs') });
      expect(first.code, first.stderr).toBe(0);
      const probe = createClient({ url });
      await probe.connect();
      const liveBefore = await probe.hGetAll('rs:en');
      await probe.quit();

      // A short lock TTL: when Redis comes back after the run's client has given up reconnecting,
      // the run cannot release its lock, which then expires by itself within the TTL.
      const during = await runCli([...args, '--full'], {
        env: env('rs', {
          STOPWORD_REFRESH_LOGGING_LEVEL: 'info',
          STOPWORD_REFRESH_REDIS_LOCK_TTL_SECONDS: '2',
        }),
        onSpawn: (child) => {
          let done = false;
          child.stderr?.on('data', (chunk: Buffer) => {
            if (!done && chunk.toString().includes('window fixed')) {
              done = true;
              server.kill('SIGTERM');
              server.once('exit', () => {
                server = start();
              });
            }
          });
        },
      });
      expect(during.code, during.stderr).toBe(1);
      expect(during.json).toMatchObject({ success: false, published: false });
      await waitUp();
      const after = createClient({ url });
      await after.connect();
      expect(await after.hGetAll('rs:en')).toEqual(liveBefore);
      expect(await after.hGet('rs:meta', 'version')).toBe('1');
      // Released by the failed run, or expired by its TTL.
      const lockGone = performance.now() + 10_000;
      while ((await after.exists('rs:lock')) > 0 && performance.now() < lockGone) await sleep(100);
      expect(await after.exists('rs:lock')).toBe(0);
      await after.quit();
      const next = await runCli([...args, '--until', '2026-11-20T00:00:00Z'], { env: env('rs') });
      expect(next.code, next.stderr).toBe(0);
      expect(next.json?.mode).toBe('delta');
    } finally {
      server.kill('SIGKILL');
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 120_000);
});

describe('deadline', () => {
  it('a run past maxDurationSeconds stops, publishes nothing and exits 5', async () => {
    const source = join(dir, 'slow.ndjson');
    await writeCorpus(source, makeCorpus({ seed: 25, perLanguage: 20_000 }));
    const run = await runCli(
      [
        'run',
        '--source',
        `file:${source}`,
        '--redis',
        redis.url,
        '--state-dir',
        join(dir, 'slow-state'),
      ],
      {
        env: env('slow', {
          STOPWORD_REFRESH_MAX_DURATION_SECONDS: '1',
          STOPWORD_REFRESH_ANALYSIS_WORKERS: '1',
        }),
      },
    );
    expect(run.code, run.stderr).toBe(5);
    expect(run.json).toMatchObject({ success: false, published: false, exitCode: 5 });
    expect(String(run.json?.errors)).toMatch(/exceeded maxDurationSeconds \(1 s\)/);
    expect(await client.exists('slow:meta')).toBe(0);
    expect(await client.exists('slow:lock')).toBe(0);
  });
});
