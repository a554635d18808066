/**
 * The built CLI's `rollback`, `versions` and `status` against a real redis-server, with versions
 * published through RedisPublisher as a run would publish them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, RESP_TYPES } from 'redis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RedisPublisher } from '../../src/publish/redis-publisher.js';
import type { WordList } from '../../src/publish/types.js';
import { ROOT, runCli } from '../support/cli.js';
import { type RedisServer, refusedPort, startRedis } from '../support/redis-server.js';

let redis: RedisServer;
let admin: ReturnType<typeof rawClient>;
let dir: string;
let prefix: string;
const opened: { close(): Promise<void> }[] = [];

function rawClient(url: string) {
  const client = createClient({ url, RESP: 2 });
  client.on('error', () => {});
  return client;
}

beforeAll(async () => {
  redis = await startRedis();
  admin = rawClient(redis.url);
  await admin.connect();
  dir = await mkdtemp(join(tmpdir(), 'swr-safe-ops-'));
});

afterAll(async () => {
  await admin?.close();
  await redis?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

beforeEach(() => {
  prefix = `{so-${randomBytes(4).toString('hex')}}`;
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((resource) => resource.close()));
  for (const key of await keysOf(prefix)) await admin.unlink(key);
});

async function keysOf(keyPrefix: string): Promise<string[]> {
  const pattern = `${keyPrefix.replace(/[*?[\]\\]/g, '\\$&')}:*`;
  return ((await admin.sendCommand(['KEYS', pattern])) as string[]).sort();
}

async function connect(): Promise<RedisPublisher> {
  const publisher = await RedisPublisher.connect({
    url: redis.url,
    keyPrefix: prefix,
    keepVersions: 10,
    connectTimeoutSeconds: 1,
    stagingTtlSeconds: 600,
  });
  opened.push(publisher);
  return publisher;
}

function cli(args: readonly string[], extraEnv: Record<string, string> = {}) {
  return runCli([...args, '--redis', redis.url], {
    env: {
      STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
      STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
      ...extraEnv,
    },
  });
}

/** Words meant to trip any re-encoding: non-ASCII, combining marks, astral characters, JSON-ish. */
const AWKWARD = ['naïve', 'straße', 'l’', 'e\u0301', '日本', '😀', 'a:b', '"q"', ' space', '0'];

function list(tag: string, size: number): WordList {
  const words: WordList = new Map();
  for (const word of AWKWARD) words.set(`${word}${tag}`, '1.0000');
  for (let i = 0; i < size; i++) words.set(`${tag}-w${i}`, ((i % 97) / 97).toFixed(4));
  return words;
}

async function publish(
  publisher: RedisPublisher,
  runId: string,
  spec: Record<string, WordList>,
  publishedAt = new Date(),
) {
  return publisher.publish({
    runId,
    lists: new Map(Object.entries(spec)),
    analyzerVersion: 'test-analyzer-1',
    publishedAt,
  });
}

/** HGETALL as sorted raw byte pairs, so the comparison is exact whatever the encoding. */
async function rawHash(key: string): Promise<string[]> {
  const binary = admin.withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer });
  const flat = (await binary.sendCommand(['HGETALL', key])) as Buffer[];
  const pairs: string[] = [];
  for (let i = 0; i < flat.length; i += 2) {
    pairs.push(`${flat[i]?.toString('hex')}=${flat[i + 1]?.toString('hex')}`);
  }
  return pairs.sort();
}

async function history(): Promise<Record<string, unknown>[]> {
  const entries = (await admin.sendCommand(['LRANGE', `${prefix}:runs`, '0', '-1'])) as string[];
  return entries.map((entry) => JSON.parse(entry) as Record<string, unknown>);
}

async function liveVersion(): Promise<string | null> {
  return (await admin.sendCommand(['HGET', `${prefix}:meta`, 'version'])) as string | null;
}

