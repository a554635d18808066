/**
 * The built CLI against a real redis-server: what a nightly run leaves in Redis, what it prints,
 * and how it fails.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { FUNCTION_WORDS, makeCorpus, writeCorpus } from '../support/corpus.js';
import { type RedisServer, refusedPort } from '../support/redis-server.js';
import { closeRedisSuite, openRedisSuite } from '../support/suite.js';

let redis: RedisServer;
let client: ReturnType<typeof createClient>;
let dir: string;
let corpus: string;

beforeAll(async () => {
  ({ redis, client, dir } = await openRedisSuite('swr-e2e-'));
  corpus = join(dir, 'corpus.ndjson');
  await writeCorpus(corpus, makeCorpus({ seed: 1, perLanguage: 40 }));
});

afterAll(() => closeRedisSuite({ redis, client, dir }));

let prefixSeq = 0;
function freshPrefix(): string {
  prefixSeq++;
  return `t${prefixSeq}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Environment for a test run: small thresholds, its own key prefix, two workers. */
function env(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    STOPWORD_REFRESH_REDIS_KEY_PREFIX: prefix,
    STOPWORD_REFRESH_ANALYSIS_MIN_DOCUMENTS: '10',
    STOPWORD_REFRESH_ANALYSIS_WORKERS: '2',
    STOPWORD_REFRESH_LOGGING_LEVEL: 'info',
    // These tests change corpora wholesale on purpose; the guardrails have their own tests.
    STOPWORD_REFRESH_GUARDRAILS_LANGUAGE_REMOVAL: 'allow',
    STOPWORD_REFRESH_GUARDRAILS_MAX_TOTAL_DROP_RATIO: '1',
    STOPWORD_REFRESH_GUARDRAILS_MAX_CHURN_RATIO: '100',
    ...extra,
  };
}

function runArgs(stateDir: string, source = corpus): string[] {
  return ['run', '--source', `file:${source}`, '--redis', redis.url, '--state-dir', stateDir];
}

/** Every key of a prefix with its full contents, for before/after comparisons. */
async function snapshot(prefix: string): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  for (const key of (await client.keys(`${prefix}:*`)).sort()) {
    const type = await client.type(key);
    if (type === 'hash') out[key] = await client.hGetAll(key);
    else if (type === 'zset') out[key] = await client.zRangeWithScores(key, 0, -1);
    else if (type === 'list') out[key] = await client.lRange(key, 0, -1);
    else out[key] = await client.get(key);
  }
  return out;
}

