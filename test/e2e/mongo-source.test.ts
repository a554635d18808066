/**
 * The built CLI reading its corpus from MongoDB over the wire protocol (the in-repo test server,
 * or a real server when TEST_MONGODB_URI is set): it publishes exactly what the NDJSON source
 * publishes for the same documents, first and delta runs alike, and survives the faults a
 * replica set throws at a long read.
 */
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { makeCorpus, writeCorpus } from '../support/corpus.js';
import {
  insertAll,
  type MongoTarget,
  ON_TEST_SERVER,
  readCorpusForMongo,
  startMongo,
  toMongoDocument,
} from '../support/mongo-target.js';
import { type RedisServer, refusedPort } from '../support/redis-server.js';
import { liveLists, stateTables } from '../support/state.js';
import { closeRedisSuite, openRedisSuite } from '../support/suite.js';

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let mongo: MongoTarget;
let dir: string;

beforeAll(async () => {
  ({ redis, client, dir } = await openRedisSuite('swr-mongo-'));
  mongo = await startMongo();
});

afterAll(async () => {
  await mongo?.stop();
  await closeRedisSuite({ redis, client, dir });
});

function env(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix, ...extra };
}

function runArgs(source: string, stateDir: string, more: string[] = []): string[] {
  return [
    'run',
    '--source',
    source,
    '--redis',
    redis.url,
    '--state-dir',
    join(dir, stateDir),
    ...more,
  ];
}

function generate(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'bench/generate-corpus.mjs'), ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`generate-corpus: ${code} ${stderr}`)),
    );
  });
}