describe('rollback', () => {
  it('--to puts an older version back byte for byte, notifies consumers and records itself', async () => {
    const publisher = await connect();
    await publish(publisher, 'run-one', { en: list('a', 1200), fr: list('b', 40) });
    await publish(publisher, 'run-two', { en: list('c', 900), es: list('d', 30) });
    const copies = {
      en: await rawHash(`${prefix}:v:1:en`),
      fr: await rawHash(`${prefix}:v:1:fr`),
    };
    expect(copies.en).toHaveLength(1210);

    const subscriber = admin.duplicate();
    subscriber.on('error', () => {});
    await subscriber.connect();
    const messages: string[] = [];
    await subscriber.subscribe(`${prefix}:updates`, (message) => {
      messages.push(message);
    });
    opened.push({ close: () => subscriber.close() });

    const run = await cli(['rollback', '--to', '1']);
    expect(run.code, run.stderr).toBe(0);
    const result = run.json ?? {};
    expect(Object.keys(result).slice(0, 6)).toEqual([
      'success',
      'durationSeconds',
      'documentsProcessed',
      'stopwordsUpdated',
      'errors',
      'timestamp',
    ]);
    expect(result).toMatchObject({
      success: true,
      documentsProcessed: 0,
      errors: [],
      mode: 'rollback',
      version: 1,
      previousVersion: 2,
      published: true,
      exitCode: 0,
      removedLanguages: ['es'],
      languages: {
        en: { stopwords: 1210, added: 1210, removed: 910 },
        fr: { stopwords: 50, added: 50, removed: 0 },
        es: { stopwords: 0, added: 0, removed: 40 },
      },
    });
    expect(result.stopwordsUpdated).toBe(1210 + 910 + 50 + 40);
    expect(run.stdout.trim().split('\n')).toHaveLength(1);

    expect(await rawHash(`${prefix}:en`)).toEqual(copies.en);
    expect(await rawHash(`${prefix}:fr`)).toEqual(copies.fr);
    expect(await admin.exists(`${prefix}:es`)).toBe(0);
    const meta = await admin.hGetAll(`${prefix}:meta`);
    expect(meta).toMatchObject({ version: '1', runId: 'run-one', swapRunId: result.runId });
    expect(JSON.parse(meta.languages ?? '')).toEqual(['en', 'fr']);
    // The rolled-back-to version keeps its copies; the swapped-out one stays kept too.
    expect(await rawHash(`${prefix}:v:1:en`)).toEqual(copies.en);
    expect(await admin.exists(`${prefix}:v:2:es`)).toBe(1);
    expect(await keysOf(`${prefix}:staging`)).toEqual([]);
    expect(await admin.exists(`${prefix}:lock`)).toBe(0);

    for (let i = 0; i < 50 && messages.length === 0; i++)
      await new Promise((r) => setTimeout(r, 20));
    expect(messages.map((m) => JSON.parse(m))).toEqual([{ version: 1, languages: ['en', 'fr'] }]);

    const recorded = await history();
    expect(recorded).toHaveLength(1);
    expect(recorded[0]).toEqual(result);
  });

  it('--previous steps back through the kept versions, and says when there is none left', async () => {
    const publisher = await connect();
    for (const n of [1, 2, 3]) await publish(publisher, `run-${n}`, { en: list(`v${n}`, 30) });

    const first = await cli(['rollback', '--previous']);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json).toMatchObject({ version: 2, previousVersion: 3 });
    expect(await rawHash(`${prefix}:en`)).toEqual(await rawHash(`${prefix}:v:2:en`));

    const second = await cli(['rollback', '--previous']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toMatchObject({ version: 1, previousVersion: 2 });
    expect(await liveVersion()).toBe('1');

    const third = await cli(['rollback', '--previous']);
    expect(third.code).toBe(2);
    expect(third.json).toMatchObject({ success: false, exitCode: 2, version: 1, published: false });
    expect(third.stderr).toContain(
      'no kept version is older than the live version 1; kept versions: 1, 2, 3',
    );
    expect(await liveVersion()).toBe('1');
    // Forward again with --to: versions above the live one are still kept.
    const forward = await cli(['rollback', '--to', '3']);
    expect(forward.code, forward.stderr).toBe(0);
    expect(await liveVersion()).toBe('3');
    expect((await history()).map((entry) => entry.version)).toEqual([3, 1, 2]);
  });

  it('an unknown version exits 2 listing the kept ones, and changes nothing', async () => {
    const publisher = await connect();
    await publish(publisher, 'run-1', { en: list('x', 25) });
    await publish(publisher, 'run-2', { en: list('y', 25) });
    const before = await rawHash(`${prefix}:en`);

    const run = await cli(['rollback', '--to', '7']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('version 7 is not available; kept versions: 1, 2');
    expect(run.json).toMatchObject({ success: false, exitCode: 2, published: false, version: 2 });
    expect(String((run.json?.errors as string[] | undefined)?.[0])).toContain(
      'kept versions: 1, 2',
    );
    expect(await rawHash(`${prefix}:en`)).toEqual(before);
    expect(await liveVersion()).toBe('2');
    expect(await history()).toEqual([]);
    expect(await admin.exists(`${prefix}:lock`)).toBe(0);
  });

  it('refuses --to together with --previous, and neither, with exit 2 and a sentence', async () => {
    const both = await cli(['rollback', '--to', '1', '--previous']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('pass either --to <version> or --previous, not both');
    const neither = await cli(['rollback']);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('pass --to <version> or --previous');
    const bad = await cli(['rollback', '--to', 'latest']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('expected a version number');
  });

  it('exits 3 while a run holds the lock, naming it, and changes nothing', async () => {
    const publisher = await connect();
    await publish(publisher, 'run-1', { en: list('x', 25) });
    await publish(publisher, 'run-2', { en: list('y', 25) });
    const lock = await publisher.acquireLock({ runId: 'nightly-run', host: 'batch-7', pid: 4242 });

    const run = await cli(['rollback', '--to', '1']);
    expect(run.code).toBe(3);
    expect(run.json).toMatchObject({ success: false, exitCode: 3, published: false });
    expect(run.stderr).toMatch(
      /another run holds the run lock .*: run nightly-run on batch-7 \(pid 4242\)/,
    );
    expect(await liveVersion()).toBe('2');
    expect(JSON.parse((await admin.get(`${prefix}:lock`)) ?? '{}').runId).toBe('nightly-run');
    expect(await history()).toEqual([]);

    await lock.release();
    const retry = await cli(['rollback', '--to', '1']);
    expect(retry.code, retry.stderr).toBe(0);
  });

  it('exits 1 when Redis cannot be reached', async () => {
    const port = await refusedPort();
    const run = await runCli(
      ['rollback', '--to', '1', '--redis', `redis://:pw-s3cret@127.0.0.1:${port}`],
      {
        env: { STOPWORD_REFRESH_REDIS_CONNECT_TIMEOUT_SECONDS: '0.5' },
      },
    );
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({ success: false, exitCode: 1, published: false });
    expect(run.stderr).toMatch(/the live lists are unchanged/);
    expect(run.stdout + run.stderr).not.toContain('pw-s3cret');
  });
});

describe('versions', () => {
  it('--json lists what was published, newest first, and which one is live', async () => {
    const publisher = await connect();
    const times = [new Date('2026-11-28T02:00:05.000Z'), new Date('2026-11-29T02:00:07.000Z')];
    await publish(publisher, 'run-a', { en: list('a', 20), fr: list('b', 5) }, times[0]);
    await publish(publisher, 'run-b', { en: list('c', 30) }, times[1]);

    const run = await cli(['versions', '--json']);
    expect(run.code, run.stderr).toBe(0);
    expect(JSON.parse(run.stdout)).toEqual([
      {
        version: 2,
        publishedAt: '2026-11-29T02:00:07.000Z',
        runId: 'run-b',
        languages: ['en'],
        counts: { en: 40 },
        words: 40,
        analyzerVersion: 'test-analyzer-1',
        live: true,
      },
      {
        version: 1,
        publishedAt: '2026-11-28T02:00:05.000Z',
        runId: 'run-a',
        languages: ['en', 'fr'],
        counts: { en: 30, fr: 15 },
        words: 45,
        analyzerVersion: 'test-analyzer-1',
        live: false,
      },
    ]);

    expect((await cli(['rollback', '--to', '1'])).code).toBe(0);
    const after = JSON.parse((await cli(['versions', '--json'])).stdout) as { live: boolean }[];
    expect(after.map((v) => v.live)).toEqual([false, true]);

    const table = await cli(['versions']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LIVE\s+VERSION\s+PUBLISHED\s+RUN\s+WORDS\s+LANGUAGES$/);
    expect(lines[1]).toMatch(/^\s+2\s+2026-11-29T02:00:07.000Z\s+run-b\s+40\s+en 40$/);
    expect(lines[2]).toMatch(/^\*\s+1\s+2026-11-28T02:00:05.000Z\s+run-a\s+45\s+en 30, fr 15$/);
  });

  it('prints an empty array, or a sentence, before the first publish', async () => {
    const json = await cli(['versions', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual([]);
    const text = await cli(['versions']);
    expect(text.stdout).toContain(`no versions are kept under the key prefix ${prefix}`);
  });
});

const RUNS = ['lastRun', 'lastSuccess', 'lastRollback'];

/** Every field path of a status object, sorted; `<run>` stands for the three run summaries. */
function fieldPaths(value: Record<string, unknown>, prefix = ''): string[] {
  const out: string[] = [];
  for (const [key, child] of Object.entries(value)) {
    const name = prefix === '' && RUNS.includes(key) ? '<run>' : key;
    const path = prefix === '' ? name : `${prefix}.${name}`;
    out.push(path);
    const nested = typeof child === 'object' && child !== null && !Array.isArray(child);
    if (nested && path !== 'live.counts') {
      out.push(...fieldPaths(child as Record<string, unknown>, path));
    }
  }
  return [...new Set(out)].sort();
}

/** The field paths the schema document's tables name, in backticks at the start of a row. */
async function documentedPaths(): Promise<string[]> {
  const doc = await readFile(join(ROOT, 'docs/ops/job-status-schema.md'), 'utf8');
  const paths = [...doc.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1] ?? '');
  return [...new Set(paths.map((p) => (RUNS.includes(p) ? '<run>' : p)))].sort();
}

describe('status', () => {
  function runResult(over: Record<string, unknown>): string {
    return JSON.stringify({
      success: true,
      durationSeconds: 12.5,
      documentsProcessed: 1000,
      stopwordsUpdated: 7,
      errors: [],
      timestamp: new Date().toISOString(),
      runId: 'r',
      mode: 'delta',
      dryRun: false,
      version: 1,
      published: true,
      exitCode: 0,
      ...over,
    });
  }

  it('--json reports the live version, the last runs, the lock, the checkpoint and staleness', async () => {
    const publisher = await connect();
    const hourAgo = new Date(Date.now() - 3600_000);
    await publish(publisher, 'run-1', { en: list('a', 20), de: list('b', 10) }, hourAgo);
    await publish(publisher, 'run-2', { en: list('c', 20) });
    await publisher.recordRun(
      runResult({ runId: 'run-1', timestamp: new Date(Date.now() - 3 * 3600_000).toISOString() }),
    );
    await publisher.recordRun(runResult({ runId: 'dry', dryRun: true }));
    await publisher.recordRun(
      runResult({
        runId: 'run-2',
        timestamp: new Date(Date.now() - 2 * 3600_000).toISOString(),
        durationSeconds: 60,
        documentsProcessed: 5000,
        version: 2,
      }),
    );
    await publisher.recordRun(
      runResult({
        runId: 'run-3',
        success: false,
        exitCode: 4,
        published: false,
        version: 2,
        errors: ['guardrails refused the new lists'],
      }),
    );
    expect((await cli(['rollback', '--to', '1'])).code).toBe(0);
    await publisher.acquireLock({ runId: 'run-4', host: 'batch-9', pid: 77, ttlSeconds: 90 });

    const stateDir = join(dir, `state-${prefix}`);
    await mkdir(stateDir, { recursive: true });
    const checkpoint = {
      schemaVersion: 1,
      windowEnd: '2026-11-30T01:55:00.000Z',
      runId: 'run-2',
      analyzerVersion: 'test-analyzer-1',
      mode: 'delta',
      writtenAt: '2026-11-30T02:01:00.000Z',
    };
    await writeFile(join(stateDir, 'checkpoint.json'), JSON.stringify(checkpoint));

    const run = await cli(['status', '--json', '--state-dir', stateDir]);
    expect(run.code, run.stderr).toBe(0);
    const status = run.json ?? {};
    expect(Object.keys(status)).toEqual([
      'checkedAt',
      'live',
      'lastRun',
      'lastSuccess',
      'lastRollback',
      'lock',
      'checkpoint',
      'staleness',
      'errors',
    ]);
    expect(status).toMatchObject({
      live: {
        version: 1,
        runId: 'run-1',
        publishedAt: hourAgo.toISOString(),
        languages: ['de', 'en'],
        counts: { de: 20, en: 30 },
        words: 50,
        analyzerVersion: 'test-analyzer-1',
      },
      lastRun: {
        runId: 'run-3',
        success: false,
        exitCode: 4,
        errors: ['guardrails refused the new lists'],
      },
      lastSuccess: {
        runId: 'run-2',
        success: true,
        mode: 'delta',
        durationSeconds: 60,
        documentsProcessed: 5000,
        version: 2,
      },
      lastRollback: { mode: 'rollback', success: true, version: 1 },
      lock: { runId: 'run-4', host: 'batch-9', pid: 77 },
      checkpoint,
      staleness: { thresholdHours: 26, basis: 'lastSuccess', stale: false },
      errors: [],
    });
    const live = status.live as Record<string, unknown>;
    expect(live.ageSeconds).toBeGreaterThanOrEqual(3599);
    expect(live.ageSeconds).toBeLessThan(3700);
    expect(live.swapRunId).toBe((status.lastRollback as Record<string, unknown>).runId);
    const lock = status.lock as Record<string, unknown>;
    expect(lock.expiresInSeconds).toBeGreaterThan(80);
    expect(lock).not.toHaveProperty('token');
    const staleness = status.staleness as Record<string, number>;
    expect(staleness.hoursSince).toBeGreaterThan(1.9);
    expect(staleness.hoursSince).toBeLessThan(2.1);

    expect(fieldPaths(status)).toEqual(await documentedPaths());

    const text = await cli(['status', '--state-dir', stateDir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^live\s+version 1, published /m);
    expect(text.stdout).toMatch(/^last run\s+failed \(exit 4\)/m);
    expect(text.stdout).toMatch(/^lock\s+held by run run-4 on batch-9 \(pid 77\)/m);
    expect(text.stdout).toMatch(/^staleness\s+ok: last successful run finished 2 h ago/m);
  });

  it('says the lists are stale past the threshold, and when nothing is known at all', async () => {
    const empty = await cli(['status', '--json', '--state-dir', join(dir, 'none')]);
    expect(empty.code, empty.stderr).toBe(0);
    expect(empty.json).toMatchObject({
      live: null,
      lastRun: null,
      lastSuccess: null,
      lock: null,
      checkpoint: null,
      staleness: { basis: null, stale: true },
    });

    const publisher = await connect();
    const old = new Date(Date.now() - 30 * 3600_000);
    await publish(publisher, 'run-1', { en: list('a', 20) }, old);
    await publisher.recordRun(runResult({ runId: 'run-1', timestamp: old.toISOString() }));
    const stale = await cli(['status', '--json', '--state-dir', join(dir, 'none')]);
    expect(stale.json?.staleness).toMatchObject({ basis: 'lastSuccess', stale: true });
    expect(
      (stale.json?.staleness as { hoursSince?: number } | undefined)?.hoursSince,
    ).toBeGreaterThan(29);
    const text = await cli(['status', '--state-dir', join(dir, 'none')]);
    expect(text.stdout).toMatch(/^staleness\s+STALE: last successful run finished 30 h ago/m);
  });

  it('without Redis, exits 1 but still prints the checkpoint', async () => {
    const stateDir = join(dir, `state-down-${prefix}`);
    await mkdir(stateDir, { recursive: true });
    await writeFile(
      join(stateDir, 'checkpoint.json'),
      JSON.stringify({
        schemaVersion: 1,
        windowEnd: '2026-11-30T01:55:00.000Z',
        runId: 'run-9',
        analyzerVersion: 'a',
        mode: 'full',
        writtenAt: new Date(Date.now() - 3600_000).toISOString(),
      }),
    );
    const port = await refusedPort();
    const run = await runCli(
      ['status', '--json', '--state-dir', stateDir, '--redis', `redis://127.0.0.1:${port}`],
      { env: { STOPWORD_REFRESH_REDIS_CONNECT_TIMEOUT_SECONDS: '0.5' } },
    );
    expect(run.code).toBe(1);
    expect(run.json).toMatchObject({
      live: null,
      checkpoint: { runId: 'run-9' },
      staleness: { basis: 'checkpoint', stale: false },
    });
    expect(String((run.json?.errors as string[] | undefined)?.[0])).toMatch(
      /^Redis: cannot reach Redis/,
    );
  });
});