describe('run publishes to Redis', () => {
  it('leaves the live hashes, meta, version copy and checkpoint of DESIGN §6', async () => {
    const prefix = freshPrefix();
    const stateDir = join(dir, `state-${prefix}`);
    const run = await runCli(runArgs(stateDir), { env: env(prefix) });
    expect(run.code, run.stderr).toBe(0);
    const result = run.json!;
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
      documentsProcessed: 120,
      errors: [],
      mode: 'full',
      dryRun: false,
      version: 1,
      published: true,
    });
    expect(typeof result.durationSeconds).toBe('number');
    expect(Number.isNaN(Date.parse(String(result.timestamp)))).toBe(false);
    expect(result.stopwordsUpdated).toBe(24);

    for (const [lang, words] of Object.entries(FUNCTION_WORDS)) {
      const live = await client.hGetAll(`${prefix}:${lang}`);
      expect(Object.keys(live).sort()).toEqual([...words].sort());
      for (const confidence of Object.values(live)) expect(confidence).toBe('1.0000');
      expect(await client.hGetAll(`${prefix}:v:1:${lang}`)).toEqual(live);
    }
    const meta = await client.hGetAll(`${prefix}:meta`);
    expect(meta.version).toBe('1');
    expect(JSON.parse(meta.languages ?? '[]')).toEqual(['de', 'en', 'fr']);
    expect(meta.analyzerVersion).toBe(result.analyzerVersion);
    expect(meta.runId).toBe(result.runId);
    expect(await client.zRange(`${prefix}:versions`, 0, -1)).toEqual(['1']);
    expect(await client.keys(`${prefix}:staging:*`)).toEqual([]);
    expect(await client.ttl(`${prefix}:en`)).toBe(-1);

    const checkpoint = JSON.parse(await readFile(join(stateDir, 'checkpoint.json'), 'utf8'));
    expect(checkpoint).toMatchObject({
      schemaVersion: 1,
      runId: result.runId,
      windowEnd: (result.window as { to: string }).to,
    });

    // stdout is the JobResult alone; the logs are JSON lines on stderr.
    expect(run.stdout.trim().split('\n')).toHaveLength(1);
    const logLines = run.stderr.trim().split('\n');
    for (const line of logLines) expect(() => JSON.parse(line)).not.toThrow();
    expect(logLines.some((l) => JSON.parse(l).msg === 'published')).toBe(true);
  });

  it('publishes the next version, removes a vanished language, and skips an unchanged one', async () => {
    const prefix = freshPrefix();
    const stateDir = join(dir, `state-${prefix}`);
    expect((await runCli(runArgs(stateDir), { env: env(prefix) })).code).toBe(0);

    const twoLanguages = join(dir, `two-${prefix}.ndjson`);
    await writeCorpus(
      twoLanguages,
      makeCorpus({ seed: 2, perLanguage: 40, languages: ['en', 'de'] }),
    );
    // Another corpus altogether: recount it rather than apply it as a delta.
    const second = await runCli([...runArgs(stateDir, twoLanguages), '--full'], {
      env: env(prefix),
    });
    expect(second.code, second.stderr).toBe(0);
    expect(second.json).toMatchObject({ version: 2, published: true });
    expect(second.json?.languages).toMatchObject({
      fr: { documents: 0, published: false, removed: 8 },
    });
    expect(await client.exists(`${prefix}:fr`)).toBe(0);
    expect(await client.exists(`${prefix}:v:1:fr`)).toBe(1);
    expect(JSON.parse((await client.hGet(`${prefix}:meta`, 'languages')) ?? '')).toEqual([
      'de',
      'en',
    ]);

    const third = await runCli(runArgs(stateDir, twoLanguages), { env: env(prefix) });
    expect(third.code).toBe(0);
    expect(third.json).toMatchObject({
      success: true,
      mode: 'delta',
      version: 2,
      published: false,
      stopwordsUpdated: 0,
    });
  });

  it('a dry run writes nothing to Redis nor to the state directory, and prints the lists', async () => {
    const prefix = freshPrefix();
    const stateDir = join(dir, `state-${prefix}`);
    expect((await runCli(runArgs(stateDir), { env: env(prefix) })).code).toBe(0);
    const before = await snapshot(prefix);
    const drySource = join(dir, `dry-${prefix}.ndjson`);
    await writeCorpus(
      drySource,
      makeCorpus({ seed: 3, perLanguage: 40, extra: { en: ['extra'] } }),
    );
    const dryState = join(dir, `dry-state-${prefix}`);

    const dry = await runCli([...runArgs(dryState, drySource), '--dry-run'], { env: env(prefix) });
    expect(dry.code, dry.stderr).toBe(0);
    expect(dry.json).toMatchObject({ success: true, dryRun: true, published: false, version: 1 });
    expect(dry.json?.languages).toMatchObject({ en: { added: 1, removed: 0 } });
    expect(
      Object.keys((dry.json?.stopwords as Record<string, object> | undefined)?.en ?? {}),
    ).toContain('extra');
    expect(await snapshot(prefix)).toEqual(before);
    expect(existsSync(dryState)).toBe(false);
  });

  it('a dry run without any Redis still prints the lists it would publish', async () => {
    const port = await refusedPort();
    const dry = await runCli(
      [
        'run',
        '--source',
        `file:${corpus}`,
        '--redis',
        `redis://127.0.0.1:${port}`,
        '--state-dir',
        join(dir, 'x'),
        '--dry-run',
      ],
      { env: env(freshPrefix()) },
    );
    expect(dry.code, dry.stderr).toBe(0);
    expect(Object.keys((dry.json?.stopwords as object | undefined) ?? {}).sort()).toEqual([
      'de',
      'en',
      'fr',
    ]);
    expect(String(dry.json?.warnings)).toMatch(/Redis/);
  });
});