describe('MongoDB source, end to end', () => {
  it('publishes what the NDJSON source publishes on 100K documents, first run and delta', async () => {
    const base = join(dir, 'base.ndjson');
    const next = join(dir, 'next.ndjson');
    const common = ['--docs', '100000', '--avg-bytes', '300'];
    await generate([...common, '--seed', '7', '--out', base]);
    await generate([...common, '--mutate-from', '7', '--seed', '8', '--out', next]);
    const database = mongo.database('big');
    const collection = mongo.client.db(database).collection('documents');
    await collection.createIndex({ updatedAt: 1, _id: 1 });
    // The first window ends just after the last base write, as if the run started then.
    const baseDocs = await readCorpusForMongo(base);
    const lastWrite = Math.max(...baseDocs.map((d) => (d['updatedAt'] as Date).getTime()));
    await insertAll(mongo.client, database, 'documents', baseDocs);

    const until1 = new Date(lastWrite + 1).toISOString();
    const fromFile = await runCli(runArgs(`file:${base}`, 'big-file', ['--until', until1]), {
      env: env('bigfile'),
      timeoutMs: 180_000,
    });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    const fromMongo = await runCli(runArgs(mongo.uri(database), 'big-mongo', ['--until', until1]), {
      env: env('bigmongo'),
      timeoutMs: 180_000,
    });
    expect(fromMongo.code, fromMongo.stderr).toBe(0);
    expect(fromMongo.json).toMatchObject({ success: true, mode: 'full', window: { to: until1 } });
    expect(fromMongo.json?.['documents']).toMatchObject({ read: 100_000, counted: 100_000 });
    expect(fromMongo.json?.['documents']).toMatchObject(
      pick(fromFile.json?.['documents'], ['counted', 'deleted', 'rejected']),
    );
    const firstLists = await liveLists(client, 'bigfile');
    expect(Object.keys(firstLists).length).toBeGreaterThanOrEqual(5);
    expect(await liveLists(client, 'bigmongo')).toEqual(firstLists);

    // The next night: about 1% of the documents changed, some of them soft-deleted.
    const before = new Map(
      (await readFile(base, 'utf8')).split('\n').map((line) => [idOf(line), line] as const),
    );
    let changed = 0;
    for (const line of (await readFile(next, 'utf8')).split('\n')) {
      if (line === '' || before.get(idOf(line)) === line) continue;
      const doc = toMongoDocument(JSON.parse(line) as Record<string, unknown>);
      await collection.replaceOne({ _id: doc['_id'] as never }, doc, { upsert: true });
      changed++;
    }
    expect(changed).toBeGreaterThan(500);

    const until2 = '2026-01-04T00:00:00.000Z';
    const deltaFile = await runCli(runArgs(`file:${next}`, 'big-file', ['--until', until2]), {
      env: env('bigfile'),
      timeoutMs: 180_000,
    });
    expect(deltaFile.code, deltaFile.stderr).toBe(0);
    const deltaMongo = await runCli(
      runArgs(mongo.uri(database), 'big-mongo', ['--until', until2]),
      { env: env('bigmongo'), timeoutMs: 180_000 },
    );
    expect(deltaMongo.code, deltaMongo.stderr).toBe(0);
    expect(deltaMongo.json).toMatchObject({ mode: 'delta', window: { from: until1, to: until2 } });
    // Only the changed documents travel; the file source scans every line.
    expect(deltaMongo.json?.['documents']).toMatchObject({ read: changed });
    expect(deltaMongo.json?.['documents']).toMatchObject(
      pick(deltaFile.json?.['documents'], ['counted', 'deleted']),
    );
    expect(await liveLists(client, 'bigmongo')).toEqual(await liveLists(client, 'bigfile'));
    expect(await stateTables(join(dir, 'big-mongo'))).toEqual(
      await stateTables(join(dir, 'big-file')),
    );
  }, 600_000);

  it('pages through equal timestamps exactly, and resumes after dropped connections', async () => {
    const docs = makeCorpus({ seed: 5, perLanguage: 120 }).map((doc, i) => ({
      ...doc,
      // Five distinct timestamps for 360 documents: every page boundary falls inside a tie.
      updatedAt: `2026-11-0${1 + (i % 5)}T00:00:00.000Z`,
    }));
    const file = join(dir, 'ties.ndjson');
    await writeCorpus(file, docs);
    const database = mongo.database('ties');
    await insertAll(mongo.client, database, 'documents', docs.map(toMongoDocument));
    const settings = {
      STOPWORD_REFRESH_SOURCE_BATCH_SIZE: '7',
      STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
    };
    if (ON_TEST_SERVER) {
      mongo.server?.dropConnectionAfterDocuments(100);
      // The two counts of a full run take four (each tried twice by the driver); the first page
      // query takes the last two, more than the driver's own single retry absorbs.
      mongo.server?.notPrimary(6);
    }
    const until = '2026-11-10T00:00:00.000Z';
    const fromMongo = await runCli(runArgs(mongo.uri(database), 'ties-mongo', ['--until', until]), {
      env: env('tiesmongo', { ...settings, STOPWORD_REFRESH_LOGGING_LEVEL: 'warn' }),
    });
    expect(fromMongo.code, fromMongo.stderr).toBe(0);
    const fromFile = await runCli(runArgs(`file:${file}`, 'ties-file', ['--until', until]), {
      env: env('tiesfile', settings),
    });
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromMongo.json?.['documents']).toMatchObject({ read: 360, counted: 360, rejected: 0 });
    expect(await stateTables(join(dir, 'ties-mongo'))).toEqual(
      await stateTables(join(dir, 'ties-file')),
    );
    if (ON_TEST_SERVER) {
      const retries = fromMongo.stderr.split('\n').filter((l) => l.includes('retrying'));
      expect(retries.length).toBeGreaterThanOrEqual(1);
      expect(retries.join('\n')).toMatch(/not primary|NotPrimary/i);
      // 360 documents in pages of 7: at least 52 page queries, each one short find.
      expect(mongo.server?.commandCounts['find'] ?? 0).toBeGreaterThanOrEqual(52);
    }
  });

  it('leaves documents written inside the safety lag to the next run', async () => {
    const database = mongo.database('lag');
    const collection = mongo.client.db(database).collection('documents');
    const old = makeCorpus({ seed: 9, perLanguage: 40, updatedAt: '2026-11-01T00:00:00Z' });
    await insertAll(mongo.client, database, 'documents', old.map(toMongoDocument));
    // Written "now" by the server's clock: inside a 10-minute safety lag.
    const fresh = makeCorpus({ seed: 10, perLanguage: 5 }).map((d) => ({
      ...d,
      _id: `new-${d._id}`,
    }));
    for (const doc of fresh) {
      const { updatedAt: _updatedAt, _id: _key, ...rest } = doc;
      await collection.updateOne(
        { _id: doc._id as never },
        { $set: rest, $currentDate: { updatedAt: true } },
        { upsert: true },
      );
    }
    const lagged = {
      STOPWORD_REFRESH_SOURCE_SAFETY_LAG_SECONDS: '600',
      STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
    };
    const first = await runCli(runArgs(mongo.uri(database), 'lag'), { env: env('lag', lagged) });
    expect(first.code, first.stderr).toBe(0);
    expect(first.json?.['documents']).toMatchObject({ read: 120, counted: 120 });
    const window = first.json?.['window'] as { to: string } | undefined;
    const to = Date.parse(String(window?.to));
    expect(Math.abs(to - (Date.now() - 600_000))).toBeLessThan(60_000);

    const second = await runCli(runArgs(mongo.uri(database), 'lag'), {
      env: env('lag', { ...lagged, STOPWORD_REFRESH_SOURCE_SAFETY_LAG_SECONDS: '0' }),
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toMatchObject({ mode: 'delta' });
    expect(second.json?.['documents']).toMatchObject({ read: 15, counted: 15 });
  });

  it('counts bad documents as the NDJSON source does, and carries on under the limit', async () => {
    const database = mongo.database('bad');
    const good = makeCorpus({ seed: 11, perLanguage: 40 }).map(toMongoDocument);
    const at = new Date('2026-11-01T00:00:00Z');
    const bad = [
      { _id: 'b1', lang: 'en', text: 42, updatedAt: at },
      { _id: 'b2', lang: 'en', updatedAt: at },
      { _id: 'b3', lang: 'en', text: 'x'.repeat(5000), updatedAt: at },
      { _id: 'b4', lang: 'en', text: 'the text', updatedAt: at, deletedAt: 'soon' },
      { _id: { nested: 1 }, lang: 'en', text: 'the text', updatedAt: at },
      { _id: 'b6', lang: 'en', text: 'the text', updatedAt: '2026-11-01T00:00:00Z' },
      { _id: 'b7', lang: 'en', text: 'the text' },
      { _id: 'b8', text: 'the of and to in is that for', updatedAt: at },
    ];
    await insertAll(mongo.client, database, 'documents', [...good, ...bad]);
    const run = await runCli(runArgs(mongo.uri(database), 'bad'), {
      env: env('bad', {
        STOPWORD_REFRESH_SOURCE_MAX_BAD_DOCUMENT_RATIO: '0.2',
        STOPWORD_REFRESH_SOURCE_MAX_DOCUMENT_BYTES: '1000',
        STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
      }),
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.json?.['documents']).toMatchObject({
      counted: 121,
      bad: {
        textNotString: 1,
        missingText: 1,
        textTooLarge: 1,
        invalidDeleted: 1,
        invalidId: 1,
        // Not dates: no window query sees them, so the full count reports them.
        invalidUpdatedAt: 2,
        missingLanguage: 1,
      },
    });
    expect(run.stdout).not.toContain('the of and');

    const strict = await runCli(runArgs(mongo.uri(database), 'bad-strict'), {
      env: env('badstrict', {
        STOPWORD_REFRESH_SOURCE_MAX_BAD_DOCUMENT_RATIO: '0.01',
        STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
      }),
    });
    expect(strict.code).toBe(1);
    expect(String(strict.json?.['errors'])).toMatch(/are bad, above source.maxBadDocumentRatio/);
  });

  it('check warns while the (updatedAt, _id) index is missing', async () => {
    const database = mongo.database('check');
    await insertAll(
      mongo.client,
      database,
      'documents',
      makeCorpus({ seed: 1, perLanguage: 2 }).map(toMongoDocument),
    );
    const args = ['check', '--source', mongo.uri(database), '--redis', redis.url, '--json'];
    const without = await runCli(args);
    const sourceLine = (run: typeof without) =>
      (
        run.json?.['checks'] as Array<{ name: string; status: string; detail: string }> | undefined
      )?.find((c) => c.name === 'source');
    expect(sourceLine(without)).toMatchObject({
      status: 'warn',
      detail: expect.stringMatching(/createIndex\(\{ updatedAt: 1, _id: 1 \}\)/),
    });
    await mongo.client.db(database).collection('documents').createIndex({ updatedAt: 1, _id: 1 });
    expect(sourceLine(await runCli(args))).toMatchObject({ status: 'ok' });
  });
});

describe.skipIf(!ON_TEST_SERVER)('MongoDB failures', () => {
  it('wrong credentials: exit 1 at once, a clear message, no password anywhere', async () => {
    const secured = await startMongo({ users: [{ user: 'reader', password: 'right-horse' }] });
    try {
      const database = 'corpus';
      await insertAll(
        secured.client,
        database,
        'documents',
        makeCorpus({ seed: 2, perLanguage: 20 }).map(toMongoDocument),
      );
      const uri = `${secured.uri(database, { user: 'reader', password: 'wrong-battery' })}?authSource=admin`;
      const started = performance.now();
      const run = await runCli(runArgs(uri, 'auth'), { env: env('auth') });
      expect(run.code).toBe(1);
      expect(performance.now() - started).toBeLessThan(30_000);
      expect(String(run.json?.['errors'])).toMatch(
        /MongoDB at mongodb:\/\/reader:\*\*\*@127\.0\.0\.1:\d+\/corpus\?authSource=admin refused the credentials/,
      );
      expect(`${run.stdout}${run.stderr}`).not.toContain('wrong-battery');
      expect(await client.exists('auth:meta')).toBe(0);

      const good = `${secured.uri(database, { user: 'reader', password: 'right-horse' })}?authSource=admin`;
      const ok = await runCli(runArgs(good, 'auth-ok'), {
        env: env('authok', { STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10' }),
      });
      expect(ok.code, ok.stderr).toBe(0);
      expect(`${ok.stdout}${ok.stderr}`).not.toContain('right-horse');
    } finally {
      await secured.stop();
    }
  });

  it('unreachable server: exit 1 within the connect timeout', async () => {
    const port = await refusedPort();
    const started = performance.now();
    const run = await runCli(runArgs(`mongodb://127.0.0.1:${port}/corpus`, 'down'), {
      env: env('down', { STOPWORD_REFRESH_SOURCE_CONNECT_TIMEOUT_SECONDS: '2' }),
    });
    expect(run.code).toBe(1);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(String(run.json?.['errors'])).toMatch(
      /MongoDB at mongodb:\/\/127\.0\.0\.1:\d+\/corpus is unreachable/,
    );
  });

  it('a fault that outlasts the retries fails the run and leaves yesterday intact', async () => {
    const database = mongo.database('flaky');
    await insertAll(
      mongo.client,
      database,
      'documents',
      makeCorpus({ seed: 3, perLanguage: 30 }).map(toMongoDocument),
    );
    const settings = {
      STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
      STOPWORD_REFRESH_SOURCE_SAFETY_LAG_SECONDS: '0',
    };
    const first = await runCli(runArgs(mongo.uri(database), 'flaky'), {
      env: env('flaky', settings),
    });
    expect(first.code, first.stderr).toBe(0);
    const live = await liveLists(client, 'flaky');
    const more = makeCorpus({ seed: 4, perLanguage: 5 }).map((d) => ({
      ...toMongoDocument(d),
      _id: `more-${d._id}`,
      updatedAt: new Date(),
    }));
    await insertAll(mongo.client, database, 'documents', more);
    mongo.server?.notPrimary(100);
    const failed = await runCli(runArgs(mongo.uri(database), 'flaky'), {
      env: env('flaky', { ...settings, STOPWORD_REFRESH_SOURCE_RETRIES: '1' }),
    });
    mongo.server?.clearFaults();
    expect(failed.code).toBe(1);
    expect(String(failed.json?.['errors'])).toMatch(/reading MongoDB at .* failed after 1 retry/);
    expect(await liveLists(client, 'flaky')).toEqual(live);
    const again = await runCli(runArgs(mongo.uri(database), 'flaky'), {
      env: env('flaky', settings),
    });
    expect(again.code, again.stderr).toBe(0);
    expect(again.json?.['documents']).toMatchObject({ counted: 15 });
  });
});

function pick(value: unknown, keys: readonly string[]): Record<string, unknown> {
  const record = (value ?? {}) as Record<string, unknown>;
  return Object.fromEntries(keys.map((key) => [key, record[key]]));
}

function idOf(line: string): string {
  return /"_id":"([^"]*)"/.exec(line)?.[1] ?? line;
}