describe('run fails safely', () => {
  it('Redis unreachable: exit 1, success false, nothing changed', async () => {
    const prefix = freshPrefix();
    const stateDir = join(dir, `state-${prefix}`);
    expect((await runCli(runArgs(stateDir), { env: env(prefix) })).code).toBe(0);
    const before = await snapshot(prefix);
    const checkpointBefore = await readFile(join(stateDir, 'checkpoint.json'), 'utf8');

    const port = await refusedPort();
    const started = performance.now();
    const run = await runCli(
      [
        'run',
        '--source',
        `file:${corpus}`,
        '--redis',
        `redis://user:s3cret@127.0.0.1:${port}`,
        '--state-dir',
        stateDir,
      ],
      { env: env(prefix) },
    );
    expect(run.code).toBe(1);
    expect(performance.now() - started).toBeLessThan(30_000);
    expect(run.json).toMatchObject({
      success: false,
      published: false,
      version: null,
      exitCode: 1,
    });
    expect(String((run.json?.errors as string[] | undefined)?.[0])).toMatch(/Redis/);
    expect(run.stdout + run.stderr).not.toContain('s3cret');
    expect(await snapshot(prefix)).toEqual(before);
    expect(await readFile(join(stateDir, 'checkpoint.json'), 'utf8')).toBe(checkpointBefore);
  });

  it('a missing corpus file: exit 1 and a message naming it', async () => {
    const run = await runCli(runArgs(join(dir, 's'), join(dir, 'nope.ndjson')), {
      env: env(freshPrefix()),
    });
    expect(run.code).toBe(1);
    expect(String(run.json?.errors)).toContain('nope.ndjson');
  });

  it('a document id twice in the corpus: exit 1, a message naming it, and yesterday kept', async () => {
    const prefix = freshPrefix();
    const stateDir = join(dir, `state-${prefix}`);
    const first = await runCli(runArgs(stateDir), { env: env(prefix) });
    expect(first.code, first.stderr).toBe(0);
    const before = await snapshot(prefix);
    const checkpointBefore = await readFile(join(stateDir, 'checkpoint.json'), 'utf8');
    const docs = makeCorpus({ seed: 1, perLanguage: 40 }) as Array<{ _id: string }>;
    const twice = join(dir, `twice-${prefix}.ndjson`);
    await writeCorpus(twice, [...docs, { ...docs[3]!, _id: docs[17]!._id }]);
    const run = await runCli([...runArgs(stateDir, twice), '--full'], { env: env(prefix) });
    expect(run.code).toBe(1);
    expect(run.json?.success).toBe(false);
    expect(run.json?.errors).toEqual([
      `document id ${JSON.stringify(docs[17]!._id)} appears more than once in the source: a corpus file holds one line per document`,
    ]);
    // Live lists, versions and meta as they were; the run history records the failure.
    const { [`${prefix}:runs`]: runsAfter, ...after } = await snapshot(prefix);
    const { [`${prefix}:runs`]: runsBefore, ...unchanged } = before;
    expect(after).toEqual(unchanged);
    expect((runsAfter as string[]).length).toBe((runsBefore as string[]).length + 1);
    expect(await readFile(join(stateDir, 'checkpoint.json'), 'utf8')).toBe(checkpointBefore);
  });

  it('an --until in the future is refused with exit 2', async () => {
    const run = await runCli([...runArgs(join(dir, 's')), '--until', '2999-01-01T00:00:00Z'], {
      env: env(freshPrefix()),
    });
    expect(run.code).toBe(2);
    expect(String(run.json?.errors)).toMatch(/in the future/);
  });

  it('--until ends the window: later documents are left for the next run', async () => {
    const source = join(dir, 'until.ndjson');
    const docs = makeCorpus({ seed: 4, perLanguage: 20, languages: ['en'] });
    docs.forEach((d, i) => {
      d.updatedAt = new Date(Date.UTC(2026, 10, 1) + i * 60_000).toISOString();
    });
    await writeCorpus(source, docs);
    const run = await runCli(
      [...runArgs(join(dir, 'su'), source), '--until', '2026-11-01T00:10:00Z', '--dry-run'],
      {
        env: env(freshPrefix()),
      },
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.json).toMatchObject({
      documentsProcessed: 10,
      documents: { outsideWindow: 10 },
      window: { to: '2026-11-01T00:10:00.000Z' },
    });
  });
});

describe('a concurrent reader', () => {
  it('never sees a mix of two versions nor a missing list across 20 publishes', async () => {
    const prefix = freshPrefix();
    const stateDir = join(dir, `state-${prefix}`);
    const runEnv = env(prefix, {
      STOPWORD_REFRESH_ANALYSIS_LEAVE_DOCUMENT_RATIO: '0.2',
      STOPWORD_REFRESH_REDIS_KEEP_VERSIONS: '100',
      STOPWORD_REFRESH_LOGGING_LEVEL: 'warn',
    });
    // Each version has its own marker word in every language, and every fifth drops French.
    const sources: string[] = [];
    for (let v = 0; v < 20; v++) {
      const marker = `marker${'abcdefghijklmnopqrstuvwxyz'[v]}`;
      const languages = v % 5 === 4 ? ['en', 'de'] : ['en', 'de', 'fr'];
      const path = join(dir, `reader-${v}.ndjson`);
      await writeCorpus(
        path,
        makeCorpus({
          seed: 100 + v,
          perLanguage: 20,
          languages,
          extra: { en: [marker], de: [marker], fr: [marker] },
        }),
      );
      sources.push(path);
    }

    const reader = createClient({ url: redis.url });
    await reader.connect();
    let stop = false;
    let reads = 0;
    const problems: string[] = [];
    const observed = new Set<string>();
    const readLoop = (async () => {
      while (!stop) {
        const replies = (await reader
          .multi()
          .hGetAll(`${prefix}:meta`)
          .hGetAll(`${prefix}:en`)
          .hGetAll(`${prefix}:de`)
          .hGetAll(`${prefix}:fr`)
          .exec()) as unknown as Array<Record<string, string>>;
        const [meta, ...lists] = replies;
        if (meta === undefined || meta.version === undefined) continue;
        reads++;
        observed.add(meta.version);
        const languages = JSON.parse(meta.languages ?? '[]') as string[];
        const byLang: Record<string, Record<string, string>> = {
          en: lists[0] ?? {},
          de: lists[1] ?? {},
          fr: lists[2] ?? {},
        };
        for (const lang of ['en', 'de', 'fr']) {
          const list = byLang[lang] ?? {};
          if (!languages.includes(lang)) {
            if (Object.keys(list).length > 0)
              problems.push(`v${meta.version}: ${lang} present but not in meta`);
            continue;
          }
          if (Object.keys(list).length === 0) problems.push(`v${meta.version}: ${lang} missing`);
          const copy = await client.hGetAll(`${prefix}:v:${meta.version}:${lang}`);
          if (
            JSON.stringify(Object.entries(list).sort()) !==
            JSON.stringify(Object.entries(copy).sort())
          ) {
            problems.push(`v${meta.version}: ${lang} differs from its version copy`);
          }
        }
        const markers = new Set(
          Object.values(byLang).flatMap((list) =>
            Object.keys(list).filter((w) => w.startsWith('marker')),
          ),
        );
        if (markers.size > 1)
          problems.push(`v${meta.version}: markers of several versions ${[...markers]}`);
      }
    })();

    for (const source of sources) {
      const run = await runCli([...runArgs(stateDir, source), '--full'], { env: runEnv });
      expect(run.code, run.stderr).toBe(0);
      expect(run.json?.published).toBe(true);
    }
    stop = true;
    await readLoop;
    await reader.quit();
    expect(problems).toEqual([]);
    expect(await client.hGet(`${prefix}:meta`, 'version')).toBe('20');
    expect(reads).toBeGreaterThan(100);
    expect(observed.size).toBeGreaterThanOrEqual(10);
  }, 180_000);
});

describe('the environment is enough', () => {
  it('runs with the shipped config and no environment variables but the flags', async () => {
    const stateDir = join(dir, 'plain-state');
    const run = await runCli([...runArgs(stateDir), '--dry-run'], { env: {} });
    expect(run.code, run.stderr).toBe(0);
  });
});
